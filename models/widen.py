#!/usr/bin/env python3
"""A widened copy of the bundled target: a model whose forward costs what a 135M-parameter model costs and whose
outputs are the trained target's.

    python models/widen.py                                    # models/pair-wide/ (~3 min on 2 cores)
    python models/widen.py --cost-curve --jar benchmarks.jar  # + forward-time curve vs a random model of the
                                                              #   same shape, and the Java goldens check (~10 min)

The bundled target (6 layers, hidden h = 320, 5 heads x 64, MLP 768, vocabulary 4,096, tied embeddings) decides
every result of the suite before the engine does: its forward costs 0.75 ms + 0.077 ms per token on the 2-core
machine, so no tree of more than a few nodes can pay. Real targets cost 20x that. This builds, from the trained
weights and nothing else, a Llama of hidden H = 768, 12 heads x 64, MLP 3,072 and 14 layers (135.3M parameters)
that computes the same function. Write x for the residual stream, its first h dimensions x_h, the rest x_p.

* x_p = 0 on entry: the embedding's columns h..H-1 are 0. The tied lm_head is the same matrix, so
  logits = E x = E_h x_h: padded dimensions add nothing to a logit.
* x_p stays 0: every matrix that writes into the stream (o_proj, down_proj) has zero rows h..H-1, so each
  layer adds 0 there.
* RMSNorm over H dimensions of which only h are non-zero: mean_H(x^2) = (h/H) mean_h(x^2). With eps' = eps h/H,
  rsqrt(mean_H(x^2) + eps') = rsqrt((h/H)(mean_h(x^2) + eps)) = sqrt(H/h) rsqrt(mean_h(x^2) + eps), so weights
  w' = w sqrt(h/H) on the first h dimensions give the source's normalised vector there, and 0 on the padding
  (its input is 0, whatever w' holds). This holds for input_layernorm, post_attention_layernorm and the final
  norm alike.
* Trained layer, attention: q/k/v rows of heads 0..4 are the trained ones over the first h input columns; the
  columns that read x_p are random and multiply zeros. So heads 0..4 see the source's q, k, v (same head size
  64, RoPE theta 10,000, scaling 1/8) and give its head outputs. Heads 5..11 get random rows; the o_proj
  columns that read them are 0, so they are computed and contribute nothing: o_proj's output is the source's.
* Trained layer, MLP: units 0..767 are the trained ones, units 768..3,071 have random gate/up rows and zero
  down_proj columns: down_proj's output is the source's.
* 8 added layers, random everywhere except o_proj and down_proj, which are entirely 0: the layer adds 0 to x,
  and x + 0 = x exactly. The trained layers sit at positions round(i * 13 / 5) = 0, 3, 5, 8, 10, 13 (first
  and last at the ends, the added ones between them, 2 or 1 at a time).
* Random weights are normal with std 0.02 (finite, checked), so no inf can meet a zero (inf * 0 = NaN).
* The zeros of o_proj and down_proj carry a seeded random sign pattern (-0.0 or +0.0: every product and sum
  above is exactly the same). The exporter stores byte-identical tensors once (export.py store_weights_once)
  and ONNX Runtime maps them once: with plain +0.0 the 8 added layers shared one o_proj and one down_proj,
  83 MB less in model.onnx.data and 80 MB less resident (505 vs 585 MB per session) than a model of this
  shape.

So the widened model equals the trained one up to float rounding (sums over more, zero, terms and the norm's
rescaling). The script measures it before writing anything: max |logit difference| on held-out text (at most
--tolerance, 1e-4), argmax equal at every position except certified near-ties (the source's top-2 gap within
twice that difference, the most two logits can move apart), greedy and beam B = 4 `generate` identical, and
the bundled draft's teacher-forced agreement with either model. Then it exports the widened model with the
project's exporter (fused graph, its own ONNX Runtime vs PyTorch check) and records goldens from it.
`--cost-curve` times the widened graph against a random-weight model of exactly the same shape (HF's init,
exported the same way; `random_twin` says why not real_shapes.py's sharpened one), the two sessions taking
turns in blocks of 4 forwards, on the rows x fed-tokens grid of ../shared/ort/cost_curve.py (that script
cannot run these graphs itself: it does not feed the required `logits_from` input), and reports each point's
ratio.

Writes `<out>/hf/target` (the HF checkpoint), `<out>/target` (exported, goldens, the bundled target's tasks),
`<out>/draft` (a copy of the bundled draft) and `<out>/widen.json` (every number above): a model pair for
`java -jar benchmarks.jar --models <out>`. Nothing of it is committed (`.gitignore`). Exit 2 with one line for a
shape it cannot widen exactly or a check that fails; exit 1 if --jar's goldens check fails.
"""

