#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript in conf/gpu.yaml).
# Prints the GPUs this executor may use as Spark's ResourceInformation JSON:
#   {"name": "gpu", "addresses": ["0", "1"]}
# Addresses are the CUDA device numbers a process on this executor uses (cuda:<address>): nvidia-smi
# indexes, or 0..n-1 when the cluster manager restricted the container with CUDA_VISIBLE_DEVICES
# (CUDA renumbers the visible devices from 0). No GPU: an empty list.
set -euo pipefail

addresses=()
if [ -n "${CUDA_VISIBLE_DEVICES:-}" ] && [ "${CUDA_VISIBLE_DEVICES}" != "NoDevFiles" ]; then
  IFS=',' read -r -a visible <<< "${CUDA_VISIBLE_DEVICES}"
  for i in "${!visible[@]}"; do [ -n "${visible[$i]}" ] && addresses+=("$i"); done
elif command -v nvidia-smi >/dev/null 2>&1; then
  while IFS= read -r idx; do
    idx="${idx//[[:space:]]/}"
    [ -n "$idx" ] && addresses+=("$idx")
  done < <(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null || true)
fi

json=""
for a in "${addresses[@]+"${addresses[@]}"}"; do
  json="${json:+$json,}\"$a\""
done
printf '{"name": "gpu", "addresses": [%s]}\n' "$json"
