"""The bundled model's reference output on the bundled example photo, computed once.

Plain fp32 PyTorch on the 400x600 example is the reference that the int8, default-precision
and fast-backend tests each compare against. It is the same array every time (fixed weights
and input), so the session computes it once instead of once a test (seconds on 2 cores).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "blurry_coffee.jpg"


@pytest.fixture(scope="session")
def example_fp32_reference() -> np.ndarray:
    """The bundled model's fp32 PyTorch output on :data:`EXAMPLE`, read-only (no test can
    change what the next one compares against)."""
    from deblurgan import Deblurrer
    from deblurgan.io.images import read_image

    reference = Deblurrer.from_checkpoint(backend="torch", precision="fp32")
    out = reference(read_image(EXAMPLE).rgb)
    out.flags.writeable = False
    return out
