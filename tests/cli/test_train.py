"""deblurgan train: config errors, resume from the saved config."""

import json

import pytest
import torch

from deblurgan.cli import main
from deblurgan.train.state import load_training_state
from tests.train.test_loop import _dataset, _records


def test_cli_train_and_config_errors(tmp_path, capsys):
    assert main(["train", "--set", "optim.lrr=1"]) == 2
    assert "unknown key 'optim.lrr'" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                "--resume",
                "--set",
                f"run.dir={tmp_path / 'none'}",
                "--set",
                "data.paired=[]",
                "--set",
                f"data.synthetic=[{_dataset(tmp_path / 'd') / 'sharp'}]",
                "--set",
                "loss.content=l1",
                "-q",
            ]
        )
        == 2
    )
    assert "nothing to resume" in capsys.readouterr().err


@pytest.mark.slow
def test_resume_continues_with_the_saved_config(tmp_path, capsys):
    data = _dataset(tmp_path / "data")
    run = tmp_path / "run"
    settings = (
        f"data.paired=[{data}]",
        "data.crop=32",
        "model.ngf=4",
        "model.n_blocks=1",
        "model.ndf=4",
        "loss.content=l1",
        "optim.batch_size=2",
        "optim.critic_steps=1",
        "optim.iterations=4",
        "run.device=cpu",
        f"run.dir={run}",
        "run.checkpoint_every=2",
        "run.log_every=1",
    )
    start = ["train", *(arg for item in settings for arg in ("--set", item)), "-q"]
    assert main([*start, "--stop-at", "2"]) == 0
    with (run / "log.jsonl").open("a") as log:  # written after the checkpoint, then killed
        log.write(json.dumps({"iteration": 3, "group": "train"}) + "\n" + '{"iterat')
    assert main(["train", "--resume", str(run), "--set", "optim.lr=1e-3", "-q"]) == 2
    err = capsys.readouterr().err
    assert "optim.lr (saved 0.0001, given 0.001)" in err and "start a new run.dir" in err
    assert main(["train", "--resume", str(run), "-q"]) == 0  # none of the --set items repeated
    assert load_training_state(run)["iteration"] == 4
    assert [r["iteration"] for r in _records(run) if r["group"] == "train"] == [1, 2, 3, 4]
    assert main([*start, "--resume", "--set", "optim.iterations=6"]) == 0  # the same command
    assert load_training_state(run)["iteration"] == 6
    assert main([*start, "--resume", "--set", "optim.iterations=8", "--stop-after", "0"]) == 0
    assert load_training_state(run)["iteration"] == 7  # out of time after one more iteration
    assert main([*start, "--resume", "--stop-after", "-5"]) == 2
    assert "--stop-after must be >= 0 minutes, got -5.0" in capsys.readouterr().err
    saved = load_training_state(run)["rng"]
    assert all(s.device.type == "cpu" and s.dtype == torch.uint8 for s in saved)


def test_sprint_options_and_their_errors(tmp_path, capsys):
    assert main(["train", "--minutes", "1"]) == 2
    assert "--minutes need --sprint" in capsys.readouterr().err
    assert main(["train", "--sprint", "--resume"]) == 2
    assert "needs the folder holding the sprint's state" in capsys.readouterr().err
    assert main(["train", "--sprint", "--minutes", "-1"]) == 2
    assert "--minutes must be >= 0" in capsys.readouterr().err
    assert main(["train", "--sprint", "--set", "data.mix.scene_frames=2"]) == 2
    assert "data.mix.scene_frames: must be odd" in capsys.readouterr().err
    assert main(["train", "--sprint", "--pack", str(tmp_path / "none"), "--out",
                 str(tmp_path / "out"), "--set", "run.device=cpu", "-q"]) == 2  # fmt: skip
    assert "no sprint pack at" in capsys.readouterr().err
