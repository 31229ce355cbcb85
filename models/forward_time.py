#!/usr/bin/env python3
"""Time the forwards decoding is made of, from Python onnxruntime and from the Java engine, side by side.

    python models/forward_time.py --models models/pair [--threads 2] [--jar benchmarks.jar] [--rounds 300]

Python: the target's one-token forward over a 64-token prefix in a cache of capacity 160 (the
engine's fixed-capacity layout, hidden slots masked), for each thread setting (--threads, 1;
spinning on and off), on the in-place graph (bound as the engine binds it: past = present) when the
model has one, and on model.onnx. Java: `specbeam.bench.ForwardProbe` (when --jar is given and
exists), once per engine thread configuration in --java-configs; the engine runs one-token forwards
on the in-place graph where there is one, so that is the graph its ratio is taken against. The ratio
engine / best Python is the median of --pairs timings of the two taken back to back, the side that
goes first alternating (this machine drifts by tens of percent within minutes); the ratio of the two
sweeps is kept for reference. Prints a table of medians in ms and the ratios, and writes them as JSON
with --out; exits 1 when the ratio is above --max-ratio (a regression in the Java path), 2 on bad input.
"""

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import logits_from
from common import CliError, read_manifest, run_cli

PREFIX, EXTRA = 64, 96


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", type=Path, default=Path("models/pair"), help="pair directory (target/, draft/)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="intra-op threads (default: cores)")
    p.add_argument("--rounds", type=int, default=300, help="timed forwards per setting (default 300)")
    p.add_argument("--jar", type=Path, default=None, help="benchmarks.jar: also time the engine")
    p.add_argument("--java-configs", default="default",
                   help="comma-separated engine thread configurations: 'default' or -D options joined by "
                        "'+', e.g. 'default,-Dspecbeam.ort.spin=false' (default: default)")
    p.add_argument("--max-ratio", type=float, default=None,
                   help="exit 1 when engine / best Python median exceeds this (e.g. 1.15)")
    p.add_argument("--pairs", type=int, default=3,
                   help="with --jar: alternate the engine (first configuration) and the best Python setting this "
                        "many times, and take the ratio from these pairs (default 3)")
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    return p.parse_args(argv)


