"""What a sprint carries to the device and brings back, checked against the device
tool's limits, and its resumable state split into files that each fit them.

The device tool sends the working tree (tracked files and untracked files git does not
ignore) plus the carried paths, at most 64 MiB, and brings back from ``$OUT`` at most
8 files of under 16 MiB each, 64 MiB together. :func:`travel_bytes` measures the first
before a sprint starts; :func:`check_outputs` checks the second after every write.

The resumable state (generator, critic, optimisers, step, random state) is one
``torch.save`` byte string cut into ``sprint_state-SSSSSSSS-II-of-NN.bin`` parts
(step ``S``), each under the file limit; :func:`write_state` writes a new set before it
deletes the old one, and :func:`read_state` reads the newest complete set.

PyTorch is imported only by the functions that need it: the limit checks (the last step of
``scripts/gpu_sprint.sh``, in a process of its own) run without its seconds of start-up.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from deblurgan.io.atomic import atomic_write_bytes

MIB = 2**20
STATE_PATTERN = re.compile(r"sprint_state-(\d{8})-(\d{2})-of-(\d{2})\.bin")


class LimitError(ValueError):
    """What would travel, or come back, breaks the device tool's limits."""


def tree_files(root: Path) -> list[Path]:
    """The files of the working tree that travel: ``git ls-files`` (tracked, and untracked
    not ignored) where ``root`` is a git checkout, else every file outside ``.git``."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout
        names = {n for n in listed.decode().split("\0") if n}
        return sorted(root / n for n in names if (root / n).is_file())
    except (OSError, subprocess.CalledProcessError):
        return sorted(
            p for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts
        )


def folder_bytes(path: Path) -> int:
    """Bytes of the files under ``path`` (or of the file ``path``)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def travel_bytes(root: Path, carry: list[Path] = ()) -> dict[str, int]:
    """Bytes that a device call sends: the working tree and each carried path.

    Returns:
        ``{"tree": ..., "<carried path>": ..., "total": ...}``.
    """
    root = Path(root)
    carried = [Path(c) if Path(c).is_absolute() else root / c for c in carry]
    inside = [c.resolve() for c in carried]
    tree = 0
    for f in tree_files(root):
        if not any(f.resolve().is_relative_to(c) for c in inside):
            tree += f.stat().st_size
    sizes = {"tree": tree}
    for c in carried:
        sizes[str(c.relative_to(root) if c.is_relative_to(root) else c)] = folder_bytes(c)
    sizes["total"] = sum(sizes.values())
    return sizes


def check_travel(root: Path, carry: list[Path] = (), limit_mib: float = 64.0) -> dict[str, int]:
    """:func:`travel_bytes`, or :class:`LimitError` if the total is over ``limit_mib``."""
    sizes = travel_bytes(root, carry)
    if sizes["total"] > limit_mib * MIB:
        parts = ", ".join(f"{k} {v / MIB:.1f} MiB" for k, v in sizes.items())
        raise LimitError(f"the device call would carry more than {limit_mib} MiB: {parts}")
    return sizes


def check_outputs(out: Path, max_files: int, max_file_mib: float, max_total_mib: float) -> None:
    """Raise :class:`LimitError` if the files under ``out`` break the return limits."""
    files = [p for p in Path(out).rglob("*") if p.is_file()]
    sizes = {p.name: p.stat().st_size for p in files}
    problems = []
    if len(files) > max_files:
        problems.append(f"{len(files)} files (at most {max_files})")
    problems += [f"{n} is {s / MIB:.1f} MiB" for n, s in sizes.items() if s >= max_file_mib * MIB]
    if sum(sizes.values()) > max_total_mib * MIB:
        problems.append(f"{sum(sizes.values()) / MIB:.1f} MiB in all (at most {max_total_mib})")
    if problems:
        raise LimitError(f"{out} would not come back whole: {'; '.join(problems)}")


