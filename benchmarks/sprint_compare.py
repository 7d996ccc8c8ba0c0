"""Which recipe learns most per minute: sprints of equal CPU time, side by side.

Each recipe runs ``deblurgan train --sprint`` in its own process with one thread, for the
same budget of *process CPU time* (``run.clock: process``), so that others sharing the
machine slow every recipe alike; each ends with the evaluation on the pack's held-out sets
(GoPro recordings never trained on; held-out photos blurred by the numpy recipe). Recipes
run ``--parallel`` at a time (default 2). Usage (a few minutes per recipe; on the CPU, at tiny scale):

    python benchmarks/sprint_compare.py --pack sprint_pack --minutes 6 --out /tmp/compare
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

# Tiny scale, equal batch and crops for all; only the network and the loss differ.
COMMON = [
    "data.batch=8", "data.crop=64", "data.eval_max_side=256", "data.mix.kernel_size=21",
    "data.mix.scene_margin=10", "data.mix.scene_frames=7", "run.device=cpu",
    "run.precision=fp32", "run.channels_last=false", "run.compile=false", "run.log_every=25",
    "run.clock=process", "run.checkpoint_minutes=100",
]  # fmt: skip
RECIPES = {
    # The paper's generator and loss (configs/sprint-paper.yaml), narrowed to tiny scale.
    "paper: resnet + WGAN-GP + perceptual": [
        "--config", "configs/sprint-paper.yaml", "--set", "model.ngf=16", "--set",
        "model.n_blocks=3",
    ],
    # The sprint's recipe (configs/sprint.yaml), narrowed to tiny scale.
    "nafnet + L1": [
        "--config", "configs/sprint.yaml", "--set", "model.ngf=16", "--set", "model.n_blocks=2",
    ],
    "nafnet + L1 + 0.01 x WGAN-GP": [
        "--config", "configs/sprint.yaml", "--set", "model.ngf=16", "--set", "model.n_blocks=2",
        "--set", "loss.gan=wgan-gp", "--set", "loss.adversarial_weight=0.01", "--set",
        "model.ndf=16",
    ],
}  # fmt: skip


def main() -> None:
    """Run the recipes ``--parallel`` at a time and print one row per recipe and set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", type=Path, default=Path("sprint_pack"))
    parser.add_argument("--minutes", type=float, default=6.0, help="CPU minutes per recipe")
    parser.add_argument("--out", type=Path, default=Path("/tmp/sprint_compare"))
    parser.add_argument("--only", nargs="*", help="recipe names to run (default: all)")
    parser.add_argument("--parallel", type=int, default=2, help="recipes run at a time")
    args = parser.parse_args()
    names = [n for n in RECIPES if not args.only or n in args.only]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    running = []
    for i, name in enumerate(names):
        out = args.out / f"recipe{i}"
        overrides = [a for o in COMMON for a in ("--set", o)]
        command = [
            sys.executable, "-m", "deblurgan", "train", "--sprint", "--pack", str(args.pack),
            "--minutes", str(args.minutes), "--out", str(out), *RECIPES[name], *overrides,
        ]  # fmt: skip
        out.mkdir(parents=True, exist_ok=True)
        log = (out / "stdout.txt").open("w")
        running.append((name, out, subprocess.Popen(command, stdout=log, stderr=log, env=env)))
        if len(running) % args.parallel == 0 or i == len(names) - 1:
            for _, _, process in running[-args.parallel :]:
                process.wait()
        time.sleep(0.1)
    print("| recipe | set | PSNR in | PSNR out | gain dB | steps |")
    print("|---|---|---|---|---|---|")
    for name, out, process in running:
        lines = [json.loads(x) for x in (out / "sprint_log.jsonl").read_text().splitlines()]
        last = lines[-1] if lines else {}
        report = (out / "sprint_report.md").read_text() if process.returncode == 0 else ""
        for row in report.splitlines():
            cells = [c.strip() for c in row.strip("|").split("|")]
            if len(cells) == 8 and cells[0] not in ("set", "---") and cells[1]:
                print(f"| {name} | {cells[0]} | {cells[2]} | {cells[3]} | {cells[4]} | "
                      f"{last.get('step')} |")  # fmt: skip
            elif cells[0] == "mean over sets":
                print(f"| {name} | mean over sets | | | {cells[4]} | {last.get('step')} |")
        if process.returncode:
            print(f"| {name} | FAILED ({process.returncode}), see {out}/stdout.txt | | | | |")


if __name__ == "__main__":
    main()
