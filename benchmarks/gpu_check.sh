#!/usr/bin/env bash
# The checks that need an NVIDIA GPU, for a machine that has one (CI has none): the CUDA tests (callbacks under
# AMP fp16 and bf16, the core verb on a CUDA model, a distilled fine-tune on device 0), the offline promise where
# Ultralytics' AMP check would download, and the whole demo trained on the GPU under the test suite's network
# guard. Needs torch with CUDA, ultralytics, torch-pruning, onnx, onnxruntime importable by $PYTHON (default
# python3) and this repository on PYTHONPATH; OpenVINO and CoreML are not needed (the demo exports ONNX only).
#
#   bash benchmarks/gpu_check.sh OUT_DIR     # writes gpu.txt, pytest.log, demo.log, demo_net.log, report.md/json
#   GPU_CHECK_TIMEOUT=600 (seconds each for the tests and the demo; an H200 needed 46 s and ~200 s)
set -u
out=${1:?usage: bash benchmarks/gpu_check.sh OUT_DIR}
mkdir -p "$out"
py=${PYTHON:-python3}
limit=${GPU_CHECK_TIMEOUT:-600}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export YOLOPRUNE_HOME="$work/home"  # the generated datasets and the offline config, not the user's cache
repo=$(cd "$(dirname "$0")/.." && pwd)
export PYTHONUNBUFFERED=1
status=0

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
YOLO_CONFIG_DIR="$work/cfg" "$py" -c "import platform, torch, torchvision, ultralytics, torch_pruning, onnx, onnxruntime as ort
print('python', platform.python_version(), 'torch', torch.__version__, 'cuda', torch.version.cuda,
      'torchvision', torchvision.__version__, 'ultralytics', ultralytics.__version__,
      'torch-pruning', torch_pruning.__version__, 'onnx', onnx.__version__, 'onnxruntime', ort.__version__)
print('gpu', torch.cuda.get_device_name(0), 'bf16', torch.cuda.is_bf16_supported())" | tee -a "$out/gpu.txt"

# 1. the CUDA tests and the offline AMP-check test (the suite's conftest installs the network guard)
(cd "$repo" && timeout "$limit" "$py" -m pytest -q -rs tests/integrations/test_cuda.py \
    tests/e2e/test_offline.py::test_offline_amp_check_attempts_no_download) 2>&1 | tee "$out/pytest.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1

# 2. the demo as a user runs it, on the GPU Ultralytics picks by default, with the network guard logging
(cd "$work" && YOLOPRUNE_NETGUARD_LOG="$out/demo_net.log" PYTHONPATH="$repo/tests/netguard:$repo:${PYTHONPATH:-}" \
    timeout "$limit" "$py" -m yoloprune demo formats=onnx project="$work/runs") > "$out/demo.log" 2>&1
rc=$?
touch "$out/demo_net.log"
cp "$work"/runs/demo/report.md "$work"/runs/demo/report.json "$out/" 2>/dev/null
gpu=$(grep -m1 -o "CUDA:0 ([^)]*)" "$out/demo.log")  # Ultralytics' device line: the demo trained on the GPU
echo "demo trained on ${gpu:-the CPU (no CUDA:0 line in demo.log)}" | tee -a "$out/gpu.txt"
echo "demo rc=$rc, network attempts: $(wc -l < "$out/demo_net.log")" | tee -a "$out/gpu.txt"
[ "$rc" = 0 ] && [ -n "$gpu" ] && [ ! -s "$out/demo_net.log" ] || status=1
exit $status
