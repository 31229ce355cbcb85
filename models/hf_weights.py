#!/usr/bin/env python3
"""The Hugging Face checkpoints of the committed models, rebuilt from their ONNX initializers.

    python models/hf_weights.py rebuild [HF_DIR ...]        # default: every committed hf/ dir with weights.json
    python models/hf_weights.py record HF_DIR --model-dir D  # after export.py: write HF_DIR/weights.json

A fused model.onnx (fused_graph.py) holds every weight of its HF checkpoint, transposed or concatenated, so
committing both stored the pair twice (36 MB of the 78 MB under models/). Only the ONNX files are committed
now, with `hf/weights.json` saying how each derived file comes back and what it must hash to:

    model.safetensors   rebuilt from D's model.onnx(.data): each element is copied from the initializer
                        element it went to. The map comes from the exporter itself: fused_graph's builder is run
                        twice on the config's model with every parameter element set to its index (1..N), then
                        to N + 1 - index; an initializer element is a copy of element i exactly when the two
                        runs give i and N + 1 - i (a sum of two parameters, a constant or a rotary cache never
                        does). Elements no initializer holds unchanged (GPT-NeoX's parallel-residual bias is
                        the sum of two biases) are stored in `residue.safetensors`, a few KB.
    tokenizer.json      a copy of D's.

A rebuilt file must hash to the recorded sha256, else nothing is written and the error says why; a present
file with the right hash is left alone. Every script that loads these checkpoints calls `ensure` first.
Exit 2 with one line for a directory it cannot handle.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CliError, quiet_libraries, read_manifest, run_cli, sha256_file, write_json  # noqa: E402

MODELS = Path(__file__).resolve().parent
RECORD = "weights.json"
WEIGHTS = "model.safetensors"
RESIDUE = "residue.safetensors"
COPIED = ("tokenizer.json",)
MAX_PROBE = (1 << 24) - 1   # parameter indices must be exact in float32


def committed_dirs() -> list[Path]:
    """The hf/ dirs under models/ that carry a weights.json."""
    return sorted(p.parent for p in MODELS.rglob(f"hf/**/{RECORD}") if ".cache" not in p.parts)


def _probe_initializers(hf_dir: Path, names, shapes, total: int, n_layers, reverse: bool) -> dict:
    """name -> float64 array: the fused builder's initializers for hf_dir's model with parameters `names` holding
    their element indices 1..N (N + 1 - index with `reverse`). The index checkpoint is loaded by from_pretrained,
    so the names are mapped to the model's parameters as for the real one."""
    import torch
    from onnx import numpy_helper
    from safetensors.torch import save_file
    from transformers import AutoConfig, AutoModelForCausalLM

    import fused_graph

    config = AutoConfig.from_pretrained(hf_dir)
    builder = fused_graph.BUILDERS.get(config.model_type)
    if builder is None:
        raise CliError(f"no fused builder for model_type {config.model_type!r}: its ONNX file does not give "
                       f"the HF weights back")
    tensors, offset = {}, 1
    for name, shape in zip(names, shapes):
        n = int(np.prod(shape))
        ids = torch.arange(offset, offset + n, dtype=torch.float64)
        tensors[name] = (total + 1 - ids if reverse else ids).view(shape).to(torch.float32)
        offset += n
    with tempfile.TemporaryDirectory() as tmp:
        config.save_pretrained(tmp)
        save_file(tensors, str(Path(tmp) / WEIGHTS), metadata={"format": "pt"})
        model = AutoModelForCausalLM.from_pretrained(tmp, dtype=torch.float32).eval()
    g = fused_graph._Graph(fused_graph._Attention)
    builder(model, g, n_layers)
    return {init.name: numpy_helper.to_array(init).astype(np.float64) for init in g.inits}


