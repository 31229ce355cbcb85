#!/usr/bin/env python3
"""Build the tiny random test models in models/tiny/<arch>/ (llama, qwen2, mistral, qwen3, phi3, gemma2, gemma3,
gpt2, gpt_neox).

    python models/make_tiny.py [--out models/tiny] [--arch llama ...]

Each gets a byte-level BPE tokenizer (512 tokens) trained on a few Python stdlib files, a
seeded random 2-layer model, its HF checkpoint in <arch>/hf/ (safetensors, what goldens.py
runs) and the ONNX export next to it (export.py, checked). qwen2 uses grouped-query attention
(4 heads, 2 kv heads), tied embeddings and a ChatML chat template; the others have no template.

Weights: HF's default init (std 0.02) gives near-uniform logits, so almost every greedy step
would be a near-tie and goldens could not tell a bug from float noise. We init with std 0.3
(input-dependent, varied generations) and scale the final norm by LOGIT_SCALE, which sharpens
the logits without changing the greedy argmax: the median greedy top-1/top-2 gap is then ~2
logits and only ~2% of beam steps have a candidate gap below 1e-3 (goldens.json step_gaps).
Reproducible: same seed, same stdlib text (Python 3.11) -> same tokenizer and weights. The seed is SEED, or the
arch's own `seed`: for mistral, gemma2 and gemma3 SEED + 1, the first seed whose goldens have at least 8 beam cases
finishing early on the likely EOS (test_goldens; at SEED they had 3-7).
"""

import argparse
import os
import sysconfig
from pathlib import Path

from common import CliError, quiet_libraries, run_cli

SEED = 1234
VOCAB = 512
INIT_STD = 0.3
LOGIT_SCALE = 4.0
TOKENIZER_TEXT = ["textwrap.py", "heapq.py", "bisect.py", "string.py", "colorsys.py", "queue.py"]
CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content']"
          " + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}"
          "{{ '<|im_start|>assistant\\n' }}{% endif %}")

# Per architecture: special tokens (ids 0..k-1 in this order), their roles, config kwargs.
DIMS = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            max_position_embeddings=256)
# the architectures added later are half as wide (head_dim 8): models/ stays within its 40 MiB (test_hf_weights)
SMALL = dict(DIMS, hidden_size=32, intermediate_size=64)
ARCHS = {
    "llama": dict(specials=["<unk>", "<s>", "</s>"], bos="<s>", eos=["</s>"], pad=None, unk="<unk>",
                  add_bos=True, config=dict(DIMS, num_key_value_heads=4, tie_word_embeddings=False)),
    "qwen2": dict(specials=["<|endoftext|>", "<|im_start|>", "<|im_end|>"], bos=None,
                  eos=["<|im_end|>", "<|endoftext|>"], pad="<|endoftext|>", unk=None, add_bos=False,
                  chat_template=CHATML,
                  config=dict(DIMS, num_key_value_heads=2, tie_word_embeddings=True)),
    # Mistral: Llama's layers with a sliding window, here 12 so that the goldens' 40-token prompts are over 3x it
    "mistral": dict(specials=["<unk>", "<s>", "</s>"], bos="<s>", eos=["</s>"], pad=None, unk="<unk>",
                    add_bos=True, seed=1235, config=dict(SMALL, num_key_value_heads=2, sliding_window=12,
                                              tie_word_embeddings=False)),
    # Qwen3: per-head q/k RMSNorm and a head_dim (16) that is not hidden_size / heads (8), tied embeddings
    "qwen3": dict(specials=["<|endoftext|>", "<|im_start|>", "<|im_end|>"], bos=None,
                  eos=["<|im_end|>", "<|endoftext|>"], pad="<|endoftext|>", unk=None, add_bos=False,
                  chat_template=CHATML,
                  config=dict(SMALL, num_key_value_heads=2, head_dim=16, tie_word_embeddings=True)),
    # Phi-3: fused qkv_proj and gate_up_proj, a partial rotary (half of each head) and a 13-token sliding window
    "phi3": dict(specials=["<unk>", "<s>", "<|endoftext|>", "<|end|>"], bos="<s>", eos=["<|end|>", "<|endoftext|>"],
                 pad="<|endoftext|>", unk="<unk>", add_bos=True,
                 config=dict(SMALL, num_key_value_heads=2, sliding_window=13, tie_word_embeddings=False,
                             rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                              "partial_rotary_factor": 0.5})),
    # Gemma 2: alternating sliding (window 8) and full layers, attention and final logit soft-caps, (1 + w) norms,
    # scaled embeddings, query_pre_attn_scalar. Untied head (real Gemma ties it): with random weights,
    # sqrt(hidden)-scaled embeddings and a tied head, every generation repeats its last token and no golden could
    # tell a window from none
    "gemma2": dict(specials=["<pad>", "<eos>", "<bos>", "<unk>"], bos="<bos>", eos=["<eos>"], pad="<pad>",
                   unk="<unk>", add_bos=True, one_plus_norm=True, seed=1235,
                   config=dict(SMALL, num_key_value_heads=2, head_dim=8, query_pre_attn_scalar=8, sliding_window=8,
                               layer_types=["sliding_attention", "full_attention"], attn_logit_softcapping=50.0,
                               final_logit_softcapping=30.0, tie_word_embeddings=False)),
    # Gemma 3 (text): as Gemma 2 without the soft-caps, with per-head q/k norms and a rotary base of its own for
    # the sliding layers (untied too)
    "gemma3": dict(model_type="gemma3_text", specials=["<pad>", "<eos>", "<bos>", "<unk>"], bos="<bos>",
                   eos=["<eos>"], pad="<pad>", unk="<unk>", add_bos=True, one_plus_norm=True, seed=1235,
                   config=dict(SMALL, num_key_value_heads=2, head_dim=8, query_pre_attn_scalar=8, sliding_window=8,
                               layer_types=["sliding_attention", "full_attention"], tie_word_embeddings=False,
                               rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                                                "full_attention": {"rope_type": "default", "rope_theta": 1e6}})),
    "gpt2": dict(specials=["<|endoftext|>"], bos="<|endoftext|>", eos=["<|endoftext|>"], pad=None,
                 unk=None, add_bos=False,
                 config=dict(n_embd=64, n_layer=2, n_head=4, n_inner=128, n_positions=256)),
    "gpt_neox": dict(specials=["<|endoftext|>", "<|padding|>"], bos="<|endoftext|>",
                     eos=["<|endoftext|>"], pad="<|padding|>", unk=None, add_bos=False,
                     config=dict(DIMS, tie_word_embeddings=False)),
}


