import json
import pickle

import pytest
import torch

from deblurgan.checkpoint import (
    CheckpointError,
    convert_original_state_dict,
    load_generator,
    original_key_map,
    read_metadata,
    save_generator,
)
from deblurgan.nets import Generator, init_weights


def _net(**config) -> Generator:
    return init_weights(Generator(**config), generator=torch.Generator().manual_seed(3)).eval()


def test_round_trip_rebuilds_the_same_model_and_outputs(tmp_path):
    net = _net(ngf=8, n_blocks=3, dropout=0.25)
    path = tmp_path / "g.safetensors"
    save_generator(net, path, training={"iterations": 12})
    loaded = load_generator(path)
    assert loaded.config == net.config
    assert not loaded.training
    x = torch.rand(1, 3, 20, 28) * 2 - 1
    torch.testing.assert_close(loaded(x), net(x), rtol=0, atol=0)
    meta = read_metadata(path)
    assert meta["training"] == {"iterations": 12}
    assert meta["deblurgan_version"]


def test_fp16_storage_halves_the_file_and_stays_close(tmp_path):
    net = _net(ngf=8, n_blocks=2)
    save_generator(net, tmp_path / "32.safetensors")
    save_generator(net, tmp_path / "16.safetensors", dtype=torch.float16)
    size32 = (tmp_path / "32.safetensors").stat().st_size
    size16 = (tmp_path / "16.safetensors").stat().st_size
    assert size16 < 0.55 * size32
    loaded = load_generator(tmp_path / "16.safetensors")
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    torch.testing.assert_close(loaded(x), net(x), rtol=0, atol=5e-3)


def _to_original_layout(net: Generator) -> dict[str, torch.Tensor]:
    """Our weights under the authors' keys, with the stale buffers old files carry."""
    inverse = {ours: theirs for theirs, ours in original_key_map(net.config["n_blocks"]).items()}
    state = {}
    for key, value in net.state_dict().items():
        prefix, _, leaf = key.rpartition(".")
        state[f"module.{inverse[prefix]}.{leaf}"] = value.clone()
    for norm_index in (2, 5, 8):  # InstanceNorm layers after stem and downsampling convs
        state[f"module.model.{norm_index}.running_mean"] = torch.zeros(1)
        state[f"module.model.{norm_index}.running_var"] = torch.ones(1)
    state["module.model.10.conv_block.2.running_mean"] = torch.zeros(1)
    return state


def test_original_pix2pix_file_loads_with_the_documented_mapping(tmp_path):
    net = _net(ngf=8, n_blocks=9)
    original = _to_original_layout(net)
    assert "module.model.26.weight" in original  # final conv with 9 blocks, as in latest_net_G.pth
    assert "module.model.10.conv_block.6.weight" in original
    path = tmp_path / "latest_net_G.pth"
    torch.save(original, path)
    loaded = load_generator(path)
    assert loaded.config == net.config
    x = torch.rand(1, 3, 24, 16) * 2 - 1
    torch.testing.assert_close(loaded(x), net(x), rtol=0, atol=0)


def test_original_layout_without_dropout_is_recognised():
    net = _net(ngf=4, n_blocks=2, dropout=0.0)
    state = {}
    for theirs, ours in original_key_map(2, dropout=False).items():
        for leaf in ("weight", "bias"):
            state[f"{theirs}.{leaf}"] = net.state_dict()[f"{ours}.{leaf}"]
    converted, config = convert_original_state_dict(state)
    assert config["dropout"] == 0.0 and config["n_blocks"] == 2 and config["ngf"] == 4
    assert converted.keys() == net.state_dict().keys()