def copy_map(hf_dir: Path, model_dir: Path, names, shapes, total: int):
    """For each initializer of model_dir's model.onnx, (mask of its elements that copy a parameter element,
    the 0-based flat index of each such element), from two probes of the fused builder; `total` parameter
    elements in all."""
    if total > MAX_PROBE:
        raise CliError(f"{hf_dir}: {total:,} parameters, over the {MAX_PROBE:,} whose indices float32 holds "
                       f"exactly; keep that checkpoint's safetensors instead")
    n_layers = read_manifest(model_dir)["num_layers"]
    up = _probe_initializers(hf_dir, names, shapes, total, n_layers, reverse=False)
    down = _probe_initializers(hf_dir, names, shapes, total, n_layers, reverse=True)
    result = {}
    for name, a in up.items():
        b = down[name]
        mask = (a + b == total + 1) & (a >= 1) & (a <= total) & (a == np.round(a))
        result[name] = (mask.ravel(), (a.ravel()[mask.ravel()] - 1).astype(np.int64))
    return result


def _onnx_initializers(model_dir: Path) -> dict:
    import onnx

    import logits_from
    from onnx import numpy_helper

    model = onnx.load(str(model_dir / "model.onnx"), load_external_data=True)
    return {init.name: numpy_helper.to_array(init) for init in model.graph.initializer
            if not init.name.startswith(logits_from.INPUT)}   # the logits_from input's default and constants


def _rebuild_tensors(hf_dir: Path, model_dir: Path, names, shapes, residue: dict):
    """name -> float32 array rebuilt from the ONNX initializers (residue tensors taken as given), and the names
    whose elements were not all found."""
    total = sum(int(np.prod(s)) for s in shapes)
    maps = copy_map(hf_dir, model_dir, names, shapes, total)
    inits = _onnx_initializers(model_dir)
    if set(maps) != set(inits) or any(inits[n].size != maps[n][0].size for n in maps):
        raise CliError(f"{model_dir}/model.onnx was not written by this fused_graph.py for {hf_dir} (its "
                       f"initializers differ from the builder's); export it again")
    flat = np.zeros(total, np.float32)
    found = np.zeros(total, bool)
    for name, (mask, index) in maps.items():
        values = inits[name].astype(np.float32, copy=False).ravel()[mask]
        again = found[index]
        if again.any() and not np.array_equal(flat[index][again].view(np.int32), values[again].view(np.int32)):
            raise CliError(f"{model_dir}/model.onnx: initializer {name} disagrees with another copy of the same "
                           f"weights")
        flat[index], found[index] = values, True
    tensors, missing, offset = {}, [], 0
    for name, shape in zip(names, shapes):
        n = int(np.prod(shape))
        if found[offset:offset + n].all():
            tensors[name] = flat[offset:offset + n].reshape(shape)
        elif name in residue:
            tensors[name] = residue[name]
        else:
            missing.append(name)
        offset += n
    return tensors, missing


