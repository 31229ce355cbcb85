#!/usr/bin/env python3
"""Latency by prompt length and resident memory on the real shapes: the Java engine and Hugging Face `generate`
side by side on the same weights.

    python models/real_shape_latency.py --jar benchmarks.jar --work DIR [--shapes qwen2.5-0.5b] \\
        [--lengths 16,256,1024] [--new-tokens 32] [--repeats 3] [--out results/scale/real_shapes.json]

DIR is a `real_shapes.py --work` folder: DIR/<shape>/target, draft (exported) and hf/target (the checkpoint they
were exported from). Per shape, `serve` runs on the pair in one JVM while this process holds the HF model (torch,
--threads threads, eager attention as real_shapes.py builds it); per prompt length and mode (greedy, beam B = 4,
EOS ignored so both make exactly --new-tokens tokens) one warm-up call each, then --repeats pairs alternating
which side goes first. A pair's ratio is HF ms / engine ms for the same prompt; the speedup is their geometric
mean. The engine's time is its own generate wall time (stats.wall_ms: prefill included, HTTP not); HF's is the
`generate` call. Both outputs are compared token by token (the generated part: the engine's beam output is checked
against HF goldens by real_shapes.py; here a difference is reported, not judged). Resident memory: the serve
process's VmRSS after its first call, its VmHWM at the end; this process's VmRSS growth from before loading the HF
model to after its first call (safetensors are mapped lazily: the growth right after loading is not the model).
Prompts are random ids of the shape's vocabulary (seeded). Writes --out (JSON), prints one line per row; exit 2 on
bad input.
"""

import argparse
import json
import math
import random
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from common import CliError, quiet_libraries, read_manifest, run_cli, write_json

MODES = [dict(mode="greedy", beam_width=1), dict(mode="beam", beam_width=4)]
SEED = 41


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jar", type=Path, default=Path("benchmarks.jar"))
    p.add_argument("--work", type=Path, required=True, help="a real_shapes.py --work folder")
    p.add_argument("--shapes", default=None, help="comma-separated shape folders of --work (default: all there)")
    p.add_argument("--lengths", default="16,256,1024", help="prompt lengths (default 16,256,1024)")
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--repeats", type=int, default=3, help="timed pairs per row (default 3)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2, the engine's ORT threads)")
    p.add_argument("--out", type=Path, default=Path("results/scale/real_shapes.json"))
    args = p.parse_args(argv)
    try:
        args.lengths = [int(x) for x in args.lengths.split(",")]
    except ValueError:
        raise CliError(f"--lengths must be comma-separated integers, not {args.lengths!r}") from None
    if min(args.lengths) < 1 or args.new_tokens < 1 or args.repeats < 1:
        raise CliError("--lengths, --new-tokens and --repeats must be positive")
    if not args.jar.is_file():
        raise CliError(f"{args.jar} not found: build it with `mvn package -DskipTests`")
    if not args.work.is_dir():
        raise CliError(f"{args.work} is not a folder: build the shapes with "
                       f"`python models/real_shapes.py --work {args.work}`")
    names = args.shapes.split(",") if args.shapes else sorted(
        d.name for d in args.work.iterdir() if (d / "target" / "manifest.json").is_file())
    if not names:
        raise CliError(f"no shape under {args.work}: build them with `python models/real_shapes.py --work "
                       f"{args.work}`")
    for name in names:
        for sub in ("target", "draft"):
            read_manifest(args.work / name / sub)
        if not (args.work / name / "hf" / "target" / "config.json").is_file():
            raise CliError(f"{args.work / name / 'hf' / 'target'} has no HF checkpoint: rebuild it with "
                           f"`python models/real_shapes.py --work {args.work} --shapes {name}`")
    args.shapes = names
    return args


def proc_kib(pid, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise CliError(f"/proc/{pid}/status has no {field}")


class Engine:
    """`serve` on a pair; generate calls by HTTP, timed by the engine itself."""

    def __init__(self, jar: Path, pair: Path, new_tokens: int):
        self.log_path = pair / "latency-serve.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["java", "-cp", str(jar), "specbeam.cli.SpecbeamCli", "serve", "--target", str(pair / "target"),
             "--draft", str(pair / "draft"), "--port", "0", "--max-new-tokens-cap", str(new_tokens)],
            stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(1200):
            m = re.search(r"on (http://\S+/) ", self.log_path.read_text())
            if m:
                self.url = m.group(1)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.5)
        self.close()
        raise CliError("serve did not start: " + self.log_path.read_text()[-800:])

    def generate(self, ids, mode: dict, new_tokens: int) -> dict:
        query = "&".join(f"{k}={v}" for k, v in {**mode, "max_new_tokens": new_tokens, "min_new_tokens": new_tokens,
                                                  "prompt_ids": ",".join(map(str, ids))}.items())
        answer = json.load(urllib.request.urlopen(self.url + "api/generate?" + query, timeout=3600))
        return {"ms": answer["stats"]["wall_ms"], "prefill_ms": answer["stats"]["prefill_ms"],
                "ort_ms": answer["stats"]["ort_ms"], "generated": answer["sequences"][0][len(ids):]}

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        self.log.close()