def python_forward_ms(model_dir: Path, threads: int, spin: bool, rounds: int, inplace: bool = False) -> float:
    """Median ms of the one-token forward, fed exactly as the engine feeds it (the in-place graph with
    `inplace`: the cache buffers bound as both past and present, the mask over PREFIX + 1 columns)."""
    import numpy as np
    import onnxruntime as ort

    m = read_manifest(model_dir)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    graph = m["inplace"]["file"] if inplace else "model.onnx"
    session = ort.InferenceSession(str(model_dir / graph), options, providers=["CPUExecutionProvider"])
    if inplace:
        return _inplace_forward_ms(session, m, rounds)
    names, capacity = m["inputs"], PREFIX + EXTRA
    mask = np.full((1, 1, 1, capacity + 1), m["mask_min"], np.float32)
    mask[..., :PREFIX] = 0
    mask[..., capacity] = 0
    feeds = {names["input_ids"]: np.ones((1, 1), np.int64),
             names["position_ids"]: np.full((1, 1), PREFIX, np.int64),
             names["attention_mask"]: mask}
    rng = np.random.default_rng(0)
    for i in range(m["num_layers"]):
        for kind in ("past_key", "past_value"):
            feeds[names[kind].replace("{i}", str(i))] = rng.standard_normal(
                (1, m["num_kv_heads"], capacity, m["head_dim"]), np.float32)
    feeds = logits_from.feed(session, feeds)
    times = []
    for r in range(rounds + rounds // 4):
        start = time.perf_counter()
        logits = session.run(None, feeds)[0]
        elapsed = time.perf_counter() - start
        feeds[names["input_ids"]][0, 0] = int(logits[0, -1].argmax())
        if r >= rounds // 4:
            times.append(elapsed)
    return 1000 * sorted(times)[len(times) // 2]


def _inplace_forward_ms(session, m: dict, rounds: int) -> float:
    """The in-place graph through an IOBinding: past and present are the same buffers (written in place), the
    logits a pre-allocated buffer, as the engine binds them."""
    import numpy as np
    import onnxruntime as ort

    names, extra, capacity = m["inputs"], m["inplace"]["inputs"], PREFIX + EXTRA
    rng = np.random.default_rng(0)
    binding = session.io_binding()
    keep = []   # the numpy arrays behind the bound values stay alive
    for i in range(m["num_layers"]):
        for kind, out in (("past_key", "present_key"), ("past_value", "present_value")):
            buf = rng.standard_normal((1, m["num_kv_heads"], capacity + 1, m["head_dim"]), np.float32)
            value = ort.OrtValue.ortvalue_from_numpy(buf)
            keep.append(buf)
            binding.bind_ortvalue_input(names[kind].replace("{i}", str(i)), value)
            binding.bind_ortvalue_output(m["outputs"][out].replace("{i}", str(i)), value)
    logits = np.zeros((1, 1, m["vocab_size"]), np.float32)
    binding.bind_ortvalue_output(m["outputs"]["logits"], ort.OrtValue.ortvalue_from_numpy(logits))
    ids = np.ones((1, 1), np.int64)
    mask = np.zeros((1, 1, 1, PREFIX + 1), np.float32)
    fixed = {names["position_ids"]: np.full((1, 1), PREFIX, np.int64), names["attention_mask"]: mask,
             extra["seqlens_k"]: np.array([PREFIX], np.int32),
             extra["total_sequence_length"]: np.array(PREFIX + 1, np.int32)}
    fixed = logits_from.feed(session, fixed)
    for name, value in fixed.items():
        binding.bind_cpu_input(name, value)
    times = []
    for r in range(rounds + rounds // 4):
        binding.bind_cpu_input(names["input_ids"], ids)
        start = time.perf_counter()
        session.run_with_iobinding(binding)
        elapsed = time.perf_counter() - start
        ids[0, 0] = int(logits[0, -1].argmax())
        if r >= rounds // 4:
            times.append(elapsed)
    return 1000 * sorted(times)[len(times) // 2]


def java_forward(jar: Path, models: Path, threads: int, rounds: int, config: str) -> dict:
    props = [] if config == "default" else config.split("+")
    cmd = ["java", *props, "-cp", str(jar), "specbeam.bench.ForwardProbe", "--models", str(models),
           "--threads", str(threads), "--rounds", str(rounds)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise CliError(f"ForwardProbe failed ({' '.join(cmd)}): {run.stderr.strip().splitlines()[-1:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def paired_ratios(time_engine, time_python, pairs: int) -> list[float]:
    """Engine / Python ratios of `pairs` back-to-back timings, the side that goes first alternating.

    This machine's speed drifts by tens of percent within minutes, so a ratio of two timings taken one after the
    other at different moments says as much about the drift as about the engine; each pair's two timings are
    seconds apart.
    """
    ratios = []
    for i in range(pairs):
        if i % 2 == 0:
            engine, python = time_engine(), time_python()
        else:
            python, engine = time_python(), time_engine()
        ratios.append(engine / python)
    return ratios


def main(argv=None):
    args = parse_args(argv)
    target = args.models / "target"
    read_manifest(target)
    if args.threads < 1 or args.rounds < 4 or args.pairs < 1:
        raise CliError("--threads must be >= 1, --rounds >= 4 and --pairs >= 1")
    if args.jar is not None and not args.jar.is_file():
        raise CliError(f"{args.jar} does not exist: build it with 'mvn -B -q install -DskipTests'")
    import onnxruntime

    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    result = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "loadavg_before": load,
              "onnxruntime_python": onnxruntime.__version__, "model": str(target), "python": {}, "java": {}}
    settings = [(args.threads, True), (args.threads, False)] + ([(1, True)] if args.threads > 1 else [])
    # the engine runs one-token forwards on the in-place graph where the model has one: that is the graph to
    # compare it with; model.onnx is timed too, for reference
    graphs = [True, False] if "inplace" in read_manifest(target) else [False]
    for inplace in graphs:
        for threads, spin in settings:
            key = (f"{'in-place graph' if inplace else 'model.onnx'}, {threads} thread{'s' if threads > 1 else ''}, "
                   f"spinning {'on' if spin else 'off'}")
            result["python"][key] = round(python_forward_ms(target, threads, spin, args.rounds, inplace), 4)
            print(f"python  {key:<48} {result['python'][key]:.3f} ms / one-token forward", flush=True)
    if args.jar is not None:
        for config in args.java_configs.split(","):
            probe = java_forward(args.jar, args.models, args.threads, args.rounds, config)
            result["java"][f"{probe['config']} ({config})"] = probe
            print(f"engine  {probe['config'] + ' (' + config + ')':<32} {probe['target_1']['median']:.3f} ms / "
                  f"one-token forward; speculative round: draft {probe['spec_draft_1']['median']:.3f}, "
                  f"target {probe['spec_target_5']['median'] if 'spec_target_5' in probe else '-'}, "
                  f"wall {probe['spec_round_wall']['median']:.3f}", flush=True)
    result["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3] if load else []
    engine_graph = "in-place graph" if graphs[0] else "model.onnx"
    best = min(v for k, v in result["python"].items() if k.startswith(engine_graph))
    if result["java"]:
        engine = min(p["target_1"]["median"] for p in result["java"].values())
        result["engine_over_best_python_sweep"] = round(engine / best, 3)
        # the best Python setting on the engine's graph, and the first engine configuration, in alternation
        best_key = min((k for k in result["python"] if k.startswith(engine_graph)), key=result["python"].get)
        threads, spin = (1, True) if "1 thread," in best_key else (args.threads, "spinning on" in best_key)
        config = args.java_configs.split(",")[0]
        ratios = paired_ratios(
            lambda: java_forward(args.jar, args.models, args.threads, args.rounds, config)["target_1"]["median"],
            lambda: python_forward_ms(target, threads, spin, args.rounds, graphs[0]), args.pairs)
        result["engine_over_best_python_pairs"] = [round(r, 3) for r in ratios]
        result["engine_over_best_python"] = round(statistics.median(ratios), 3)
        result["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3] if load else []
        print(f"engine / best python on the {engine_graph} ({best_key}), {args.pairs} alternating pairs: "
              f"{', '.join(f'{r:.2f}' for r in ratios)}; median {result['engine_over_best_python']:.2f} "
              f"(one sweep after the other: {result['engine_over_best_python_sweep']:.2f}; load {' '.join(load)} -> "
              f"{' '.join(result['loadavg_after'])})")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    if args.max_ratio and result.get("engine_over_best_python", 0) > args.max_ratio:
        print(f"engine is {result['engine_over_best_python']:.2f}x the best Python time (limit {args.max_ratio})")
        raise SystemExit(1)


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
