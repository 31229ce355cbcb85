#!/usr/bin/env python3
"""A widened copy of the bundled target: a model whose forward costs what a 135M-parameter model costs and whose
outputs are the trained target's.

    python models/widen.py                                  # models/pair-wide/ (~6 min on 2 cores)
    python models/widen.py --cost-curve --jar benchmarks.jar  # + forward-time curve vs a random model of the
                                                            #   same shape, and the Java goldens check

The bundled target (6 layers, hidden h = 320, 5 heads x 64, MLP 768, vocabulary 4,096, tied embeddings) decides
every result of the suite before the engine does: its forward costs 0.75 ms + 0.077 ms per token on the 2-core
machine, so no tree of more than a few nodes can pay. Real targets cost 20x that. This builds, from the trained
weights and nothing else, a Llama of hidden H = 768, 12 heads x 64, MLP 3,072 and 14 layers (135.3M parameters)
that computes the same function:

* The residual stream is padded with zeros. The embedding's columns h..H-1 are 0 (the tied lm_head is the same
  matrix, so padded dimensions add nothing to a logit), and every matrix that writes into the stream
  (o_proj, down_proj) has zero rows h..H-1: the padding stays exactly 0 through every layer.
* RMSNorm over H dimensions of which h are non-zero: mean_H(x^2) = (h/H) mean_h(x^2). With eps' = eps h/H,
  rsqrt(mean_H(x^2) + eps') = sqrt(H/h) rsqrt(mean_h(x^2) + eps), so weights w' = w sqrt(h/H) on the first h
  dimensions give the original normalised vector there (and 0 on the padding, whatever w' holds).
* Extra heads (5 -> 12) and MLP units (768 -> 3,072) in the trained layers take random weights, but the
  columns of o_proj / down_proj that read them are 0: they are computed and contribute nothing. Columns of
  q/k/v/gate/up that read padded dimensions multiply zeros.
* 8 extra layers, random, with o_proj and down_proj entirely 0: x + 0 = x, exactly. The trained layers sit at
  positions round(i * 13 / 5) = 0, 3, 5, 8, 10, 13.
* Head size (64), RoPE (theta 10,000) and attention scaling (1/8) are unchanged; random weights are drawn with
  std 0.02 (no inf can arise, so no inf * 0 = NaN).

So the widened model equals the trained one up to float rounding (sums over more, zero, terms and the norm's
rescaling): the check below measures it, then the export runs the project's exporter on it and goldens are
recorded from the widened HF model. What changes is the cost: every forward multiplies the full matrices.

Writes `<out>/hf/target` (the HF checkpoint), `<out>/target` (exported, fused graph, goldens, the bundled
target's tasks) and `<out>/draft` (a copy of the bundled draft): a model pair for
`java -jar benchmarks.jar --scale` (or `--models <out>`). Nothing of it is committed (`.gitignore`).
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CliError, hf_checkpoint, quiet_libraries, read_manifest, run_cli, write_json  # noqa: E402

MODELS = Path(__file__).resolve().parent
SOURCE = MODELS / "pair" / "hf" / "target"
PAIR = MODELS / "pair"
OUT = MODELS / "pair-wide"
SEED = 23
INIT_STD = 0.02
# the widened shape: hidden, heads (= kv heads), MLP units, layers
WIDE = dict(hidden=768, heads=12, intermediate=3072, layers=14)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", type=Path, default=SOURCE, help="HF checkpoint to widen (default: the bundled target)")
    p.add_argument("--out", type=Path, default=OUT, help="output pair directory (default models/pair-wide)")
    p.add_argument("--hidden", type=int, default=WIDE["hidden"])
    p.add_argument("--heads", type=int, default=WIDE["heads"])
    p.add_argument("--intermediate", type=int, default=WIDE["intermediate"])
    p.add_argument("--layers", type=int, default=WIDE["layers"])
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--cost-curve", action="store_true",
                   help="also time the widened graph against a random-weight model of the same shape")
    p.add_argument("--curve-only", type=Path, default=None, metavar="FILE",
                   help="only time an earlier run's widened target against its random twin, into FILE (JSON)")
    p.add_argument("--jar", type=Path, default=None, help="benchmarks.jar: run check-goldens on the widened pair")
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args(argv)


def widened_config(config, hidden: int, heads: int, intermediate: int, layers: int):
    """The source's config at the wider shape (eps scaled, see the module doc); CliError if it cannot be done."""
    h, nh, hd = config.hidden_size, config.num_attention_heads, getattr(config, "head_dim", None)
    hd = hd or h // nh
    problems = []
    if config.model_type != "llama":
        problems.append(f"model_type is {config.model_type!r}, widening is written for llama")
    if config.num_key_value_heads != nh:
        problems.append(f"the source has {config.num_key_value_heads} kv heads for {nh} heads (grouped-query "
                        f"attention cannot be widened head by head)")
    if not config.tie_word_embeddings:
        problems.append("the source's lm_head is not tied to its embedding")
    if hidden < h or heads < nh or intermediate < config.intermediate_size or layers < config.num_hidden_layers:
        problems.append(f"the new shape (hidden {hidden}, {heads} heads, MLP {intermediate}, {layers} layers) is "
                        f"narrower than the source's ({h}, {nh}, {config.intermediate_size}, "
                        f"{config.num_hidden_layers}) somewhere")
    if heads * hd != hidden:
        problems.append(f"{heads} heads x {hd} (the source's head size) != hidden {hidden}")
    if problems:
        raise CliError("cannot widen it: " + "; ".join(problems))
    wide = config.__class__.from_dict(config.to_dict())
    wide.hidden_size, wide.num_attention_heads, wide.num_key_value_heads = hidden, heads, heads
    wide.head_dim, wide.intermediate_size, wide.num_hidden_layers = hd, intermediate, layers
    wide.rms_norm_eps = config.rms_norm_eps * h / hidden
    wide.initializer_range = INIT_STD
    return wide


