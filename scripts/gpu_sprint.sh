#!/usr/bin/env bash
# The GPU sprint in one command, for one device run of at most 10 minutes: install the
# package (--no-deps), check the GPU and the limits, train for a wall-clock budget with a
# checkpoint every 2 minutes and at the end into $OUT, evaluate on the pack's held-out sets
# and print one table. Continue a sprint with --resume FOLDER (its sprint_state-* files).
#
# Usage: scripts/gpu_sprint.sh [--minutes N] [--resume DIR] [--config FILE] [--pack DIR]
#                              [--cpu] [any deblurgan train --sprint option...]
#   Here, first:  python scripts/build_sprint_pack.py        (the data pack, git-ignored)
#                 python scripts/sprint_preflight.py         (sizes against the limits)
#   On the device: run(command="scripts/gpu_sprint.sh --minutes 7", carry=["sprint_pack"],
#                      timeout_s=600)
#   A second lease: copy the returned files into a git-ignored folder (e.g. sprint_resume/),
#                   carry it too, and add --resume sprint_resume.
# Defaults: --minutes 7 (set-up, compilation and evaluation fit in the other 3),
# --config configs/sprint.yaml, --pack sprint_pack, outputs in $OUT (else ./out).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=7 config=configs/sprint.yaml pack=sprint_pack resume="" device=auto
extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --pack) pack=$2; shift 2 ;;
    --resume) resume=$2; shift 2 ;;
    --cpu) device=cpu; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) extra+=("$1"); shift ;;
  esac
done
out=${OUT:-out}
mkdir -p "$out"
python=${PYTHON:-python3}
started=$(date +%s)

# 1. The package, without dependencies (nothing can be fetched on the device).
if ! "$python" -c "import importlib.util as u, sys
sys.exit(u.find_spec('deblurgan.train.sprint') is None)" 2>/dev/null; then  # without importing torch
  "$python" -m pip install -q --no-deps --no-build-isolation -e . >/dev/null ||
    export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"  # the source tree, as it is
fi

# 2. The GPU.
if [[ $device == auto ]]; then
  "$python" - <<'EOF' || exit 3
import torch
if not torch.cuda.is_available():
    raise SystemExit("gpu_sprint: no CUDA GPU here (use --cpu to rehearse on the CPU)")
print("GPU:", torch.cuda.get_device_name(0), "| torch", torch.__version__)
EOF
fi

# 3. The limits: what travelled, and what the sprint will write into $OUT.
carry=("$pack")
[[ -n $resume ]] && carry+=("$resume")
preflight=(--config "$config" --set "run.max_files=8")
for c in "${carry[@]}"; do preflight+=(--carry "$c"); done
"$python" scripts/sprint_preflight.py "${preflight[@]}"

# 4. Train, checkpoint, evaluate, report.
args=(--sprint --config "$config" --pack "$pack" --minutes "$minutes" --out "$out"
      --set "run.device=$device")
[[ -n $resume ]] && args+=(--resume "$resume")
PYTHONUNBUFFERED=1 "$python" -m deblurgan train "${args[@]}" "${extra[@]}"
"$python" - "$out" <<'EOF'
import sys
from pathlib import Path
from deblurgan.train.sprint_files import check_outputs
check_outputs(Path(sys.argv[1]), 8, 16.0, 64.0)
print("outputs within the return limits:", ", ".join(sorted(p.name for p in Path(sys.argv[1]).iterdir())))
EOF
echo "gpu_sprint: $(( $(date +%s) - started )) s in all"
