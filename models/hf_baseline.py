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
"""

import argparse
import csv
import json
import math
import statistics
import time
from pathlib import Path

from common import CliError, quiet_libraries, read_manifest, run_cli
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
        return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, local_files_only=True).eval()
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


def time_mode(target, counters, prompts, generate_kwargs, repeats) -> dict:
    import torch

    def one_pass(record):
        for ids in prompts:
            x = torch.tensor([ids])
            start = time.perf_counter()
            with torch.no_grad():
                out = target.generate(input_ids=x, attention_mask=torch.ones_like(x), **generate_kwargs)
            elapsed = time.perf_counter() - start
            if record:
                latencies.append(elapsed * 1000)
                new_tokens.append(out.shape[1] - x.shape[1])

    latencies, new_tokens = [], []
    one_pass(record=False)  # warm-up
    counters.reset()
    for _ in range(repeats):
        one_pass(record=True)
    total_tokens = sum(new_tokens)
    return {"latency_ms_mean": statistics.fmean(latencies), "latency_ms_ci999": ci999(latencies),
            "tokens_per_s": total_tokens / (sum(latencies) / 1000),
            "acceptance_rate": counters.accepted / counters.proposed if counters.proposed else "",
            "target_forwards_per_token": counters.forwards / total_tokens, "n": len(latencies)}


def main(argv=None):
    args = parse_args(argv)
    quiet_libraries()
    import torch

    torch.set_num_threads(2)
    manifest = read_manifest(args.target)
    problems = vocabulary_differences(args.target, args.draft)
    if problems:
        raise CliError(f"draft cannot assist target: {'; '.join(problems)}")
    tasks = args.target / "tasks" / "prompts.jsonl"
    if not tasks.is_file():
        raise CliError(f"{tasks} not found: run models/tasks.py --model-dir {args.target} first")
    prompts = [json.loads(line)["prompt_ids"] for line in tasks.read_text().splitlines()]
    target = load_model(hf_dir(args.target, args.target_hf))
    draft = load_model(hf_dir(args.draft, args.draft_hf))
    counters = Counters(target)

    n = args.max_new_tokens
    common = {"do_sample": False, "max_new_tokens": n, "min_new_tokens": None if args.stop_at_eos else n,
              "eos_token_id": manifest["eos_token_ids"],
              "pad_token_id": manifest["pad_token_id"] if manifest["pad_token_id"] is not None
              else manifest["eos_token_ids"][0]}
    modes = [("greedy", 0, 1, {"num_beams": 1})]
    modes += [("beam", 0, b, {"num_beams": b, "length_penalty": 1.0, "early_stopping": False})
              for b in args.beams]
    modes += [("assisted", k, 1, {"assistant_model": draft}) for k in args.k]

    import transformers

    def loadavg():
        path = Path("/proc/loadavg")
        return path.read_text().split()[0] if path.is_file() else ""

    meta = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "torch": torch.__version__,
            "transformers": transformers.__version__}
    load_before = loadavg()
    rows = []
    for mode, k, width, kwargs in modes:
        if mode == "assisted":  # a fixed draft length, as the Java engine uses
            draft.generation_config.num_assistant_tokens = k
            draft.generation_config.num_assistant_tokens_schedule = "constant"
            draft.generation_config.assistant_confidence_threshold = 0.0
        stats = time_mode(target, counters, prompts, {**common, **kwargs}, args.repeats)
        rows.append({"engine": "hf", "mode": mode, "k": k, "beam_width": width, "batch": 1,
                     "provider": "torch-cpu", "max_new_tokens": n, **stats})
        print(f"{mode:8s} k={k} B={width}: {stats['latency_ms_mean']:.1f} ms "
              f"+- {stats['latency_ms_ci999']:.1f}, {stats['tokens_per_s']:.1f} tok/s")
    meta["loadavg"] = f"{load_before}-{loadavg()}"   # 1-minute load average before and after
    for row in rows:
        row.update(meta)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS + META_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