import argparse
import functools
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
# ../shared/ort/cost_curve.py's grid: rows x fed tokens (at most 160 in all) over a 160-slot cache, 64 visible,
# 40 timed forwards per model and point; here in blocks of 4 back-to-back forwards, the models alternating, the
# first 2 forwards after a switch run untimed (they take up to 2x: the other session's spinning threads, caches)
COST_GRID = dict(rows=(1, 4, 8), tokens=(1, 2, 4, 8, 12, 16, 20, 24, 32, 40), max_fed=160, cap=160, prefix=64,
                 warmup=5, reps=40, block=4, settle=2)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", type=Path, default=SOURCE, help="HF checkpoint to widen (default: the bundled target)")
    p.add_argument("--out", type=Path, default=OUT, help="output pair directory (default models/pair-wide)")
    p.add_argument("--hidden", type=int, default=WIDE["hidden"])
    p.add_argument("--heads", type=int, default=WIDE["heads"])
    p.add_argument("--intermediate", type=int, default=WIDE["intermediate"])
    p.add_argument("--layers", type=int, default=WIDE["layers"])
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--tolerance", type=float, default=1e-4, help="max |logit difference| allowed (default 1e-4)")
    p.add_argument("--cost-curve", action="store_true",
                   help="also time the widened graph against a random-weight model of the same shape")
    p.add_argument("--curve-only", type=Path, default=None, metavar="FILE",
                   help="only time an earlier run's widened target against its random twin, into FILE (JSON)")
    p.add_argument("--jar", type=Path, default=None, help="benchmarks.jar: run check-goldens on the widened pair")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    if args.jar and not args.jar.is_file():
        raise CliError(f"{args.jar} not found: build it with `mvn package -DskipTests`")
    return args


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


def signed_zeros(weight, generator) -> None:
    """Sets `weight` to zeros of random sign (in place): exactly 0 in every product, but no two such matrices
    hold the same bytes, so the exporter stores each one (module doc)."""
    import torch

    weight.zero_()
    weight[torch.rand(weight.shape, generator=generator) < 0.5] = -0.0


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
    signs = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        dst.embed_tokens.weight[:, :h] = src.embed_tokens.weight
        dst.embed_tokens.weight[:, h:] = 0
        for layer in dst.layers:   # identity unless a trained layer fills it below
            signed_zeros(layer.self_attn.o_proj.weight, signs)
            signed_zeros(layer.mlp.down_proj.weight, signs)
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
    bad = [n for n, p in wide.named_parameters() if not torch.isfinite(p).all()]
    if bad:
        raise CliError(f"the widened model has a non-finite weight in {bad[0]}")
    return wide


def compare_logits(source, wide, prompts) -> dict:
    """Max |logit difference| over the prompts' positions, and the argmax disagreements that are not near-ties
    (the source's top-2 gap above twice the measured difference: no rounding of that size can swap them)."""
    import torch

    worst, positions, flips, untied = 0.0, 0, 0, 0
    with torch.no_grad():
        for ids in prompts:
            x = torch.tensor([ids])
            a = source(input_ids=x).logits[0]
            b = wide(input_ids=x).logits[0]
            diff = float((a - b).abs().max())
            worst = max(worst, diff)
            top2 = a.topk(2, dim=-1).values
            differ = a.argmax(-1) != b.argmax(-1)
            flips += int(differ.sum())
            untied += int((differ & (top2[:, 0] - top2[:, 1] > 2 * diff)).sum())
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


