#!/usr/bin/env python3
"""Time Hugging Face `generate` on CPU as the baseline for the Java suite.

    python models/hf_baseline.py --target D --draft D2 [--max-new-tokens 64] [--out results/hf_baseline.csv]

D and D2 are specbeam model directories; their HF checkpoints are D/hf (or --target-hf /
--draft-hf, else manifest source.model). Modes: greedy, beam (B in --beams), and assisted
generation (HF's greedy speculative decoding, assistant_model = draft, a constant
num_assistant_tokens = k for each k in --k). Prompts: D/tasks/prompts.jsonl (tasks.py).
torch uses 2 threads. Each mode: one warm-up pass over the prompts, then --repeats timed
passes; one latency sample = one whole generate call (prefill included).

By default EOS is ignored (min_new_tokens = max_new_tokens) so every call produces the same
number of tokens; --stop-at-eos lets generation end early. CSV columns are shared with the
Java suite where they overlap:
    latency_ms_ci999          half-width of the 99.9% Student-t interval of the mean (as JMH)
    tokens_per_s              new tokens / generate time, over all timed calls
    acceptance_rate           assisted: draft tokens accepted / draft tokens proposed
    target_forwards_per_token target model forward calls / new tokens

--serve: the same models and modes, one generate call per request, for a caller that interleaves
its own calls with HF's (the Java suite's side-by-side comparison). Requests are JSON lines on
stdin, answers JSON lines on stdout:
    (start)                                              -> {"ready": true, "prompts": N, "torch": .., ...}
    {"mode": "beam", "k": 0, "beam_width": 4, "prompt": 3, "record": true}
                                                         -> {"ms": 512.3, "new_tokens": 64}
    {"finish": true}                                     -> writes --out from the recorded calls,
                                                            {"wrote": "results/hf_baseline.csv"}; exits
A bad request gets {"error": "..."} and the server goes on.
"""

import argparse
import csv
import json
import math
import statistics
import time
from pathlib import Path

from common import CliError, hf_checkpoint, quiet_libraries, read_manifest, run_cli
from check_pair import vocabulary_differences

COLUMNS = ["engine", "mode", "k", "beam_width", "batch", "provider", "max_new_tokens", "latency_ms_mean",
           "latency_ms_ci999", "tokens_per_s", "acceptance_rate", "target_forwards_per_token", "n"]
# when and under what it was measured, on every row (the Java report prints them next to the comparison)
META_COLUMNS = ["measured_at", "loadavg", "torch", "transformers"]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", required=True, type=Path, help="target model directory")
    p.add_argument("--draft", required=True, type=Path, help="draft model directory")
    p.add_argument("--target-hf", type=Path, help="target HF checkpoint (default D/hf)")
    p.add_argument("--draft-hf", type=Path, help="draft HF checkpoint (default D2/hf)")
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--beams", type=int, nargs="*", default=[2, 4, 8], help="beam widths (default 2 4 8)")
    p.add_argument("--k", type=int, nargs="*", default=[4], help="assisted draft lengths (default 4)")
    p.add_argument("--repeats", type=int, default=3, help="timed passes over the prompts (default 3)")
    p.add_argument("--stop-at-eos", action="store_true", help="let generation stop at EOS")
    p.add_argument("--out", type=Path, default=Path("results/hf_baseline.csv"))
    p.add_argument("--serve", action="store_true", help="answer generate requests on stdin (see above)")
    return p.parse_args(argv)


def hf_dir(model_dir: Path, override: Path | None) -> Path:
    if override:
        return override
    if (model_dir / "hf").is_dir():
        return model_dir / "hf"
    return Path(read_manifest(model_dir)["source"]["model"])


def load_model(path: Path):
    import torch
    from transformers import AutoModelForCausalLM

    try:
        return AutoModelForCausalLM.from_pretrained(hf_checkpoint(path), dtype=torch.float32, local_files_only=True).eval()
    except Exception as e:  # OSError, ValueError, a truncated safetensors file, ...
        raise CliError(f"cannot load HF checkpoint {path}: {str(e).splitlines()[0]}") from None


