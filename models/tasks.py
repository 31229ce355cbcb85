#!/usr/bin/env python3
"""Write the study prompts (and optionally a held-out continuation task) of a model directory.

    python models/tasks.py --model-dir D [--system "..."] [--print]
    python models/tasks.py --model-dir D --continuation-source held_out.py [more files]

D/tasks/prompts.jsonl: the five study prompts, rendered with the tokenizer's chat template
when it has one (optional system message, generation prompt added) and raw otherwise.
D/tasks/continuation.jsonl: ~20 prompt/reference pairs cut at line boundaries from
held-out text, always raw (it is a language-modelling task), reference ~48 tokens.
Line format in FORMAT.md ("Tasks").
"""

import argparse
import json
from pathlib import Path

from common import CliError, load_tokenizer, quiet_libraries, read_manifest, run_cli

# Short and varied; the demo pair is a code model trained on Python stdlib source.
STUDY_PROMPTS = [
    ("fibonacci", "def fibonacci(n):"),
    ("import_os", "import os\n"),
    ("class_stack", "class Stack:"),
    ("future_of_ai", "The future of AI is"),
    ("once_upon", "Once upon a time"),
]
CONTINUATION_ITEMS = 20
PROMPT_MIN_TOKENS = 32
REFERENCE_TOKENS = 48


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-dir", required=True, type=Path, help="specbeam model directory (export.py)")
    p.add_argument("--system", default=None, help="system message for chat templates")
    p.add_argument("--print", action="store_true", help="print the rendered prompts")
    p.add_argument("--continuation-source", nargs="+", type=Path, default=None, metavar="FILE",
                   help="held-out text files to cut continuation.jsonl from")
    p.add_argument("--items", type=int, default=CONTINUATION_ITEMS, help="continuation items (default 20)")
    return p.parse_args(argv)


def render(tokenizer, text: str, system: str | None) -> tuple[str, list[int], list[dict] | None]:
    """(rendered text, prompt ids, messages): chat template if the tokenizer has one, else raw text (no messages)."""
    if tokenizer.chat_template:
        messages = ([{"role": "system", "content": system}] if system else []) + \
                   [{"role": "user", "content": text}]
        rendered = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return rendered, tokenizer(rendered, add_special_tokens=False)["input_ids"], messages
    if system:
        raise CliError("--system needs a tokenizer with a chat template; this one has none")
    return text, tokenizer(text)["input_ids"], None


def study_prompts(tokenizer, system: str | None) -> list[dict]:
    """The study prompts; with a chat template each row keeps its messages, which the Java suite renders itself
    (ModelPair.prompts: one renderer for generate, serve and the suite) and checks against rendered/prompt_ids."""
    rows = []
    for task_id, text in STUDY_PROMPTS:
        rendered, ids, messages = render(tokenizer, text, system)
        row = {"id": task_id, "text": text, "rendered": rendered, "prompt_ids": ids}
        if messages is not None:
            row["messages"] = messages
        rows.append(row)
    return rows


def continuation_items(tokenizer, files: list[Path], items: int) -> list[dict]:
    """Prompt = whole lines (>= PROMPT_MIN_TOKENS tokens); reference = the next REFERENCE_TOKENS tokens."""
    lines = []
    for f in files:
        if not f.is_file():
            raise CliError(f"continuation source {f} not found")
        lines += f.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    n_tokens = [len(tokenizer(line, add_special_tokens=False)["input_ids"]) for line in lines]
    starts = [round(i * len(lines) / items) for i in range(items)]
    rows, seen = [], set()
    for k, start in enumerate(starts):
        end, count = start, 0
        while end < len(lines) and count < PROMPT_MIN_TOKENS:
            count += n_tokens[end]
            end += 1
        rest = "".join(lines[end:end + 40])
        reference_ids = tokenizer(rest, add_special_tokens=False)["input_ids"][:REFERENCE_TOKENS]
        text = "".join(lines[start:end])
        if count < PROMPT_MIN_TOKENS or len(reference_ids) < REFERENCE_TOKENS or text in seen:
            continue  # too close to the end of the text, or a repeated passage
        seen.add(text)
        rows.append({"id": f"cont_{k:02d}", "text": text, "rendered": text,
                     "prompt_ids": tokenizer(text)["input_ids"],
                     "reference": tokenizer.decode(reference_ids), "reference_ids": reference_ids})
    if not rows:
        raise CliError("continuation sources are too short to cut any item")
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def main(argv=None):
    args = parse_args(argv)
    quiet_libraries()
    read_manifest(args.model_dir)
    tokenizer = load_tokenizer(args.model_dir)
    prompts = study_prompts(tokenizer, args.system)
    write_jsonl(args.model_dir / "tasks" / "prompts.jsonl", prompts)
    if args.print:
        for row in prompts:
            print(f"--- {row['id']} ({len(row['prompt_ids'])} tokens)\n{row['rendered']}")
    if args.continuation_source:
        rows = continuation_items(tokenizer, args.continuation_source, args.items)
        write_jsonl(args.model_dir / "tasks" / "continuation.jsonl", rows)
        if args.print:
            row = rows[0]
            print(f"--- {row['id']}: prompt {len(row['prompt_ids'])} tokens\n{row['text']}"
                  f"--- reference {len(row['reference_ids'])} tokens\n{row['reference']}")
    print(f"wrote {args.model_dir / 'tasks'}")


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
