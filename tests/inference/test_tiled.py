import numpy as np
import pytest
import torch

from deblurgan.inference.deblurrer import Deblurrer, whole_image_peak_bytes
from deblurgan.inference.tiled import TilingError, tiled_forward, tiled_peak_bytes
from deblurgan.nets import Generator, ResBlock, init_weights


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
        return tuple(layer for layer in super().layers() if not isinstance(layer, ResBlock))


def test_forward_and_tiling_both_follow_the_generators_layer_list(net):
    changed = _WithoutBlocks(ngf=8, n_blocks=2)
    changed.load_state_dict(net.state_dict())
    changed.eval()
    x = torch.rand(1, 3, 24, 40, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        whole, original = changed(x), net(x)
    torch.testing.assert_close(tiled_forward(changed, x, tile=16), whole, atol=2e-5, rtol=0)
    assert (whole - original).abs().max() > 1e-3  # the blocks were really left out


def _copy(net: Generator) -> Generator:
    copy = Generator(**net.config)
    copy.load_state_dict(net.state_dict())
    return copy.eval()


def _tiled_and_whole(net: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(1, 3, 36, 44, generator=torch.Generator().manual_seed(4)) * 2 - 1
    with torch.no_grad():
        whole = net(x)
    return tiled_forward(net, x, tile=16), whole


def test_a_leaky_relu_stem_still_tiles_exactly(net):
    """The stem's tiling rule is read from its modules: a swapped activation is tiled as it."""
    leaky = _copy(net)
    leaky.stem[2] = torch.nn.LeakyReLU(0.2)
    tiled, whole = _tiled_and_whole(leaky)
    torch.testing.assert_close(tiled, whole, rtol=0, atol=2e-5)
    assert (whole - _tiled_and_whole(net)[1]).abs().max() > 1e-3  # the change mattered


def test_an_affine_instance_norm_still_tiles_exactly(net):
    affine = _copy(net)
    norm = torch.nn.InstanceNorm2d(8, affine=True)
    with torch.no_grad():
        norm.weight.copy_(torch.linspace(0.5, 2.0, 8))
        norm.bias.copy_(torch.linspace(-0.7, 0.4, 8))
    affine.stem[1] = norm
    affine.blocks[0].norm1 = torch.nn.InstanceNorm2d(32, affine=True)
    tiled, whole = _tiled_and_whole(affine)
    torch.testing.assert_close(tiled, whole, rtol=0, atol=2e-5)
    assert (whole - _tiled_and_whole(net)[1]).abs().max() > 1e-2  # the change mattered


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda n: n.stem.__setitem__(1, torch.nn.BatchNorm2d(8).eval()), "stem .*InstanceNorm2d"),
        (lambda n: n.up[0].__setitem__(2, torch.nn.Upsample(scale_factor=1)), "up.0 .*pointwise"),
        (lambda n: n.stem.append(torch.nn.ReLU()), "stem .*found 4 parts"),
        (lambda n: n.train(), "eval mode"),
    ],
)
def test_a_layer_tiling_cannot_reproduce_raises_naming_it(net, change, message):
    changed = _copy(net)
    change(changed)
    with pytest.raises(TilingError, match=message):
        tiled_forward(changed, torch.zeros(1, 3, 16, 16), tile=8)


class _ScaledBlock(ResBlock):
    """A ResBlock whose forward no longer matches its (inherited) tiling rule."""

    def forward(self, x, dropout_rng=None):
        return x + 0.5 * (super().forward(x, dropout_rng) - x)


def test_a_forward_its_rule_does_not_describe_raises_instead_of_differing(net):
    changed = _copy(net)
    scaled = _ScaledBlock(32, dropout=0.5)
    scaled.load_state_dict(changed.blocks[1].state_dict())
    changed.blocks[1] = scaled.eval()
    with pytest.raises(TilingError, match=r"blocks.1 \(_ScaledBlock\).*does not reproduce"):
        tiled_forward(changed, torch.zeros(1, 3, 16, 16), tile=8)


def test_a_network_without_layers_cannot_be_tiled():
    class Plain(torch.nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TilingError, match="Plain has no layers"):
        tiled_forward(Plain(), torch.zeros(1, 3, 8, 8))
