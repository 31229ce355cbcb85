"""Shared fixtures: the committed tiny models and fresh exports of them into temp dirs."""

import sys
from pathlib import Path

import pytest
import torch

MODELS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(MODELS))

from common import quiet_libraries  # noqa: E402

quiet_libraries()
torch.set_num_threads(1)  # tiny models: a second thread only adds contention on a 2-core machine

TINY = MODELS / "tiny"
ARCHS = ["llama", "qwen2", "gpt2", "gpt_neox"]


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """export.py run on each committed tiny HF checkpoint, into a fresh temp dir (cached)."""
    import export

    done = {}

    def get(arch: str) -> Path:
        if arch not in done:
            out = tmp_path_factory.mktemp(f"export_{arch}") / arch
            export.main(["--model", str(TINY / arch / "hf"), "--out", str(out)])
            done[arch] = out
        return done[arch]

    return get
