"""Post-training int8 quantisation of the OpenVINO model with NNCF.

Calibration uses a fixed set of blurred crops that ship with the dependencies: scikit-image's
sample photos, each blurred by this package's own synthesis (camera-shake kernels and
dynamic-scene motion) with a fixed seed, so the quantised model is the same on every machine
for the same weights. Quantised models are cached beside the fp32 conversion.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
from collections.abc import Iterator

import numpy as np

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field")
CROP = 256
MODES = ("kernel", "scene")  # blur modes of the recipe, alternating over the crops
# Names the quantisation recipe in the cache: a changed recipe must not reuse old models.
RECIPE = "int8-minmax-48-skip"
# Whether quantize_int8 lets NNCF draw its progress bars (set by nncf_progress: the command
# line's -q; the runtimes between a command and this module take no progress option)
_NNCF_PROGRESS = contextvars.ContextVar("nncf_progress", default=True)


@contextlib.contextmanager
def nncf_progress(shown: bool) -> Iterator[None]:
    """Within the block, :func:`quantize_int8` draws NNCF's progress bars (``Statistics
    collection``, ``Applying Fast Bias correction``) only if ``shown``."""
    token = _NNCF_PROGRESS.set(shown)
    try:
        yield
    finally:
        _NNCF_PROGRESS.reset(token)


def network_input(rgb: np.ndarray) -> np.ndarray:
    """An RGB image in [0, 1] as the network's input: one NCHW float32 image in [-1, 1] (as
    :func:`~deblurgan.nets.tensors.rgb_to_tensor`, without PyTorch).

    Shape:
        - Input: :math:`(H, W, 3)`; output :math:`(1, 3, H, W)`.
    """
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None] * 2 - 1, dtype=np.float32)


@functools.cache
def calibration_inputs(crops_per_photo: int = 8, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Network inputs for calibration: half kernel-blurred, half scene-blurred crops (made
    once per process).

    Returns:
        Float32 arrays of shape (1, 3, 256, 256) in [-1, 1].
    """
    # imported here: only quantising needs the blur synthesis (SciPy's signal package,
    # numba: a second of start-up that every other run would pay)
    from skimage import data

    from deblurgan.blur.scene import SceneMotion
    from deblurgan.data.recipe import BLUR_MODES, BlurSettings, KernelBlur

    # the training recipe's two modes, at full exposure and without moving layers
    recipe = BlurSettings(kernel=KernelBlur(exposures=(1.0,)), scene=SceneMotion(objects=(0, 0)))

    rng = np.random.default_rng(seed)
    inputs = []
    for name in PHOTOS:
        photo = getattr(data, name)().astype(np.float32) / 255.0
        blurred = {mode: BLUR_MODES[mode].sample(photo, recipe, rng).blurred for mode in MODES}
        for k in range(crops_per_photo):
            y = rng.integers(0, photo.shape[0] - CROP + 1)
            x = rng.integers(0, photo.shape[1] - CROP + 1)
            image = blurred["kernel" if k % 2 == 0 else "scene"][y : y + CROP, x : x + CROP]
            inputs.append(network_input(np.clip(image, 0, 1)))
    return tuple(inputs)


def quantize_int8(model):
    """An int8 copy of an OpenVINO model of the generator (weights and activations).

    Raises:
        ValueError: NNCF is not installed.
    """
    try:
        import nncf
    except ModuleNotFoundError as err:
        raise ValueError("int8 needs NNCF: pip install nncf") from err
    nncf.set_log_level(logging.WARNING)  # its INFO lines go; its bars as nncf_progress says
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters
    from nncf.quantization.range_estimator import RangeEstimatorParametersSet

    # Activation ranges from the extremes over all crops, not NNCF's default mean of each
    # crop's extremes: that clipped highlights (errors of 5/255 where the input is above 0.9,
    # 0.25 dB lost on held-out GoPro frames); with MINMAX and 48 crops int8 stays within
    # 0.1 dB of fp32 on every set of benchmarks/generalization.py.
    ranges = AdvancedQuantizationParameters(
        activations_range_estimator_params=RangeEstimatorParametersSet.MINMAX
    )
    inputs = calibration_inputs()
    with _silent_bars(not _NNCF_PROGRESS.get()):
        return nncf.quantize(
            model,
            nncf.Dataset(list(inputs)),
            subset_size=len(inputs),
            # the residual skip adds the input itself, unquantised: 8-bit pixels that the
            # network leaves alone come back exactly, not half a level off an int8 grid
            ignored_scope=nncf.IgnoredScope(names=_skip_additions(model)),
            advanced_parameters=ranges,
        )


@contextlib.contextmanager
def _silent_bars(silent: bool) -> Iterator[None]:
    """NNCF draws its bars with rich on rich's global console (it has no switch of its own):
    that console is quiet within the block if ``silent``."""
    if not silent:
        yield
        return
    from rich import get_console  # comes with NNCF

    console = get_console()
    before, console.quiet = console.quiet, True
    try:
        yield
    finally:
        console.quiet = before


def _skip_additions(model) -> list[str]:
    """Names of the additions in an OpenVINO model that read its input directly."""
    inputs = {parameter.get_friendly_name() for parameter in model.get_parameters()}
    return [
        op.get_friendly_name()
        for op in model.get_ordered_ops()
        if op.get_type_name() == "Add"
        and any(value.get_node().get_friendly_name() in inputs for value in op.input_values())
    ]
