#!/usr/bin/env bash
# Prepare the scene-disjoint data and train configs/gpu.yaml, in one command; run it again to
# resume the same run after an interruption.
#
# Usage: scripts/train_gpu.sh SHARED_DATA_DIR DATA_DIR RUN_DIR [deblurgan train options...]
#   e.g. scripts/train_gpu.sh ../shared/data /data/deblurgan runs/gpu
#        scripts/train_gpu.sh ../shared/data /data/deblurgan runs/gpu --set optim.iterations=40000
# Several GPUs: TORCHRUN="torchrun --nproc_per_node=4" scripts/train_gpu.sh ...
set -euo pipefail
if [[ $# -lt 3 ]]; then
  sed -n '2,8p' "$0" >&2
  exit 2
fi
shared=$1 data=$2 run=$3
shift 3
here=$(dirname "$0")
if [[ ! -f "$data/.prepared" ]]; then
  "$here/prepare_data.sh" "$shared" "$data"
  touch "$data/.prepared"
fi
launch=${TORCHRUN:-python}
if [[ -f "$run/checkpoints/latest.pt" ]]; then
  exec $launch -m deblurgan train --resume "$run" "$@"
fi
exec $launch -m deblurgan train --config "$here/../configs/gpu.yaml" \
  --set "data.paired=[$data/gopro_train,$data/avg_train]" \
  --set "data.synthetic=[$data/sharp_train]" --set "data.val=[$data/gopro_val]" \
  --set "run.dir=$run" "$@"
