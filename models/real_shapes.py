#!/usr/bin/env python3
"""Check the Java engine against Hugging Face `generate` on random-weight models of real shapes.

    python models/real_shapes.py --jar benchmarks.jar --quick          # what .ci/run runs (~5 min)
    python models/real_shapes.py --jar benchmarks.jar                  # every shape, published depth

Builds each shape from its published config (random weights, a fixed seed: nothing to download,
nothing committed) with a small draft of the same vocabulary, exports both with export.py (fused
graph), records HF `generate` goldens (greedy; beam B = 2/4/8 with length-penalty, early-stopping,
min-new-tokens and num-return-sequences variants) on prompts of the given lengths, and runs
`SpecbeamCli check-goldens` with the draft and with the target as its own draft: target-only,
speculative greedy, speculative beam search (fixed and adaptive tree), each compared with HF, a
divergence allowed only at a certified near-tie. Exit 1 if any run differs.

Weights are drawn with std 0.3 and the final norm scaled by 4 (as make_tiny.py does): HF's default
init gives near-uniform logits over 150k tokens, where every step would be a near-tie.
"""

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from common import CliError, quiet_libraries, read_manifest, run_cli, write_json

SEED = 28
INIT_STD = 0.3
LOGIT_SCALE = 4.0

# Published configs (config.json of each hub model), all fields that shape the computation.
SHAPES = {
    "smollm2-135m": dict(model_type="llama", vocab_size=49152, hidden_size=576, intermediate_size=1536,
                         num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                         max_position_embeddings=8192, rope_theta=100000.0, rms_norm_eps=1e-5,
                         tie_word_embeddings=True),
    "qwen2.5-0.5b": dict(model_type="qwen2", vocab_size=151936, hidden_size=896, intermediate_size=4864,
                         num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                         max_position_embeddings=32768, rope_theta=1000000.0, rms_norm_eps=1e-6,
                         tie_word_embeddings=True),
    "llama-3.2-1b": dict(model_type="llama", vocab_size=128256, hidden_size=2048, intermediate_size=8192,
                         num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8, head_dim=64,
                         max_position_embeddings=131072, rope_theta=500000.0, rms_norm_eps=1e-5,
                         tie_word_embeddings=True,
                         rope_scaling=dict(rope_type="llama3", factor=32.0, low_freq_factor=1.0,
                                           high_freq_factor=4.0, original_max_position_embeddings=8192)),
}
# The draft: same family and vocabulary, one narrow layer.
DRAFT = dict(hidden_size=128, intermediate_size=256, num_hidden_layers=1, num_attention_heads=2,
             num_key_value_heads=1, head_dim=64)
