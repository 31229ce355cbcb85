"""tasks.py: study prompts with and without a chat template, and the continuation task."""

import json
import shutil
import sysconfig
from pathlib import Path

import pytest
from conftest import TINY

import tasks
from common import load_tokenizer, run_cli

HELD_OUT = Path(sysconfig.get_paths()["stdlib"]) / "shlex.py"


def model_copy(tmp_path, arch):
    d = tmp_path / arch
    shutil.copytree(TINY / arch, d, ignore=shutil.ignore_patterns("hf", "tasks", "goldens.json", "model.onnx"))
    return d


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_raw_prompts_without_chat_template_keep_text_and_add_bos(tmp_path):
    d = model_copy(tmp_path, "llama")
    tasks.main(["--model-dir", str(d)])
    rows = read_jsonl(d / "tasks" / "prompts.jsonl")
    tok = load_tokenizer(d)
    assert [r["id"] for r in rows] == [i for i, _ in tasks.STUDY_PROMPTS]
    for row, (_, text) in zip(rows, tasks.STUDY_PROMPTS):
        assert row["text"] == row["rendered"] == text
        assert row["prompt_ids"][0] == 1  # the tiny llama's <s>, added as a Llama tokenizer does
        assert tok.decode(row["prompt_ids"], skip_special_tokens=True) == text


def test_chat_template_renders_chatml_with_system_and_generation_prompt(tmp_path):
    d = model_copy(tmp_path, "qwen2")
    tasks.main(["--model-dir", str(d), "--system", "You write Python."])
    row = read_jsonl(d / "tasks" / "prompts.jsonl")[2]
    assert row["text"] == "class Stack:"
    assert row["rendered"] == ("<|im_start|>system\nYou write Python.<|im_end|>\n"
                               "<|im_start|>user\nclass Stack:<|im_end|>\n<|im_start|>assistant\n")
    tok = load_tokenizer(d)
    im_start, im_end = tok.convert_tokens_to_ids(["<|im_start|>", "<|im_end|>"])
    assert row["prompt_ids"].count(im_start) == 3 and row["prompt_ids"].count(im_end) == 2
    assert row["prompt_ids"] == tok(row["rendered"], add_special_tokens=False)["input_ids"]

    tasks.main(["--model-dir", str(d)])  # no system message: user turn first
    assert read_jsonl(d / "tasks" / "prompts.jsonl")[0]["rendered"].startswith("<|im_start|>user\n")


def test_system_prompt_without_chat_template_is_a_clean_error(tmp_path, capsys):
    d = model_copy(tmp_path, "gpt2")
    assert run_cli(tasks.main, ["--model-dir", str(d), "--system", "hi"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "chat template" in err and "Traceback" not in err


def test_continuation_items_are_prompt_reference_pairs_from_held_out_text(tmp_path):
    d = model_copy(tmp_path, "gpt_neox")
    tasks.main(["--model-dir", str(d), "--continuation-source", str(HELD_OUT)])
    rows = read_jsonl(d / "tasks" / "continuation.jsonl")
    tok = load_tokenizer(d)
    source = HELD_OUT.read_text()
    assert 15 <= len(rows) <= 20
    for row in rows:
        assert len(row["prompt_ids"]) >= tasks.PROMPT_MIN_TOKENS
        assert len(row["reference_ids"]) == tasks.REFERENCE_TOKENS
        assert row["reference"] == tok.decode(row["reference_ids"])
        assert (row["text"] + row["reference"]) in source  # the reference continues the prompt
    assert len({r["text"] for r in rows}) == len(rows)


def test_directory_without_manifest_is_a_clean_error(tmp_path, capsys):
    assert run_cli(tasks.main, ["--model-dir", str(tmp_path)]) == 2
    assert "manifest.json" in capsys.readouterr().err


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_committed_tiny_tasks_match_a_fresh_render(tmp_path, arch):
    d = model_copy(tmp_path, arch)
    tasks.main(["--model-dir", str(d)])
    assert (d / "tasks" / "prompts.jsonl").read_text() == (TINY / arch / "tasks" / "prompts.jsonl").read_text()
