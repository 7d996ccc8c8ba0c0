import numpy as np
import pytest
import torch

from deblurgan.inference.deblurrer import Deblurrer, whole_image_peak_bytes
from deblurgan.inference.tiled import tiled_forward, tiled_peak_bytes
from deblurgan.nets import Generator, init_weights


@pytest.fixture(scope="module")
def net():
    return init_weights(
        Generator(ngf=8, n_blocks=2), generator=torch.Generator().manual_seed(1)
    ).eval()


@pytest.mark.parametrize(
    ("height", "width", "tile"), [(37, 53, 16), (21, 90, 8), (64, 64, 100), (3, 5, 8)]
)
def test_tiled_equals_whole_image_inference_on_odd_sizes(net, height, width, tile):
    rgb = np.random.default_rng(height).random((height, width, 3), dtype=np.float32)
    whole = Deblurrer(net, backend="torch")(rgb)
    tiled = Deblurrer(net, tile=tile)(rgb)  # tiles always run in PyTorch
    np.testing.assert_allclose(tiled, whole, atol=2e-5)


def test_naive_per_tile_normalisation_would_differ(net):
    """The reason for the layer-by-layer scheme: per-tile statistics change the output."""
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        whole = net(x)
        naive = torch.cat([net(x[..., :32]), net(x[..., 32:])], dim=-1)
    assert (naive - whole).abs().max() > 1e-2
    torch.testing.assert_close(tiled_forward(net, x, tile=16), whole, rtol=0, atol=2e-5)


def test_float16_storage_stays_close(net):
    x = torch.rand(1, 3, 48, 40) * 2 - 1
    with torch.no_grad():
        whole = net(x)
    half = tiled_forward(net, x, tile=16, storage=torch.float16)
    psnr = 10 * torch.log10(4 / ((half - whole) ** 2).mean())
    assert psnr > 50


def test_plan_tiles_only_over_budget_and_falls_back_to_float16(net):
    roomy = Deblurrer(net)
    assert roomy.plan(720, 1280) == (None, torch.float32)
    tight = Deblurrer(net, max_memory=whole_image_peak_bytes(8, 720, 1280) - 1, backend="torch")
    assert tight.plan(720, 1280) == (256, torch.float32)
    # OpenVINO needs less memory than eager PyTorch for a whole image: no tiling there
    budget = whole_image_peak_bytes(8, 4000, 4000) - 1
    assert Deblurrer(net, max_memory=budget, backend="torch").plan(4000, 4000)[0] == 256
    assert Deblurrer(net, max_memory=budget, backend="openvino").plan(4000, 4000)[0] is None
    tighter = Deblurrer(net, max_memory=tiled_peak_bytes(8, 4000, 4000, torch.float32) - 1)
    assert tighter.plan(4000, 4000) == (256, torch.float16)
    assert Deblurrer(net, tile=64).plan(10, 10) == (64, torch.float32)


def test_tiling_refuses_stochastic_mode(net):
    with pytest.raises(ValueError, match="stochastic"):
        Deblurrer(net, tile=32, stochastic=True)


def test_cli_tile_and_memory_options(tmp_path, net):
    from PIL import Image

    from deblurgan.checkpoint import save_generator
    from deblurgan.cli import main

    save_generator(net, tmp_path / "g.safetensors")
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (30, 41, 3), dtype=np.uint8)).save(
        tmp_path / "a.png"
    )
    for extra, name in ((["--tile", "16"], "t"), (["--max-memory", "1KB"], "m"), ([], "w")):
        assert (
            main(
                [
                    "deblur",
                    str(tmp_path / "a.png"),
                    "-o",
                    str(tmp_path / name),
                    "--weights",
                    str(tmp_path / "g.safetensors"),
                    "--precision",
                    "fp32",
                    "-q",
                    *extra,
                ]
            )
            == 0
        )
    images = [np.asarray(Image.open(tmp_path / n / "a.png")).astype(int) for n in "tmw"]
    assert np.abs(images[0] - images[2]).max() <= 1 and np.abs(images[1] - images[2]).max() <= 1
    with pytest.raises(SystemExit):
        main(["deblur", "x.png", "-o", "o", "--max-memory", "lots"])


def test_stored_layer_outputs_are_freed_once_no_layer_reads_them(net, monkeypatch):
    """At most a full-resolution layer output and the half-resolution one it is computed from
    are alive at once (1.5 units of ngf x H x W): no buffer outlives its last reader."""
    import weakref

    live: weakref.WeakSet = weakref.WeakSet()
    peak = [0]
    empty = torch.empty

    def tracked_empty(*args, **kwargs):
        tensor = empty(*args, **kwargs)
        if kwargs.get("dtype") == torch.float16:  # stored layer outputs, not the fp32 result
            live.add(tensor)
            peak[0] = max(peak[0], sum(t.numel() for t in live))
        return tensor

    monkeypatch.setattr(torch, "empty", tracked_empty)
    height, width = 64, 96
    tiled_forward(net, torch.rand(1, 3, height, width) * 2 - 1, tile=16, storage=torch.float16)
    assert peak[0] == 1.5 * net.config["ngf"] * height * width


class _WithoutBlocks(Generator):
    """A generator whose layer list differs from the class it derives from."""

    def layers(self):
        return tuple(layer for layer in super().layers() if layer.kind != "res_block")


def test_forward_and_tiling_both_follow_the_generators_layer_list(net):
    changed = _WithoutBlocks(ngf=8, n_blocks=2)
    changed.load_state_dict(net.state_dict())
    changed.eval()
    x = torch.rand(1, 3, 24, 40, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        whole, original = changed(x), net(x)
    torch.testing.assert_close(tiled_forward(changed, x, tile=16), whole, atol=2e-5, rtol=0)
    assert (whole - original).abs().max() > 1e-3  # the blocks were really left out
