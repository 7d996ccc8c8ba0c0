#!/usr/bin/env bash
# Build the training / validation data of the bundled default model (MODEL_CARD.md) from the
# shared data folder, as symbolic links plus frame-averaged pairs, outside the repository.
#
# Usage: scripts/prepare_default_model_data.sh SHARED_DATA_DIR OUTPUT_DIR
#   e.g. scripts/prepare_default_model_data.sh ../shared/data /work/data
set -euo pipefail
S=$(realpath "$1")
D=$(realpath -m "$2")
rm -rf "$D"/{gopro_train,gopro_val,frames_train,frames_heldout,avg_train,avg_heldout,sharp_photos}
mkdir -p "$D"/gopro_train/{blur,sharp} "$D"/gopro_val/{blur,sharp} "$D"/frames_train \
  "$D"/frames_heldout "$D"/sharp_photos

# Real GoPro pairs: three held out for validation and the report, the rest for training.
HELD="GOPR0477_11_00_st_frame-198_n_avg-8.png GOPR0477_11_00_st_frame-659_n_avg-8.png GOPR0477_11_00_st_frame-792_n_avg-8.png"
for f in "$S"/gopro_pairs/blur/*.png; do
  n=$(basename "$f")
  if [[ " $HELD " == *" $n "* ]]; then t=gopro_val; else t=gopro_train; fi
  ln -s "$S/gopro_pairs/blur/$n" "$D/$t/blur/$n"
  ln -s "$S/gopro_pairs/sharp/$n" "$D/$t/sharp/$n"
done

# Raw 240 fps frames: 1-80 become frame-averaged training pairs, 81-120 are held out
# (detection benchmark).
for i in $(seq -f "%06g" 1 80); do ln -s "$S/gopro_raw240fps/GOPR0477_11_00/$i.png" "$D/frames_train/$i.png"; done
for i in $(seq -f "%06g" 81 120); do ln -s "$S/gopro_raw240fps/GOPR0477_11_00/$i.png" "$D/frames_heldout/$i.png"; done
deblurgan synth --frames "$D/frames_train" -o "$D/avg_train" --n-avg 7:13 --seed 0 -q
deblurgan synth --frames "$D/frames_heldout" -o "$D/avg_heldout" --n-avg 7:13 --seed 1 -q  # report only

# Sharp photos blurred on the fly: the shared colour photos, scikit-image's photos and the
# sharp frames of the training GoPro pairs.
find "$S/sharp" -type f \( -name '*.png' -o -name '*.jpg' -o -name '*.bmp' \) ! -path '*set12_gray*' \
  -exec ln -s {} "$D/sharp_photos/" \;
python - "$D/sharp_photos" <<'PY'
import sys
import numpy as np
from skimage import data
from deblurgan.io.images import ImageData, write_image
names = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field",
         "immunohistochemistry", "motorcycle_left", "retina"]
for name in names:
    try:
        image = getattr(data, name)()
    except Exception as err:  # some need pooch downloads
        print("skip", name, err)
        continue
    if image.ndim == 3 and image.shape[2] == 3:
        write_image(f"{sys.argv[1]}/skimage_{name}.png", ImageData(rgb=image.astype(np.float32) / 255))
PY
for f in "$D"/gopro_train/sharp/*.png; do ln -s "$(readlink "$f")" "$D/sharp_photos/gopro_$(basename "$f")"; done
echo "sharp photos: $(ls "$D/sharp_photos" | wc -l), frame-averaged pairs: $(ls "$D/avg_train/blur" | wc -l)"
