import math

import pytest
import torch

from deblurgan.checkpoint import load_generator
from deblurgan.train.sprint import lr_at, psnr_loss, run_sprint
from deblurgan.train.sprint_config import load_sprint_config
from deblurgan.train.sprint_files import read_state
from tests.train.tiny_pack import write_tiny_pack

TINY = [
    "model.ngf=4", "model.n_blocks=1", "model.encoder_blocks=[1, 1]", "data.batch=4",
    "data.crop=32", "data.eval_max_side=32", "data.mix.kernel_size=9",
    "data.mix.scene_frames=3", "data.mix.scene_margin=4", "run.device=cpu",
    "run.precision=fp32", "run.channels_last=false", "run.compile=false", "run.log_every=1",
]  # fmt: skip


def test_schedule_warms_up_then_follows_a_cosine_to_the_floor():
    assert lr_at(0.01, 0.02, 0.1) == pytest.approx(0.5)
    assert lr_at(0.02, 0.02, 0.1) == pytest.approx(1.0)
    assert lr_at(0.51, 0.02, 0.1) == pytest.approx(0.1 + 0.9 * 0.5)
    assert lr_at(1.0, 0.02, 0.1) == pytest.approx(0.1) == lr_at(2.0, 0.02, 0.1)


def test_psnr_loss_is_minus_the_mean_psnr():
    sharp = torch.zeros(2, 3, 4, 4)
    restored = sharp.clone()
    restored[0] += 0.2  # error 0.1 on [0, 1]: 20 dB
    restored[1] += 0.02  # 40 dB
    assert psnr_loss(restored, sharp).item() == pytest.approx(-30.0, abs=1e-4)


@pytest.mark.slow
def test_a_sprint_checkpoints_evaluates_and_resumes(tmp_path):
    pack = write_tiny_pack(tmp_path / "pack")
    first = load_sprint_config(
        None, [*TINY, f"data.pack={pack}", f"run.out={tmp_path / 'a'}", "run.minutes=0.01"]
    )
    lines = []
    result = run_sprint(first, say=lines.append)
    steps = result["progress"]["step"]
    assert steps >= 1 and result["progress"]["crops"] == 4 * steps
    assert set(result["results"]) == {"set_a", "set_b"}
    assert "| set_a | 2 |" in result["table"] and any("| set_b | 2 |" in x for x in lines)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == [
        "generator.safetensors",
        "sprint_log.jsonl",
        "sprint_report.md",
        f"sprint_state-{steps:08d}-00-of-01.bin",
    ]
    net = load_generator(tmp_path / "a" / "generator.safetensors")
    saved = read_state(tmp_path / "a")
    assert torch.equal(net.state_dict()["head.weight"], saved["generator"]["head.weight"])
    # A second session continues the step count and the crops from the state brought back.
    second = load_sprint_config(
        None, [*TINY, f"data.pack={pack}", f"run.out={tmp_path / 'b'}", "run.minutes=0.01"]
    )
    again = run_sprint(second, resume_from=tmp_path / "a", say=lambda _: None)
    assert again["progress"]["step"] > steps and again["progress"]["sessions"] == 2
    assert not math.isnan(again["results"]["set_a"]["psnr_out"])
    other = load_sprint_config(None, [*TINY, f"data.pack={pack}", "model.ngf=8"])
    with pytest.raises(ValueError, match="other model settings"):
        run_sprint(other, resume_from=tmp_path / "a", say=lambda _: None)