def _save(tensors: dict, metadata: dict, path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    save_file({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tensors.items()}, str(path),
              metadata=metadata or None)
    os.chmod(path, 0o644)


def record(hf_dir: Path, model_dir: Path) -> dict:
    """Writes hf_dir/weights.json (and residue.safetensors where needed) after checking that the rebuild gives
    back hf_dir/model.safetensors byte for byte."""
    from safetensors import safe_open

    source = hf_dir / WEIGHTS
    if not source.is_file():
        raise CliError(f"{source} not found: record needs the checkpoint it will rebuild")
    with safe_open(str(source), framework="np") as f:
        metadata = f.metadata() or {}
        stored = {name: f.get_tensor(name) for name in f.keys()}
    bad = [n for n, t in stored.items() if t.dtype != np.float32]
    if bad:
        raise CliError(f"{source}: {bad[0]} is {stored[bad[0]].dtype}; only float32 checkpoints are rebuilt")
    names = sorted(stored)
    shapes = [stored[n].shape for n in names]
    tensors, missing = _rebuild_tensors(hf_dir, model_dir, names, shapes, residue={})
    for name, t in tensors.items():
        if not np.array_equal(t.view(np.int32), stored[name].view(np.int32)):
            raise CliError(f"{model_dir}/model.onnx holds {name} with other values than {source}: export it again")
    residue = {n: stored[n] for n in missing}
    source_sha = sha256_file(source)
    with tempfile.TemporaryDirectory(dir=hf_dir) as tmp:
        probe = Path(tmp) / WEIGHTS
        _save({**tensors, **residue}, metadata, probe)
        if sha256_file(probe) != source_sha:
            raise CliError(f"{source}: the rebuilt tensors are equal but the file is not byte-identical "
                           f"(safetensors layout or metadata); keep the checkpoint's safetensors")
    rel_model = Path(os.path.relpath(model_dir, hf_dir))
    entry = {"sha256": source_sha, "bytes": source.stat().st_size,
             "from_onnx": rel_model.as_posix(), "tensors": {n: list(stored[n].shape) for n in names},
             "residue": sorted(residue), "metadata": metadata}
    files = {WEIGHTS: entry}
    if residue:
        _save(residue, {}, hf_dir / RESIDUE)
    elif (hf_dir / RESIDUE).exists():
        (hf_dir / RESIDUE).unlink()
    for name in COPIED:
        if (hf_dir / name).is_file() and (model_dir / name).is_file() and \
                sha256_file(hf_dir / name) == sha256_file(model_dir / name):
            files[name] = {"sha256": sha256_file(hf_dir / name), "copy_of": (rel_model / name).as_posix()}
    write_json(hf_dir / RECORD, {"about": "files of this checkpoint rebuilt by models/hf_weights.py from the "
                                          "model directory named in each entry (not committed)",
                                 "files": files})
    return files


def ensure(hf_dir: Path) -> list[Path]:
    """Rebuilds whatever of hf_dir's recorded files is absent or stale; returns the files written. A directory
    without weights.json is left as it is (a checkpoint of its own)."""
    hf_dir = Path(hf_dir)
    record_path = hf_dir / RECORD
    if not record_path.is_file():
        return []
    files = json.loads(record_path.read_text())["files"]
    written = []
    for name, entry in files.items():
        target = hf_dir / name
        if target.is_file() and sha256_file(target) == entry["sha256"]:
            continue
        with tempfile.TemporaryDirectory(dir=hf_dir) as tmp:
            out = Path(tmp) / name
            if "copy_of" in entry:
                shutil.copyfile(hf_dir / entry["copy_of"], out)
            else:
                _rebuild_weights(hf_dir, entry, out)
            if sha256_file(out) != entry["sha256"]:
                raise CliError(f"{target}: the file rebuilt from {entry.get('from_onnx') or entry['copy_of']} "
                               f"does not hash to {record_path}'s {entry['sha256']}; the ONNX model and the "
                               f"record disagree (export and record again)")
            os.replace(out, target)
        written.append(target)
    return written


def _rebuild_weights(hf_dir: Path, entry: dict, out: Path) -> None:
    from safetensors import safe_open

    model_dir = (hf_dir / entry["from_onnx"]).resolve()
    residue = {}
    if entry["residue"]:
        with safe_open(str(hf_dir / RESIDUE), framework="np") as f:
            residue = {n: f.get_tensor(n) for n in f.keys()}
    names = list(entry["tensors"])
    shapes = [tuple(entry["tensors"][n]) for n in names]
    tensors, missing = _rebuild_tensors(hf_dir, model_dir, names, shapes, residue)
    if missing:
        raise CliError(f"{hf_dir}: {missing[0]} is neither in {model_dir}/model.onnx nor in {RESIDUE}")
    _save(tensors, entry["metadata"], out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("rebuild", help="rebuild the recorded files of HF dirs (default: all committed)")
    r.add_argument("hf_dirs", nargs="*", type=Path)
    w = sub.add_parser("record", help="write HF_DIR/weights.json after checking the rebuild is byte-exact")
    w.add_argument("hf_dir", type=Path)
    w.add_argument("--model-dir", required=True, type=Path, help="the specbeam model directory exported from it")
    args = ap.parse_args(argv)
    quiet_libraries()
    if args.command == "record":
        files = record(args.hf_dir, args.model_dir)
        print(f"{args.hf_dir / RECORD}: {', '.join(files)} rebuilt from {args.model_dir}")
        return
    dirs = args.hf_dirs or committed_dirs()
    for d in dirs:
        if not (d / RECORD).is_file():
            raise CliError(f"{d} has no {RECORD}; nothing to rebuild there")
        written = ensure(d)
        print(f"{d}: " + (", ".join(p.name for p in written) + " rebuilt" if written else "up to date"))


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