# tiny models also exported in float16 to <arch>-fp16/ (no goldens: half precision is compared with float32)
HALF_TWINS = ("gemma3",)

FINAL_NORM = {"llama": "model.norm", "qwen2": "model.norm", "mistral": "model.norm", "qwen3": "model.norm",
              "gemma2": "model.norm", "gemma3": "model.norm",
              "phi3": "model.norm", "gpt2": "transformer.ln_f",
              "gpt_neox": "gpt_neox.final_layer_norm"}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path(os.path.relpath(Path(__file__).parent / "tiny")),
                   help="default models/tiny")
    p.add_argument("--arch", nargs="+", choices=list(ARCHS), default=list(ARCHS))
    p.add_argument("--no-export", action="store_true", help="only write the HF checkpoints")
    return p.parse_args(argv)


def stdlib_files(names) -> list[str]:
    lib = Path(sysconfig.get_paths()["stdlib"])
    paths = [lib / n for n in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise CliError(f"stdlib text not found: {', '.join(missing)}")
    return [str(p) for p in paths]


def train_tokenizer(spec: dict):
    """Byte-level BPE (GPT-2 style, so any text encodes) with the arch's special tokens first."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=spec["specials"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train(stdlib_files(TOKENIZER_TEXT), trainer)
    if spec["add_bos"]:  # Llama-style: every encoded text starts with <s>
        bos = spec["bos"]
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tok.token_to_id(bos))])
    return tok


def build_model(arch: str, spec: dict, tok):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, GenerationConfig

    def tid(token):
        return None if token is None else tok.token_to_id(token)

    eos = [tid(t) for t in spec["eos"]]
    config = AutoConfig.for_model(
        spec.get("model_type", arch), vocab_size=VOCAB, initializer_range=INIT_STD, bos_token_id=tid(spec["bos"]),
        eos_token_id=eos[0], pad_token_id=tid(spec["pad"]), **spec["config"])
    torch.manual_seed(spec.get("seed", SEED))
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager").eval()
    final_norm = model.get_submodule(FINAL_NORM[arch])
    with torch.no_grad():
        for p in final_norm.parameters():  # weight (and bias): logits scale by LOGIT_SCALE
            if spec.get("one_plus_norm"):   # Gemma's norm multiplies by (1 + w): 1 + w' = LOGIT_SCALE (1 + w)
                p.mul_(LOGIT_SCALE).add_(LOGIT_SCALE - 1)
            else:
                p.mul_(LOGIT_SCALE)
    model.generation_config = GenerationConfig(
        bos_token_id=tid(spec["bos"]), eos_token_id=eos if len(eos) > 1 else eos[0],
        pad_token_id=tid(spec["pad"]))
    return model


def save_hf(model, tok, spec: dict, hf_dir: Path) -> None:
    from transformers import PreTrainedTokenizerFast

    hf_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(hf_dir)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=spec["bos"], eos_token=spec["eos"][0], pad_token=spec["pad"],
        unk_token=spec["unk"], chat_template=spec.get("chat_template"),
        additional_special_tokens=[t for t in spec["specials"]
                                   if t not in (spec["bos"], spec["eos"][0], spec["pad"], spec["unk"])])
    fast.save_pretrained(hf_dir)


def main(argv=None):
    args = parse_args(argv)
    quiet_libraries()
    import export
    import hf_weights

    for arch in args.arch:
        spec = ARCHS[arch]
        tok = train_tokenizer(spec)
        model = build_model(arch, spec, tok)
        hf_dir = args.out / arch / "hf"
        # a weights.json left by an earlier build would make export.py's hf_weights.ensure "restore" its weights
        (hf_dir / hf_weights.RECORD).unlink(missing_ok=True)
        save_hf(model, tok, spec, hf_dir)
        print(f"{arch}: {model.num_parameters()} parameters -> {hf_dir}")
        if not args.no_export:
            # a relative source path keeps the committed manifests machine-independent
            export.main(["--model", os.path.relpath(hf_dir), "--out", str(args.out / arch)])
            # only the ONNX model is committed: hf/weights.json says how the checkpoint comes back from it
            hf_weights.record(hf_dir, args.out / arch)
            if arch in HALF_TWINS:   # its float16 export (FORMAT.md "Half precision"), for the engine's half tests
                export.main(["--model", os.path.relpath(hf_dir), "--out", str(args.out / f"{arch}-fp16"),
                             "--dtype", "float16"])


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
