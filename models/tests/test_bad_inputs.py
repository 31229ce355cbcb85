"""Every bad input ends in one `error:` line on stderr, exit code 2, no traceback, no files."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import MODELS, TINY

import check_pair
import export
import hf_baseline
from common import run_cli


def assert_clean_error(capsys, rc, *words):
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error:") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for w in words:
        assert w in err, err


def test_unknown_hub_id_offline_exits_2_without_traceback_or_files(tmp_path):
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    proc = subprocess.run([sys.executable, str(MODELS / "export.py"), "--model", "nobody/no-such-model",
                           "--out", str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: cannot load model 'nobody/no-such-model'")
    assert "--download" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_missing_local_path_is_a_clean_error(tmp_path, capsys):
    rc = run_cli(export.main, ["--model", str(tmp_path / "nope"), "--out", str(tmp_path / "out")])
    assert_clean_error(capsys, rc, "not a directory")


def test_encoder_decoder_model_is_rejected(tmp_path, capsys):
    from transformers import T5Config, T5ForConditionalGeneration

    t5 = T5ForConditionalGeneration(T5Config(vocab_size=64, d_model=16, d_kv=4, d_ff=32, num_layers=1,
                                             num_heads=2, decoder_start_token_id=0))
    t5.save_pretrained(tmp_path / "t5")
    rc = run_cli(export.main, ["--model", str(tmp_path / "t5"), "--out", str(tmp_path / "out")])
    assert_clean_error(capsys, rc, "encoder-decoder", "t5")
    assert not (tmp_path / "out").exists()


def test_encoder_only_model_is_rejected(tmp_path, capsys):
    from transformers import BertConfig, BertModel

    BertModel(BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=32)).save_pretrained(tmp_path / "bert")
    rc = run_cli(export.main, ["--model", str(tmp_path / "bert"), "--out", str(tmp_path / "out")])
    assert_clean_error(capsys, rc, "bert")


def test_failed_check_leaves_no_files_and_keeps_the_previous_export(tmp_path, capsys):
    fresh = tmp_path / "fresh"
    rc = run_cli(export.main, ["--model", str(TINY / "gpt2" / "hf"), "--out", str(fresh), "--tolerance", "1e-30"])
    assert_clean_error(capsys, rc, "check failed", "prefill_max_abs_diff=")
    assert not fresh.exists()

    existing = tmp_path / "existing"  # a directory with an earlier export keeps it untouched
    shutil.copytree(TINY / "gpt2", existing, ignore=shutil.ignore_patterns("hf"))
    before = {p.name: p.read_bytes() for p in existing.iterdir() if p.is_file()}
    rc = run_cli(export.main, ["--model", str(TINY / "llama" / "hf"), "--out", str(existing),
                               "--tolerance", "1e-30"])
    assert_clean_error(capsys, rc, "check failed")
    assert {p.name: p.read_bytes() for p in existing.iterdir() if p.is_file()} == before


def test_check_pair_accepts_identical_vocabularies(capsys):
    rc = run_cli(check_pair.main, ["--target", str(TINY / "llama"), "--draft", str(TINY / "llama")])
    assert rc == 0 and "512-token vocabulary" in capsys.readouterr().out


def test_check_pair_rejects_different_tokens(capsys):
    rc = run_cli(check_pair.main, ["--target", str(TINY / "llama"), "--draft", str(TINY / "qwen2")])
    assert_clean_error(capsys, rc, "tokenizers differ at 3 ids", "'<s>' vs '<|im_start|>'")


def test_check_pair_rejects_different_logit_widths(tmp_path, capsys):
    draft = tmp_path / "draft"
    shutil.copytree(TINY / "llama", draft, ignore=shutil.ignore_patterns("hf"))
    manifest = json.loads((draft / "manifest.json").read_text())
    manifest["vocab_size"] = 640
    (draft / "manifest.json").write_text(json.dumps(manifest))
    rc = run_cli(check_pair.main, ["--target", str(TINY / "llama"), "--draft", str(draft)])
    assert_clean_error(capsys, rc, "target 512 != draft 640")


@pytest.mark.parametrize("flag", ["--target", "--draft"])
def test_check_pair_rejects_a_non_model_directory(tmp_path, capsys, flag):
    args = {"--target": str(TINY / "llama"), "--draft": str(TINY / "llama"), flag: str(tmp_path)}
    rc = run_cli(check_pair.main, [x for kv in args.items() for x in kv])
    assert_clean_error(capsys, rc, "manifest.json")


def test_hf_baseline_refuses_a_draft_with_another_vocabulary(tmp_path, capsys):
    rc = run_cli(hf_baseline.main, ["--target", str(TINY / "llama"), "--draft", str(TINY / "gpt2"),
                                    "--out", str(tmp_path / "x.csv")])
    assert_clean_error(capsys, rc, "tokenizers differ")
    assert not (tmp_path / "x.csv").exists()


def test_sliding_layers_without_a_window_are_rejected(tmp_path, capsys):
    """A config that names sliding layers but no window cannot be expressed, and is not guessed."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, use_sliding_window=False,
                         layer_types=["sliding_attention", "full_attention"])
    Qwen2ForCausalLM(config).save_pretrained(tmp_path / "swa")
    rc = run_cli(export.main, ["--model", str(tmp_path / "swa"), "--out", str(tmp_path / "out")])
    assert_clean_error(capsys, rc, "sliding_attention", "sliding_window=None")
    assert not (tmp_path / "out").exists()