def draft_agreement(source, wide, draft, windows) -> dict:
    """The bundled draft's teacher-forced agreement with each target on the same windows (pair_metrics.py's
    measures: argmax agreement and the target's top-4 found in the draft's top-8), in counts and shares."""
    import torch

    from distill_topb import COVERAGE_B, agreement_counts
    from train_pair import logits_of

    counts = {"source": [0, 0], "widened": [0, 0]}
    positions = 0
    with torch.no_grad():
        for ids in windows:
            x = torch.tensor([ids])
            d = logits_of(draft, x)
            for name, target in (("source", source), ("widened", wide)):
                top = logits_of(target, x).topk(COVERAGE_B, dim=-1).indices
                greedy, covered = agreement_counts(d, top, COVERAGE_B)
                counts[name][0] += greedy
                counts[name][1] += covered
            positions += len(ids)
    share = {name: {"greedy_agreement": g / positions, f"top{COVERAGE_B}_in_top{2 * COVERAGE_B}":
                    c / (COVERAGE_B * positions), "agree_count": g, "covered_count": c}
             for name, (g, c) in counts.items()}
    return {"positions": positions, "with_source": share["source"], "with_widened": share["widened"],
            "equal": counts["source"] == counts["widened"]}


@functools.lru_cache(maxsize=1)
def _held_out_ids() -> tuple[int, ...]:
    """The pair's held-out text (corpus.json's test files) tokenised by the pair's tokenizer; empty when this
    Python's standard library is not the one the corpus was drawn from."""
    from common import load_tokenizer

    corpus = json.loads((PAIR / "corpus.json").read_text())
    root = Path(corpus["stdlib_root"])
    texts = [(root / name).read_text(errors="replace") for name in corpus["heldout_files"] if (root / name).is_file()]
    return tuple(load_tokenizer(PAIR / "target")("".join(texts))["input_ids"]) if texts else ()