def hf_generate(model, ids, mode: dict, new_tokens: int) -> dict:
    import torch

    x = torch.tensor([ids])
    kwargs = dict(do_sample=False, max_new_tokens=new_tokens, min_new_tokens=new_tokens, pad_token_id=0)
    if mode["mode"] == "beam":
        kwargs.update(num_beams=mode["beam_width"], early_stopping=False, length_penalty=1.0)
    start = time.perf_counter()
    with torch.no_grad():
        out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), **kwargs)
    ms = 1000 * (time.perf_counter() - start)
    return {"ms": ms, "generated": out[0, len(ids):].tolist()}


def measure_shape(name: str, args) -> tuple[dict, list]:
    import torch
    from transformers import AutoModelForCausalLM

    pair = args.work / name
    manifest = read_manifest(pair / "target")
    rss_before = proc_kib("self", "VmRSS")
    model = AutoModelForCausalLM.from_pretrained(pair / "hf" / "target", dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    engine = Engine(args.jar, pair, args.new_tokens)
    rng = random.Random(SEED)
    rows = []
    try:
        engine_rss_loaded = None
        for n in args.lengths:
            ids = [rng.randrange(1, manifest["vocab_size"]) for _ in range(n)]
            for mode in MODES:
                engine.generate(ids, mode, args.new_tokens)          # warm-up, both sides
                hf_generate(model, ids, mode, args.new_tokens)
                if engine_rss_loaded is None:   # after a call: both map their weights lazily
                    engine_rss_loaded = proc_kib(engine.proc.pid, "VmRSS")
                    hf_rss = proc_kib("self", "VmRSS") - rss_before
                ours, theirs = [], []
                for r in range(args.repeats):
                    if r % 2 == 0:
                        ours.append(engine.generate(ids, mode, args.new_tokens))
                        theirs.append(hf_generate(model, ids, mode, args.new_tokens))
                    else:
                        theirs.append(hf_generate(model, ids, mode, args.new_tokens))
                        ours.append(engine.generate(ids, mode, args.new_tokens))
                ratios = [h["ms"] / e["ms"] for e, h in zip(ours, theirs)]
                engine_ms = statistics.median(e["ms"] for e in ours)
                prefill = statistics.median(e["prefill_ms"] for e in ours)
                row = {"shape": name, "prompt_tokens": n, "mode": mode["mode"], "beam_width": mode["beam_width"],
                       "new_tokens": args.new_tokens,
                       "engine_ms": round(engine_ms, 1), "engine_prefill_ms": round(prefill, 1),
                       "engine_decode_ms_per_token": round((engine_ms - prefill) / args.new_tokens, 2),
                       "engine_ort_share": round(sum(e["ort_ms"] for e in ours) / sum(e["ms"] for e in ours), 3),
                       "hf_ms": round(statistics.median(h["ms"] for h in theirs), 1),
                       "speedup_over_hf": round(math.exp(statistics.mean(math.log(r) for r in ratios)), 3),
                       "pair_ratios": [round(r, 3) for r in ratios],
                       "same_output": all(e["generated"] == h["generated"] for e, h in zip(ours, theirs))}
                rows.append(row)
                print(f"  {name} prompt {n:>5} {mode['mode']:<6} B={mode['beam_width']}: engine {row['engine_ms']:9.1f} ms"
                      f" (prefill {row['engine_prefill_ms']:.1f}, {row['engine_decode_ms_per_token']:.2f} ms/token)"
                      f"  HF {row['hf_ms']:9.1f} ms  {row['speedup_over_hf']:.2f}x"
                      f"  {'same output' if row['same_output'] else 'OUTPUT DIFFERS'}", flush=True)
        engine_hwm = proc_kib(engine.proc.pid, "VmHWM")
    finally:
        engine.close()
    weights = sum(f.stat().st_size for sub in ("target", "draft") for f in (pair / sub).iterdir()
                  if f.name.startswith("model"))
    memory = {"shape": name, "parameters": manifest.get("parameters"), "layers": manifest["num_layers"],
              "vocab": manifest["vocab_size"],
              "onnx_files_mib_target_and_draft": round(weights / 2**20, 1),
              "engine_rss_mib_loaded_warm": round(engine_rss_loaded / 1024, 1),
              "engine_peak_rss_mib": round(engine_hwm / 1024, 1),
              "hf_rss_growth_mib_after_first_call": round(hf_rss / 1024, 1)}
    print(f"  {name} memory: {json.dumps(memory)}", flush=True)
    del model
    return memory, rows


def main(argv=None):
    args = parse_args(argv)
    quiet_libraries()
    import torch
    import transformers

    torch.set_num_threads(args.threads)
    load = Path("/proc/loadavg").read_text().split()[:3]
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    memory, rows = [], []
    for name in args.shapes:
        print(f"{name}:", flush=True)
        m, r = measure_shape(name, args)
        memory.append(m)
        rows += r
    result = {"measured_at": started, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "loadavg_before": load, "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
              "command": "python3 models/real_shape_latency.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "torch": torch.__version__, "transformers": transformers.__version__, "torch_threads": args.threads,
              "note": "random-weight models of published shapes (real_shapes.py); EOS ignored on both sides",
              "memory": memory, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    write_json(tmp, result)
    tmp.replace(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
