"""goldens.py: the recorded cases, their step gaps, and agreement with the exported graph."""

import json

import numpy as np
import pytest
import torch
from conftest import ARCHS, TINY
from onnx_engine import Engine, greedy_decode

import goldens


def load(arch):
    return json.loads((TINY / arch / "goldens.json").read_text())


@pytest.fixture(scope="module")
def llama():
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(TINY / "llama" / "hf", attn_implementation="eager").eval()


@pytest.mark.parametrize("arch", ARCHS)
def test_committed_goldens_cover_the_required_matrix(arch):
    cases = load(arch)["cases"]
    assert 40 <= len(cases) <= 60
    configs = [c["config"] for c in cases]
    beam = [c for c in configs if c["mode"] == "beam"]
    assert {c["num_beams"] for c in beam} == {2, 4, 8}
    assert {c["length_penalty"] for c in beam} == {1.0, 0.0, 2.0}
    assert {json.dumps(c["early_stopping"]) for c in beam} == {"true", "false", '"never"'}
    assert {c["num_return_sequences"] for c in beam} >= {1, 2, 4, 8}
    assert any(c["min_new_tokens"] > 0 for c in configs)
    lengths = {len(c["prompt_ids"]) for c in cases}
    assert min(lengths) == 1 and max(lengths) >= 40
    assert all(8 <= c["max_new_tokens"] <= 24 for c in configs)
    for case in cases:
        n, cfg = len(case["prompt_ids"]), case["config"]
        assert len(case["sequences"]) == cfg["num_return_sequences"]
        for seq in case["sequences"]:
            assert seq[:n] == case["prompt_ids"] and 0 < len(seq) - n <= cfg["max_new_tokens"]
            assert all(t not in cfg["eos_token_ids"] for t in seq[n:-1])  # cut after the first EOS
        assert len(case["step_gaps"]) >= max(len(s) for s in case["sequences"]) - n
        assert all(g >= 0 for g in case["step_gaps"])
        if cfg["mode"] == "beam":
            scores = case["sequence_scores"]
            assert len(scores) == len(case["sequences"]) and scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("arch", ARCHS)
def test_likely_eos_makes_beams_finish_early_and_gaps_are_not_ties(arch):
    cases = load(arch)["cases"]
    early = [c for c in cases if c["config"]["mode"] == "beam"
             and any(len(s) - len(c["prompt_ids"]) < c["config"]["max_new_tokens"] for s in c["sequences"])]
    assert len(early) >= 8  # length penalty and early stopping actually matter
    greedy = [g for c in cases if c["config"]["mode"] == "greedy" for g in c["step_gaps"]]
    beam = [g for c in cases if c["config"]["mode"] == "beam" for g in c["step_gaps"]]
    assert np.median(greedy) > 0.5 and np.median(beam) > 0.005
    assert np.mean(np.array(beam) < 1e-3) < 0.08


@pytest.mark.parametrize("arch", ARCHS)
def test_onnx_greedy_decoding_reproduces_greedy_goldens(arch):
    for case in load(arch)["cases"]:
        cfg = case["config"]
        if cfg["mode"] != "greedy" or len(case["prompt_ids"]) + cfg["max_new_tokens"] > 60:
            continue
        out = greedy_decode(TINY / arch, case)
        assert out == case["sequences"][0], case["id"]


def test_beam_replay_reproduces_hf_scores_and_gap_definition(llama):
    config = {"mode": "beam", "num_beams": 4, "max_new_tokens": 10, "min_new_tokens": 2, "length_penalty": 2.0,
              "early_stopping": "never", "num_return_sequences": 4, "eos_token_ids": [440]}
    prompt = [1, 338, 285, 75]
    case = goldens.generate_case(llama, prompt, config, pad_id=2)  # raises if the replay disagrees with HF
    assert len(case["sequences"]) == 4 and len(case["sequence_scores"]) == 4
    # step 0 by hand: the gaps among the best 2B+1 log-probs of the prompt's next token
    with torch.no_grad():
        logp = torch.log_softmax(llama(input_ids=torch.tensor([prompt])).logits[0, -1], -1)
    logp[440] = -float("inf")  # min_new_tokens
    best = torch.topk(logp, 9).values
    # generate runs the prompt as B expanded rows, this forward as one: other kernels, so the float32 log-probs
    # differ by ~1e-6 (2e-6 on an AVX-512 machine); a wrong gap definition is off by orders of magnitude more
    assert case["step_gaps"][0] == pytest.approx(float((best[:-1] - best[1:]).min()), abs=1e-5)


def test_greedy_gap_is_best_minus_runner_up(llama):
    config = {"mode": "greedy", "num_beams": 1, "max_new_tokens": 3, "min_new_tokens": 0, "length_penalty": 1.0,
              "early_stopping": False, "num_return_sequences": 1, "eos_token_ids": [2]}
    prompt = [1, 50, 60]
    case = goldens.generate_case(llama, prompt, config, pad_id=2)
    with torch.no_grad():
        top2 = torch.topk(llama(input_ids=torch.tensor([prompt])).logits[0, -1], 2).values
    assert case["step_gaps"][0] == pytest.approx(float(top2[0] - top2[1]), abs=1e-5)
    assert case["sequences"][0][:3] == prompt and len(case["sequences"][0]) == 6


def test_goldens_cli_writes_a_file_for_a_model_dir(tmp_path):
    import shutil

    model_dir = tmp_path / "gpt2"
    shutil.copytree(TINY / "gpt2", model_dir, ignore=shutil.ignore_patterns("goldens.json", "hf"))
    goldens.main(["--model-dir", str(model_dir), "--hf-dir", str(TINY / "gpt2" / "hf")])
    fresh, committed = json.loads((model_dir / "goldens.json").read_text())["cases"], load("gpt2")["cases"]
    assert [c["id"] for c in fresh] == [c["id"] for c in committed]
    for a, b in zip(fresh, committed):  # reproducible; float sums may move in the last bits
        assert a["sequences"] == b["sequences"] and a["config"] == b["config"]
        assert a["step_gaps"] == pytest.approx(b["step_gaps"], abs=1e-4)
        assert a.get("sequence_scores", []) == pytest.approx(b.get("sequence_scores", []), abs=1e-4)