def held_out_prompts(count: int, length: int, offset: int = 0) -> list[list[int]]:
    """`count` windows of `length` tokens spread over the held-out text (shifted by `offset` tokens), else the
    study prompts."""
    ids = _held_out_ids()
    if not ids:
        rows = [json.loads(line) for line in (PAIR / "target" / "tasks" / "prompts.jsonl").read_text().splitlines()]
        return [r["prompt_ids"] for r in rows][:count]
    step = max(length, (len(ids) - length - offset) // count)
    return [list(ids[i:i + length]) for i in range(offset, len(ids) - length, step)][:count]


def check_same_function(source, wide, draft, tolerance: float) -> dict:
    """Step 1: the numbers of the module doc, measured in PyTorch; CliError if any is off."""
    report = {"logits": compare_logits(source, wide, held_out_prompts(8, 256)),
              "generate": compare_generate(source, wide, held_out_prompts(6, 48)),
              "draft_agreement": draft_agreement(source, wide, draft, held_out_prompts(8, 256, offset=128))}
    logits, gen = report["logits"], report["generate"]
    problems = []
    if logits["max_abs_logit_diff"] > tolerance:
        problems.append(f"max |logit difference| {logits['max_abs_logit_diff']:.3g} > {tolerance:g}")
    if logits["argmax_differs_not_near_tie"]:
        problems.append(f"{logits['argmax_differs_not_near_tie']} argmax changes at a clear gap")
    if gen["generate_identical"] != gen["generate_calls"]:
        problems.append(f"{gen['generate_calls'] - gen['generate_identical']} of {gen['generate_calls']} generate "
                        f"outputs differ")
    if not report["draft_agreement"]["equal"] and not logits["argmax_differs"]:
        problems.append("the draft agrees differently with the widened model")
    if problems:
        raise CliError("the widened model does not compute the source's function: " + "; ".join(problems))
    return report


def copy_tokenizer(source: Path, hf_dir: Path) -> None:
    for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        if (source / name).is_file():
            shutil.copy(source / name, hf_dir / name)


def build_pair(wide, source_dir: Path, out: Path) -> dict:
    """Step 2: the HF checkpoint, its export (fused graph), the tasks, goldens from the widened HF model, the
    draft; returns the export check and how the goldens compare with the bundled target's."""
    import export
    import goldens

    hf_dir = out / "hf" / "target"
    if hf_dir.exists():
        shutil.rmtree(hf_dir)
    hf_dir.mkdir(parents=True)
    wide.save_pretrained(hf_dir)
    copy_tokenizer(source_dir, hf_dir)
    export.main(["--model", str(hf_dir), "--out", str(out / "target"), "--graph", "fused"])
    shutil.copytree(PAIR / "target" / "tasks", out / "target" / "tasks", dirs_exist_ok=True)
    goldens.main(["--model-dir", str(out / "target"), "--hf-dir", str(hf_dir)])
    if out.joinpath("draft").is_symlink() or out.joinpath("draft").is_file():
        out.joinpath("draft").unlink()
    elif out.joinpath("draft").exists():
        shutil.rmtree(out / "draft")
    shutil.copytree(PAIR / "draft", out / "draft")
    manifest = read_manifest(out / "target")
    return {"export_check": manifest["check"], "weights_bytes": (out / "target" / "model.onnx.data").stat().st_size,
            "goldens": same_goldens(PAIR / "target" / "goldens.json", out / "target" / "goldens.json")}


def same_goldens(reference: Path, widened: Path) -> dict:
    """Cases of the two goldens files with the same prompt and config whose sequences are identical."""
    def key(c):
        return json.dumps([c["prompt_ids"], c["config"]])

    ref = {key(c): c["sequences"] for c in json.loads(reference.read_text())["cases"]}
    cases = json.loads(widened.read_text())["cases"]
    matched = [c for c in cases if key(c) in ref]
    return {"cases": len(cases), "also_in_bundled_goldens": len(matched),
            "identical_sequences": sum(c["sequences"] == ref[key(c)] for c in matched)}


def random_twin(wide_config, source_dir: Path, twin: Path, seed: int) -> int:
    """A random-weight model of exactly the widened shape, exported the same way; returns its parameters.
    Weights are HF's init (normal, std 0.02), the scale of trained ones, not real_shapes.py's sharpened std 0.3
    with the final norm x 4: that model's forward measured 1.02-1.13x slower than this one's on this CPU (blocks
    of paired forwards; a first look with denormals flushed to zero closed most of the gap), a cost of the
    values, not of the shape."""
    import torch
    from transformers import AutoModelForCausalLM

    import export

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(wide_config, attn_implementation="eager").eval()
    model.save_pretrained(twin / "hf")
    copy_tokenizer(source_dir, twin / "hf")
    export.main(["--model", str(twin / "hf"), "--out", str(twin / "model"), "--graph", "fused"])
    return model.num_parameters()


def same_graph(a: Path, b: Path) -> dict:
    """The two exported graphs' operators, initializer shapes and stored weight bytes: what a forward's cost
    depends on besides the values."""
    import onnx

    def shape(d):
        m = onnx.load(str(d / "model.onnx"), load_external_data=False)
        return ([n.op_type for n in m.graph.node], sorted((list(i.dims), i.data_type) for i in m.graph.initializer))

    return {"same_operators_and_shapes": shape(a) == shape(b),
            "weights_bytes": [(d / "model.onnx.data").stat().st_size for d in (a, b)]}


def _median(values):
    return sorted(values)[len(values) // 2]


def paired_cost_curve(model_a: Path, model_b: Path, threads: int, grid=COST_GRID) -> dict:
    """point -> (median ms of a, median ms of b, median of a / b over adjacent blocks) by rows x fed tokens
    (../shared/ort/cost_curve.py's grid and inputs, logits_from fed). The two sessions take turns block by block
    (COST_GRID), in alternating order, and each ratio compares two adjacent blocks, so that the drift in the
    machine's speed (other work on a shared machine) hits both alike."""
    import onnxruntime as ort

    import logits_from

    sessions, manifests = [], []
    for d in (model_a, model_b):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "1")
        sessions.append(ort.InferenceSession(str(d / "model.onnx"), options, providers=["CPUExecutionProvider"]))
        manifests.append(read_manifest(d))
    out = {}
    cap, prefix = grid["cap"], grid["prefix"]
    for r in grid["rows"]:
        for q in grid["tokens"]:
            if r * q > grid["max_fed"]:
                continue
            rng = np.random.default_rng(r * 1000 + q)   # the same past for both models
            mask = np.full((r, 1, q, cap + q), np.finfo(np.float32).min, np.float32)
            mask[..., :prefix] = 0
            for j in range(q):
                mask[:, :, j, cap:cap + j + 1] = 0   # a chain; a tree of q nodes costs the same
            m = manifests[0]
            names = m["inputs"]
            feeds = {names["input_ids"]: np.ones((r, q), np.int64),
                     names["position_ids"]: np.tile(np.arange(prefix, prefix + q), (r, 1)).astype(np.int64),
                     names["attention_mask"]: mask}
            for i in range(m["num_layers"]):
                for kind in ("past_key", "past_value"):
                    feeds[names[kind].format(i=i)] = rng.random((r, m["num_kv_heads"], cap, m["head_dim"]), np.float32)
            feeds = logits_from.feed(sessions[0], feeds)
            for _ in range(grid["warmup"]):
                for session in sessions:
                    session.run(None, feeds)
            times, ratios = ([], []), []   # seconds of a, of b; a / b per pair of adjacent blocks
            for block in range(grid["reps"] // grid["block"]):
                medians = [0.0, 0.0]
                for i in ((0, 1) if block % 2 == 0 else (1, 0)):
                    runs = []
                    for _ in range(grid["settle"] + grid["block"]):
                        start = time.perf_counter()
                        sessions[i].run(None, feeds)
                        runs.append(time.perf_counter() - start)
                    times[i].extend(runs[grid["settle"]:])
                    medians[i] = _median(runs[grid["settle"]:])
                ratios.append(medians[0] / medians[1])
            point = f"r{r}/q{q}"
            out[point] = (round(1000 * _median(times[0]), 3), round(1000 * _median(times[1]), 3),
                          round(_median(ratios), 4))
            print(f"  rows {r} x {q} tokens: {out[point][0]} ms / {out[point][1]} ms = {out[point][2]}", flush=True)
    return out


def cost_report(config, source_dir: Path, out: Path, seed: int, threads: int) -> dict:
    """Step 3 (--cost-curve): a random twin of the widened shape, then both graphs' forward times."""
    twin_params = random_twin(config, source_dir, out / "random-twin", seed + 1)
    return {"random_twin_parameters": twin_params, **curve_report(out, threads)}


def curve_report(out: Path, threads: int) -> dict:
    """The widened target's cost curve next to its random twin's (both under `out`), point by point."""
    twin = out / "random-twin" / "model"
    if not (out / "target" / "manifest.json").is_file() or not (twin / "manifest.json").is_file():
        raise CliError(f"{out} lacks target/ or random-twin/model/: run widen.py --cost-curve first")
    if manifest_inputs(out / "target") != manifest_inputs(twin):
        raise CliError("the widened model and its random twin were exported with different graph inputs")
    graphs = same_graph(out / "target", twin)
    print(f"cost curve: widened vs random twin, {json.dumps(graphs)}", flush=True)
    load = round(os.getloadavg()[0], 2)
    curve = paired_cost_curve(out / "target", twin, threads)
    ratio = {k: v[2] for k, v in curve.items()}
    import onnxruntime

    return {"graphs": graphs, "widened_ms": {k: v[0] for k, v in curve.items()},
            "random_ms": {k: v[1] for k, v in curve.items()}, "ratio": ratio,
            "ratio_range": [min(ratio.values()), max(ratio.values())],
            "outside_5pct": sorted(k for k, v in ratio.items() if abs(v - 1) > 0.05),
            "all_within_5pct": all(abs(v - 1) <= 0.05 for v in ratio.values()),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "loadavg_at_start": load,
            "threads": threads, "spinning": True, "onnxruntime": onnxruntime.__version__, "grid": COST_GRID,
            "how": "model.onnx under Python onnxruntime, the two sessions in turns by blocks of 4 forwards (2 untimed "
                   "after each switch), ratio = median over adjacent blocks"}


def manifest_inputs(model_dir: Path) -> dict:
    return read_manifest(model_dir)["inputs"]


def java_check(jar: Path, out: Path) -> dict:
    """Step 4 (--jar): the Java engine against the widened model's goldens, target-only and speculative."""
    cmd = ["java", "-cp", str(jar), "specbeam.cli.SpecbeamCli", "check-goldens", "--target", str(out / "target"),
           "--draft", str(out / "draft")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    summary = [line for line in proc.stdout.splitlines() if line.startswith("goldens: ")]
    return {"exit": proc.returncode, "summary": summary[-1] if summary else proc.stderr[-500:]}


def main(argv=None):
    args = parse_args(argv)
    quiet_libraries()
    import torch
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(args.threads)
    if args.curve_only:
        lock = hold_lock(args.out)   # noqa: F841 (held until exit)
        write_json(args.curve_only, curve_report(args.out, args.threads))
        print(f"wrote {args.curve_only}")
        return
    started = time.perf_counter()
    load_at_start = round(os.getloadavg()[0], 2)
    seconds = {}

    def load(path):
        return AutoModelForCausalLM.from_pretrained(hf_checkpoint(path), dtype=torch.float32,
                                                    attn_implementation="eager").eval()

    source, draft = load(args.source), load(PAIR / "hf" / "draft")
    config = widened_config(source.config, args.hidden, args.heads, args.intermediate, args.layers)
    lock = hold_lock(args.out)   # noqa: F841 (held until exit; taken once the shape is known to be fine)
    wide = widen(source, config, args.seed)
    positions = layer_positions(source.config.num_hidden_layers, config.num_hidden_layers)
    print(f"widened {args.source}: {source.num_parameters():,} -> {wide.num_parameters():,} parameters "
          f"(hidden {config.hidden_size}, {config.num_attention_heads} heads, MLP {config.intermediate_size}, "
          f"{config.num_hidden_layers} layers; trained layers at {positions})", flush=True)
    report = {"parameters": wide.num_parameters(), "source_parameters": source.num_parameters(),
              "shape": {"hidden": config.hidden_size, "heads": config.num_attention_heads,
                        "intermediate": config.intermediate_size, "layers": config.num_hidden_layers,
                        "rms_norm_eps": config.rms_norm_eps, "trained_layers_at": positions}}
    seconds["build"] = time.perf_counter() - started

    step = time.perf_counter()
    report.update(check_same_function(source, wide, draft, args.tolerance))
    seconds["check"] = time.perf_counter() - step
    for name in ("logits", "generate", "draft_agreement"):
        print(f"{name}: {json.dumps(report[name])}", flush=True)

    step = time.perf_counter()
    report.update(build_pair(wide, args.source, args.out))
    seconds["export_and_goldens"] = time.perf_counter() - step
    print(f"goldens of the widened model vs the bundled target's: {json.dumps(report['goldens'])}", flush=True)

    if args.cost_curve:
        step = time.perf_counter()
        report["cost_curve"] = cost_report(config, args.source, args.out, args.seed, args.threads)
        seconds["cost_curve"] = time.perf_counter() - step
        print(f"cost curve, widened / random: {json.dumps(report['cost_curve']['ratio'])}; all within 5%: "
              f"{report['cost_curve']['all_within_5pct']}", flush=True)
    if args.jar:
        step = time.perf_counter()
        report["java_check_goldens"] = java_check(args.jar, args.out)
        seconds["java_check_goldens"] = time.perf_counter() - step
        print(f"Java check-goldens: {report['java_check_goldens']}", flush=True)
    import onnxruntime
    import transformers

    report["measured"] = {"finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                          "loadavg_at_start": load_at_start, "threads": args.threads,
                          "onnxruntime": onnxruntime.__version__, "torch": torch.__version__,
                          "transformers": transformers.__version__}
    seconds["total"] = time.perf_counter() - started
    report["seconds"] = {k: round(v, 1) for k, v in seconds.items()}
    write_json(args.out / "widen.json", report)
    print(f"wrote {args.out} ({report['seconds']['total']} s); the report is {args.out / 'widen.json'}")
    if args.jar and report["java_check_goldens"]["exit"] != 0:
        sys.exit(1)


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


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
