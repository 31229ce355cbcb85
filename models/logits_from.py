#!/usr/bin/env python3
"""The graph input `logits_from`: logits for positions `logits_from .. q-1` of each row only.

    python models/logits_from.py MODEL_DIR [MODEL_DIR ...]     # add it to exported models (graph files only)

A prompt of q tokens needs the next-token logits after its last token, yet a graph that returns all of them
computes and writes q x vocab floats: at Qwen2.5's 151,936-token vocabulary a 1,024-token prompt makes 622 MB
of logits and 279 GFLOP of lm_head, and the engine's 2 GiB buffer limit stopped a single prompt at 3,533
tokens. With this input the lm_head runs on `Slice(h, logits_from, end, axis=1)`, and `logits` is
`[b, q - logits_from, vocab]`.

`logits_from` is a required int64 `[1]` graph input: 0 gives every position, exactly as before. (An ONNX
overridable initializer defaulting to 0 would have kept older callers working, but ONNX Runtime's Java API
refuses to feed one: its input count leaves them out.) The engine feeds the earliest last token among the
rows of a prompt's forward, and 0 to every other forward, which reads all its nodes; `feed()` below adds 0 for
the Python tools.

Run on an exported directory, this rewrites model.onnx and model_inplace.onnx only (their weights stay in
model.onnx.data, untouched), checks with ONNX Runtime that the default gives bit-identical logits and that
`logits_from` gives the same last rows, then updates the manifest (`inputs.logits_from` and the files'
hashes). A directory that already has it is left as it is.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CliError, read_manifest, run_cli, sha256_file, write_json  # noqa: E402

INPUT = "logits_from"
_END = "logits_from.end"
_AXIS = "logits_from.axis"


def add(model) -> bool:
    """Adds the input to `model` (onnx.ModelProto) in place; False if it has it already.

    The lm_head is the MatMul whose output is `logits`, or reaches it through per-position Add/Mul/Div/Tanh with
    constants (a bias, a soft-cap); its activation input is sliced along the token axis."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    if any(i.name == INPUT for i in graph.input):
        return False
    producer = {out: node for node in graph.node for out in node.output}
    head = producer.get("logits")
    # a bias, a soft-cap (Gemma: tanh(logits / c) * c) and a half graph's Cast to float32 are per position: walk
    # up through them to the MatMul
    while head is not None and head.op_type in ("Add", "Mul", "Div", "Tanh", "Cast"):
        data = [x for x in head.input if x in producer and producer[x].op_type != "Constant"]
        head = producer[data[0]] if len(data) == 1 else None
    if head is None or head.op_type != "MatMul":
        raise CliError("the graph's 'logits' output does not come from a MatMul (+ bias, soft-cap): cannot add "
                       "logits_from")
    hidden = head.input[0]
    kept = f"{hidden}.kept"
    at = list(graph.node).index(head)
    graph.node.insert(at, helper.make_node("Slice", [hidden, INPUT, _END, _AXIS], [kept], name="logits_from_slice"))
    head.input[0] = kept
    graph.initializer.extend([numpy_helper.from_array(np.array([np.iinfo(np.int64).max], np.int64), _END),
                              numpy_helper.from_array(np.ones(1, np.int64), _AXIS)])
    graph.input.append(helper.make_tensor_value_info(INPUT, TensorProto.INT64, [1]))
    for out in graph.output:
        if out.name == "logits":
            out.type.tensor_type.shape.dim[1].dim_param = "kept"
    return True


def feed(session, feeds: dict, start: int = 0) -> dict:
    """`feeds` plus logits_from = `start` where `session`'s graph takes it (0: logits of every position)."""
    if any(i.name == INPUT for i in session.get_inputs()):
        return {**feeds, INPUT: np.array([start], np.int64)}
    return feeds


def _feeds(session, manifest: dict, q: int, rng) -> dict:
    """Random prefill inputs (no past) for every required input of `session`."""
    feeds = {}
    names = manifest["inputs"]
    for inp in session.get_inputs():
        name = inp.name
        if name == names["input_ids"]:
            feeds[name] = rng.integers(0, manifest["vocab_size"], (2, q), dtype=np.int64)
        elif name == names["position_ids"]:
            feeds[name] = np.tile(np.arange(q, dtype=np.int64), (2, 1))
        elif name in (names["attention_mask"], names.get("attention_mask_sliding")):
            mask = np.full((2, 1, q, q), np.finfo(np.float32).min, np.float32)
            mask[:, :, np.tril(np.ones((q, q), bool))] = 0
            feeds[name] = mask
        elif name == "seqlens_k":
            feeds[name] = np.full(2, q - 1, np.int32)
        elif name == "total_sequence_length":
            feeds[name] = np.array(q, np.int32)
        elif name == INPUT:
            feeds[name] = np.zeros(1, np.int64)
        elif name.startswith("past."):
            slots = q if "seqlens_k" in [i.name for i in session.get_inputs()] else 0
            feeds[name] = np.zeros((2, manifest["num_kv_heads"], slots, manifest["head_dim"]), np.float32)
    from export_check import typed_feeds   # a float16 graph's past

    return typed_feeds(session, feeds)


def check(before: bytes, after: bytes, model_dir: Path, manifest: dict, q: int = 7) -> None:
    """ONNX Runtime on the graph before and after: logits_from = 0 must give bit-identical logits, and
    logits_from = q - 1 and 2 the same last rows."""
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    old = ort.InferenceSession(before, providers=["CPUExecutionProvider"])
    new = ort.InferenceSession(after, providers=["CPUExecutionProvider"])
    feeds = _feeds(old, manifest, q, rng)
    want = old.run(["logits"], feeds)[0]
    got = new.run(["logits"], feed(new, feeds))[0]
    if not np.array_equal(want, got):
        raise CliError(f"{model_dir}: logits changed when logits_from was added; nothing written")
    for start in (q - 1, 2):
        part = new.run(["logits"], feed(new, feeds, start))[0]
        if part.shape[1] != q - start or np.abs(part - want[:, start:]).max() > 1e-5:
            raise CliError(f"{model_dir}: logits_from={start} does not give rows {start}..{q - 1}; nothing written")


def add_to_directory(model_dir: Path) -> bool:
    """Adds the input to an exported directory's graphs (see the module doc); False if it had it."""
    import onnx

    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    if INPUT in manifest["inputs"]:
        return False
    files = ["model.onnx"] + ([manifest["inplace"]["file"]] if manifest.get("inplace") else [])
    rewritten = {}
    for name in files:
        path = model_dir / name
        model = onnx.load(str(path), load_external_data=False)
        before = model.SerializeToString()
        if not add(model):
            raise CliError(f"{path} has logits_from but its manifest does not list it: re-export the model")
        after = model.SerializeToString()
        # ONNX Runtime resolves external data next to the file it loads: write the new graph beside the old one.
        probe = model_dir / f".{name}.logits_from"
        probe.write_bytes(after)
        try:
            check(str(path), str(probe), model_dir, manifest)
        except BaseException:
            probe.unlink()
            raise
        rewritten[name] = probe
    for name, probe in rewritten.items():
        probe.replace(model_dir / name)
        manifest["files"][name] = sha256_file(model_dir / name)
    manifest["inputs"][INPUT] = INPUT
    write_json(model_dir / "manifest.json", manifest)
    return True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model_dirs", nargs="+", type=Path)
    args = p.parse_args(argv)
    for d in args.model_dirs:
        print(f"{d}: {'logits_from added' if add_to_directory(d) else 'has logits_from already'}")


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
