"""distill_topb.py: the top-B metrics on hand-made logits, and the whole recipe on tiny models (CPU)."""

import json
import shutil

import numpy as np
import pytest
import torch

import distill_topb
from distill_topb import agreement_counts, topb_divergences, topk_log_probs
from train_pair import SMOKE_DRAFT_ARCH, SMOKE_TARGET_ARCH, new_model


def test_agreement_counts_greedy_and_top4_in_top8():
    vocab = 16
    target = torch.arange(vocab, dtype=torch.float32).flip(0)[None]  # target ranks 0, 1, 2, ...
    top_ids, _ = topk_log_probs(target, 8)
    draft = torch.zeros(1, vocab)
    # draft's top-8: tokens 0, 1, 2 and 9..13 (3 of the target's top-4), argmax 0
    for rank, tok in enumerate([0, 1, 2, 9, 10, 11, 12, 13]):
        draft[0, tok] = 20 - rank
    greedy, covered = agreement_counts(draft, top_ids, b=4)
    assert (greedy, covered) == (1, 3)
    draft[0, 0] = -5  # argmax moves to token 1; token 0 leaves the top-8
    greedy, covered = agreement_counts(draft, top_ids, b=4)
    assert (greedy, covered) == (0, 2)


def test_divergences_vanish_for_the_target_itself_and_match_full_kl_when_k_is_vocab():
    torch.manual_seed(0)
    target, draft = torch.randn(5, 32) * 3, torch.randn(5, 32) * 3
    top_ids, top_logp = topk_log_probs(target, 8)
    kl, tv = topb_divergences(target, top_ids, top_logp)
    assert kl.abs().max() < 1e-5 and tv.abs().max() < 1e-5
    kl, tv = topb_divergences(draft, top_ids, top_logp)
    assert (kl > 0.01).all() and (tv > 0.01).all() and (tv <= 1).all()
    # k = vocab: the tail is empty and the bucket KL is the full KL
    all_ids, all_logp = topk_log_probs(target, 32)
    kl_full, _ = topb_divergences(draft, all_ids, all_logp)
    p = target.log_softmax(-1)
    expected = (p.exp() * (p - draft.log_softmax(-1))).sum(-1)
    torch.testing.assert_close(kl_full, expected, atol=1e-4, rtol=1e-4)
    # coarsening never increases KL (data processing inequality)
    assert (kl <= kl_full + 1e-5).all()


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory):
    """A tiny target trained for a few steps on a repetitive stream, a random draft and token streams."""
    root = tmp_path_factory.mktemp("distill")
    rng = np.random.default_rng(0)
    pattern = rng.integers(2, 300, size=97)
    stream = np.concatenate([[1], np.tile(pattern, 60)]).astype(np.uint16)
    data = root / "data"
    data.mkdir()
    np.save(data / "train.npy", stream)
    np.save(data / "heldout.npy", stream[: 64 * 8 + 1])
    target = new_model(SMOKE_TARGET_ARCH, 0, "cpu")
    opt = torch.optim.AdamW(target.parameters(), lr=1e-2)
    ids = torch.from_numpy(stream[:4 * 65].astype(np.int64)).view(4, 65)
    for _ in range(30):
        loss = target(input_ids=ids[:, :-1], labels=ids[:, :-1]).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    target.save_pretrained(str(root / "target"))
    new_model(SMOKE_DRAFT_ARCH, 1, "cpu").save_pretrained(str(root / "draft"))
    return root


def cache_args(root, work):
    return ["--work-dir", str(root / work), "--data-dir", str(root / "data"),
            "--target", str(root / "target"), "--draft", str(root / "draft"),
            "--seq-len", "64", "--top-k", "8", "--batch-windows", "4", "--text-windows", "16",
            "--policy-prompts", "6", "--prompt-len", "8", "--new-tokens", "8", "--eval-beam-prompts", "4"]


def run_args(root, work, *extra):
    return [*cache_args(root, work), "--batch-tokens", "256", "--lr", "1e-2", "--warmup", "2",
            "--log-every", "5", "--monitor-every", "1", "--monitor-shards", "1", *extra]


def test_run_caches_trains_and_reports_a_better_draft(tiny_pair):
    distill_topb.main(["run", *run_args(tiny_pair, "work", "--steps", "30")])
    work = tiny_pair / "work"
    report = json.loads((work / "report.json").read_text())
    before, after = (report[k]["teacher_forced_heldout"] for k in ("baseline", "distilled"))
    assert before["positions"] == after["positions"] == 8 * 64
    for metrics in (before, after):
        assert 0 <= metrics["greedy_agreement"] <= 1 and 0 <= metrics["top4_in_top8"] <= 1
    on_beams = report["baseline"]["target_beam_outputs_heldout_prompts"]
    assert on_beams["positions"] == 4 * 4 * 8  # 4 prompts x 4 beams x 8 new tokens, prompts excluded
    assert after["kl_top8_tail"] < before["kl_top8_tail"]
    assert after["top4_in_top8"] > before["top4_in_top8"]
    assert report["training"]["steps"] == 30
    assert set(report["training"]["tokens_by_set"]) <= {"text", "beam", "sample"}
    for name in ("heldout", "heldout_beam", "text", "beam", "sample"):
        assert list((work / "cache" / name).glob("*.pt")), name
    beam = torch.load(next((work / "cache" / "beam").glob("*.pt")))
    assert beam["ids"].shape[1] == 8 + 8 and beam["loss_from"] == 7
    assert (work / "draft" / "model.safetensors").is_file()


