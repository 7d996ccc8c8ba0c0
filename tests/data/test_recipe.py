import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deblurgan.blur.frames import FrameAveraging
from deblurgan.blur.scene import SceneMotion
from deblurgan.cli import main
from deblurgan.data import recipe
from deblurgan.data.recipe import BlurMode, BlurSettings, KernelBlur, SyntheticPair, synthetic_pair
from deblurgan.schema import ConfigError, from_dict, plain


def test_modes_are_drawn_in_proportion_to_the_weights():
    settings = BlurSettings(weights={"kernel": 1.0, "scene": 3.0})
    rng = np.random.default_rng(0)
    share = np.mean([settings.draw_mode(rng) == "scene" for _ in range(4000)])
    assert share == pytest.approx(0.75, abs=0.03)
    # the same draws as the two-mode rule of earlier versions, seed for seed
    earlier, now = np.random.default_rng(1), np.random.default_rng(1)
    for _ in range(500):
        expected = "scene" if earlier.random() < 3.0 / (1.0 + 3.0) else "kernel"
        assert settings.draw_mode(now) == expected
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
    with pytest.raises(ValueError, match="^weights: must be >= 0 and not all 0"):
        BlurSettings(weights={"kernel": 0.0, "scene": 0.0})
    with pytest.raises(ValueError, match="^weights: unknown blur mode 'spline'"):
        BlurSettings(weights={"spline": 1.0})
    with pytest.raises(ValueError, match="^preset: 'papr' is not one of 'paper', 'reference-code'"):
        KernelBlur(preset="papr")
    with pytest.raises(ValueError, match="^kernel_size:"):
        KernelBlur(kernel_size=2)
    with pytest.raises(ValueError, match=r"^noise_std: must be in \[0, 1\], got 5"):
        KernelBlur(noise_std=5.0)


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


def test_weights_left_out_keep_their_defaults_and_the_old_keys_still_load():
    assert BlurSettings().weights == {"kernel": 1.0, "scene": 0.0}
    assert BlurSettings(weights={"scene": 2}).weights == {"kernel": 1.0, "scene": 2.0}
    old = from_dict(BlurSettings, {"scene_weight": 2, "kernel": {"kernel_size": 32}})
    assert old == BlurSettings(weights={"scene": 2.0}, kernel=KernelBlur(kernel_size=32))
    assert from_dict(BlurSettings, plain(old)) == old  # saved as weights.*, read back
    with pytest.raises(ConfigError, match="scene_weight is the old name of weights.scene"):
        from_dict(BlurSettings, {"scene_weight": 2, "weights": {"scene": 1}})
    with pytest.raises(ConfigError, match="unknown key 'spline_weight'"):
        from_dict(BlurSettings, {"spline_weight": 1})
    with pytest.raises(ConfigError, match="averaging.n_avg: must satisfy"):
        from_dict(BlurSettings, {"averaging": {"n_avg": [9, 3]}})


def test_every_config_file_loads_its_blur_recipe():
    from deblurgan.train.config import load_config

    root = Path(__file__).resolve().parents[2] / "configs"
    paths = sorted(p for p in root.glob("*.yaml") if not p.name.startswith("sprint"))  # own schema
    blurs = {path.name: load_config(path).data.blur for path in paths}
    assert blurs["gpu.yaml"].weights == {"kernel": 1.0, "scene": 2.0}
    assert blurs["gpu.yaml"].averaging == FrameAveraging(n_avg=(7, 13), gap=0, gamma=2.2)


def _box(image):
    """The mean of each pixel's 3x3 neighbourhood (edges repeated)."""
    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)), mode="edge")
    h, w = image.shape[:2]
    return sum(padded[y : y + h, x : x + w] for y in range(3) for x in range(3)) / 9


def _box_pair(sharp, settings, rng, load_layers=None):
    """A toy blur mode: a 3x3 box filter."""
    return SyntheticPair(_box(sharp).astype(sharp.dtype), sharp, None, {"size": 3})


def test_a_mode_added_to_the_table_is_drawn_and_used_everywhere(monkeypatch, tmp_path):
    """One table entry: the schema, the draw, synthetic_pair, training samples and synth."""
    monkeypatch.setitem(recipe.BLUR_MODES, "box", BlurMode(_box_pair))
    sharp = np.random.default_rng(0).random((12, 10, 3), dtype=np.float32)
    assert BlurSettings().weights == {"kernel": 1.0, "scene": 0.0, "box": 0.0}
    only_box = from_dict(BlurSettings, {"weights": {"kernel": 0, "box": 1}})
    pair = synthetic_pair(sharp, only_box, np.random.default_rng(0))
    assert pair.record == {"mode": "box", "size": 3}
    np.testing.assert_allclose(pair.blurred, _box(sharp), atol=1e-6)
    mixed = BlurSettings(weights={"kernel": 1.0, "box": 1.0})
    rng = np.random.default_rng(0)
    share = np.mean([mixed.draw_mode(rng) == "box" for _ in range(2000)])
    assert share == pytest.approx(0.5, abs=0.04)

    from deblurgan.train.config import DataConfig
    from deblurgan.train.data import TrainingPairs

    photo = tmp_path / "photos" / "p.png"
    photo.parent.mkdir()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (40, 40, 3), np.uint8)).save(photo)
    dataset = TrainingPairs([], [photo], DataConfig(crop=16, flip=False, blur=only_box))
    blurred, sharp_crop, _ = dataset[(0, 4)]
    sharp_crop = sharp_crop.permute(1, 2, 0).numpy() * 0.5 + 0.5
    inner = blurred.permute(1, 2, 0).numpy()[1:-1, 1:-1] * 0.5 + 0.5
    np.testing.assert_allclose(inner, _box(sharp_crop)[1:-1, 1:-1], atol=1e-5)

    out = tmp_path / "out"
    assert main(["synth", str(photo.parent), "-o", str(out), "--mode", "box", "-q"]) == 0
    record = json.loads((out / "manifest.jsonl").read_text())
    assert record["mode"] == "box" and record["size"] == 3
