#!/usr/bin/env python3
"""The model card's agreement table for any target/draft pair of Hugging Face checkpoints.

One job: in float32, the held-out metrics train_pair.py reports at the end of its run (loss of
each model, teacher-forced greedy agreement, top-4-in-top-8 coverage, KL(target || draft) over
all held-out windows) and the agreement on the target's own greedy continuations with the
simulated tokens per target call of greedy speculative decoding.

    python models/pair_metrics.py --draft models/pair/hf/draft --out /tmp/metrics.json
"""

import argparse
import json
import sys
from pathlib import Path

import torch

from common import CliError, quiet_libraries, run_cli
from distill_topb import DEFAULT_DATA_DIR, DEFAULT_DRAFT, DEFAULT_TARGET, load_lm
from train_pair import TokenWindows, free_generation_agreement, heldout_metrics


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", type=Path, default=DEFAULT_TARGET)
    ap.add_argument("--draft", type=Path, default=DEFAULT_DRAFT)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="models/corpus.py's token streams")
    ap.add_argument("--seq-len", type=int, default=1024)
    ap.add_argument("--chunk", type=int, default=8, help="held-out windows per forward")
    ap.add_argument("--gen-prompts", type=int, default=64)
    ap.add_argument("--gen-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = ap.parse_args(argv)
    for name in ("train.npy", "heldout.npy"):
        if not (args.data_dir / name).is_file():
            raise CliError(f"{args.data_dir / name} not found: run `python models/corpus.py --reuse-tokenizer` first")
    quiet_libraries()
    torch.set_num_threads(args.threads)
    target, draft = load_lm(args.target).eval(), load_lm(args.draft).eval()
    windows = TokenWindows(args.data_dir, args.seq_len, "cpu", 0)
    with torch.no_grad():
        result = {"target": str(args.target), "draft": str(args.draft),
                  "heldout": heldout_metrics(target, draft, windows.heldout, args.chunk),
                  "free_generation": free_generation_agreement(target, draft, windows, args.gen_prompts, 32,
                                                               args.gen_tokens)}
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    sys.exit(run_cli(main))
