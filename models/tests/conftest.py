"""Shared fixtures: the committed tiny models and fresh exports of them into temp dirs."""

import sys
from pathlib import Path

import pytest
import torch

MODELS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(MODELS))

import hf_weights  # noqa: E402
from common import quiet_libraries  # noqa: E402

quiet_libraries()
for _hf in hf_weights.committed_dirs():   # the checkpoints the tests load, rebuilt from the ONNX models
    hf_weights.ensure(_hf)
torch.set_num_threads(1)  # tiny models: a second thread only adds contention on a 2-core machine

TINY = MODELS / "tiny"
ARCHS = ["llama", "qwen2", "gpt2", "gpt_neox", "mistral", "qwen3", "phi3", "gemma2", "gemma3"]
FUSED = list(ARCHS)   # every tiny model has the fused graph (and the in-place one)


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """export.py run on each committed tiny HF checkpoint, into a fresh temp dir (cached); `graph` is
    export.py's --graph (auto: fused where the architecture has a fused builder)."""
    import export

    done = {}

    def get(arch: str, graph: str = "auto") -> Path:
        if (arch, graph) not in done:
            out = tmp_path_factory.mktemp(f"export_{arch}_{graph}") / arch
            export.main(["--model", str(TINY / arch / "hf"), "--out", str(out), "--graph", graph])
            done[arch, graph] = out
        return done[arch, graph]

    return get
