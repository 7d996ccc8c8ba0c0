"""scripts/gpu_sprint.sh rehearsed on the CPU: a tiny model on a tiny pack, end to end,
then resumed from its own returned files, inside the device tool's limits."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from deblurgan.train.sprint_files import check_outputs, read_state
from tests.train.tiny_pack import write_tiny_pack

ROOT = Path(__file__).resolve().parents[2]


def sprint(pack: Path, out: Path, *extra: str) -> str:
    command = [
        str(ROOT / "scripts" / "gpu_sprint.sh"), "--cpu", "--config",
        str(ROOT / "configs" / "sprint-cpu-tiny.yaml"), "--pack", str(pack), *extra,
    ]  # fmt: skip
    done = subprocess.run(
        command, env={**os.environ, "OUT": str(out)}, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_the_sprint_script_runs_checkpoints_evaluates_and_resumes(tmp_path):
    pack = write_tiny_pack(tmp_path / "pack")
    first = sprint(pack, tmp_path / "out1", "--minutes", "0.03", "--set",
                   "run.checkpoint_minutes=0.01")  # fmt: skip
    assert "within the limits" in first and "outputs within the return limits" in first
    assert re.search(r"\| set_a \| 2 \| [\d.]+ \| [\d.]+ \| [+-][\d.]+ \|", first)
    check_outputs(tmp_path / "out1", 8, 16.0, 64.0)
    steps = read_state(tmp_path / "out1")["progress"]["step"]
    assert steps >= 1 and (tmp_path / "out1" / "sprint_log.jsonl").read_text().count("\n") >= 1
    second = sprint(pack, tmp_path / "out2", "--minutes", "0.02", "--resume",
                    str(tmp_path / "out1"))  # fmt: skip
    assert f"resumed from {tmp_path / 'out1'} at step {steps}" in second
    progress = read_state(tmp_path / "out2")["progress"]
    assert progress["step"] > steps and progress["sessions"] == 2
