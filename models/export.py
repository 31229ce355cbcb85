#!/usr/bin/env python3
"""Export a Hugging Face causal LM to a specbeam model directory (FORMAT.md).

    python models/export.py --model <hub id or local dir> --out <dir> [--graph auto|fused|unfused]

Writes model.onnx (decoder with past, 4D additive mask, new-token k/v out; a tied embedding
stored once, dedupe_tied.py), tokenizer.json, tokenizer_config.json and manifest.json.
The graph is, by default, the fused one (fused_graph.py: ONNX Runtime's MultiHeadAttention,
RMSNorm and rotary operators, about 20 nodes per layer) where the architecture has a fused
builder, else the TorchScript trace of the Hugging Face module (about 64 nodes per layer);
both have the same inputs and outputs and the manifest's `graph` says which one was written.
Next to a fused model.onnx goes model_inplace.onnx (manifest `inplace`): the same layers with
GroupQueryAttention writing the new keys/values into the cache buffer in place, which the
engine runs wherever that operator allows (FORMAT.md, "In-place graph"); it is checked like
model.onnx.
Both graphs take the optional input `logits_from` (logits_from.py): logits for the last positions only, which
the engine asks for when it feeds a prompt.
Before anything is published, ONNX Runtime is
compared with PyTorch on a prefill, a decode step and two token trees, and each tree node is
compared with a plain forward over its linear path (export_check.py). Everything is written
to a temporary directory and moved into --out only when the check passes.

Exit code 2 with one line on stderr for: a model that is neither a local directory nor in
the local Hugging Face cache (nothing is downloaded unless --download), an architecture
that is not a supported decoder-only LM, or a failed check.
"""

import argparse
import json
import shutil
import tempfile
import warnings
from pathlib import Path

from common import FORMAT, CliError, hf_checkpoint, quiet_libraries, read_manifest, run_cli, sha256_file, write_json
from logits_from import add_to_directory

# model_type values whose export this repository tests (models/tests). Others: --allow-untested.
SUPPORTED = ("llama", "qwen2", "gpt2", "gpt_neox", "mistral", "qwen3", "phi3", "gemma2", "gemma3_text")
SPECBEAM_EXPORTER_VERSION = "3"   # 3: the logits_from input (logits_from.py)


# float16 against PyTorch float32: half precision keeps ~3 significant digits, and the tiny models' logits differ
# by up to ~0.3% of their scale (export check); a wrong mask or cache slice moves them by O(10%)
HALF_TOLERANCE = 1e-2


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="Hugging Face hub id or local checkpoint directory")
    p.add_argument("--out", required=True, type=Path, help="model directory to write")
    p.add_argument("--dtype", default="float32", choices=["float32", "float16"],
                   help="float16: weights, activations and KV cache in half precision for the CUDA provider, masks "
                        "and logits float32 (fused graph only; FORMAT.md \"Half precision\")")
    p.add_argument("--opset", type=int, default=18, help="ONNX opset (default 18)")
    p.add_argument("--graph", default="auto", choices=["auto", "fused", "unfused"],
                   help="auto (default): the fused graph where fused_graph.py covers the architecture, else "
                        "the traced one; fused: fail where it does not; unfused: always the traced graph")
    p.add_argument("--tolerance", type=float, default=None,
                   help="check tolerance relative to max(1, max |output|) (default 1e-4, float16 "
                        f"{HALF_TOLERANCE:g}; see export_check.py)")
    p.add_argument("--revision", default=None, help="hub revision (branch, tag or commit)")
    p.add_argument("--download", action="store_true",
                   help="allow fetching from the Hugging Face hub (default: local directory or cache only)")
    p.add_argument("--allow-untested", action="store_true",
                   help=f"try a causal LM whose model_type is not one of {', '.join(SUPPORTED)}")
    args = p.parse_args(argv)
    if args.tolerance is None:
        args.tolerance = HALF_TOLERANCE if args.dtype == "float16" else 1e-4
    if args.dtype == "float16" and args.graph == "unfused":
        raise CliError("--dtype float16 builds the fused graph only; drop --graph unfused")
    return args


