import json
from pathlib import Path

import pytest

from deblurgan.schema import from_dict
from deblurgan.train.config import (
    Config,
    ConfigError,
    load_config,
    resume_config,
    with_absolute_paths,
)

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_defaults_are_the_papers():
    config = load_config()
    assert config == Config()
    assert (config.model.ngf, config.model.n_blocks, config.optim.critic_steps) == (64, 9, 5)
    assert (config.optim.lr, config.optim.betas, config.loss.content_weight) == (
        1e-4,
        (0.5, 0.999),
        100.0,
    )


TRAINING_CONFIGS = sorted(p for p in CONFIGS.glob("*.yaml") if not p.name.startswith("sprint"))


@pytest.mark.parametrize("path", TRAINING_CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_validate(path):  # sprint-*.yaml: tests/train/test_sprint_config.py
    assert isinstance(load_config(path), Config)


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("optim: {lr: 2.0e-4, iterations: 10}\ndata: {paired: [a, b]}\n")
    config = load_config(
        path,
        [
            "optim.lr=3e-4",
            "loss.gan=lsgan",
            "data.blur.kernel.poisson_peak=null",
            "optim.betas=[0.9, 0.99]",
        ],
    )
    assert config.optim.lr == 3e-4 and config.optim.iterations == 10
    assert config.data.paired == ("a", "b") and config.loss.gan == "lsgan"
    assert config.optim.betas == (0.9, 0.99) and config.data.blur.kernel.poisson_peak is None
    assert load_config(path, ["optim.lr=1"]).optim.lr == 1.0  # int accepted for float


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("optim.lrr=1", "unknown key 'optim.lrr'"),
        ("trian.lr=1", "unknown key 'trian'"),
        ("optim.lr=fast", "optim.lr: expected float"),
        ("model.ngf=8.5", "model.ngf: expected int"),
        ("model.ngf=true", "model.ngf: expected int"),
        ("loss.gan=vanilla", "loss.gan: 'vanilla' is not one of"),
        ("data.paired=somewhere", "data.paired: expected a list"),
        ("optim.betas=[0.5]", "optim.betas: expected 2 values"),
        ("model.ngf=0", "model.ngf: must be positive"),
        ("data.val_fraction=1.5", "data.val_fraction"),
        ("optim.epochs=null", "set one of the two"),
        ("loss.pixel_weight=-1", "loss.pixel_weight: must be >= 0"),
        ("loss.gp_variant=per-patch", "loss.gp_variant: 'per-patch' is not one of"),
        ("model.dropout=1.5", "model.dropout: must be in"),
        ("model.architecture=unet", "model.architecture: unknown architecture 'unet'; the choices"),
        ("data.synthetic_ratio=-3", "data.synthetic_ratio: must be >= 0"),
        ("data.workers=-2", "data.workers: must be >= 0"),
        ("data.max_unreadable=1.5", "data.max_unreadable: must be in [0, 1]"),
        ("data.blur.kernel.preset=papr", "data.blur.kernel.preset: 'papr' is not one of"),
        ("data.blur.spline_weight=1", "unknown key 'data.blur.spline_weight'"),
        ("data.blur.kernel_weight=0", "data.blur.weights: must be >= 0 and not all 0"),
        ("data.blur.weights.spline=1", "data.blur.weights: unknown blur mode 'spline'"),
        ("data.blur.scene.frames=[9, 3]", "data.blur.scene.frames: expected LOW <= HIGH"),
        ("data.blur.scene.frames=[2.5, 3]", "data.blur.scene.frames[0]: expected int"),
        ("data.blur.scene.still_fraction=2", "data.blur.scene.still_fraction: must be in"),
        ("data.blur.effects.jpeg_quality=[50, 120]", "data.blur.effects.jpeg_quality"),
        ("novalue", "not KEY=VALUE"),
    ],
)
def test_bad_keys_and_types_fail_with_the_key_name(override, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_config(None, [override])


def test_unreadable_yaml(tmp_path):
    (tmp_path / "bad.yaml").write_text("optim: [unclosed")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(tmp_path / "list.yaml")


def test_config_round_trips_through_a_plain_dict():
    config = load_config(
        None,
        [
            "data.paired=[x]",
            "optim.iterations=3",
            "data.blur.scene_weight=2",
            "data.blur.scene.frames=[5, 9]",
        ],
    )
    assert from_dict(Config, config.to_dict()) == config
    assert json.loads(json.dumps(config.to_dict())) == config.to_dict()


def test_input_paths_become_absolute_against_the_starting_folder(tmp_path):
    config = load_config(
        None,
        [
            "data.paired=[f_data, /abs/data]",
            "data.lists=[../pairs.txt]",
            "model.init_from=g.safetensors",
            "run.dir=runs/a",
        ],
    )
    absolute = with_absolute_paths(config, tmp_path)
    assert absolute.data.paired == (str(tmp_path / "f_data"), "/abs/data")
    assert absolute.data.lists == (str(tmp_path / "../pairs.txt"),)  # joined, links kept
    assert absolute.model.init_from == str(tmp_path / "g.safetensors")
    assert absolute.loss.vgg_weights is None and absolute.data.val == ()
    assert absolute.run == config.run and absolute.optim == config.optim


def test_a_resumed_configuration_has_absolute_paths(tmp_path, monkeypatch):
    run = tmp_path / "run"
    run.mkdir()
    saved = load_config(None, [f"data.paired=[{tmp_path / 'data'}]"])
    (run / "config.json").write_text(json.dumps(saved.to_dict()))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text("data:\n  paired: [data]\n")  # the same folder, relative
    assert resume_config(run, tmp_path / "c.yaml").data.paired == (str(tmp_path / "data"),)
    monkeypatch.chdir(run)  # elsewhere, the same relative path is other data
    with pytest.raises(ConfigError, match="data.paired"):
        resume_config(run, tmp_path / "c.yaml")
    assert resume_config(run).data.paired == (str(tmp_path / "data"),)


def test_an_old_key_on_the_command_line_overrides_a_new_style_file():
    gpu = CONFIGS / "gpu.yaml"
    assert "weights:" in gpu.read_text()  # the file uses the new name
    old = load_config(gpu, ["data.blur.scene_weight=3"])  # an older command line
    new = load_config(gpu, ["data.blur.weights.scene=3"])
    assert old.data.blur.weights == new.data.blur.weights and new.data.blur.weights["scene"] == 3
    with pytest.raises(ConfigError, match="give one"):  # both names in one file: ambiguous
        from_dict(Config, {"data": {"blur": {"scene_weight": 1, "weights": {"scene": 2}}}})
