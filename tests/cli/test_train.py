"""deblurgan train: config errors, resume from the saved config."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from deblurgan.cli import main
from deblurgan.train.state import load_training_state
from tests.train.test_loop import TINY, _dataset, _records

ROOT = Path(__file__).resolve().parents[2]


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


def test_an_unwritable_run_dir_is_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    run_dir = tmp_path / "file" / "run"
    assert main(["train", "-q", "--set", f"run.dir={run_dir}", "--set", "data.paired=[none]"]) == 2
    err = capsys.readouterr().err  # before the data scan: the missing data goes unmentioned
    assert err == (
        f"deblurgan train: error: run.dir: cannot write to the output folder {run_dir}: "
        "Not a directory\n"
    )


def test_a_full_disk_stops_the_run_in_one_line_naming_the_file_and_keeps_the_logs(tmp_path):
    resource = pytest.importorskip("resource")
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[1] == resource.RLIM_INFINITY
    data = _dataset(tmp_path / "data")
    options = [f"--set={item}" for item in [f"data.paired=[{data}]", "data.val=[]", *TINY]]
    # 100 kB a file: the logs fit, a checkpoint (about 180 kB) does not, as on a full disk
    limit = "import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (100_000,"
    limit += " resource.RLIM_INFINITY)); sys.argv[0] = 'deblurgan'; runpy.run_module('deblurgan',"
    limit += " run_name='__main__')"
    run = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-c", limit, "train", "-q", *options, f"--set=run.dir={run}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1
    checkpoint = run / "checkpoints" / "iter_00000003.pt"
    assert done.stderr.splitlines() == [
        f"deblurgan train: error: cannot write {checkpoint}: File too large; the run's earlier "
        "files are kept"
    ]
    assert [r["iteration"] for r in _records(run)] == [1, 2, 3]
    assert not list((run / "checkpoints").iterdir())  # no temp file left
