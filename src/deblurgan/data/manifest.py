"""A synthesized dataset's manifest: what made each pair, and what a re-run may keep.

``OUT/manifest.jsonl`` holds one JSON record per pair; each record's ``settings``
are those of the run that made it (the seed and the blur settings in use). A
re-run with the same settings keeps (skips) the finished pairs; one with other
settings is refused, since pairs of two recipes would mix silently, unless it
is told to overwrite: then every pair is made again, and the pairs of the earlier
manifest that this run does not make are removed (only files the manifest
lists, never one that ``synth`` did not write). Without overwrite those pairs
are kept and listed, with a warning: ``evaluate`` and training take every pair
in the folder (``blur/`` and ``sharp/``), not the manifest's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deblurgan.io.atomic import atomic_write_bytes
from deblurgan.io.media import is_image

MANIFEST = "manifest.jsonl"


class OtherSettingsError(ValueError):
    """The output folder holds pairs that other settings made."""


def pair_files(out: Path, name: str, kernels: bool) -> list[Path]:
    """The files of pair ``name`` (``STEM.png``): blurred, sharp, and the kernel's two.

    Examples:
        >>> [p.as_posix() for p in pair_files(Path("out"), "a_000.png", kernels=False)]
        ['out/blur/a_000.png', 'out/sharp/a_000.png']
    """
    files = [out / "blur" / name, out / "sharp" / name]
    if kernels:
        stem = Path(name).stem
        files += [out / "kernels" / f"{stem}.npy", out / "kernels" / f"{stem}.png"]
    return files


def read_manifest(out: Path) -> dict[str, dict]:
    """Records of an earlier run into ``out``, by pair name (none if there is no manifest)."""
    try:
        lines = (out / MANIFEST).read_text().splitlines()
    except OSError:
        return {}
    records = {}
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a damaged manifest: those pairs are made again
            continue
        if isinstance(record, dict) and isinstance(record.get("name"), str):
            records[record["name"]] = record
    return records


def check_settings(out: Path, earlier: dict[str, dict], settings: dict) -> None:
    """Refuse to add to ``out`` when its pairs were made with other ``settings``.

    Raises:
        OtherSettingsError: A record's settings differ (or were not recorded), naming
            the keys that differ and the ways on.
    """
    other = next((r for r in earlier.values() if r.get("settings") != settings), None)
    if other is None:
        return
    if isinstance(other.get("settings"), dict):
        cause = f"{', '.join(_changed(other['settings'], settings))} differ"
    else:
        cause = "an earlier version did not record them"
    raise OtherSettingsError(
        f"{out} holds pairs made with other settings ({cause}); make every pair again with "
        "--overwrite (it also removes the earlier pairs that this run does not make), or "
        "choose another -o"
    )


def write_manifest(
    out: Path, records: list[dict], earlier: dict[str, dict], overwrite: bool
) -> list[str]:
    """Write this run's ``records``, settling the earlier run's pairs that it did not make.

    Args:
        out: Dataset root.
        records: This run's pairs (made or kept).
        earlier: The earlier manifest's records (:func:`read_manifest`).
        overwrite: Remove the earlier pairs this run did not make; else keep and list them.

    Returns:
        Warnings for the user: pairs kept from the earlier run, images in ``blur/`` that
        the manifest does not list.
    """
    made = {record["name"]: record for record in records}
    warnings = []
    if overwrite:  # the earlier pairs' files that this run did not write again
        for name, record in earlier.items():
            kept = pair_files(out, name, _has_kernel(made[name])) if name in made else []
            for path in pair_files(out, name, _has_kernel(record)):
                if path not in kept:
                    path.unlink(missing_ok=True)
    else:
        left = [r for n, r in earlier.items() if n not in made and (out / "blur" / n).is_file()]
        if left:
            records = [*records, *left]
            warnings.append(
                f"{out}: kept {len(left)} pair(s) of an earlier run that this run does not make "
                f"(e.g. {left[0]['name']}); evaluate and train use them too: --overwrite "
                "removes them"
            )
    if records or earlier or (out / MANIFEST).exists():  # none for a run that made nothing
        atomic_write_bytes(out / MANIFEST, "".join(json.dumps(r) + "\n" for r in records).encode())
    listed = {record["name"] for record in records}
    blur = out / "blur"
    unlisted = sorted(
        p.name
        for p in (blur.iterdir() if blur.is_dir() else [])
        if is_image(p) and not p.name.startswith(".") and p.name not in listed
    )
    if unlisted:
        warnings.append(
            f"{blur} holds {len(unlisted)} image(s) that {MANIFEST} does not list (e.g. "
            f"{unlisted[0]}); evaluate and train use them too: remove them, or choose another -o"
        )
    return warnings


def _has_kernel(record: dict) -> bool:
    return record.get("mode") == "kernel"


def _changed(old: Any, new: Any, key: str = "") -> list[str]:
    """The dotted keys whose values differ between two nested mappings."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(set(old) | set(new))
        return [c for k in keys for c in _changed(old.get(k), new.get(k), f"{key}{k}.")]
    return [] if old == new else [key.rstrip(".")]
