"""Where the model bundled with the package lives."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

BUNDLED_WEIGHTS = "deblurgan_default.safetensors"


def default_weights_path() -> Path:
    """Path of the bundled default generator.

    Raises:
        CheckpointError: This installation ships no bundled model; the message
            says to pass ``--weights`` (CLI) or ``weights=`` (Python).
    """
    path = Path(str(resources.files("deblurgan") / "assets" / BUNDLED_WEIGHTS))
    if not path.is_file():
        from deblurgan.checkpoint import CheckpointError  # PyTorch: only when it is missing

        raise CheckpointError(
            "no bundled model in this installation of deblurgan; pass --weights PATH "
            "(CLI) or weights=PATH (Python): a .safetensors checkpoint from deblurgan, "
            "or the authors' original latest_net_G.pth"
        )
    return path