def _tiny_qwen2_with(tmp_path, **kwargs):
    """A one- or two-layer Qwen2 with the tiny qwen2's tokenizer, in tmp_path/swa."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tiny = json.loads((TINY / "qwen2" / "hf" / "config.json").read_text())
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=tiny["vocab_size"], hidden_size=16, intermediate_size=32, num_attention_heads=2,
                         num_key_value_heads=1, max_position_embeddings=128, bos_token_id=tiny.get("bos_token_id"),
                         eos_token_id=tiny["eos_token_id"], pad_token_id=tiny.get("pad_token_id"), **kwargs)
    Qwen2ForCausalLM(config).save_pretrained(tmp_path / "swa")
    for name in ("tokenizer.json", "tokenizer_config.json"):   # the tiny qwen2's tokenizer (same vocabulary)
        shutil.copyfile(TINY / "qwen2" / "hf" / name, tmp_path / "swa" / name)
    return tmp_path / "swa"


def test_sliding_and_full_layers_get_a_mask_each_in_the_traced_graph(tmp_path):
    """Qwen2 with max_window_layers below its layer count: one full and one sliding layer. The fused builder gives
    every layer one mask, so the traced graph is written, with the sliding layers' mask as a second input, and the
    check (windowed scenarios included) holds it to HF's own forward."""
    d = _tiny_qwen2_with(tmp_path, num_hidden_layers=2, use_sliding_window=True, sliding_window=8,
                         max_window_layers=1)
    export.main(["--model", str(d), "--out", str(tmp_path / "out")])
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["graph"] == "traced" and manifest["sliding_window"] == 8
    assert manifest["inputs"]["attention_mask_sliding"] == "attention_mask_sliding"
    assert manifest["check"]["window_checked"] and manifest["check"]["window_tree_max_abs_diff"] < 1e-4


def test_a_sliding_window_on_every_layer_is_exported_with_its_window_checked(tmp_path):
    """All layers sliding (window 8, shorter than the check's prompts): the window goes to the manifest and the
    check's windowed masks agree with HF's own sliding-window forward, so the fused graph is kept."""
    d = _tiny_qwen2_with(tmp_path, num_hidden_layers=1, use_sliding_window=True, sliding_window=8,
                         max_window_layers=0)
    export.main(["--model", str(d), "--out", str(tmp_path / "out")])
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["sliding_window"] == 8 and manifest["graph"] == "fused-v1"
    assert manifest["check"]["window_checked"] and manifest["check"]["window_tree_max_abs_diff"] < 1e-4


