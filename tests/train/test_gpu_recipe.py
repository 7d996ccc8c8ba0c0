"""The one-command GPU recipe (configs/gpu.yaml + scripts/train_gpu.sh), wired end to end on
the CPU with a tiny model: data preparation, training, and resuming by running it again."""

import subprocess
from pathlib import Path

import pytest
import yaml

from deblurgan.train.config import load_config
from deblurgan.train.state import load_training_state

ROOT = Path(__file__).resolve().parents[2]
TINY_SETTINGS = (
    "model.ngf=4",
    "model.n_blocks=1",
    "model.ndf=4",
    "data.crop=32",
    "data.workers=0",
    "optim.batch_size=2",
    "optim.iterations=2",
    "run.device=cpu",
    "run.precision=fp32",
    "loss.content=l1",
    "data.val_max_side=64",
    "run.val_every=2",
)
TINY = [arg for item in TINY_SETTINGS for arg in ("--set", item)] + ["-q"]


def test_gpu_config_is_the_paper_generator_with_the_chosen_recipe():
    config = load_config(ROOT / "configs" / "gpu.yaml")
    assert (config.model.ngf, config.model.n_blocks, config.data.crop) == (64, 9, 256)
    assert (config.optim.batch_size, config.run.precision) == (16, "bf16")
    default = yaml.safe_load((ROOT / "configs" / "default-model.yaml").read_text())["loss"]
    # the bundled model's content terms, 10x stronger against the adversarial one (pilot P1)
    assert config.loss.content_weight == 10 * default["content_weight"]
    assert config.loss.pixel_weight == 10 * default["pixel_weight"]
    assert config.data.blur.weights["scene"] > 0 and config.data.blur.effects.noise_probability > 0
    assert config.data.blur.scene.still_fraction == 0.85  # pilots P2-P5


@pytest.mark.slow
def test_train_gpu_script_prepares_trains_and_resumes(shared, tmp_path):
    script = ROOT / "scripts" / "train_gpu.sh"
    data, run = tmp_path / "data", tmp_path / "run"
    command = [str(script), str(shared / "data"), str(data), str(run), *TINY]
    subprocess.run([*command, "--stop-at", "1"], check=True, cwd=tmp_path)
    assert load_training_state(run)["iteration"] == 1
    assert len(list((data / "sharp_train").iterdir())) > 200
    subprocess.run(command, check=True, cwd=tmp_path)  # the same command again: resumes
    assert load_training_state(run)["iteration"] == 2
    assert (run / "generator.safetensors").is_file()
