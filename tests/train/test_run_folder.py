import json

import numpy as np
import pytest

from deblurgan.train.config import load_config
from deblurgan.train.run_folder import RunExistsError, RunLog, prepare_run_folder, truncate_log


def test_truncate_log_keeps_records_up_to_the_checkpoint_and_drops_a_cut_line(tmp_path):
    log = tmp_path / "log.jsonl"
    kept = [{"iteration": i, "group": "train", "loss": 1.0 / i} for i in (1, 2, 3)]
    later = [{"iteration": i, "group": "train", "loss": 0.1} for i in (4, 5)]
    lines = [json.dumps(r) + "\n" for r in kept + later]
    val = '{"iteration": 3, "group": "val"}\n'
    cut = '{"iteration": 6, "gro'  # killed mid-write
    log.write_text("".join(lines[:3]) + val + "".join(lines[3:]) + cut)
    truncate_log(log, 3)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records == [*kept, {"iteration": 3, "group": "val"}]
    truncate_log(tmp_path / "missing.jsonl", 3)  # a run that never logged: nothing to do


def test_run_log_writes_config_and_records_that_read_back(tmp_path):
    config = load_config(None, [f"run.dir={tmp_path}", "model.ngf=4"])
    log = RunLog(tmp_path, config, enabled=True)
    log.scalars(7, "val", {"psnr": 30.5})
    log.image(7, "val/triplet", np.zeros((4, 12, 3), np.float32))
    log.close()
    assert json.loads((tmp_path / "config.json").read_text())["model"]["ngf"] == 4
    assert json.loads((tmp_path / "log.jsonl").read_text()) == {
        "iteration": 7,
        "group": "val",
        "psnr": 30.5,
    }
    assert any((tmp_path / "tensorboard").iterdir())
    RunLog(tmp_path / "rank1", config, enabled=False).scalars(1, "train", {"x": 1.0})
    assert not (tmp_path / "rank1").exists()  # other ranks write nothing


def test_prepare_run_folder_refuses_a_run_and_overwrite_clears_only_its_outputs(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "latest.pt").write_bytes(b"")
    (tmp_path / "log.jsonl").write_text("{}\n")
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunExistsError, match="checkpoints, log.jsonl"):
        prepare_run_folder(tmp_path, resume=False, overwrite=False, rank=0, world=1)
    prepare_run_folder(tmp_path, resume=True, overwrite=False, rank=0, world=1)
    assert (tmp_path / "log.jsonl").exists()  # resuming keeps everything
    prepare_run_folder(tmp_path, resume=False, overwrite=True, rank=0, world=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_run_stopped_before_its_first_checkpoint_is_refused_alike_naming_overwrite(tmp_path):
    config = load_config(None, [f"run.dir={tmp_path}"])
    RunLog(tmp_path, config, enabled=True).close()  # config.json, log.jsonl, tensorboard/
    said = "holds a run that stopped before its first checkpoint .*: start it again with --over"
    with pytest.raises(RunExistsError, match=said):
        prepare_run_folder(tmp_path, resume=False, overwrite=False, rank=0, world=1)
    with pytest.raises(FileNotFoundError, match="nothing to resume: .*" + said):
        prepare_run_folder(tmp_path, resume=True, overwrite=False, rank=0, world=1)
    prepare_run_folder(tmp_path, resume=False, overwrite=True, rank=0, world=1)
    assert not list(tmp_path.iterdir())
