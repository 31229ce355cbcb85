"""real_shapes.py: its bad inputs, and the checkpoints and golden cases it builds (the full run is .ci/run's)."""

import json

import pytest

import real_shapes
from common import run_cli
from test_bad_inputs import assert_clean_error

SMALL = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=1, num_attention_heads=2,
             num_key_value_heads=1, head_dim=32, vocab_size=300)


@pytest.mark.parametrize("argv, words", [
    (["--shapes", "gpt-9"], ["unknown shape", "qwen2.5-0.5b"]),
    (["--lengths", "16,x"], ["comma-separated integers"]),
    (["--lengths", "0"], ["must be positive"]),
])
def test_bad_options_are_clean_errors(tmp_path, capsys, argv, words):
    jar = tmp_path / "benchmarks.jar"
    jar.write_bytes(b"")
    assert_clean_error(capsys, run_cli(real_shapes.main, ["--jar", str(jar), *argv]), *words)


def test_a_missing_jar_says_how_to_build_it(tmp_path, capsys):
    rc = run_cli(real_shapes.main, ["--jar", str(tmp_path / "none.jar"), "--quick"])
    assert_clean_error(capsys, rc, "mvn package")


@pytest.mark.parametrize("name", list(real_shapes.SHAPES))
def test_each_published_shape_builds_with_its_family_and_options(tmp_path, name):
    shape = real_shapes.SHAPES[name]
    params = real_shapes.build_hf(shape, SMALL, 1, tmp_path / "hf")
    config = json.loads((tmp_path / "hf" / "config.json").read_text())
    assert config["model_type"] == shape["model_type"] and params > 0
    rope = config.get("rope_parameters") or {"rope_theta": config.get("rope_theta")}   # transformers 5 / 4
    assert rope["rope_theta"] == shape["rope_theta"]
    if "rope_scaling" in shape:
        assert rope["rope_type"] == "llama3" and rope["factor"] == 32.0
    assert config["tie_word_embeddings"] is True and config["eos_token_id"] == 0
    tokenizer = json.loads((tmp_path / "hf" / "tokenizer.json").read_text())
    assert tokenizer["added_tokens"][0]["content"] == "<|endoftext|>" and tokenizer["added_tokens"][0]["id"] == 0


def test_golden_cases_cover_greedy_and_every_beam_width_with_an_eos_the_model_emits(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    real_shapes.build_hf(real_shapes.SHAPES["qwen2.5-0.5b"], SMALL, 1, tmp_path / "hf")
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "hf", dtype=torch.float32).eval()
    cases = real_shapes.golden_cases(model, [5, 9], 300, 6)
    assert {len(ids) for _, ids, _ in cases} == {5, 9}
    beams = {c["num_beams"] for _, _, c in cases if c["mode"] == "beam"}
    assert beams == {2, 4, 8}
    likely = [c["eos_token_ids"] for case_id, _, c in cases if "likely" in case_id]
    assert all(e != [0] and 0 < e[0] < 300 for e in likely)
