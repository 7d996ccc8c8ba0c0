#!/usr/bin/env bash
# Build scene-disjoint training / validation / report data from the shared data folder, as
# symbolic links plus frame-averaged pairs, outside the repository (nothing is downloaded).
#
#   train:  GoPro recording GOPR0477 only (3 shared pairs + pairs averaged from raw frames
#           1-80) and sharp photos for synthetic blur (the sharp corpus but Kodak24, the
#           shared colour photos)
#   val:    the 4 pairs of another recording, GOPR0374 (model selection)
#   still:  "still" pairs, a sharp frame as both input and target (the shared pairs' sharp
#           frames and raw frames 5/25/45/65): an optional paired root that teaches the model
#           to leave sharp input alone (MODEL_CARD.md, P10). It holds GOPR0374's sharp frames:
#           train on it only when GOPR0374 is in training too (the final-run allowance)
#   report: GOPR0477 pairs 198/659/792 and raw frames 81-120 (same recording, other moments),
#           Kodak24 (do no harm); gopro_crops256 and Levin are read from SHARED_DATA_DIR
#
# Usage: scripts/prepare_data.sh SHARED_DATA_DIR OUTPUT_DIR
#   e.g. scripts/prepare_data.sh ../shared/data /work/data
set -euo pipefail
S=$(realpath "$1")
D=$(realpath -m "$2")
RAW="$S/gopro_raw240fps/GOPR0477_11_00"
rm -rf "$D"/{gopro_train,gopro_val,gopro_same_scene,gopro_still,frames_train,frames_heldout} \
  "$D"/{avg_train,avg_heldout,sharp_train,sharp_heldout}
mkdir -p "$D"/{gopro_train,gopro_val,gopro_same_scene,gopro_still}/{blur,sharp} "$D"/frames_train \
  "$D"/frames_heldout "$D"/sharp_train "$D"/sharp_heldout

SAME_SCENE="GOPR0477_11_00_st_frame-198_n_avg-8.png GOPR0477_11_00_st_frame-659_n_avg-8.png GOPR0477_11_00_st_frame-792_n_avg-8.png"
for f in "$S"/gopro_pairs/blur/*.png; do
  n=$(basename "$f")
  if [[ $n == GOPR0374* ]]; then t=gopro_val
  elif [[ " $SAME_SCENE " == *" $n "* ]]; then t=gopro_same_scene
  else t=gopro_train; fi
  ln -s "$S/gopro_pairs/blur/$n" "$D/$t/blur/$n"
  ln -s "$S/gopro_pairs/sharp/$n" "$D/$t/sharp/$n"
done
for f in "$D"/{gopro_train,gopro_val}/sharp/*.png "$RAW"/0000{05,25,45,65}.png; do
  n=still_$(basename "$f")
  ln -s "$(realpath "$f")" "$D/gopro_still/blur/$n"
  ln -s "$(realpath "$f")" "$D/gopro_still/sharp/$n"
done

for i in $(seq -f "%06g" 1 80); do ln -s "$RAW/$i.png" "$D/frames_train/$i.png"; done
for i in $(seq -f "%06g" 81 120); do ln -s "$RAW/$i.png" "$D/frames_heldout/$i.png"; done
# the two averagings at once (one core each); a failure of either fails the script
deblurgan synth --frames "$D/frames_train" -o "$D/avg_train" --n-avg 7:13 --seed 0 -q &
train=$!
deblurgan synth --frames "$D/frames_heldout" -o "$D/avg_heldout" --n-avg 7:13 --seed 1 -q
wait "$train"

for sub in urban100 bsd100 mcmaster18; do
  for f in "$S"/sharp_corpus/$sub/*; do ln -s "$f" "$D/sharp_train/${sub}_$(basename "$f")"; done
done
for f in "$S"/sharp_corpus/kodak24/*; do ln -s "$f" "$D/sharp_heldout/kodak24_$(basename "$f")"; done
find "$S/sharp" -maxdepth 2 -type f \( -name '*.png' -o -name '*.jpg' -o -name '*.bmp' \) \
  ! -path '*set12*' -exec sh -c 'ln -s "$1" "$2/$(basename "$(dirname "$1")")_$(basename "$1")"' _ {} "$D/sharp_train" \;
echo "train: $(ls "$D/gopro_train/blur" | wc -l) GoPro pairs, $(ls "$D/avg_train/blur" | wc -l)" \
  "frame-averaged pairs, $(ls "$D/sharp_train" | wc -l) sharp photos;" \
  "val: $(ls "$D/gopro_val/blur" | wc -l) GOPR0374 pairs; still: $(ls "$D/gopro_still/blur" | wc -l) pairs; do-no-harm: $(ls "$D/sharp_heldout" | wc -l)"