def expected_outputs(
    generator_params: int, critic_params: int, max_file_mib: float
) -> dict[str, int]:
    """The files a sprint will write and about how large each is, from the parameter
    counts: the generator (float32, or float16 where float32 would not fit one file), the
    state parts (weights and two Adam moments per network, float32, and a MiB of the rest),
    a log and a report (a MiB allowed for each).

    Examples:
        >>> sorted(expected_outputs(1_000_000, 0, 16.0).items())[:2]
        [('generator.safetensors', 4000000), ('sprint_log.jsonl', 1048576)]
    """
    weights = generator_params * 4
    if weights >= (max_file_mib - 1) * MIB:
        weights //= 2
    state = 12 * (generator_params + critic_params) + MIB
    n = state_parts(state, max_file_mib)
    files = {"generator.safetensors": weights, "sprint_log.jsonl": MIB, "sprint_report.md": MIB}
    files.update({f"sprint_state-STEP-{i:02d}-of-{n:02d}.bin": -(-state // n) for i in range(n)})
    return files


def check_expected(files: dict[str, int], max_files: int, max_file_mib: float,
                   max_total_mib: float) -> None:  # fmt: skip
    """Raise :class:`LimitError` if ``files`` (name -> bytes) break the return limits."""
    problems = []
    if len(files) > max_files:
        problems.append(f"{len(files)} files (at most {max_files})")
    problems += [
        f"{n} about {s / MIB:.1f} MiB" for n, s in files.items() if s >= max_file_mib * MIB
    ]
    if sum(files.values()) > max_total_mib * MIB:
        problems.append(f"about {sum(files.values()) / MIB:.1f} MiB in all")
    if problems:
        raise LimitError(f"the sprint's outputs would not come back whole: {'; '.join(problems)}")


def state_parts(size: int, max_file_mib: float) -> int:
    """How many parts of under ``max_file_mib`` a state of ``size`` bytes needs."""
    part = int(max_file_mib * MIB) - MIB  # a MiB of room below the limit
    return max(1, -(-size // part))


def write_state(out: Path, state: dict[str, Any], step: int, max_file_mib: float) -> list[Path]:
    """Write ``state`` as parts named by ``step``, then delete other steps' parts.

    Returns:
        The parts written.
    """
    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    n = state_parts(len(data), max_file_mib)
    size = -(-len(data) // n)
    paths = []
    for i in range(n):
        path = Path(out) / f"sprint_state-{step:08d}-{i:02d}-of-{n:02d}.bin"
        atomic_write_bytes(path, data[i * size : (i + 1) * size])
        paths.append(path)
    for old in Path(out).glob("sprint_state-*.bin"):
        if old not in paths and STATE_PATTERN.fullmatch(old.name):
            old.unlink(missing_ok=True)
    return paths


def read_state(folder: Path) -> dict[str, Any]:
    """The newest complete state under ``folder``, read onto the CPU.

    Raises:
        FileNotFoundError: No complete set of parts.
    """
    import torch

    sets: dict[tuple[int, int], dict[int, Path]] = {}
    for path in Path(folder).glob("sprint_state-*.bin"):
        match = STATE_PATTERN.fullmatch(path.name)
        if match:
            step, index, count = map(int, match.groups())
            sets.setdefault((step, count), {})[index] = path
    complete = [key for key, parts in sets.items() if len(parts) == key[1]]
    if not complete:
        raise FileNotFoundError(
            f"no complete sprint state (sprint_state-STEP-II-of-NN.bin) in {folder}"
        )
    step, count = max(complete)
    data = b"".join(sets[(step, count)][i].read_bytes() for i in range(count))
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def environment_line() -> str:
    """One line on where this runs: torch version, device name and memory, CPU cores."""
    import torch

    line = f"torch {torch.__version__}, {os.cpu_count()} CPU cores"
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        line += (
            f", GPU {props.name}, {props.total_memory / 2**30:.0f} GiB, "
            f"{props.multi_processor_count} SMs, bf16 {torch.cuda.is_bf16_supported()}"
        )
    else:
        line += ", no CUDA GPU"
    return line
