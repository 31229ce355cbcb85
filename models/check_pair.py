#!/usr/bin/env python3
"""Check that a draft model can speculate for a target: same vocabulary, token for token.

    python models/check_pair.py --target D1 --draft D2

D1 and D2 are specbeam model directories (export.py). Speculative decoding compares draft
and target distributions id by id, so the logits width (manifest vocab_size) and the
tokenizer's token -> id map (added/special tokens included) must be identical.
Exit 0 and a one-line summary when they are; exit 2 with the differences otherwise.
"""

import argparse
from pathlib import Path

from common import CliError, read_manifest, run_cli

SHOWN = 5  # differences listed in the error


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", required=True, type=Path, help="target model directory")
    p.add_argument("--draft", required=True, type=Path, help="draft model directory")
    return p.parse_args(argv)


def vocabulary(model_dir: Path) -> dict[str, int]:
    from tokenizers import Tokenizer

    path = model_dir / "tokenizer.json"
    if not path.is_file():
        raise CliError(f"{model_dir} has no tokenizer.json")
    return Tokenizer.from_file(str(path)).get_vocab(with_added_tokens=True)


def vocabulary_differences(target: Path, draft: Path) -> list[str]:
    """Human-readable differences between the two directories' vocabularies; [] if none."""
    problems = []
    t_size, d_size = read_manifest(target)["vocab_size"], read_manifest(draft)["vocab_size"]
    if t_size != d_size:
        problems.append(f"logits width (manifest vocab_size) target {t_size} != draft {d_size}")
    t_vocab, d_vocab = vocabulary(target), vocabulary(draft)
    if t_vocab != d_vocab:
        t_by_id = {i: tok for tok, i in t_vocab.items()}
        d_by_id = {i: tok for tok, i in d_vocab.items()}
        ids = sorted(i for i in t_by_id.keys() | d_by_id.keys() if t_by_id.get(i) != d_by_id.get(i))
        shown = ", ".join(f"id {i}: {t_by_id.get(i)!r} vs {d_by_id.get(i)!r}" for i in ids[:SHOWN])
        problems.append(f"tokenizers differ at {len(ids)} ids (target {len(t_vocab)} tokens, "
                        f"draft {len(d_vocab)}): {shown}{' ...' if len(ids) > SHOWN else ''}")
    return problems


def main(argv=None):
    args = parse_args(argv)
    problems = vocabulary_differences(args.target, args.draft)
    if problems:
        raise CliError(f"draft {args.draft} cannot speculate for target {args.target}: " + "; ".join(problems))
    print(f"ok: {args.target} and {args.draft} share a {read_manifest(args.target)['vocab_size']}-token vocabulary")


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
