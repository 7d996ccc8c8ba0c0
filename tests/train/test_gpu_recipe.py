"""The one-command GPU recipe (configs/gpu.yaml + scripts/train_gpu.sh), wired end to end on
the CPU with a tiny model: data preparation, training, and resuming by running it again."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

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
RAW = "gopro_raw240fps/GOPR0477_11_00"  # the 240 fps frames that scripts/prepare_data.sh averages


def small_shared_data(shared_data: Path, root: Path) -> Path:
    """A copy of ``shared_data`` (links; ``sharp`` copied, as ``find`` in prepare_data.sh does
    not follow links) in which the 120 raw frames that prepare_data.sh averages are 96x64
    frames of a camera pan: averaging the real 1280x720 ones took 25 s, and their size plays
    no part in the wiring checked here."""
    root.mkdir()
    for entry in shared_data.iterdir():
        if entry.name == "sharp":
            shutil.copytree(entry, root / entry.name)
        elif entry.name != RAW.split("/")[0]:
            (root / entry.name).symlink_to(entry)
    (root / RAW).mkdir(parents=True)
    scene = (np.random.default_rng(0).random((8, 32, 3)) * 255).astype(np.uint8)
    scene = np.kron(scene, np.ones((8, 8, 1), np.uint8))  # 64x256, smooth at the frames' scale
    for i in range(1, 121):
        Image.fromarray(scene[:, i : i + 96]).save(root / RAW / f"{i:06d}.png")
    return root


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
    source = small_shared_data(shared / "data", tmp_path / "shared_data")
    command = [str(script), str(source), str(data), str(run), *TINY]
    subprocess.run([*command, "--stop-at", "1"], check=True, cwd=tmp_path)
    assert load_training_state(run)["iteration"] == 1
    assert len(list((data / "sharp_train").iterdir())) > 200
    subprocess.run(command, check=True, cwd=tmp_path)  # the same command again: resumes
    assert load_training_state(run)["iteration"] == 2
    assert (run / "generator.safetensors").is_file()
