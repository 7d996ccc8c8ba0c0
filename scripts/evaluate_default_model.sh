#!/usr/bin/env bash
# The results of MODEL_CARD.md: the bundled model (or WEIGHTS) on the report sets.
#
# Usage: scripts/evaluate_default_model.sh SHARED_DIR DATA_DIR OUT_DIR [WEIGHTS]
#   SHARED_DIR: ../shared; DATA_DIR: the output of prepare_default_model_data.sh.
set -euo pipefail
S=$(realpath "$1"); D=$(realpath "$2"); O=$(realpath -m "$3")
W=()
if [[ $# -ge 4 ]]; then W=(--weights "$4"); fi
mkdir -p "$O"
# GoPro 256x256 crops, with DeblurGAN-v2's predictions beside them (X_pred)
deblurgan evaluate --data "$S/data/gopro_crops256" "${W[@]}" --pred-name DeblurGAN-v2 -o "$O/gopro_crops256" -q
# the three held-out full-size GoPro pairs
deblurgan evaluate --data "$D/gopro_val" "${W[@]}" -o "$O/gopro_heldout" -q
# frame-averaged pairs from raw frames 81-120 (never trained on, not used to pick the checkpoint)
deblurgan evaluate --data "$D/avg_heldout" "${W[@]}" -o "$O/avg_heldout" -q
# Levin et al. 2009 (aligned before scoring), with non-blind references
deblurgan evaluate --data "$S/data/levin2009" "${W[@]}" --nonblind -o "$O/levin2009" -q
# detection: YOLOv3-tiny on frame-averaged pairs from raw frames 81-120 (never trained on)
Y="$S/weights/yolov3-tiny"
deblurgan detect-bench --frames "$D/frames_heldout" --n-avg 7:13 --detector-cfg "$Y/yolov3-tiny.cfg" \
  --detector-weights "$Y/yolov3-tiny.weights" --detector-names "$Y/coco.names" "${W[@]}" \
  -o "$O/detection" -q