def test_training_in_chunks_equals_one_run(tiny_pair):
    distill_topb.main(["cache", *cache_args(tiny_pair, "one")])
    shutil.copytree(tiny_pair / "one" / "cache", tiny_pair / "chunked" / "cache")
    distill_topb.main(["train", *run_args(tiny_pair, "one", "--steps", "8")])
    chunked = run_args(tiny_pair, "chunked", "--steps", "8", "--chunk-steps", "3")
    for _ in range(3):
        distill_topb.main(["train", *chunked])
    a = torch.load(tiny_pair / "one" / "train" / "checkpoint.pt")
    b = torch.load(tiny_pair / "chunked" / "train" / "checkpoint.pt")
    assert a["state"]["step"] == b["state"]["step"] == 8
    for key, value in a["model"].items():
        torch.testing.assert_close(b["model"][key], value, rtol=0, atol=0)


def test_missing_streams_is_a_one_line_error(tmp_path, capsys):
    code = distill_topb.run_cli(distill_topb.main, ["cache", "--work-dir", str(tmp_path / "w"),
                                                   "--data-dir", str(tmp_path / "nothing")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "corpus.py" in err and err.count("\n") == 1


def online_args(root, work, *extra):
    return ["online", "--work-dir", str(root / work), "--data-dir", str(root / "data"),
            "--target", str(root / "target"), "--draft", str(root / "draft"), "--seq-len", "64",
            "--policy-prompts", "6", "--prompt-len", "8", "--new-tokens", "8", "--eval-beam-prompts", "4",
            "--batch-tokens", "256", "--lr", "1e-2", "--warmup", "2", "--log-seconds", "0",
            "--monitor-shards", "1", "--gen-batch", "8", *extra]


def test_online_distils_with_the_teacher_in_the_loop_and_resumes(tiny_pair):
    distill_topb.main(online_args(tiny_pair, "online", "--steps", "12", "--minutes", "10"))
    work = tiny_pair / "online"
    report = json.loads((work / "report.json").read_text())
    before, after = (report[k]["teacher_forced_heldout"] for k in ("baseline", "distilled"))
    assert before["positions"] == after["positions"] == 8 * 64
    assert after["kl_full"] < before["kl_full"]
    on_beams = report["baseline"]["target_beam_outputs_heldout_prompts"]
    assert on_beams["positions"] == 4 * 4 * 8  # 4 prompts x 4 beams x 8 new tokens, prompts excluded
    assert report["training"]["step"] == 12 and len(report["training"]["curve"]) == 12
    assert set(report["training"]["by_set"]) <= {"text", "beam", "sample"}
    assert (work / "draft" / "model.safetensors").is_file()
    # a rerun with a longer schedule resumes from the checkpoint instead of starting again
    distill_topb.main(online_args(tiny_pair, "online", "--steps", "15", "--minutes", "10"))
    resumed = json.loads((work / "report.json").read_text())
    assert resumed["training"]["step"] == 15 and resumed["baseline"] == report["baseline"]


def test_online_on_cuda_without_a_gpu_is_a_one_line_error(tiny_pair, capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible: the error path cannot be reached")
    code = distill_topb.run_cli(distill_topb.main, online_args(tiny_pair, "nogpu", "--device", "cuda"))
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--device cuda" in err and err.count("\n") == 1


def test_pair_metrics_of_the_target_against_itself_agree_everywhere(tiny_pair, tmp_path):
    import pair_metrics

    out = tmp_path / "m.json"
    args = ["--target", str(tiny_pair / "target"), "--data-dir", str(tiny_pair / "data"), "--seq-len", "64",
            "--gen-prompts", "2", "--gen-tokens", "10", "--threads", "1", "--out", str(out)]
    pair_metrics.main([*args, "--draft", str(tiny_pair / "target")])
    same = json.loads(out.read_text())
    assert same["heldout"]["positions"] == 8 * 64
    assert same["heldout"]["greedy_agreement"] == 1.0 and same["heldout"]["top4_in_top8"] == 1.0
    assert abs(same["heldout"]["kl_target_draft"]) < 1e-4
    assert same["free_generation"]["tokens_per_target_call_k4"] == 5.0  # 10 tokens: two rounds of k = 4 accepted + 1
    pair_metrics.main([*args, "--draft", str(tiny_pair / "draft")])
    other = json.loads(out.read_text())
    assert other["heldout"]["greedy_agreement"] < 1.0 and other["heldout"]["kl_target_draft"] > 0.01
