"""--dtype float16 (FORMAT.md "Half precision"): every tiny architecture exports a half graph that passes its check,
and greedy decoding on it agrees with the float32 graph on the goldens' greedy cases (exactness is promised in
float32 only: this measures and bounds the agreement, printed as [half])."""

import json

import onnx
import pytest
from conftest import ARCHS, TINY
from onnx_engine import greedy_decode as greedy

import export
from common import run_cli

REPORT = []


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    print("\n" + "\n".join(f"[half] {line}" for line in REPORT))


@pytest.mark.parametrize("arch", ARCHS)
def test_half_graph_is_float16_inside_checked_and_agrees_with_float32(arch, tmp_path):
    out = tmp_path / arch
    export.main(["--model", str(TINY / arch / "hf"), "--out", str(out), "--dtype", "float16"])
    m = json.loads((out / "manifest.json").read_text())
    assert m["dtype"] == "float16" and m["check"]["tolerance"] == export.HALF_TOLERANCE and "inplace" in m
    graph = onnx.load(str(out / "model.onnx")).graph
    types = {v.name: v.type.tensor_type.elem_type for v in [*graph.input, *graph.output]}
    assert types["past.0.key"] == types["present.0.value"] == onnx.TensorProto.FLOAT16
    assert types["attention_mask"] == types["logits"] == onnx.TensorProto.FLOAT
    sizes = [(out / "model.onnx.data").stat().st_size, (TINY / arch / "model.onnx.data").stat().st_size]
    assert sizes[0] < 0.6 * sizes[1]   # the weights are half the bytes (alignment padding aside)

    cases = [c for c in json.loads((TINY / arch / "goldens.json").read_text())["cases"]
             if c["config"]["mode"] == "greedy" and len(c["prompt_ids"]) + c["config"]["max_new_tokens"] <= 60]
    same = sum(greedy(out, c) == greedy(TINY / arch, c) for c in cases)
    REPORT.append(f"{arch}: float16 greedy equals float32 greedy in {same} of {len(cases)} goldens cases; "
                  f"check max diff {max(v for k, v in m['check'].items() if k.endswith('_diff')):.3g}")
    assert same >= 0.8 * len(cases)


def test_half_needs_the_fused_graph(tmp_path, capsys):
    rc = run_cli(export.main, ["--model", str(TINY / "llama" / "hf"), "--out", str(tmp_path / "o"), "--dtype",
                               "float16", "--graph", "unfused"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: --dtype float16 builds the fused graph only") and err.count("\n") == 1
    assert not (tmp_path / "o").exists()
