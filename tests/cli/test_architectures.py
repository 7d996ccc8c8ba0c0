"""A second architecture, registered in the table, trained nowhere but saved, loaded and run
by ``deblurgan deblur`` exactly as the paper's generator is."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from deblurgan.checkpoint import CheckpointError, load_generator, read_metadata, save_generator
from deblurgan.cli import main
from deblurgan.nets.architectures import ARCHITECTURES, build_generator


class PooledResidual(nn.Module):
    """A toy architecture: a residual from features averaged over 8 x 8 cells, so its input
    sides must be multiples of 8 (not the paper generator's 4) and at least 16."""

    size_multiple = 8
    min_side = 16

    def __init__(self, width: int = 4) -> None:
        super().__init__()
        self.config = {"width": width}
        self.encode = nn.Conv2d(3, width, 3, padding=1, padding_mode="reflect")
        self.decode = nn.Conv2d(width, 3, 1)

    @property
    def full_resolution_channels(self) -> int:
        return self.config["width"]

    def forward(self, x: torch.Tensor, dropout_rng: torch.Generator | None = None) -> torch.Tensor:
        height, width = x.shape[-2:]
        if height % 8 or width % 8 or min(height, width) < 16:
            raise ValueError(f"sides must be multiples of 8 and >= 16, got {height} x {width}")
        cells = F.avg_pool2d(torch.relu(self.encode(x)), 8)
        residual = torch.tanh(self.decode(F.interpolate(cells, scale_factor=8)))
        return torch.clamp(x + residual, -1.0, 1.0)


@pytest.fixture
def pooled(monkeypatch):
    monkeypatch.setitem(ARCHITECTURES, "pooled", f"{__name__}.PooledResidual")
    net = build_generator("pooled", {"width": 4})
    rng = torch.Generator().manual_seed(0)
    for parameter in net.parameters():
        nn.init.normal_(parameter, 0.0, 0.5, generator=rng)
    return net.eval()


def test_a_second_architecture_is_saved_loaded_and_deblurs_through_the_cli(tmp_path, pooled):
    weights = tmp_path / "pooled.safetensors"
    save_generator(pooled, weights)
    assert read_metadata(weights)["architecture"] == "pooled"
    assert type(load_generator(weights)) is PooledResidual

    rgb = np.random.default_rng(1).integers(0, 256, (30, 41, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    argv = ["deblur", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), "-q"]
    options = [
        "--weights",
        str(weights),
        "--method",
        "network",
        "--backend",
        "torch",
        "--precision",
        "fp32",
    ]
    assert main([*argv, *options]) == 0
    restored = np.asarray(Image.open(tmp_path / "out" / "a.png")).astype(int)

    # by hand: reflect-pad 30 x 41 to 32 x 48 (the architecture's multiple of 8), run, crop
    x = torch.from_numpy(rgb / 255.0).float().permute(2, 0, 1)[None] * 2 - 1
    with torch.no_grad():
        out = pooled(F.pad(x, (3, 4, 1, 1), mode="reflect"))[..., 1:31, 3:44]
    expected = np.rint(((out[0].permute(1, 2, 0).numpy() + 1) / 2).clip(0, 1) * 255)
    assert np.abs(restored - expected).max() <= 1
    assert np.abs(restored - rgb).mean() > 10  # the network changed the image


def test_a_checkpoint_of_an_architecture_not_in_the_table_is_refused(tmp_path, pooled, monkeypatch):
    weights = tmp_path / "pooled.safetensors"
    save_generator(pooled, weights)
    monkeypatch.delitem(ARCHITECTURES, "pooled")
    with pytest.raises(
        CheckpointError, match="unknown architecture 'pooled'.*builds: nafnet, resnet"
    ):
        load_generator(weights)
