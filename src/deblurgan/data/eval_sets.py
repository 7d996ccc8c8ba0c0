"""Finding evaluation triplets (blurred, sharp, optionally another method's output) on disk.

Layouts recognised in ``--data DIR``:

- GoPro: ``DIR/**/blur/NAME`` with ``DIR/**/sharp/NAME``;
- crops: ``X_in.png`` (blurred), ``X_gt.png`` (sharp), and ``X_pred.png`` if present
  (e.g. ``gopro_crops256`` with DeblurGAN-v2's outputs);
- Levin et al. 2009: ``imI_kernelK_img.png`` with ``gt/imI.png`` and the true kernel
  ``gt/kernelK.png``;
- a list file (``DIR`` is a ``.txt`` of ``BLURRED SHARP`` lines).

Another method's outputs (``--pred DIR``) are matched by the blurred file's
name, by ``KEY_pred.*`` or by ``KEY.*``.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from deblurgan.data.pairs import find_paired, read_pair_list
from deblurgan.io.media import IMAGE_SUFFIXES

_LEVIN = re.compile(r"^im(\d+)_kernel(\d+)_img$")


@dataclasses.dataclass(frozen=True)
class EvalItem:
    """One image to score.

    Attributes:
        key: Short name used in reports (file stem without ``_in``).
        blurred, sharp: The pair.
        other: Another method's output for ``blurred``, if any.
        kernel: The true blur kernel image (Levin), if known.
    """

    key: str
    blurred: Path
    sharp: Path
    other: Path | None = None
    kernel: Path | None = None


def find_eval_items(data: str | Path, pred: str | Path | None = None) -> tuple[list[EvalItem], str]:
    """Discover items under ``data``; returns them and the layout's name. Items whose sharp
    partner is missing are left out (:func:`find_eval_items_and_missing` names them).

    Raises:
        FileNotFoundError: ``data`` does not exist or holds no recognised pairs.
    """
    items, layout, _ = find_eval_items_and_missing(data, pred)
    return items, layout


def find_eval_items_and_missing(
    data: str | Path, pred: str | Path | None = None
) -> tuple[list[EvalItem], str, list[str]]:
    """As :func:`find_eval_items`, plus one message per missing partner: a blurred image
    without its sharp image (left out), a sharp image without its blurred one (GoPro), and,
    with ``pred``, an item without a prediction there (kept, with ``other`` None).

    Raises:
        FileNotFoundError: ``data`` does not exist or holds no complete pair.
    """
    data = Path(data)
    missing: list[str] = []
    if data.is_file():
        pairs, problems = read_pair_list(data)
        if problems:
            raise FileNotFoundError("; ".join(problems))
        items, layout = [EvalItem(p.blurred.stem, p.blurred, p.sharp) for p in pairs], "list"
    elif not data.is_dir():
        raise FileNotFoundError(f"{data}: no such folder or list file")
    elif crops := sorted(data.glob("*_in.*")):
        items, layout = [_crop_item(p) for p in crops], "crops"
    elif levin := sorted(p for p in data.glob("im*_kernel*_img.*") if _LEVIN.match(p.stem)):
        items, layout = [_levin_item(data, p) for p in levin], "levin"
    else:
        pairs, missing = find_paired(data)
        items, layout = [EvalItem(p.blurred.stem, p.blurred, p.sharp) for p in pairs], "gopro"
        missing = [m for m in missing if "no blur/ and sharp/ folders" not in m]
    missing += [f"{i.blurred}: no sharp partner {i.sharp}" for i in items if not i.sharp.is_file()]
    items = [i for i in items if i.sharp.is_file()]
    if not items:
        raise FileNotFoundError(
            f"{data}: no blurred/sharp pairs found" + "".join(f"; {m}" for m in missing[:5])
        )
    if pred is not None:
        items = [dataclasses.replace(i, other=_find_prediction(Path(pred), i)) for i in items]
        missing += [f"{i.blurred}: no prediction in {pred}" for i in items if i.other is None]
    return items, layout, missing


def _crop_item(blurred: Path) -> EvalItem:
    key = blurred.stem.removesuffix("_in")
    sharp = _sibling(blurred.parent, f"{key}_gt")
    other = _sibling(blurred.parent, f"{key}_pred")
    return EvalItem(key, blurred, sharp or blurred.with_name(f"{key}_gt.png"), other)


def _levin_item(root: Path, blurred: Path) -> EvalItem:
    image, kernel = _LEVIN.match(blurred.stem).groups()
    return EvalItem(
        blurred.stem.removesuffix("_img"),
        blurred,
        root / "gt" / f"im{image}.png",
        kernel=root / "gt" / f"kernel{kernel}.png",
    )


def _find_prediction(folder: Path, item: EvalItem) -> Path | None:
    exact = folder / item.blurred.name
    if exact.is_file() and exact.resolve() != item.blurred.resolve():
        return exact
    return _sibling(folder, f"{item.key}_pred") or _sibling(folder, item.key)


def _sibling(folder: Path, stem: str) -> Path | None:
    for suffix in sorted(IMAGE_SUFFIXES):
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None
