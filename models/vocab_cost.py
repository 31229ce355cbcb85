#!/usr/bin/env python3
"""What a large vocabulary costs the engine outside ONNX Runtime: the share of the decode phase spent reading and
scanning the target's logits (copy out of ONNX Runtime's output, log-softmax, top 2B), on a warm JVM.

    python models/vocab_cost.py --jar benchmarks.jar --pair DIR [--prompt 256] [--calls 6] [--draft-is-target]

DIR holds target/ and draft/ (e.g. a real_shapes.py --work folder's qwen2.5-0.5b/). Starts `serve` on the pair,
sends each configuration --calls times with the same prompt of random ids and reports the last half of the calls
(the first half warms the JIT): per configuration, the decode phase's ms, ONNX Runtime's share of it, the logits
share (DecodeStats.logitsNanos), the target nodes per decode forward and, for the speculative configurations, the
share of the verifications' time spent outside ONNX Runtime's run of the target (DecodeStats.verifyNanos: the
verifying forward's inputs, run and outputs, plus the reading and scanning of its logits). Random weights accept
no proposal of a random draft, so a round reads only the first row of each chain; --draft-is-target makes every
proposal accepted, so that a verification reads every row it computed (speculative k = 19: 20 rows of logits).
"""

import argparse
import json
import random
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CliError, read_manifest, run_cli  # noqa: E402

CONFIGS = [dict(mode="beam", beam_width=4), dict(mode="beam", beam_width=8),
           dict(mode="speculative_beam", beam_width=4, k=5), dict(mode="speculative_beam", beam_width=2, k=10),
           dict(mode="speculative", k=19), dict(mode="speculative_beam", beam_width=4, k=4)]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jar", type=Path, default=Path("benchmarks.jar"))
    p.add_argument("--pair", type=Path, required=True)
    p.add_argument("--prompt", type=int, default=256)
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--calls", type=int, default=6)
    p.add_argument("--draft-is-target", action="store_true", help="serve the target as its own draft")
    p.add_argument("--out", type=Path, default=None, help="the JSON written (default DIR/vocab_cost.json)")
    args = p.parse_args(argv)
    manifest = read_manifest(args.pair / "target")
    vocab = manifest["vocab_size"]
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    load = Path("/proc/loadavg").read_text().split()[:3]
    rng = random.Random(23)
    ids = ",".join(str(rng.randrange(1, vocab)) for _ in range(args.prompt))
    log = open(args.pair / "serve.log", "w")
    server = subprocess.Popen(["java", "-cp", str(args.jar), "specbeam.cli.SpecbeamCli", "serve", "--target",
                               str(args.pair / "target"), "--draft", str(args.pair / ("target" if args.draft_is_target else "draft")), "--port", "0",
                               "--max-new-tokens-cap", str(args.new_tokens)], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            m = re.search(r"on (http://\S+/) ", (args.pair / "serve.log").read_text())
            if m:
                break
            time.sleep(0.5)
        else:
            raise CliError("serve did not start: " + (args.pair / "serve.log").read_text()[-500:])
        rows = []
        for config in CONFIGS:
            query = "&".join(f"{k}={v}" for k, v in {**config, "max_new_tokens": args.new_tokens,
                                                      "eos_ids": "0", "prompt_ids": ids}.items())
            stats = [json.load(urllib.request.urlopen(m.group(1) + "api/generate?" + query, timeout=600))["stats"]
                     for _ in range(args.calls)][args.calls // 2:]
            decode = sum(s["wall_ms"] - s["prefill_ms"] for s in stats)
            forwards = sum(s["target_forwards"] - 1 for s in stats)
            nodes = sum(s["target_tokens_fed"] - s["target_prefill_tokens_fed"] for s in stats)
            row = {"config": config, "vocab": vocab, "decode_ms_per_call": round(decode / len(stats), 1),
                   "logits_share_of_decode": round(sum(s["logits_ms"] for s in stats) / decode, 4),
                   "ort_share_of_wall": round(sum(s["ort_ms"] for s in stats) / sum(s["wall_ms"] for s in stats), 4),
                   "target_nodes_per_decode_forward": round(nodes / forwards, 1)}
            if sum(s["verify_forwards"] for s in stats):
                verify = sum(s["verify_ms"] for s in stats)
                row.update(verify_ms_per_forward=round(verify / sum(s["verify_forwards"] for s in stats), 2),
                           verify_nodes_per_forward=round(sum(s["verify_nodes"] for s in stats)
                                                          / sum(s["verify_forwards"] for s in stats), 1),
                           verify_outside_ort_share=round((verify - sum(s["verify_ort_ms"] for s in stats))
                                                          / verify, 4),
                           acceptance_rate=stats[-1]["acceptance_rate"])
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        server.terminate()
        server.wait()
    out = args.out or args.pair / "vocab_cost.json"
    json.dump({"measured_at": started, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "loadavg_before": load, "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
               "pair": str(args.pair), "layers": manifest["num_layers"], "parameters": manifest.get("parameters"),
               "draft": "the target itself" if args.draft_is_target else "draft/",
               "prompt_tokens": args.prompt, "new_tokens": args.new_tokens, "rows": rows},
              open(out, "w"), indent=1)


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