# 4,096 tokens at a 151,936 vocabulary: past the 3,533 a prompt's all-position logits allowed (2 GiB) before
# logits_from.py; prompts over LONG get greedy and beam B = 2 only (HF's eager attention over 8 beams of 4k
# tokens would take gigabytes and minutes).
QUICK = dict(shapes=["qwen2.5-0.5b"], layers=2, lengths=[1024, 4096])
LONG = 2048
FULL_LENGTHS = [16, 256, 1024]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jar", type=Path, default=Path("benchmarks.jar"), help="the suite's jar (mvn package)")
    p.add_argument("--work", type=Path, default=None,
                   help="folder for the built models (default: a temporary one, removed afterwards)")
    p.add_argument("--quick", action="store_true",
                   help=f"{QUICK['shapes'][0]} at {QUICK['layers']} layers, prompts of {QUICK['lengths']} tokens")
    p.add_argument("--shapes", default=None, help=f"comma-separated, from {', '.join(SHAPES)} (default: all)")
    p.add_argument("--layers", type=int, default=None, help="layers of each target (default: the published depth)")
    p.add_argument("--lengths", default=None, help=f"prompt lengths (default {FULL_LENGTHS})")
    p.add_argument("--new-tokens", type=int, default=12, help="max new tokens per case (default 12)")
    p.add_argument("--threads", type=int, default=2, help="torch threads for HF generate (default 2)")
    args = p.parse_args(argv)
    if args.quick:
        args.shapes = args.shapes or ",".join(QUICK["shapes"])
        args.layers = args.layers or QUICK["layers"]
        args.lengths = args.lengths or ",".join(map(str, QUICK["lengths"]))
    args.shapes = (args.shapes or ",".join(SHAPES)).split(",")
    unknown = [s for s in args.shapes if s not in SHAPES]
    if unknown:
        raise CliError(f"unknown shape(s) {unknown}: choose from {', '.join(SHAPES)}")
    try:
        args.lengths = [int(x) for x in (args.lengths or ",".join(map(str, FULL_LENGTHS))).split(",")]
    except ValueError:
        raise CliError(f"--lengths must be comma-separated integers, not {args.lengths!r}") from None
    if min(args.lengths) < 1 or args.new_tokens < 1 or (args.layers is not None and args.layers < 1):
        raise CliError("--lengths, --new-tokens and --layers must be positive")
    if not args.jar.is_file():
        raise CliError(f"{args.jar} not found: build it with `mvn package -DskipTests`")
    return args


def save_tokenizer(hf_dir: Path) -> None:
    """A byte-level tokenizer whose id 0 is <|endoftext|> (the models' EOS); prompts are given as ids."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {"<|endoftext|>": 0, **{c: i + 1 for i, c in enumerate(sorted(alphabet))}}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>",
                            pad_token="<|endoftext|>").save_pretrained(hf_dir)


def build_hf(shape: dict, overrides: dict, seed: int, hf_dir: Path) -> int:
    """A random-weight checkpoint of the shape (sharpened, see the module doc); returns its parameters."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, GenerationConfig

    kwargs = {k: v for k, v in shape.items() if k != "model_type"}
    kwargs.update(overrides)
    config = AutoConfig.for_model(shape["model_type"], initializer_range=INIT_STD, bos_token_id=None,
                                  eos_token_id=0, pad_token_id=0, **kwargs)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager").eval()
    with torch.no_grad():
        model.get_submodule("model.norm").weight.mul_(LOGIT_SCALE)
    model.generation_config = GenerationConfig(eos_token_id=0, pad_token_id=0)
    hf_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(hf_dir)
    save_tokenizer(hf_dir)
    return model.num_parameters()


def likely_eos(model, ids, new_tokens) -> int:
    """The token greedy decoding emits third after this prompt: as the beams' EOS it ends hypotheses early,
    so that length penalty, early stopping and min_new_tokens decide (a random model of 150k tokens
    rarely emits any fixed token)."""
    import torch

    x = torch.tensor([ids])
    with torch.no_grad():
        out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), do_sample=False,
                             max_new_tokens=min(3, new_tokens), min_new_tokens=min(3, new_tokens),
                             eos_token_id=None, pad_token_id=0)
    return int(out[0, -1])


def golden_cases(model, lengths, vocab, new_tokens) -> list:
    """(id, prompt ids, config): greedy and beam variants at each prompt length, seeded prompts."""
    rng = random.Random(SEED)

    def cfg(mode, eos, beams=1, lp=1.0, es=False, nrs=1, min_new=0):
        return {"mode": mode, "num_beams": beams, "max_new_tokens": new_tokens, "min_new_tokens": min_new,
                "length_penalty": lp, "early_stopping": es, "num_return_sequences": nrs, "eos_token_ids": eos}

    cases = []
    for n in lengths:
        ids = [rng.randrange(1, vocab) for _ in range(n)]
        likely = [likely_eos(model, ids, new_tokens)]
        cases += [
            (f"greedy_len{n}", ids, cfg("greedy", [0])),
            (f"greedy_likely_eos_len{n}", ids, cfg("greedy", likely)),
            (f"beam2_lp1_esFalse_min4_len{n}", ids, cfg("beam", likely, 2, 1.0, False, 2, min_new=4)),
        ]
        if n > LONG:
            continue
        cases += [
            (f"beam4_lp2_esTrue_len{n}", ids, cfg("beam", likely, 4, 2.0, True, 1)),
            (f"beam4_lp0_esnever_len{n}", ids, cfg("beam", likely, 4, 0.0, "never", 4)),
            (f"beam8_lp1_esFalse_len{n}", ids, cfg("beam", likely, 8, 1.0, False, 2)),
            (f"beam8_model_eos_len{n}", ids, cfg("beam", [0], 8, 1.0, True, 8)),
        ]
    return cases


