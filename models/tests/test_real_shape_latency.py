"""real_shape_latency.py: its bad inputs (the measurement itself needs built shapes: README, REPORT.md)."""

import json

import pytest

import real_shape_latency
from common import FORMAT, run_cli
from test_bad_inputs import assert_clean_error


def make_shape(root, name, hf=True):
    for sub in ("target", "draft"):
        d = root / name / sub
        d.mkdir(parents=True)
        (d / "manifest.json").write_text(json.dumps({"format": FORMAT}))
    if hf:
        (root / name / "hf" / "target").mkdir(parents=True)
        (root / name / "hf" / "target" / "config.json").write_text("{}")


@pytest.fixture
def jar(tmp_path):
    path = tmp_path / "benchmarks.jar"
    path.write_bytes(b"")
    return path


def test_a_missing_jar_says_how_to_build_it(tmp_path, capsys):
    rc = run_cli(real_shape_latency.main, ["--jar", str(tmp_path / "none.jar"), "--work", str(tmp_path)])
    assert_clean_error(capsys, rc, "mvn package")


def test_a_work_folder_without_shapes_says_how_to_build_them(tmp_path, capsys, jar):
    rc = run_cli(real_shape_latency.main, ["--jar", str(jar), "--work", str(tmp_path / "absent")])
    assert_clean_error(capsys, rc, "real_shapes.py --work")
    (tmp_path / "empty").mkdir()
    rc = run_cli(real_shape_latency.main, ["--jar", str(jar), "--work", str(tmp_path / "empty")])
    assert_clean_error(capsys, rc, "no shape under", "real_shapes.py")


def test_a_shape_without_its_checkpoint_or_manifest_is_named(tmp_path, capsys, jar):
    make_shape(tmp_path, "qwen2.5-0.5b", hf=False)
    rc = run_cli(real_shape_latency.main, ["--jar", str(jar), "--work", str(tmp_path)])
    assert_clean_error(capsys, rc, "no HF checkpoint", "--shapes qwen2.5-0.5b")
    rc = run_cli(real_shape_latency.main, ["--jar", str(jar), "--work", str(tmp_path), "--shapes", "smollm2-135m"])
    assert_clean_error(capsys, rc, "smollm2-135m")


@pytest.mark.parametrize("argv, words", [
    (["--lengths", "16,x"], ["comma-separated integers"]),
    (["--repeats", "0"], ["must be positive"]),
])
def test_bad_options_are_clean_errors(tmp_path, capsys, jar, argv, words):
    make_shape(tmp_path, "s")
    rc = run_cli(real_shape_latency.main, ["--jar", str(jar), "--work", str(tmp_path), *argv])
    assert_clean_error(capsys, rc, *words)