def layer_positions(source_layers: int, layers: int) -> list[int]:
    """Where trained layer i goes among `layers`: spread evenly, first and last kept at the ends."""
    if source_layers == 1:
        return [0]
    return [round(i * (layers - 1) / (source_layers - 1)) for i in range(source_layers)]


def widen(source, wide_config, seed: int):
    """The widened model (eval mode): random where the construction allows, the trained weights elsewhere."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    wide = AutoModelForCausalLM.from_config(wide_config, attn_implementation="eager").eval()
    h, H = source.config.hidden_size, wide_config.hidden_size
    q_rows = source.config.num_attention_heads * wide_config.head_dim
    m = source.config.intermediate_size
    scale = math.sqrt(h / H)
    src, dst = source.model, wide.model
    positions = layer_positions(len(src.layers), len(dst.layers))
    with torch.no_grad():
        dst.embed_tokens.weight[:, :h] = src.embed_tokens.weight
        dst.embed_tokens.weight[:, h:] = 0
        for layer in dst.layers:   # identity unless a trained layer fills it below
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        for i, at in enumerate(positions):
            s, d = src.layers[i], dst.layers[at]
            for name in ("q_proj", "k_proj", "v_proj"):
                getattr(d.self_attn, name).weight[:q_rows, :h] = getattr(s.self_attn, name).weight
            d.self_attn.o_proj.weight[:h, :q_rows] = s.self_attn.o_proj.weight
            for name in ("gate_proj", "up_proj"):
                getattr(d.mlp, name).weight[:m, :h] = getattr(s.mlp, name).weight
            d.mlp.down_proj.weight[:h, :m] = s.mlp.down_proj.weight
            for name in ("input_layernorm", "post_attention_layernorm"):
                getattr(d, name).weight[:h] = getattr(s, name).weight * scale
        dst.norm.weight[:h] = src.norm.weight * scale
    if wide.lm_head.weight is not dst.embed_tokens.weight:
        raise CliError("the widened model's lm_head is not tied to its embedding")
    return wide


def compare_logits(source, wide, prompts) -> dict:
    """Max |logit difference| over the prompts' positions, and the argmax disagreements that are not near-ties
    (the source's top-2 gap above twice the measured difference)."""
    import torch

    worst, positions, flips, untied = 0.0, 0, 0, 0
    with torch.no_grad():
        for ids in prompts:
            x = torch.tensor([ids])
            a = source(input_ids=x).logits[0]
            b = wide(input_ids=x).logits[0]
            worst = max(worst, float((a - b).abs().max()))
            top2 = a.topk(2, dim=-1).values
            differ = a.argmax(-1) != b.argmax(-1)
            flips += int(differ.sum())
            untied += int((differ & (top2[:, 0] - top2[:, 1] > 2 * float((a - b).abs().max()))).sum())
            positions += len(ids)
    return {"positions": positions, "max_abs_logit_diff": worst, "argmax_differs": flips,
            "argmax_differs_not_near_tie": untied}


def compare_generate(source, wide, prompts, new_tokens: int = 32) -> dict:
    """Greedy and beam B = 4 `generate` of both models on the prompts: how many outputs are identical."""
    import torch

    same, total = 0, 0
    for ids in prompts:
        x = torch.tensor([ids])
        for kwargs in (dict(do_sample=False), dict(do_sample=False, num_beams=4, num_return_sequences=4)):
            with torch.no_grad():
                outs = [model.generate(input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=new_tokens,
                                       min_new_tokens=new_tokens, pad_token_id=0, **kwargs)
                        for model in (source, wide)]
            same += int(torch.equal(outs[0], outs[1]))
            total += 1
    return {"generate_calls": total, "generate_identical": same}


def held_out_prompts(count: int, length: int) -> list[list[int]]:
    """Windows of the pair's held-out text (corpus.json's test files), tokenised by the pair's tokenizer."""
    from common import load_tokenizer

    tok = load_tokenizer(PAIR / "target")
    corpus = json.loads((PAIR / "corpus.json").read_text())
    root = Path(corpus["stdlib_root"])
    texts = [(root / name).read_text(errors="replace") for name in corpus["heldout_files"]
             if (root / name).is_file()]
    if not texts:   # another Python's standard library: the study prompts stand in
        rows = [json.loads(line) for line in (PAIR / "target" / "tasks" / "prompts.jsonl").read_text().splitlines()]
        return [r["prompt_ids"] for r in rows][:count]
    ids = tok("".join(texts))["input_ids"]
    step = max(length, (len(ids) - length) // count)
    return [ids[i:i + length] for i in range(0, len(ids) - length, step)][:count]


def cost_curves(model_dirs, threads: int, rows_list=(1, 4), qs=(1, 4, 8, 16, 20, 32), cap=160, prefix=64,
                reps=21) -> list[dict]:
    """Median ms of each directory's model.onnx by rows x fed tokens over a cache of `cap` slots, `prefix` of them
    visible (the grid of ../shared/ort/cost_curve.py, logits_from fed). The models take turns forward by forward,
    so that drift in the machine's speed hits them alike; their workers do not spin (a spinning pool of one
    session would take the cores from the other's forward: both curves came out twice as slow)."""
    import onnxruntime as ort

    import logits_from

    sessions, manifests = [], []
    for d in model_dirs:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        sessions.append(ort.InferenceSession(str(d / "model.onnx"), options, providers=["CPUExecutionProvider"]))
        manifests.append(read_manifest(d))
    out = [{} for _ in model_dirs]
    rng = np.random.default_rng(0)
    for r in rows_list:
        for q in qs:
            feeds = []
            for session, m in zip(sessions, manifests):
                names = m["inputs"]
                mask = np.full((r, 1, q, cap + q), np.finfo(np.float32).min, np.float32)
                mask[..., :prefix] = 0
                for j in range(q):
                    mask[:, :, j, cap:cap + j + 1] = 0
                f = {names["input_ids"]: np.ones((r, q), np.int64),
                     names["position_ids"]: np.tile(np.arange(prefix, prefix + q), (r, 1)).astype(np.int64),
                     names["attention_mask"]: mask}
                for i in range(m["num_layers"]):
                    for kind in ("past_key", "past_value"):
                        f[names[kind].format(i=i)] = rng.random((r, m["num_kv_heads"], cap, m["head_dim"]), np.float32)
                feeds.append(logits_from.feed(session, f))
            times = [[] for _ in sessions]
            for rep in range(reps + 3):
                for i, (session, f) in enumerate(zip(sessions, feeds)):
                    start = time.perf_counter()
                    session.run(None, f)
                    if rep >= 3:
                        times[i].append(time.perf_counter() - start)
            for i, d in enumerate(model_dirs):
                out[i][f"r{r}/q{q}"] = round(1000 * sorted(times[i])[len(times[i]) // 2], 3)
            print(f"  rows {r} x {q} tokens: " + ", ".join(f"{d.parent.name}/{d.name} {out[i][f'r{r}/q{q}']} ms"
                                                         for i, d in enumerate(model_dirs)), flush=True)
    return out


def random_twin(wide_config, hf_dir: Path, seed: int) -> None:
    """A random-weight model of exactly the widened shape (HF's init), for the cost comparison."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed + 1)
    AutoModelForCausalLM.from_config(wide_config, attn_implementation="eager").eval().save_pretrained(hf_dir)


def copy_tokenizer(source: Path, hf_dir: Path) -> None:
    for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        if (source / name).is_file():
            shutil.copy(source / name, hf_dir / name)


def main(argv=None):
    args = parse_args(argv)
    quiet_libraries()
    import torch
    from transformers import AutoModelForCausalLM

    import export
    import goldens

    torch.set_num_threads(args.threads)
    lock = hold_lock(args.out)   # noqa: F841 (held until exit)
    if args.curve_only:
        write_json(args.curve_only, curve_report(args.out, args.threads))
        print(f"wrote {args.curve_only}")
        return
    started = time.perf_counter()
    load_at_start = round(os.getloadavg()[0], 2)
    source = AutoModelForCausalLM.from_pretrained(hf_checkpoint(args.source), dtype=torch.float32,
                                                  attn_implementation="eager").eval()
    config = widened_config(source.config, args.hidden, args.heads, args.intermediate, args.layers)
    wide = widen(source, config, args.seed)
    params = wide.num_parameters()
    print(f"widened {args.source}: {source.num_parameters():,} -> {params:,} parameters "
          f"(hidden {config.hidden_size}, {config.num_attention_heads} heads, MLP {config.intermediate_size}, "
          f"{config.num_hidden_layers} layers; trained layers at {layer_positions(source.config.num_hidden_layers, config.num_hidden_layers)})",
          flush=True)

    # 1. the same function: logits on held-out text, then generate
    report = {"parameters": params, "source_parameters": source.num_parameters(), "shape": {
        "hidden": config.hidden_size, "heads": config.num_attention_heads, "intermediate": config.intermediate_size,
        "layers": config.num_hidden_layers, "rms_norm_eps": config.rms_norm_eps}}
    report["logits"] = compare_logits(source, wide, held_out_prompts(8, 256))
    report["generate"] = compare_generate(source, wide, held_out_prompts(6, 48))
    print(f"same function: {json.dumps(report['logits'])}, {json.dumps(report['generate'])}", flush=True)
    if (report["logits"]["argmax_differs_not_near_tie"] or report["logits"]["max_abs_logit_diff"] > 1e-3
            or report["generate"]["generate_identical"] != report["generate"]["generate_calls"]):
        raise CliError(f"the widened model does not compute the source's function: {json.dumps(report)}")

    # 2. write the HF checkpoint, export it, record goldens, assemble the pair
    out = args.out
    hf_dir = out / "hf" / "target"
    if hf_dir.exists():
        shutil.rmtree(hf_dir)
    hf_dir.mkdir(parents=True)
    wide.save_pretrained(hf_dir)
    copy_tokenizer(args.source, hf_dir)
    export.main(["--model", str(hf_dir), "--out", str(out / "target"), "--graph", "fused"])
    shutil.copytree(PAIR / "target" / "tasks", out / "target" / "tasks", dirs_exist_ok=True)
    goldens.main(["--model-dir", str(out / "target"), "--hf-dir", str(hf_dir)])
    if (out / "draft").exists():
        shutil.rmtree(out / "draft")
    shutil.copytree(PAIR / "draft", out / "draft")
    report["goldens"] = same_goldens(PAIR / "target" / "goldens.json", out / "target" / "goldens.json")
    print(f"goldens of the widened model vs the bundled target's: {json.dumps(report['goldens'])}", flush=True)

    # 3. optional: what a forward costs, against a random model of the same shape; the Java goldens check
    if args.cost_curve:
        twin = out / "random-twin"
        random_twin(config, twin / "hf", args.seed)
        copy_tokenizer(args.source, twin / "hf")
        export.main(["--model", str(twin / "hf"), "--out", str(twin / "model"), "--graph", "fused"])
        report["cost_curve"] = curve_report(out, args.threads)
    if args.jar:
        cmd = ["java", "-cp", str(args.jar), "specbeam.cli.SpecbeamCli", "check-goldens", "--target",
               str(out / "target"), "--draft", str(out / "draft")]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        summary = [line for line in proc.stdout.splitlines() if line.startswith("goldens: ")]
        report["java_check_goldens"] = {"exit": proc.returncode, "summary": summary[-1] if summary else proc.stderr[-500:]}
        print(f"Java check-goldens: {report['java_check_goldens']}", flush=True)
    import onnxruntime
    import transformers

    report["measured"] = {"finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                          "loadavg_at_start": load_at_start, "threads": args.threads,
                          "onnxruntime": onnxruntime.__version__, "torch": torch.__version__,
                          "transformers": transformers.__version__}
    report["seconds"] = round(time.perf_counter() - started, 1)
    write_json(out / "widen.json", report)
    print(f"wrote {out} ({report['seconds']} s); the report is {out / 'widen.json'}")
    if args.jar and report["java_check_goldens"]["exit"] != 0:
        sys.exit(1)


def curve_report(out: Path, threads: int) -> dict:
    """The widened target's cost curve next to its random twin's (both under `out`), with the ratios."""
    twin = out / "random-twin" / "model"
    if not (out / "target" / "manifest.json").is_file() or not (twin / "manifest.json").is_file():
        raise CliError(f"{out} lacks target/ or random-twin/model/: run widen.py --cost-curve first")
    load = round(os.getloadavg()[0], 2)
    widened_ms, random_ms = cost_curves([out / "target", twin], threads)
    ratios = {k: round(widened_ms[k] / random_ms[k], 4) for k in widened_ms}
    print(f"cost curve, widened / random: {json.dumps(ratios)}", flush=True)
    import onnxruntime

    return {"widened_ms": widened_ms, "random_ms": random_ms, "ratio": ratios,
            "all_within_5pct": all(abs(r - 1) <= 0.05 for r in ratios.values()),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "loadavg_at_start": load,
            "threads": threads, "spinning": False, "onnxruntime": onnxruntime.__version__,
            "how": "model.onnx under Python onnxruntime, the two sessions in turns forward by forward, median of 21"}


def hold_lock(out: Path):
    """An exclusive lock on `out`/.lock for this run; CliError when another run holds it (two runs writing the
    same pair would leave a mix of both)."""
    import fcntl

    out.mkdir(parents=True, exist_ok=True)
    handle = open(out / ".lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise CliError(f"another widen.py run is writing {out} (it holds {out / '.lock'}): wait for it to finish, "
                       f"or give --out another folder") from None
    return handle


def same_goldens(reference: Path, widened: Path) -> dict:
    """Cases of the two goldens files with the same prompt and config whose sequences are identical."""
    ref = {json.dumps([c["prompt_ids"], c["config"]]): c["sequences"] for c in json.loads(reference.read_text())["cases"]}
    cases = json.loads(widened.read_text())["cases"]
    matched = [c for c in cases if json.dumps([c["prompt_ids"], c["config"]]) in ref]
    same = sum(c["sequences"] == ref[json.dumps([c["prompt_ids"], c["config"]])] for c in matched)
    return {"cases": len(cases), "also_in_bundled_goldens": len(matched), "identical_sequences": same}


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
