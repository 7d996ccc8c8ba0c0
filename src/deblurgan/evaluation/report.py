"""Writing evaluation results: JSON, CSV, a PSNR-gain plot, a gallery, and one HTML page."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from deblurgan.evaluation.evaluate import EvalResult, summarise
from deblurgan.evaluation.pictures import side_by_side
from deblurgan.io.atomic import atomic_write_bytes
from deblurgan.io.images import ImageData, write_image

METRIC_DEFINITION = (
    "PSNR on 8-bit values (data range 255); SSIM of Wang et al. 2004 with a Gaussian window "
    "(sigma 1.5, 11x11), K1 0.01, K2 0.03, population covariances, border of 5 px dropped, "
    "mean over RGB channels (or the BT.601 luma with --y-channel), after cropping --border pixels."
)


def write_report(
    out: Path, results: list[EvalResult], settings: dict[str, Any], gallery: int = 12
) -> Path:
    """Write results.json, results.csv, psnr_gain.png, gallery/*.png and report.html.

    Returns:
        The path of ``report.html``.
    """
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(results)
    decisions = any(r.decision is not None for r in results)  # a column only where used
    rows = [r.row(decision=decisions) for r in results]
    payload = {
        "settings": settings,
        "metrics": METRIC_DEFINITION,
        "summary": summary,
        "images": rows,
    }
    atomic_write_bytes(out / "results.json", json.dumps(payload, indent=2).encode())
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(out / "results.csv", buffer.getvalue().encode())
    _gain_plot(out / "psnr_gain.png", results)
    pictures = []
    for result in results[:gallery]:
        panels = {name: image for name, image in result.images.items() if name != "sharp"}
        panels["sharp"] = result.images["sharp"]
        labelled = {
            f"{n} {result.scores[n]['psnr']:.2f} dB" if n in result.scores else n: im
            for n, im in panels.items()
        }
        path = out / "gallery" / f"{result.key}.png"
        write_image(path, ImageData(rgb=side_by_side(labelled).astype(np.float32) / 255))
        pictures.append(path.relative_to(out).as_posix())
    page = _html(
        summary, rows, {p: _data_uri(out / p) for p in ["psnr_gain.png", *pictures]}, settings
    )
    atomic_write_bytes(out / "report.html", page.encode())
    return out / "report.html"


def _gain_plot(path: Path, results: list[EvalResult]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = [m for m in results[0].scores if m != "blurred"]
    keys = [r.key for r in results]
    fig, ax = plt.subplots(figsize=(max(6, 0.35 * len(keys) + 2), 3.6), dpi=110)
    width = 0.8 / max(len(methods), 1)
    for i, method in enumerate(methods):
        gains = [
            r.scores[method]["psnr"] - r.scores["blurred"]["psnr"] if method in r.scores else np.nan
            for r in results
        ]
        gains = np.where(np.isfinite(gains), gains, np.nan)  # identical images: infinite PSNR
        ax.bar(np.arange(len(keys)) + i * width - 0.4 + width / 2, gains, width, label=method)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("PSNR gain over blurred input (dB)")
    ax.set_xticks(np.arange(len(keys)), keys, rotation=60, ha="right", fontsize=7)
    if methods:  # with --no-model and no --pred, nothing but the blurred input to label
        ax.legend(fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def _data_uri(path: Path) -> str:
    """A PNG file as a ``data:`` URI, so that report.html needs no other file."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _html(summary: dict, rows: list[dict], images: dict[str, str], settings: dict[str, Any]) -> str:
    """The report page; ``images`` maps each picture's name to its data URI."""
    esc = html.escape
    head = "".join(
        f"<th>{esc(m)}</th>" for m in ("method", "mean PSNR (dB)", "mean SSIM", "PSNR gain (dB)")
    )
    summary_rows = "".join(
        f"<tr><td>{esc(m)}</td><td>{v['psnr']:.2f}</td><td>{v['ssim']:.4f}</td><td>{v['psnr_gain']:+.2f}</td></tr>"
        for m, v in summary.items()
    )
    columns = list(dict.fromkeys(k for r in rows for k in r))
    table = "".join(
        "<tr>" + "".join(f"<td>{_fmt(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows
    )
    gallery = "".join(
        f'<figure><img src="{uri}" alt="{esc(p)}"><figcaption>{esc(p)}</figcaption></figure>'
        for p, uri in images.items()
        if p != "psnr_gain.png"
    )
    settings_list = "".join(
        f"<li><b>{esc(str(k))}</b>: {esc(str(v))}</li>" for k, v in settings.items()
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>deblurgan evaluation</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}
img{{max-width:100%}}figure{{margin:1em 0}}</style>
</head><body><h1>Deblurring evaluation</h1><ul>{settings_list}</ul><p>{esc(METRIC_DEFINITION)}</p>
<h2>Summary</h2><table><tr>{head}</tr>{summary_rows}</table>
<h2>PSNR gain per image</h2><img src="{images["psnr_gain.png"]}" alt="PSNR gain per image">
<h2>Per image</h2><table><tr>{"".join(f"<th>{esc(c)}</th>" for c in columns)}</tr>{table}</table>
<h2>Gallery (zoomed crops of the same region below each panel)</h2>{gallery}</body></html>"""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return html.escape("" if value is None else str(value))