def test_unexpected_original_key_is_named():
    state = _to_original_layout(_net(ngf=4, n_blocks=1))
    state["model.99.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError, match="model.99.weight"):
        convert_original_state_dict(state)


class _Evil:
    def __reduce__(self):
        return (print, ("pickle code ran",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_pickles_with_code_are_refused(tmp_path, capsys):
    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps({"model.1.weight": _Evil()}))
    with pytest.raises(CheckpointError, match="never other pickled objects") as info:
        load_generator(path)
    assert "pickle code ran" not in capsys.readouterr().out
    assert "weights_only=False" not in str(info.value)  # torch's advice is not ours to give


def test_missing_garbage_and_foreign_files_fail_clearly(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_generator(tmp_path / "nope.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file at all")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_generator(tmp_path / "junk.safetensors")
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, tmp_path / "other.safetensors")
    with pytest.raises(CheckpointError, match="not a deblurgan generator"):
        load_generator(tmp_path / "other.safetensors")
    (tmp_path / "model.onnx").write_bytes(b"\x08\x07onnx")
    with pytest.raises(CheckpointError, match="our .safetensors .* or the authors' .pth; ONNX"):
        load_generator(tmp_path / "model.onnx")


def test_config_that_does_not_fit_is_reported(tmp_path):
    from safetensors.torch import save_file

    bad = {"format": "deblurgan.generator", "config": json.dumps({"ngf": 4, "wings": 2})}
    save_file({"w": torch.zeros(1)}, tmp_path / "bad.safetensors", metadata=bad)
    with pytest.raises(CheckpointError, match="wings"):
        load_generator(tmp_path / "bad.safetensors")


def test_the_architecture_name_is_stored_and_files_without_one_load_as_resnet(tmp_path):
    from safetensors.torch import save_file

    net = _net(ngf=4, n_blocks=1)
    save_generator(net, tmp_path / "named.safetensors")
    assert read_metadata(tmp_path / "named.safetensors")["architecture"] == "resnet"
    old = {"format": "deblurgan.generator", "config": json.dumps(net.config)}  # before names
    save_file(net.state_dict(), tmp_path / "old.safetensors", metadata=old)
    assert read_metadata(tmp_path / "old.safetensors")["architecture"] == "resnet"
    loaded = load_generator(tmp_path / "old.safetensors")
    x = torch.rand(1, 3, 12, 16) * 2 - 1
    assert type(loaded) is Generator
    torch.testing.assert_close(loaded(x), net(x), rtol=0, atol=0)


def test_unknown_architectures_are_refused_naming_the_choices(tmp_path):
    from safetensors.torch import save_file

    meta = {"format": "deblurgan.generator", "architecture": "unet", "config": "{}"}
    save_file({"w": torch.zeros(1)}, tmp_path / "unet.safetensors", metadata=meta)
    expected = "unknown architecture 'unet'.*builds: nafnet, resnet"
    with pytest.raises(CheckpointError, match=expected):
        load_generator(tmp_path / "unet.safetensors")

    class Unlisted(Generator):
        pass

    with pytest.raises(ValueError, match="Unlisted is not in the architecture table"):
        save_generator(Unlisted(ngf=4, n_blocks=1), tmp_path / "unlisted.safetensors")
    assert not (tmp_path / "unlisted.safetensors").exists()


def test_save_is_atomic_and_leaves_no_temp_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "g.safetensors"
    save_generator(_net(ngf=4, n_blocks=1), path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pathlib.Path.write_bytes", boom)
    with pytest.raises(OSError, match="No space"):
        save_generator(_net(ngf=8, n_blocks=1), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["g.safetensors"]


def test_a_training_checkpoint_loads_as_its_generator_even_without_stored_arguments(tmp_path):
    from deblurgan.train.config import load_config
    from deblurgan.train.state import save_training_state

    net = _net(ngf=4, n_blocks=2, dropout=0.0, learn_residual=False)
    model = ["model.ngf=4", "model.n_blocks=2", "model.dropout=0.0", "model.learn_residual=false"]
    config = load_config(None, model)
    state = {"iteration": 7, "generator": net.state_dict(), "config": config.to_dict()}
    state |= {"rng": [torch.zeros(8, dtype=torch.uint8)]}
    earlier = save_training_state(tmp_path, state, keep_last=1)  # written before the arguments
    latest = save_training_state(
        tmp_path,
        {**state, "iteration": 8, "architecture": "resnet", "generator_config": net.config},
        keep_last=2,
    )
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    for path in (earlier, latest, tmp_path / "checkpoints" / "latest.pt"):
        loaded = load_generator(path, learn_residual=True)  # the stored value wins
        assert loaded.config == net.config and not loaded.training
        torch.testing.assert_close(loaded(x), net(x), rtol=0, atol=0)
    state["config"]["model"]["ngf"] = "wide"
    torch.save(state, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match="bad.pt: stored configuration .* does not fit"):
        load_generator(tmp_path / "bad.pt")
    del state["config"]["model"]["ngf"]
    torch.save(state, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match="bad.pt: a training checkpoint without a usable"):
        load_generator(tmp_path / "bad.pt")
