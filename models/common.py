"""Helpers shared by the scripts under models/: clean CLI errors, model-directory I/O."""

import hashlib
import json
import os
import sys
from pathlib import Path

FORMAT = "specbeam-onnx-v1"

# ONNX Runtime (1.29+) starts a telemetry client when it first creates an environment unless this is set:
# it writes under ~/.cache/Microsoft, uploads from a thread of its own, and matches regexes against the
# command line that overflow the stack on long ones (the Java side's OrtTelemetry has the details). Every
# script imports this module before onnxruntime.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


class CliError(Exception):
    """A problem the user can fix: printed as one line on stderr, exit code 2, no traceback."""


def run_cli(main, argv=None) -> int:
    """Run main(argv); turn CliError into `error: ...` on stderr and exit code 2."""
    try:
        main(argv)
    except CliError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def quiet_libraries() -> None:
    """Keep transformers/torch chatter (and any network attempt) out of the way."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def read_manifest(model_dir: Path) -> dict:
    path = Path(model_dir) / "manifest.json"
    if not path.is_file():
        raise CliError(f"{model_dir} is not a specbeam model directory (no manifest.json); "
                       f"create it with models/export.py")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise CliError(f"{path}: format is {manifest.get('format')!r}, expected {FORMAT!r}")
    return manifest


def load_tokenizer(model_dir: Path):
    """The transformers tokenizer of a model directory (tokenizer.json + tokenizer_config.json)."""
    from transformers import PreTrainedTokenizerFast

    model_dir = Path(model_dir)
    tokenizer_file = model_dir / "tokenizer.json"
    if not tokenizer_file.is_file():
        raise CliError(f"{model_dir} has no tokenizer.json")
    config_file = model_dir / "tokenizer_config.json"
    config = json.loads(config_file.read_text()) if config_file.is_file() else {}
    special = {k: config[k] for k in ("bos_token", "eos_token", "pad_token", "unk_token")
               if isinstance(config.get(k), str)}
    tok = PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_file), **special)
    if config.get("chat_template"):
        tok.chat_template = config["chat_template"]
    return tok


def hf_checkpoint(path) -> Path:
    """A local HF checkpoint directory, with the files its weights.json derives from the committed ONNX model
    (model.safetensors, tokenizer.json) rebuilt first where absent (hf_weights.py)."""
    from hf_weights import ensure

    ensure(Path(path))
    return Path(path)


def write_json(path: Path, obj) -> None:
    Path(path).write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")