def write_goldens(model_dir: Path, hf_dir: Path, lengths, new_tokens) -> int:
    """HF goldens for the exported target in model_dir; returns the number of cases."""
    import torch
    from transformers import AutoModelForCausalLM

    import goldens

    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32, attn_implementation="eager").eval()
    vocab = read_manifest(model_dir)["vocab_size"]
    cases = []
    for case_id, ids, config in golden_cases(model, lengths, vocab, new_tokens):
        start = time.perf_counter()
        cases.append({"id": case_id, "prompt_ids": ids, "config": config,
                      **goldens.generate_case(model, ids, config, pad_id=0)})
        lengths_out = sorted({len(s) - len(ids) for s in cases[-1]["sequences"]})
        print(f"  HF {case_id}: {time.perf_counter() - start:.1f} s, generated lengths {lengths_out}", flush=True)
    write_json(model_dir / "goldens.json", {"model": str(hf_dir), "tolerance_note": goldens.TOLERANCE_NOTE,
                                            "cases": cases})
    return len(cases)


def check(jar: Path, target: Path, draft: Path) -> tuple[int, str]:
    """check-goldens with this draft; its output streamed, its exit code and summary line returned."""
    cmd = ["java", "-cp", str(jar), "specbeam.cli.SpecbeamCli", "check-goldens", "--target", str(target),
           "--draft", str(draft)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    summary = "no summary"
    for line in proc.stdout:
        print("  " + line.rstrip(), flush=True)
        if line.startswith("goldens: "):
            summary = line.strip()
    return proc.wait(), summary


def run_shape(name: str, args, work: Path) -> list[tuple[str, int, str]]:
    import export

    shape = SHAPES[name]
    layers = args.layers or shape["num_hidden_layers"]
    base = work / name
    params = build_hf(shape, {"num_hidden_layers": layers}, SEED, base / "hf" / "target")
    draft_params = build_hf(shape, DRAFT, SEED + 1, base / "hf" / "draft")
    print(f"{name}: target {params / 1e6:.1f}M parameters ({layers} layers), draft {draft_params / 1e6:.1f}M",
          flush=True)
    for role in ("target", "draft"):
        export.main(["--model", str(base / "hf" / role), "--out", str(base / role), "--graph", "fused"])
    n = write_goldens(base / "target", base / "hf" / "target", args.lengths, args.new_tokens)
    print(f"{name}: {n} HF cases at prompt lengths {args.lengths}", flush=True)
    results = []
    for kind, draft in (("draft", base / "draft"), ("draft=target", base / "target")):
        code, summary = check(args.jar, base / "target", draft)
        results.append((f"{name} ({kind})", code, summary))
    return results


def main(argv=None):
    args = parse_args(argv)
    quiet_libraries()
    import tempfile

    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="specbeam-real-shapes-") as tmp:
        work = args.work or Path(tmp)
        results = []
        for name in args.shapes:
            results += run_shape(name, args, work)
    print("real shapes:")
    for label, code, summary in results:
        print(f"  {label}: {summary}" + ("" if code == 0 else f" (exit {code})"))
    if any(code != 0 for _, code, _ in results):
        sys.exit(1)


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
