"""A training run's folder: refuse, replace or resume it, and its log.

``RUN/`` holds ``checkpoints/``, ``tensorboard/``, ``log.jsonl``,
``config.json`` and the exported generators. The folder is proved writable before any
work; a new run never writes into a folder that holds an earlier one unless told to
replace it; a resumed run drops the log records written after the checkpoint it
continues from. A file that cannot be written later (full disk, quota, size limit) stops
the run with a :class:`RunWriteError` naming it; the files written before are kept.
"""

from __future__ import annotations

import contextlib
import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch.distributed as dist

from deblurgan.io.atomic import (
    OutputFolderError,
    atomic_write_bytes,
    check_output_folder,
    remove_stale_temp_files,
)
from deblurgan.train.config import Config

LATEST = "latest.pt"  # in RUN/checkpoints/: the newest complete checkpoint
RUN_OUTPUTS = (
    "checkpoints",
    "tensorboard",
    "log.jsonl",
    "config.json",
    "generator.safetensors",
    "best_generator.safetensors",
)


class RunExistsError(ValueError):
    """A new run would write over the outputs of an earlier run in the same folder."""


class RunWriteError(OSError):
    """A file of the run cannot be written (full disk, quota, file size limit, permissions)."""


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an ``OSError`` raised in the block into a :class:`RunWriteError` naming ``path``.

    Examples:
        >>> with writing(Path("RUN/log.jsonl")):
        ...     raise OSError(27, "File too large")
        Traceback (most recent call last):
        ...
        deblurgan.train.run_folder.RunWriteError: cannot write RUN/log.jsonl: File too large
    """
    try:
        yield
    except RunWriteError:
        raise
    except OSError as err:
        raise RunWriteError(f"cannot write {path}: {err.strerror or err}") from err


def prepare_run_folder(run_dir: Path, resume: bool, overwrite: bool, rank: int, world: int) -> None:
    """Prove ``run_dir`` writable; refuse (or with ``overwrite`` clear) an earlier run's
    outputs; remove stale temp files.

    Raises:
        OutputFolderError: ``run_dir`` is a file, cannot be created or refuses writes.
        RunExistsError: ``run_dir`` holds a run and neither ``resume`` nor ``overwrite``.
        FileNotFoundError: ``resume``, and the run in ``run_dir`` wrote no checkpoint yet
            (both errors then name ``--overwrite``, which starts it again).
    """
    try:
        check_output_folder(run_dir, advice="choose another run.dir")
    except OutputFolderError as err:
        raise OutputFolderError(f"run.dir: {err}") from err
    existing = [name for name in RUN_OUTPUTS if (run_dir / name).exists()]
    checkpointed = (run_dir / "checkpoints" / LATEST).is_file()
    if existing and not checkpointed and not overwrite:
        raise (FileNotFoundError if resume else RunExistsError)(
            f"{'nothing to resume: ' * resume}{run_dir} holds a run that stopped before its "
            f"first checkpoint ({', '.join(existing)}; no checkpoints/{LATEST}): start it "
            "again with --overwrite, or choose a new run.dir"
        )
    if existing and not resume and not overwrite:
        raise RunExistsError(
            f"{run_dir} already holds a run ({', '.join(existing)}): continue it with "
            "--resume, choose a new run.dir, or replace it with --overwrite"
        )
    if world > 1:
        dist.barrier()  # every rank has looked before rank 0 deletes anything
    if rank == 0:
        if overwrite and not resume:
            for path in (run_dir / name for name in existing):
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        for folder in (run_dir, run_dir / "checkpoints"):
            remove_stale_temp_files(folder)
    if world > 1:
        dist.barrier()


def truncate_log(path: Path, iteration: int) -> None:
    """Drop log records past ``iteration`` (written after the checkpoint being resumed)."""
    if not path.is_file():
        return
    lines = path.read_text().splitlines(keepends=True)
    kept = [line for line in lines if _logged_iteration(line) <= iteration]
    if len(kept) != len(lines):
        with writing(path):
            atomic_write_bytes(path, "".join(kept).encode())


def _logged_iteration(line: str) -> float:
    try:
        return json.loads(line)["iteration"]
    except (ValueError, KeyError, TypeError):  # a line cut short when the run was killed
        return math.inf


class RunLog:
    """TensorBoard scalars and images plus ``log.jsonl``; a no-op unless ``enabled`` (rank 0).

    Opening it writes the run's ``config.json``.

    Args:
        run_dir: The run's folder.
        config: The run's configuration.
        enabled: Whether this process logs (rank 0).
        resumed_at: The iteration of the checkpoint a resumed run continues from: TensorBoard
            then drops the events logged after it (``log.jsonl`` is cut back by
            :func:`truncate_log`), so no step is shown twice.
    """

    def __init__(
        self, run_dir: Path, config: Config, enabled: bool, resumed_at: int | None = None
    ) -> None:
        self.enabled = enabled
        if not enabled:
            return
        from torch.utils.tensorboard import SummaryWriter  # heavy import: only where used

        self.tensorboard = run_dir / "tensorboard"
        self.jsonl_path = run_dir / "log.jsonl"
        with writing(run_dir / "config.json"):
            config_json = json.dumps(config.to_dict(), indent=2).encode()
            atomic_write_bytes(run_dir / "config.json", config_json)
        purge = None if resumed_at is None else resumed_at + 1
        with writing(self.tensorboard):
            self.writer = SummaryWriter(str(self.tensorboard), purge_step=purge)
        with writing(self.jsonl_path):  # unbuffered: a failed write leaves nothing to flush
            self.jsonl = open(self.jsonl_path, "ab", buffering=0)  # noqa: SIM115 - close()

    def scalars(self, iteration: int, group: str, values: dict[str, float]) -> None:
        """Log ``values`` under ``group/`` at ``iteration`` (TensorBoard and the JSON lines)."""
        if not self.enabled:
            return
        with writing(self.tensorboard):  # the writer's thread raises its errors here
            for key, value in values.items():
                self.writer.add_scalar(f"{group}/{key}", value, iteration)
        line = json.dumps({"iteration": iteration, "group": group, **values}) + "\n"
        data = line.encode()
        with writing(self.jsonl_path):
            while data:  # a raw write may be partial (at a size limit): the rest raises
                data = data[self.jsonl.write(data) :]

    def image(self, iteration: int, tag: str, image: np.ndarray) -> None:
        """Log an ``(H, W, 3)`` image in [0, 1] to TensorBoard."""
        if self.enabled:
            with writing(self.tensorboard):
                self.writer.add_image(tag, image, iteration, dataformats="HWC")

    def close(self) -> None:
        """Flush and close the logs."""
        if self.enabled:
            self.jsonl.close()
            with writing(self.tensorboard):
                self.writer.close()
