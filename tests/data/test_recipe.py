import json

import numpy as np
import pytest
from PIL import Image

from deblurgan.blur.scene import SceneMotion
from deblurgan.cli import main
from deblurgan.data.recipe import BlurSettings, KernelBlur, synthetic_pair


def test_modes_are_drawn_in_proportion_to_the_weights():
    settings = BlurSettings(kernel_weight=1.0, scene_weight=3.0)
    rng = np.random.default_rng(0)
    share = np.mean([settings.draw_mode(rng) == "scene" for _ in range(4000)])
    assert share == pytest.approx(0.75, abs=0.03)
    assert BlurSettings.only("scene").draw_mode(rng) == "scene"
    with pytest.raises(ValueError, match="mode: 'spline'"):
        BlurSettings.only("spline")


def test_each_mode_is_deterministic_per_seed_and_records_what_it_drew():
    sharp = np.random.default_rng(0).random((40, 40, 3), dtype=np.float32)
    for mode in ("kernel", "scene"):
        settings = BlurSettings.only(
            mode, kernel=KernelBlur(kernel_size=64), scene=SceneMotion(still_fraction=0.0)
        )
        a = synthetic_pair(sharp, settings, np.random.default_rng(3))
        b = synthetic_pair(sharp, settings, np.random.default_rng(3))
        assert np.array_equal(a.blurred, b.blurred) and a.record == b.record
        assert a.record["mode"] == mode and (a.kernel is not None) == (mode == "kernel")
        assert a.blurred.std() < a.sharp.std()  # blurring removes contrast from noise
    kernel = synthetic_pair(
        sharp, BlurSettings(kernel=KernelBlur(kernel_size=64)), np.random.default_rng(0)
    ).kernel
    assert kernel.sum() == pytest.approx(1.0, abs=1e-5)


def test_bad_weights_name_the_fields():
    with pytest.raises(ValueError, match="kernel_weight, scene_weight"):
        BlurSettings(kernel_weight=0.0, scene_weight=0.0)
    with pytest.raises(ValueError, match="^kernel_size:"):
        KernelBlur(kernel_size=2)


def test_synth_scene_mode_writes_pairs_without_kernels_and_rejects_bad_settings(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png"):
        Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(src / name)
    out = tmp_path / "out"
    args = [
        "synth",
        str(src),
        "-o",
        str(out),
        "--mode",
        "scene",
        "--set",
        "scene.still_fraction=0",
        "-q",
    ]
    assert main(args) == 0
    assert sorted(p.name for p in (out / "blur").iterdir()) == ["a_000.png", "b_000.png"]
    assert not (out / "kernels").exists()
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [r["mode"] for r in records] == ["scene", "scene"] and records[0]["frames"] >= 7
    assert (
        main(["synth", str(src), "-o", str(tmp_path / "o2"), "--set", "scene.frames=[9, 3]", "-q"])
        == 2
    )
    assert "scene.frames: expected LOW <= HIGH" in capsys.readouterr().err
    assert main(["synth", str(src), "-o", str(tmp_path / "o3"), "--set", "mode=spline"]) == 2
    assert "unknown key 'mode'" in capsys.readouterr().err