def load_source(args):
    """(model, tokenizer) in eval mode, fp32, eager attention; CliError on anything unusable."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    local = Path(args.model).is_dir()
    if not local and (args.model.startswith((".", "/", "~")) or Path(args.model).exists()):
        raise CliError(f"model path {args.model!r} is not a directory")
    kwargs = {"revision": args.revision, "local_files_only": not (args.download or local)}
    try:
        config = AutoConfig.from_pretrained(args.model, **kwargs)
    except (OSError, ValueError) as e:
        where = "a local directory with config.json" if local else (
            "found in the local Hugging Face cache (offline; pass --download to fetch it)"
            if not args.download else "reachable on the hub")
        raise CliError(f"cannot load model {args.model!r}: not {where} ({str(e).splitlines()[0]})") from None

    model_type = config.model_type
    if getattr(config, "is_encoder_decoder", False):
        raise CliError(f"{args.model!r} is an encoder-decoder model ({model_type}); "
                       f"specbeam needs a decoder-only causal LM")
    if model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise CliError(f"{args.model!r} ({model_type}) is not a causal language model")
    attention_window(config, args.model)   # refuses what one mask per forward cannot express
    if model_type not in SUPPORTED and not args.allow_untested:
        raise CliError(f"model_type {model_type!r} is not tested with specbeam (tested: "
                       f"{', '.join(SUPPORTED)}); pass --allow-untested to try, the check still guards")

    if local:
        hf_checkpoint(args.model)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            args.model, dtype="float32", attn_implementation="eager", **kwargs).eval()
        tokenizer = AutoTokenizer.from_pretrained(args.model, **kwargs)
    except Exception as e:  # OSError, ValueError, a truncated safetensors file, ...
        raise CliError(f"cannot load {args.model!r}: {str(e).splitlines()[0]}") from None
    if not getattr(tokenizer, "is_fast", False):
        raise CliError(f"{args.model!r} has no fast (tokenizers) tokenizer to write tokenizer.json")
    return model, tokenizer


def probe_shapes(model) -> dict:
    """Layer count, kv heads, head dim and vocab as the model actually produces them."""
    import torch

    with torch.no_grad():
        out = model(input_ids=torch.zeros((1, 1), dtype=torch.long), use_cache=True)
    layers = out.past_key_values.layers
    _, kv_heads, _, head_dim = layers[0].keys.shape
    return {"num_layers": len(layers), "kv_heads": kv_heads, "head_dim": head_dim,
            "vocab_size": out.logits.shape[-1]}


def export_onnx(model, shapes: dict, path: Path, opset: int) -> None:
    import torch

    from decoder_wrapper import SLIDING_MASK, DecoderWithPast, MASK_MIN, past_names, present_names

    n_layers = shapes["num_layers"]
    sliding = mixed_attention(model.config)
    masks = ["attention_mask", *([SLIDING_MASK] if sliding else [])]
    wrapper = DecoderWithPast(model, n_layers, sliding).eval()
    b, q, p = 2, 3, 4  # example sizes; every axis below is dynamic
    example = (
        torch.zeros((b, q), dtype=torch.long),
        torch.arange(p, p + q).expand(b, q).contiguous(),
        *[torch.zeros((b, 1, q, p + q)).index_fill_(3, torch.tensor([p + q - 1]), MASK_MIN) for _ in masks],
        *[torch.zeros((b, shapes["kv_heads"], p, shapes["head_dim"])) for _ in range(2 * n_layers)],
    )
    axes = {"input_ids": {0: "b", 1: "q"}, "position_ids": {0: "b", 1: "q"},
            **{m: {0: "b", 2: "q", 3: "p_plus_q"} for m in masks}, "logits": {0: "b", 1: "q"},
            **{n: {0: "b", 2: "p"} for n in past_names(n_layers)},
            **{n: {0: "b", 2: "q"} for n in present_names(n_layers)}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings about shape-dependent Python control flow
        torch.onnx.export(
            wrapper, example, str(path), dynamo=False, opset_version=opset,
            input_names=["input_ids", "position_ids", *masks, *past_names(n_layers)],
            output_names=["logits", *present_names(n_layers)], dynamic_axes=axes)
    _consolidate_external_data(path)


def _consolidate_external_data(path: Path) -> None:
    """Models over 2 GB come out with one external file per tensor: gather them in model.onnx.data."""
    import onnx

    extra = [f for f in path.parent.iterdir() if f != path]
    if not extra:
        return
    model = onnx.load(str(path))  # loads the scattered tensors
    for f in extra:
        f.unlink()
    onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location=path.name + ".data")


def write_tokenizer(tokenizer, out: Path) -> None:
    """tokenizer.json, and tokenizer_config.json with the chat template inline (FORMAT.md)."""
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer.save_pretrained(tmp)
        shutil.copy(Path(tmp) / "tokenizer.json", out / "tokenizer.json")
        config_file = Path(tmp) / "tokenizer_config.json"
        config = json.loads(config_file.read_text()) if config_file.is_file() else {}
    for noise in ("model_max_length", "is_local", "local_files_only"):  # loader state, 1e30 sentinel
        config.pop(noise, None)
    config.pop("chat_template", None)
    if tokenizer.chat_template:
        config["chat_template"] = tokenizer.chat_template
    for name in ("bos_token", "eos_token", "pad_token", "unk_token"):
        value = getattr(tokenizer, name, None)
        if isinstance(value, str):
            config[name] = value
    write_json(out / "tokenizer_config.json", config)


def _ids(value) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in (value if isinstance(value, (list, tuple)) else [value])]


def special_ids(model, tokenizer) -> dict:
    """bos/eos/pad from generation_config, then config, then tokenizer (first one set wins)."""
    sources = [getattr(model, "generation_config", None), model.config, tokenizer]
    found = {}
    for key in ("bos_token_id", "eos_token_id", "pad_token_id"):
        found[key] = next((_ids(getattr(s, key, None)) for s in sources if _ids(getattr(s, key, None))), [])
    return {"bos_token_id": (found["bos_token_id"] or [None])[0],
            "eos_token_ids": found["eos_token_id"],
            "pad_token_id": (found["pad_token_id"] or [None])[0]}


def count_parameters(model) -> tuple[int, int]:
    """(all parameters, non-embedding parameters); tied weights counted once."""
    import torch

    unique = {id(p): p for p in model.parameters()}
    total = sum(p.numel() for p in unique.values())
    embeddings = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
    lm_head = model.get_output_embeddings()
    if lm_head is not None:
        embeddings.add(id(lm_head.weight))
    return total, total - sum(unique[i].numel() for i in embeddings if i in unique)


def attention_window(config, name="the model"):
    """The sliding window (a key at position p' is seen from position p only if p - p' < window, as
    transformers' sliding_window_overlay), or None for full attention. The engine applies it in the explicit
    mask (FORMAT.md, "Sliding window"); where some layers slide and others attend fully (Gemma 2/3, Qwen's
    max_window_layers: mixed_attention), the graph takes a second mask for the sliding layers. Other layer
    kinds (chunked attention, ...) are refused."""
    kinds = set(getattr(config, "layer_types", None) or [])
    window = getattr(config, "sliding_window", None)
    if kinds:
        if kinds == {"full_attention"}:
            return None
        if kinds <= {"sliding_attention", "full_attention"} and isinstance(window, int) and window > 0:
            return window
        raise CliError(f"{name!r} uses {sorted(kinds)} layers (sliding_window={window}): the exported graph "
                       f"expresses full attention and one sliding window, through explicit masks")
    if getattr(config, "use_sliding_window", True) is False:
        return None
    return window if isinstance(window, int) and window > 0 else None


def mixed_attention(config) -> bool:
    """Some layers slide and others attend fully: the graph then takes the sliding layers' mask apart
    (decoder_wrapper.SLIDING_MASK)."""
    return set(getattr(config, "layer_types", None) or []) == {"sliding_attention", "full_attention"}


def max_positions(config):
    """Context length the graph is exact for: the position embeddings' length; a Phi-3 "longrope" rotary
    changes its factors past original_max_position_embeddings (a function of the sequence length, which a
    graph with explicit positions cannot follow), so it caps the context there."""
    rope = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    limits = [getattr(config, "max_position_embeddings", None)]
    if rope.get("rope_type", rope.get("type")) == "longrope":
        limits.append(getattr(config, "original_max_position_embeddings", None))
    limits = [v for v in limits if isinstance(v, int) and v > 0]
    return min(limits) if limits else None


def write_graph(args, model, shapes: dict, path: Path) -> str:
    """model.onnx as --graph asks; returns the manifest's `graph` value (fused_graph.GRAPH_VERSION or
    "traced")."""
    import fused_graph

    if args.graph != "unfused":
        try:
            fused_graph.build(model, shapes, path, args.opset, dtype=args.dtype)
            return fused_graph.GRAPH_VERSION
        except fused_graph.Unfusable as e:
            if args.graph == "fused":
                raise CliError(f"--graph fused: {e}; use --graph auto or unfused") from None
            if args.dtype != "float32":
                raise CliError(f"--dtype {args.dtype} needs the fused graph, which this model cannot have: {e}") \
                    from None
    export_onnx(model, shapes, path, args.opset)
    return "traced"


def write_inplace_graph(args, model, shapes: dict, onnx_dir: Path) -> dict | None:
    """model_inplace.onnx next to a fused model.onnx: the same layers with GroupQueryAttention writing the new
    keys/values into the cache buffer itself (FORMAT.md, "In-place graph"), checked like model.onnx through
    export_check.InplaceAdapter. Returns the manifest's `inplace` entry, or None (with a warning) where it
    cannot be built or fails its check: the engine then runs model.onnx alone."""
    import fused_graph
    from export_check import CheckFailed, run_checks

    path = onnx_dir / fused_graph.INPLACE_FILE
    try:
        fused_graph.build(model, shapes, path, args.opset, inplace=True, dtype=args.dtype)
        check = run_checks(model, path, shapes["num_layers"], shapes["kv_heads"], shapes["head_dim"],
                           shapes["vocab_size"], args.tolerance, inplace=True)
    except (fused_graph.Unfusable, CheckFailed) as e:
        warnings.warn(f"no in-place graph: {e}")
        path.unlink(missing_ok=True)
        path.with_name(path.name + fused_graph.STAGING_SUFFIX).unlink(missing_ok=True)
        return None
    return {"file": fused_graph.INPLACE_FILE, "graph": fused_graph.INPLACE_GRAPH_VERSION,
            "inputs": {"seqlens_k": "seqlens_k", "total_sequence_length": "total_sequence_length"},
            "check": check}


def _external_bytes(onnx_dir: Path, init) -> bytes:
    """The bytes of an initializer stored in an external file of onnx_dir."""
    info = {e.key: e.value for e in init.external_data}
    with open(onnx_dir / info["location"], "rb") as f:
        f.seek(int(info.get("offset", 0)))
        return f.read(int(info["length"])) if "length" in info else f.read()


def store_weights_once(onnx_dir: Path, graph_files: list[str], shapes: dict, min_bytes: int = 1024) -> int:
    """model.onnx and the in-place graph carry the same weights: store them once, in model.onnx.data, which both
    graphs reference (ONNX external data; tensors of the same bytes share one offset, aligned to 4 KiB). Graphs
    over 2 GiB come from fused_graph.build with their weights in <name>.staging.data: those are moved the same
    way (also for a lone model.onnx), one tensor at a time. The graphs are then run on the same random inputs as
    before and must give bit-identical outputs. Returns the bytes of model.onnx.data."""
    import hashlib
    import shutil

    import numpy as np
    import onnx
    from onnx.external_data_helper import set_external_data

    import fused_graph
    from decoder_wrapper import MASK_MIN
    from dedupe_tied import _outputs, _random_feeds
    from export_check import InplaceAdapter

    paths = [onnx_dir / name for name in graph_files]
    staged = sorted(onnx_dir.glob("*" + fused_graph.STAGING_SUFFIX))
    if staged:   # the old graphs stay runnable beside their staging data, to compare with
        before = []
        for p in paths:
            shutil.copyfile(p, p.with_name(p.name + ".before"))
            before.append(str(p.with_name(p.name + ".before")))
    else:
        before = [p.read_bytes() for p in paths]
    offsets, size = {}, 0   # (dtype, sha256 of the bytes) -> offset in model.onnx.data
    with open(onnx_dir / "model.onnx.data", "wb") as data:
        for path in paths:
            model = onnx.load(str(path), load_external_data=False)
            for init in model.graph.initializer:
                if init.data_location == onnx.TensorProto.EXTERNAL:
                    init.raw_data = _external_bytes(onnx_dir, init)
                elif len(init.raw_data) < min_bytes:
                    continue   # small constants stay inline
                raw = init.raw_data
                key = (init.data_type, hashlib.sha256(raw).hexdigest())
                if key not in offsets:
                    data.write(b"\0" * (-size % 4096))
                    size += -size % 4096
                    offsets[key] = size
                    data.write(raw)
                    size += len(raw)
                set_external_data(init, "model.onnx.data", offset=offsets[key], length=len(raw))
                init.ClearField("raw_data")
            onnx.save(model, str(path))

    import onnxruntime as ort

    manifest = {"num_kv_heads": shapes["kv_heads"], "head_dim": shapes["head_dim"], "vocab_size": shapes["vocab_size"],
                "num_layers": shapes["num_layers"], "mask_min": MASK_MIN}
    for q, p, seed in ((6, 4, 0), (1, 7, 1)):
        feeds = _random_feeds(manifest, q, p, seed)
        for old, path in zip(before, paths):
            if path.name == fused_graph.INPLACE_FILE:
                run = lambda graph: InplaceAdapter(ort.InferenceSession(graph, providers=["CPUExecutionProvider"])).run(None, feeds)
                got, want = run(str(path)), run(old)
            else:
                got, want = _outputs(str(path), feeds), _outputs(old, feeds)
            if not all(np.array_equal(a, b) for a, b in zip(got, want)):
                raise CliError(f"{path.name} changed its outputs when its weights moved to model.onnx.data")
    for f in [*staged, *(Path(b) for b in before if isinstance(b, str))]:
        f.unlink()
    return size


def build_manifest(args, model, tokenizer, shapes: dict, out: Path, check: dict, graph: str,
                   inplace: dict | None = None) -> dict:
    import onnx
    import onnxruntime
    import torch
    import transformers

    from decoder_wrapper import MASK_MIN, SLIDING_MASK

    config = model.config
    total, non_embedding = count_parameters(model)
    files = {f.name: sha256_file(f) for f in sorted(out.iterdir()) if f.is_file()}
    return {
        "format": FORMAT,
        "model_type": config.model_type,
        "architecture": type(model).__name__,
        "num_layers": shapes["num_layers"],
        "num_heads": config.num_attention_heads,
        "num_kv_heads": shapes["kv_heads"],
        "head_dim": shapes["head_dim"],
        "hidden_size": config.hidden_size,
        "vocab_size": shapes["vocab_size"],
        "max_positions": max_positions(config),
        "sliding_window": attention_window(config),
        **special_ids(model, tokenizer),
        "dtype": args.dtype,
        "graph": graph,
        "mask_min": MASK_MIN,
        "parameters": total,
        # matmuls only: 2 flops per weight, plus the lm_head (2 * hidden * vocab); attention over
        # the context is left out, as in the usual 2N estimate.
        "flops_per_token": 2 * non_embedding + 2 * config.hidden_size * shapes["vocab_size"],
        "inputs": {"input_ids": "input_ids", "position_ids": "position_ids",
                   "attention_mask": "attention_mask",
                   **({SLIDING_MASK: SLIDING_MASK} if mixed_attention(config) else {}),
                   "past_key": "past.{i}.key", "past_value": "past.{i}.value"},
        "outputs": {"logits": "logits", "present_key": "present.{i}.key",
                    "present_value": "present.{i}.value", "present_holds": "new_tokens_only"},
        "source": {"model": args.model,
                   "revision": args.revision or getattr(config, "_commit_hash", None)},
        "exporter": {"specbeam": SPECBEAM_EXPORTER_VERSION, "torch": torch.__version__,
                     "transformers": transformers.__version__, "onnx": onnx.__version__,
                     "onnxruntime": onnxruntime.__version__, "opset": args.opset},
        "files": files,
        "check": check,
        **({"inplace": inplace} if inplace else {}),
    }


def store_tied_embedding_once(staging: Path) -> None:
    """The exporter writes a tied lm_head as a second, transposed copy of the embedding; keep one.

    dedupe_tied.py checks ONNX Runtime's outputs stay bit-identical (so the manifest's check
    still holds) and updates the manifest's hash; models with external data are left alone.
    """
    from dedupe_tied import dedupe_directory

    if (staging / "model.onnx.data").exists():
        return
    try:
        dedupe_directory(staging)
    except SystemExit as e:  # outputs changed: publish the checked, larger file as it is
        warnings.warn(f"tied embedding kept twice: {e}")


def publish(staging: Path, out: Path) -> None:
    """Move the staged files into out, manifest.json last; drop a stale model.onnx.data."""
    out.mkdir(parents=True, exist_ok=True)
    names = sorted(f.name for f in staging.iterdir())
    names.remove("manifest.json")
    for optional in ("model.onnx.data", "model_inplace.onnx"):   # stale from an earlier export
        if optional not in names and (out / optional).exists():
            (out / optional).unlink()
    for name in names + ["manifest.json"]:
        tmp = out / f".{name}.incoming"
        shutil.move(str(staging / name), tmp)
        tmp.replace(out / name)


def main(argv=None):
    args = parse_args(argv)
    quiet_libraries()
    import fused_graph
    from export_check import CheckFailed, run_checks

    model, tokenizer = load_source(args)
    shapes = probe_shapes(model)
    with tempfile.TemporaryDirectory(prefix="specbeam-export-") as tmp:
        staging = Path(tmp) / "out"
        onnx_dir = Path(tmp) / "onnx"
        staging.mkdir()
        onnx_dir.mkdir()
        graph = write_graph(args, model, shapes, onnx_dir / "model.onnx")
        try:
            check = run_checks(model, onnx_dir / "model.onnx", shapes["num_layers"], shapes["kv_heads"],
                               shapes["head_dim"], shapes["vocab_size"], args.tolerance)
        except CheckFailed as e:
            if args.graph != "auto" or graph == "traced" or args.dtype != "float32":
                raise CliError(f"check failed ({graph} graph), nothing written to {args.out}: {e}") from None
            warnings.warn(f"the fused graph failed its check ({e}); writing the traced graph")
            for f in onnx_dir.iterdir():
                f.unlink()
            args.graph = "unfused"
            graph = write_graph(args, model, shapes, onnx_dir / "model.onnx")
            try:
                check = run_checks(model, onnx_dir / "model.onnx", shapes["num_layers"], shapes["kv_heads"],
                                   shapes["head_dim"], shapes["vocab_size"], args.tolerance)
            except CheckFailed as e2:
                raise CliError(f"check failed, nothing written to {args.out}: {e2}") from None
        inplace = write_inplace_graph(args, model, shapes, onnx_dir) if graph != "traced" else None
        if inplace:
            store_weights_once(onnx_dir, ["model.onnx", inplace["file"]], shapes)
        elif any(onnx_dir.glob("*" + fused_graph.STAGING_SUFFIX)):
            store_weights_once(onnx_dir, ["model.onnx"], shapes)
        for f in onnx_dir.iterdir():
            shutil.move(str(f), staging / f.name)
        write_tokenizer(tokenizer, staging)
        manifest = build_manifest(args, model, tokenizer, shapes, staging, check, graph, inplace)
        write_json(staging / "manifest.json", manifest)
        store_tied_embedding_once(staging)
        add_to_directory(staging)   # logits for a prompt's last token only (checked; the manifest updated)
        manifest = read_manifest(staging)
        publish(staging, args.out)
    print(f"wrote {args.out} ({manifest['model_type']}, {graph} graph, {manifest['parameters']} parameters, "
          f"max diff {max(v for k, v in check.items() if k.endswith('diff')):.2g})")


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