class Counters:
    """Target forward calls (a forward hook) and, for assisted runs, draft proposals/acceptances."""

    def __init__(self, target):
        self.forwards = self.proposed = self.accepted = 0
        target.register_forward_hook(lambda *_: self._forward())
        original = target._get_candidate_generator

        def instrumented(*args, **kwargs):  # wrap HF's candidate generator of each assisted call
            generator = original(*args, **kwargs)
            get_candidates, update = generator.get_candidates, generator.update_candidate_strategy

            def counted_get(input_ids, **kw):
                candidates, logits = get_candidates(input_ids, **kw)
                self.proposed += candidates.shape[1] - input_ids.shape[1]
                return candidates, logits

            def counted_update(input_ids, scores, n_matches):
                self.accepted += int(n_matches)
                return update(input_ids, scores, n_matches)

            generator.get_candidates, generator.update_candidate_strategy = counted_get, counted_update
            return generator

        target._get_candidate_generator = instrumented

    def _forward(self):
        self.forwards += 1

    def reset(self):
        self.forwards = self.proposed = self.accepted = 0


def ci999(samples: list[float]) -> float:
    """Half-width of the 99.9% confidence interval of the mean (Student t, as JMH reports)."""
    from scipy.stats import t

    if len(samples) < 2:
        return float("nan")
    return t.ppf(0.9995, len(samples) - 1) * statistics.stdev(samples) / math.sqrt(len(samples))


def generate_once(target, ids, generate_kwargs) -> tuple[float, int]:
    """One HF generate call on prompt ids: (milliseconds, new tokens)."""
    import torch

    x = torch.tensor([ids])
    start = time.perf_counter()
    with torch.no_grad():
        out = target.generate(input_ids=x, attention_mask=torch.ones_like(x), **generate_kwargs)
    return (time.perf_counter() - start) * 1000, out.shape[1] - x.shape[1]


class Recorder:
    """Latencies and counters of one mode's timed calls, and the CSV row they make."""

    def __init__(self, mode, k, width, max_new_tokens):
        self.key = {"engine": "hf", "mode": mode, "k": k, "beam_width": width, "batch": 1,
                    "provider": "torch-cpu", "max_new_tokens": max_new_tokens}
        self.latencies, self.new_tokens = [], []
        self.forwards = self.proposed = self.accepted = 0

    def add(self, ms, new_tokens, counters):
        self.latencies.append(ms)
        self.new_tokens.append(new_tokens)
        self.forwards += counters.forwards
        self.proposed += counters.proposed
        self.accepted += counters.accepted

    def row(self) -> dict:
        total_tokens = sum(self.new_tokens)
        return {**self.key, "latency_ms_mean": statistics.fmean(self.latencies),
                "latency_ms_ci999": ci999(self.latencies),
                "tokens_per_s": total_tokens / (sum(self.latencies) / 1000),
                "acceptance_rate": self.accepted / self.proposed if self.proposed else "",
                "target_forwards_per_token": self.forwards / total_tokens, "n": len(self.latencies)}


def time_mode(target, counters, prompts, generate_kwargs, recorder, repeats) -> dict:
    for record in [False] + [True] * repeats:  # one warm-up pass, then the timed ones
        for ids in prompts:
            counters.reset()
            ms, new_tokens = generate_once(target, ids, generate_kwargs)
            if record:
                recorder.add(ms, new_tokens, counters)
    return recorder.row()


