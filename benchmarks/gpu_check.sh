#!/usr/bin/env bash
# The GPU check: at most 8 minutes on one H100 / H200, with armlab and its
# stack installed (`pip install -e .`). Writes, with the device name in each:
#   benchmarks/results/gpu_throughput.json  full-size ResNet-18 pair at
#       OGM-GE's CREMA-D shapes, batch 64, fp32 / AMP x channels-last off /
#       on, samples/s of joint, ARM, OGM-GE, AGM and MMPareto; the batched
#       audio front-end's samples/s on the GPU;
#   benchmarks/results/gpu_end_to_end.json  2-epoch AV-Digits runs (joint and
#       ARM, old and new data path) through tools/train.py, on the GPU.
# and copies them to $OUT when it is set (the device tool brings $OUT back).
#
#   bash benchmarks/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
RESULTS=benchmarks/results
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
python -c 'import torch; assert torch.cuda.is_available(), "no CUDA device"
print("torch", torch.__version__, "on", torch.cuda.get_device_name(0))'

# About 2 minutes: 5 methods x 4 precision / memory-format cases.
timeout 240 python benchmarks/gpu_throughput.py --device cuda --batch 64 \
    --width 64 --frames 1 --steps 10 --warmup 3 \
    --methods joint arm ogm-ge agm mmpareto \
    --out "$RESULTS/gpu_throughput.json"

# About 3 minutes: the AV-Digits build (once, in parallel workers), then four
# 2-epoch runs and their tests.
timeout 300 python benchmarks/end_to_end.py --epochs 2 --repeats 1 \
    --data-root data/avdigits/sklearn_espeak \
    --work-root work_dirs/benchmarks/gpu_end_to_end \
    --out "$RESULTS/gpu_end_to_end.json"

if [ -n "${OUT:-}" ]; then
    cp "$RESULTS"/gpu_throughput.json "$RESULTS"/gpu_end_to_end.json "$OUT"/
fi
echo "gpu_check: done"
