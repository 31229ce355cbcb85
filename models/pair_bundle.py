"""Pack a directory of checkpoints into a few size-capped safetensors files, and back.

One job: move `train_pair.py`'s output (two HF checkpoints + run.json) through a channel that
takes few, small files (the GPU machine returns at most 8 files of 16 MiB).

    python models/pair_bundle.py pack models/pair/hf OUT_DIR [--max-mb 12]
    python models/pair_bundle.py unpack OUT_DIR models/pair/hf

Every tensor of every `*.safetensors` file is stored under "<relative file>::<tensor name>",
spread over `bundle-NNNNN.safetensors` shards of at most --max-mb each; every other file is
stored as text in the first shard's metadata, together with each safetensors file's own
metadata, so unpacking rebuilds the directory byte-for-byte in content.
"""

import argparse
import json
from pathlib import Path

from safetensors import safe_open
from safetensors.torch import save_file

MANIFEST_KEY = "pair_bundle"


def pack(src: Path, out: Path, max_bytes: int) -> list[Path]:
    files = sorted(p for p in src.rglob("*") if p.is_file())
    texts, st_meta, shards, current, current_bytes = {}, {}, [], {}, 0
    for path in files:
        rel = path.relative_to(src).as_posix()
        if path.suffix != ".safetensors":
            texts[rel] = path.read_text(encoding="utf-8")
            continue
        with safe_open(str(path), framework="pt") as f:
            st_meta[rel] = f.metadata() or {}
            for name in f.keys():
                tensor = f.get_tensor(name)
                size = tensor.numel() * tensor.element_size()
                if size > max_bytes:
                    raise SystemExit(f"{rel}::{name} is {size} bytes, over --max-mb; raise it")
                if current and current_bytes + size > max_bytes:
                    shards.append(current)
                    current, current_bytes = {}, 0
                current[f"{rel}::{name}"] = tensor.contiguous()
                current_bytes += size
    shards.append(current)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i, tensors in enumerate(shards, start=1):
        meta = {MANIFEST_KEY: json.dumps({"texts": texts, "safetensors_metadata": st_meta,
                                          "shards": len(shards)})} if i == 1 else {}
        path = out / f"bundle-{i:05d}.safetensors"
        save_file(tensors, str(path), metadata=meta)
        written.append(path)
    return written


def unpack(bundle_dir: Path, dst: Path) -> list[Path]:
    shards = sorted(bundle_dir.glob("bundle-*.safetensors"))
    with safe_open(str(shards[0]), framework="pt") as f:
        manifest = json.loads(f.metadata()[MANIFEST_KEY])
    if len(shards) != manifest["shards"]:
        raise SystemExit(f"expected {manifest['shards']} shards in {bundle_dir}, found {len(shards)}")
    per_file: dict[str, dict] = {}
    for shard in shards:
        with safe_open(str(shard), framework="pt") as f:
            for key in f.keys():
                rel, name = key.split("::", 1)
                per_file.setdefault(rel, {})[name] = f.get_tensor(key)
    written = []
    for rel, text in manifest["texts"].items():
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        (dst / rel).write_text(text, encoding="utf-8")
        written.append(dst / rel)
    for rel, tensors in per_file.items():
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        save_file(tensors, str(dst / rel), metadata=manifest["safetensors_metadata"].get(rel) or None)
        written.append(dst / rel)
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack")
    p.add_argument("src", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--max-mb", type=float, default=12.0)
    u = sub.add_parser("unpack")
    u.add_argument("bundle", type=Path)
    u.add_argument("dst", type=Path)
    args = ap.parse_args()
    if args.command == "pack":
        written = pack(args.src, args.out, int(args.max_mb * 1e6))
    else:
        written = unpack(args.bundle, args.dst)
    for path in written:
        print(path, path.stat().st_size)


if __name__ == "__main__":
    main()
