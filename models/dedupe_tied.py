#!/usr/bin/env python3
"""Store a tied input/output embedding once in an exported model.onnx.

    python models/dedupe_tied.py models/pair/target [models/pair/draft ...]

The TorchScript ONNX exporter folds `lm_head.weight.T` into its own initializer, so a model
with tied embeddings carries the [vocab, hidden] table twice (for the 8M target: 5.2 MB of
38 MB). This replaces the folded copy with a `Transpose` node over the embedding initializer
(ONNX Runtime folds it back at session start: same kernels, same numbers, smaller file).

The directory must be a specbeam model directory (export.py). Before the new model.onnx
replaces the old one, both are run by ONNX Runtime on the same random prefill and decode-step
inputs and their outputs must be bit-identical, so the manifest's `check` still holds; the
manifest's `files` hash of model.onnx is then updated. Models stored with external data
(model.onnx.data) are left alone. Exit 2 with one line on a directory it cannot handle.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import sha256_file, write_json  # noqa: E402


def dedupe_tied_embeddings(model) -> int:
    """Rewrites `model` (onnx.ModelProto) in place; returns the bytes of initializers removed."""
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    embeddings = {n.input[0] for n in graph.node if n.op_type == "Gather" and n.input[0] in inits}
    removed = 0
    for emb_name in sorted(embeddings):
        emb = inits[emb_name]
        if len(emb.dims) != 2:
            continue
        table = None
        for name, init in list(inits.items()):
            if name == emb_name or list(init.dims) != list(reversed(emb.dims)) or init.data_type != emb.data_type:
                continue
            table = numpy_helper.to_array(emb) if table is None else table
            copy = numpy_helper.to_array(init)
            if not np.array_equal(copy, table.T):
                continue
            graph.initializer.remove(init)
            del inits[name]
            for inp in [i for i in graph.input if i.name == name]:  # old IR: initializers listed as inputs
                graph.input.remove(inp)
            graph.node.insert(0, helper.make_node("Transpose", [emb_name], [name], perm=[1, 0],
                                                  name=f"tied_{name}".replace(":", "_")))
            removed += copy.nbytes
    return removed


def _outputs(onnx_bytes: bytes, feeds: dict) -> list[np.ndarray]:
    import onnxruntime as ort

    from decoder_wrapper import SLIDING_MASK

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    from export_check import typed_feeds

    names = {i.name for i in session.get_inputs()}
    if SLIDING_MASK in names and SLIDING_MASK not in feeds:   # a mixed-attention graph: the same mask twice
        feeds = {**feeds, SLIDING_MASK: feeds["attention_mask"]}
    return session.run(None, typed_feeds(session, feeds))


def _random_feeds(manifest: dict, q: int, p: int, seed: int) -> dict:
    """A batch of 2: q new tokens after p >= 1 past slots, the last past slot hidden."""
    rng = np.random.default_rng(seed)
    b, h, d = 2, manifest["num_kv_heads"], manifest["head_dim"]
    mask = np.zeros((b, 1, q, p + q), dtype=np.float32)
    mask[..., p - 1] = manifest["mask_min"]  # one hidden past slot
    mask[..., p:] = np.triu(np.full((q, q), manifest["mask_min"], dtype=np.float32), k=1)  # causal
    feeds = {"input_ids": rng.integers(0, manifest["vocab_size"], (b, q)).astype(np.int64),
             "position_ids": np.broadcast_to(np.arange(p, p + q), (b, q)).astype(np.int64).copy(),
             "attention_mask": mask}
    for i in range(manifest["num_layers"]):
        for kind in ("key", "value"):
            feeds[f"past.{i}.{kind}"] = rng.standard_normal((b, h, p, d)).astype(np.float32)
    return feeds


def dedupe_directory(model_dir: Path) -> int:
    import onnx

    onnx_path, manifest_path = model_dir / "model.onnx", model_dir / "manifest.json"
    if not onnx_path.is_file() or not manifest_path.is_file():
        raise SystemExit(f"{model_dir} is not a specbeam model directory (model.onnx, manifest.json)")
    if (model_dir / "model.onnx.data").exists():
        raise SystemExit(f"{model_dir} keeps its weights in model.onnx.data; not handled")
    manifest = json.loads(manifest_path.read_text())
    old = onnx_path.read_bytes()
    model = onnx.load_from_string(old)
    removed = dedupe_tied_embeddings(model)
    if removed == 0:
        return 0
    onnx.checker.check_model(model)
    new = model.SerializeToString()
    for q, p, seed in ((6, 4, 0), (1, 7, 1)):
        feeds = _random_feeds(manifest, q, p, seed)
        before, after = _outputs(old, feeds), _outputs(new, feeds)
        if len(before) != len(after) or not all(np.array_equal(a, b) for a, b in zip(before, after)):
            raise SystemExit(f"{model_dir}: outputs changed after dedupe; model.onnx left as is")
    tmp = onnx_path.with_suffix(".onnx.incoming")
    tmp.write_bytes(new)
    tmp.replace(onnx_path)
    manifest["files"]["model.onnx"] = sha256_file(onnx_path)
    write_json(manifest_path, manifest)
    return removed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dirs", nargs="+", type=Path)
    args = ap.parse_args()
    for model_dir in args.model_dirs:
        try:
            removed = dedupe_directory(model_dir)
        except SystemExit as e:
            print(e, file=sys.stderr)
            sys.exit(2)
        print(f"{model_dir}: removed {removed:,} bytes of duplicated embedding; "
              f"model.onnx is {(model_dir / 'model.onnx').stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
