"""Plot a training run's curves (from RUN/log.jsonl) into one picture.

Top row: the generator's losses (content, pixel, adversarial) and the critic's
Wasserstein estimate and gradient penalty, smoothed over a window of log
records; bottom right: validation PSNR against the blurred input's PSNR.

Usage:
    python scripts/plot_training_log.py RUN_DIR [RUN_DIR ...] -o curves.png [--labels A B]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def read_log(run_dir: Path) -> dict[str, dict[str, np.ndarray]]:
    """``{group: {key: values}}`` from a run's ``log.jsonl`` (one array per key, by iteration)."""
    groups: dict[str, list[dict]] = {}
    for line in (run_dir / "log.jsonl").read_text().splitlines():
        record = json.loads(line)
        groups.setdefault(record.pop("group"), []).append(record)
    return {
        group: {key: np.array([r.get(key, np.nan) for r in records]) for key in records[-1]}
        for group, records in groups.items()
    }


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Moving average over ``window`` records (shorter at the start)."""
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (cumulative[1:] - cumulative[np.arange(1, len(values) + 1) - counts]) / counts


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--labels", nargs="+")
    parser.add_argument("--window", type=int, default=8, help="records averaged per point")
    args = parser.parse_args()
    labels = args.labels or [run.name for run in args.runs]

    panels = [
        ("content", "content (perceptual) loss"),
        ("pixel", "L1 pixel loss"),
        ("wasserstein", "critic: Wasserstein estimate"),
        ("gp", "critic: gradient penalty"),
        ("adversarial", "generator: adversarial loss"),
    ]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for run, label in zip(args.runs, labels):
        log = read_log(run)
        train = log.get("train", {})
        for ax, (key, title) in zip(axes.flat, panels):
            if key in train and np.isfinite(train[key]).any():
                ax.plot(train["iteration"], smooth(train[key], args.window), label=label)
            ax.set_title(title)
        if "val" in log:
            val = log["val"]
            line = axes.flat[5].plot(val["iteration"], val["psnr"], marker="o", label=label)[0]
            axes.flat[5].plot(
                val["iteration"],
                val["blurred_psnr"],
                ls="--",
                marker="x",
                color=line.get_color(),
                label=f"{label}: blurred input",
            )
    axes.flat[5].set_title("validation PSNR (dB)")
    for ax in axes.flat:
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
    axes.flat[5].legend(fontsize=8)
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=90)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
