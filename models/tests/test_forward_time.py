"""forward_time.py: the Python side of the engine-vs-Python forward timing, and its bad inputs."""

import json

from conftest import TINY

import forward_time
from common import run_cli


def test_python_forward_times_every_thread_setting_and_writes_json(tmp_path, capsys):
    pair = tmp_path / "pair"
    pair.mkdir()
    (pair / "target").symlink_to(TINY / "llama")
    out = tmp_path / "t.json"
    assert run_cli(forward_time.main, ["--models", str(pair), "--threads", "2", "--rounds", "8",
                                       "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    settings = {"2 threads, spinning on", "2 threads, spinning off", "1 thread, spinning on"}
    assert set(result["python"]) == {f"{graph}, {s}" for graph in ("in-place graph", "model.onnx") for s in settings}
    assert all(0 < ms < 1000 for ms in result["python"].values())
    assert result["java"] == {} and "engine_over_best_python" not in result
    assert "ms / one-token forward" in capsys.readouterr().out


def test_missing_jar_and_bad_counts_are_clean_errors(tmp_path, capsys):
    pair = tmp_path / "pair"
    pair.mkdir()
    (pair / "target").symlink_to(TINY / "llama")
    assert run_cli(forward_time.main, ["--models", str(pair), "--jar", str(tmp_path / "none.jar")]) == 2
    assert "build it with" in capsys.readouterr().err
    assert run_cli(forward_time.main, ["--models", str(pair), "--rounds", "1"]) == 2
    assert run_cli(forward_time.main, ["--models", str(tmp_path)]) == 2


def test_paired_ratios_alternate_which_side_goes_first():
    calls = []

    def engine():
        calls.append("engine")
        return 0.6

    def python():
        calls.append("python")
        return 0.5

    ratios = forward_time.paired_ratios(engine, python, 3)
    assert calls == ["engine", "python", "python", "engine", "engine", "python"]
    assert ratios == [0.6 / 0.5] * 3


def test_zero_pairs_is_a_clean_error(tmp_path):
    pair = tmp_path / "pair"
    pair.mkdir()
    (pair / "target").symlink_to(TINY / "llama")
    assert run_cli(forward_time.main, ["--models", str(pair), "--pairs", "0"]) == 2
