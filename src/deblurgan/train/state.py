"""Training checkpoints: everything needed to resume exactly, written atomically.

``RUN/checkpoints/iter_XXXXXXXX.pt`` holds models (the generator's architecture name
and constructor arguments beside its weights, so that
:func:`~deblurgan.checkpoint.load_generator` rebuilds it), optimisers, LR schedules,
the iteration, the number of batches consumed (which fixes the data order),
the best validation PSNR and every rank's random-generator state (always a CPU
byte tensor, which is what ``Generator.set_state`` takes on every device). ``latest.pt``
is swapped in by an atomic rename only after a checkpoint is complete, so an
interrupted write never leaves a corrupt "latest". Files are read back onto
the CPU with ``torch.load(weights_only=True)``; ``load_state_dict`` moves
weights and optimiser states to the models' device.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from deblurgan.io.atomic import atomic_path, atomic_write_bytes
from deblurgan.train.run_folder import LATEST, writing


def save_training_state(run_dir: Path, state: dict[str, Any], keep_last: int) -> Path:
    """Write ``state`` as ``iter_<iteration>.pt``, point ``latest.pt`` at it, prune old ones.

    Raises:
        RunWriteError: A file cannot be written (named); earlier checkpoints are kept.
    """
    folder = Path(run_dir) / "checkpoints"
    path = folder / f"iter_{state['iteration']:08d}.pt"
    state = {**state, "rng": [s.to("cpu", torch.uint8) for s in state["rng"]]}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    with writing(path):
        atomic_write_bytes(path, buffer.getvalue())
    with writing(folder / LATEST), atomic_path(folder / LATEST) as tmp:
        tmp.unlink()
        try:
            os.link(path, tmp)  # no second copy of the bytes where hard links work
        except OSError:
            tmp.write_bytes(buffer.getvalue())
    for old in sorted(folder.glob("iter_*.pt"))[:-keep_last]:
        with writing(old):
            old.unlink(missing_ok=True)
    return path


def load_training_state(run_dir: Path) -> dict[str, Any]:
    """Read ``RUN/checkpoints/latest.pt`` onto the CPU.

    Raises:
        FileNotFoundError: No checkpoint to resume from.
    """
    path = Path(run_dir) / "checkpoints" / LATEST
    if not path.is_file():
        raise FileNotFoundError(
            f"nothing to resume: {path} does not exist (no checkpoint written yet: start the "
            "run again with --overwrite)"
        )
    return torch.load(path, map_location="cpu", weights_only=True)
