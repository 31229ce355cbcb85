"""hf_baseline.py: the CSV it writes and the counters behind its speculative columns."""

import csv

import pytest
from conftest import TINY

import hf_baseline


def test_csv_has_the_shared_columns_and_sane_counters(tmp_path):
    out = tmp_path / "hf.csv"
    hf_baseline.main(["--target", str(TINY / "llama"), "--draft", str(TINY / "llama"), "--max-new-tokens", "6",
                      "--beams", "2", "--k", "2", "--repeats", "2", "--out", str(out)])
    with open(out) as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == hf_baseline.COLUMNS + hf_baseline.META_COLUMNS
        rows = {r["mode"]: r for r in reader}
    assert set(rows) == {"greedy", "beam", "assisted"}
    for r in rows.values():
        assert r["engine"] == "hf" and r["batch"] == "1" and r["max_new_tokens"] == "6" and r["n"] == "10"
        assert float(r["latency_ms_mean"]) > 0 and float(r["latency_ms_ci999"]) >= 0
        assert float(r["tokens_per_s"]) > 0
        assert r["measured_at"].endswith("Z") and r["torch"] and r["transformers"] and "-" in r["loadavg"]
    # one target forward per token without speculation (beam: one batched forward per step)
    assert float(rows["greedy"]["target_forwards_per_token"]) == pytest.approx(1.0)
    assert float(rows["beam"]["target_forwards_per_token"]) == pytest.approx(1.0)
    assert rows["beam"]["beam_width"] == "2" and rows["greedy"]["acceptance_rate"] == ""
    # the draft is the target itself: every proposal is accepted, 3 tokens per target forward
    assert rows["assisted"]["k"] == "2"
    assert float(rows["assisted"]["acceptance_rate"]) == pytest.approx(1.0)
    assert float(rows["assisted"]["target_forwards_per_token"]) == pytest.approx(2 / 6)


def test_ci999_is_the_student_t_half_width():
    # n = 4, t(0.9995, 3) = 12.924; sd = 1.2910; half-width = t * sd / 2
    assert hf_baseline.ci999([1.0, 2.0, 3.0, 4.0]) == pytest.approx(12.924 * 1.29099 / 2, rel=1e-3)


def test_serve_answers_each_request_and_writes_the_recorded_calls(tmp_path):
    import io
    import json

    out = tmp_path / "hf.csv"
    args = hf_baseline.parse_args(["--target", str(TINY / "llama"), "--draft", str(TINY / "llama"),
                                   "--max-new-tokens", "5", "--out", str(out), "--serve"])
    base = hf_baseline.Baseline(args)
    requests = [{"mode": "greedy", "k": 0, "beam_width": 1, "prompt": 0},              # warm-up: not recorded
                {"mode": "greedy", "k": 0, "beam_width": 1, "prompt": 1, "record": True},
                {"mode": "beam", "k": 0, "beam_width": 2, "prompt": 0, "record": True},
                {"mode": "assisted", "k": 2, "beam_width": 1, "prompt": 2, "record": True},
                {"mode": "beam", "k": 0, "beam_width": 2, "prompt": 999},              # bad: answered, not fatal
                {"mode": "sampling", "k": 0, "beam_width": 1, "prompt": 0},
                {"finish": True}]
    stdout = io.StringIO()
    hf_baseline.serve(base, args, io.StringIO("\n".join(json.dumps(r) for r in requests) + "\n"), stdout)
    answers = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert answers[0]["ready"] and answers[0]["prompts"] == len(base.prompts) and answers[0]["torch"]
    assert all(a["ms"] > 0 and a["new_tokens"] == 5 for a in answers[1:5])
    assert "out of range" in answers[5]["error"] and "no HF mode 'sampling'" in answers[6]["error"]
    assert answers[7] == {"wrote": str(out)}
    with open(out) as f:
        rows = {(r["mode"], r["beam_width"], r["k"]): r for r in csv.DictReader(f)}
    assert set(rows) == {("greedy", "1", "0"), ("beam", "2", "0"), ("assisted", "1", "2")}
    assert all(r["n"] == "1" for r in rows.values())
    assert float(rows[("assisted", "1", "2")]["acceptance_rate"]) == pytest.approx(1.0)
