#!/usr/bin/env bash
# The quick grid on the CUDA provider with the bound KV cache (issue 27): the cache in device memory from ONNX
# Runtime's CUDA allocator, bound with IoBinding, slot moves by cudaMemcpy; per forward only ids, positions,
# mask and the logits kept cross the bus. Writes the suite's CSV, report and JMH file under $OUT.
#
# Needs: an NVIDIA GPU with CUDA 12 and cuDNN 9 libraries on the loader path (what onnxruntime_gpu 1.29 links
# against), JDK 17+, and benchmarks.jar built by `mvn package`. NOT RUN by this project: its machines have
# either no GPU or a GPU machine with CUDA 13 and no Java. -Dspecbeam.kv=bound makes a missing piece (no CUDA
# runtime, no device allocator) an error instead of a quiet fallback to direct buffers; the provider check
# below does the same for a CPU fallback.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-results/gpu}
MODELS=${MODELS:-models/pair}
mkdir -p "$OUT"
java -Dspecbeam.kv=bound -cp benchmarks.jar specbeam.cli.SpecbeamCli generate --target "$MODELS/target" \
  --draft "$MODELS/draft" --mode speculative_beam --beam-width 2 --k 2 --max-new-tokens 8 --prompt-ids 5,17,9 \
  --provider cuda --json > "$OUT/probe.json"
python3 - "$OUT/probe.json" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))["stats"]
assert stats["provider"] == "cuda", "the CUDA provider did not load (ran on %s): see stderr above" % stats["provider"]
assert stats.get("kv_cache") == "bound", stats
assert stats["kv_bytes_through_java"] == 0, stats
print("CUDA, bound cache: %d host I/O bytes for %d tokens" % (stats["host_io_bytes"], stats["tokens_generated"]))
PY
java -Dspecbeam.kv=bound -jar benchmarks.jar --quick --models "$MODELS" --out "$OUT" -p provider=cuda
echo "quick grid on CUDA: $OUT/benchmark-quick.csv"