class Baseline:
    """The target, the draft and the generate arguments of each mode."""

    def __init__(self, args):
        import torch

        torch.set_num_threads(2)
        self.manifest = read_manifest(args.target)
        problems = vocabulary_differences(args.target, args.draft)
        if problems:
            raise CliError(f"draft cannot assist target: {'; '.join(problems)}")
        tasks = args.target / "tasks" / "prompts.jsonl"
        if not tasks.is_file():
            raise CliError(f"{tasks} not found: run models/tasks.py --model-dir {args.target} first")
        self.prompts = [json.loads(line)["prompt_ids"] for line in tasks.read_text().splitlines()]
        self.target = load_model(hf_dir(args.target, args.target_hf))
        self.draft = load_model(hf_dir(args.draft, args.draft_hf))
        self.counters = Counters(self.target)
        self.max_new_tokens = n = args.max_new_tokens
        manifest = self.manifest
        self.common = {"do_sample": False, "max_new_tokens": n, "min_new_tokens": None if args.stop_at_eos else n,
                       "eos_token_id": manifest["eos_token_ids"],
                       "pad_token_id": manifest["pad_token_id"] if manifest["pad_token_id"] is not None
                       else manifest["eos_token_ids"][0]}

    def kwargs(self, mode, k, width) -> dict:
        """generate's arguments for a mode; assisted sets the draft's fixed length k (as the Java engine)."""
        if mode == "greedy" and width == 1:
            extra = {"num_beams": 1}
        elif mode == "beam" and width >= 1:
            extra = {"num_beams": width, "length_penalty": 1.0, "early_stopping": False}
        elif mode == "assisted" and k >= 1 and width == 1:
            self.draft.generation_config.num_assistant_tokens = k
            self.draft.generation_config.num_assistant_tokens_schedule = "constant"
            self.draft.generation_config.assistant_confidence_threshold = 0.0
            extra = {"assistant_model": self.draft}
        else:
            raise CliError(f"no HF mode '{mode}' with k={k}, beam_width={width} "
                           "(greedy B=1, beam B>=1, assisted k>=1 B=1)")
        return {**self.common, **extra}


def loadavg():
    path = Path("/proc/loadavg")
    return path.read_text().split()[0] if path.is_file() else ""


def versions() -> dict:
    import torch
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__}


def write_csv(out: Path, rows: list[dict]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS + META_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(out)   # never a half-written CSV


def serve(base: Baseline, args, stdin, stdout) -> None:
    """Answer generate requests (module docstring) until {"finish": true} or end of input."""
    def say(obj):
        stdout.write(json.dumps(obj) + "\n")
        stdout.flush()

    meta = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **versions()}
    load_before = loadavg()
    recorders: dict[tuple, Recorder] = {}
    say({"ready": True, "prompts": len(base.prompts), **meta})
    for line in stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            if req.get("finish"):
                break
            mode, k, width = str(req["mode"]), int(req["k"]), int(req["beam_width"])
            prompt = int(req["prompt"])
            if not 0 <= prompt < len(base.prompts):
                raise CliError(f"prompt {prompt} out of range: {len(base.prompts)} prompts")
            kwargs = base.kwargs(mode, k, width)
            base.counters.reset()
            ms, new_tokens = generate_once(base.target, base.prompts[prompt], kwargs)
            if req.get("record"):
                recorders.setdefault((mode, k, width), Recorder(mode, k, width, base.max_new_tokens)) \
                    .add(ms, new_tokens, base.counters)
            say({"ms": ms, "new_tokens": new_tokens})
        except (CliError, KeyError, ValueError, TypeError) as e:
            say({"error": f"bad request {line.strip()[:200]}: {e}"})
    rows = [r.row() for r in recorders.values()]
    meta["loadavg"] = f"{load_before}-{loadavg()}"
    for row in rows:
        row.update(meta)
    if rows:
        write_csv(args.out, rows)
    say({"wrote": str(args.out) if rows else None})


def main(argv=None):
    args = parse_args(argv)
    quiet_libraries()
    base = Baseline(args)
    if args.serve:
        import sys

        serve(base, args, sys.stdin, sys.stdout)
        return
    modes = [("greedy", 0, 1)] + [("beam", 0, b) for b in args.beams] + [("assisted", k, 1) for k in args.k]
    meta = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **versions()}
    load_before = loadavg()
    rows = []
    for mode, k, width in modes:
        stats = time_mode(base.target, base.counters, base.prompts, base.kwargs(mode, k, width),
                          Recorder(mode, k, width, base.max_new_tokens), args.repeats)
        rows.append(stats)
        print(f"{mode:8s} k={k} B={width}: {stats['latency_ms_mean']:.1f} ms "
              f"+- {stats['latency_ms_ci999']:.1f}, {stats['tokens_per_s']:.1f} tok/s")
    meta["loadavg"] = f"{load_before}-{loadavg()}"   # 1-minute load average before and after
    for row in rows:
        row.update(meta)
    write_csv(args.out, rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
