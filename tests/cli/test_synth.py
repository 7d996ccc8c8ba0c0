import json
import os
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from deblurgan.cli import main
from deblurgan.io.video import VideoInfo, video_writer


def _photos(folder, count=2, size=(48, 64)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    return folder


def test_kernel_dataset_layout_manifest_and_determinism(tmp_path):
    src = _photos(tmp_path / "sharp")
    args = ["synth", str(src), "--per-image", "2", "--seed", "3", "-q"]
    assert main([*args, "-o", str(tmp_path / "a")]) == 0
    assert main([*args, "-o", str(tmp_path / "b")]) == 0
    a = tmp_path / "a"
    names = sorted(p.name for p in (a / "blur").iterdir())
    assert names == ["p0_000.png", "p0_001.png", "p1_000.png", "p1_001.png"]
    assert names == sorted(p.name for p in (a / "sharp").iterdir())
    assert (
        len(list((a / "kernels").glob("*.npy"))) == 4
        and len(list((a / "kernels").glob("*.png"))) == 4
    )
    for name in names:
        assert (a / "blur" / name).read_bytes() == (tmp_path / "b" / "blur" / name).read_bytes()
        kernel = np.load(a / "kernels" / name.replace(".png", ".npy"))
        assert kernel.sum() == pytest.approx(1.0, abs=1e-5) and kernel.min() >= 0
    records = [json.loads(line) for line in (a / "manifest.jsonl").read_text().splitlines()]
    assert [r["name"] for r in records] == names
    assert {"seed", "preset", "exposure", "inertia", "impulsiveness", "source"} <= set(records[0])
    sharp = np.asarray(Image.open(a / "sharp" / "p0_000.png"))
    assert np.array_equal(sharp, np.asarray(Image.open(src / "p0.png")))


def test_rerun_skips_finished_pairs_and_manifest_stays_complete(tmp_path, capsys):
    src = _photos(tmp_path / "sharp")
    out = tmp_path / "out"
    assert main(["synth", str(src), "-o", str(out), "-q"]) == 0
    (out / "blur" / "p1_000.png").unlink()
    before = (out / "blur" / "p0_000.png").stat().st_mtime_ns
    assert main(["synth", str(src), "-o", str(out)]) == 0
    assert "1 written, 1 skipped, 0 failed" in capsys.readouterr().out
    assert (out / "blur" / "p0_000.png").stat().st_mtime_ns == before
    assert len((out / "manifest.jsonl").read_text().splitlines()) == 2


def test_rerun_with_other_settings_is_refused_unless_overwrite(tmp_path, capsys):
    src = _photos(tmp_path / "sharp")
    out = tmp_path / "out"
    args = ["synth", str(src), "-o", str(out), "--per-image", "2", "--seed", "3", "-q"]
    assert main(args) == 0
    before = (out / "blur" / "p0_000.png").read_bytes()
    changed = {"kernel.noise_std, kernel.preset": ["--noise-std", "0.2", "--preset", "paper"]}
    changed |= {"weights.kernel, weights.scene": ["--mode", "scene"], "(seed differ": ["--seed=4"]}
    for keys, other in changed.items():
        assert main([*args, *other]) == 2
        err = capsys.readouterr().err
        assert "holds pairs made with other settings" in err and "--overwrite" in err
        assert keys in err
    assert (out / "blur" / "p0_000.png").read_bytes() == before
    assert main([*args, "--mode", "scene", "--overwrite"]) == 0
    assert (out / "blur" / "p0_000.png").read_bytes() != before
    assert not list((out / "kernels").iterdir())  # the kernel pairs' kernels went with them
    records = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    assert {r["mode"] for r in records} == {"scene"} and len(records) == 4


def test_rerun_with_fewer_pairs_keeps_and_names_them_or_removes_them_with_overwrite(
    tmp_path, capsys
):
    src = _photos(tmp_path / "sharp")
    out = tmp_path / "out"
    args = ["synth", str(src), "-o", str(out), "-q"]
    assert main([*args, "--per-image", "3"]) == 0
    Image.open(src / "p0.png").save(out / "blur" / "mine.png")  # not synth's: never removed
    assert main([*args, "--per-image", "2"]) == 0
    err = capsys.readouterr().err
    assert "kept 2 pair(s) of an earlier run" in err and "--overwrite removes them" in err
    assert "holds 1 image(s) that manifest.jsonl does not list (e.g. mine.png)" in err
    assert len((out / "manifest.jsonl").read_text().splitlines()) == 6  # the folder, truly
    assert main([*args, "--per-image", "2", "--overwrite"]) == 0
    assert "kept" not in capsys.readouterr().err
    names = sorted(p.name for p in (out / "blur").iterdir())
    assert names == ["mine.png", "p0_000.png", "p0_001.png", "p1_000.png", "p1_001.png"]
    assert len(list((out / "sharp").iterdir())) == 4 and len(list((out / "kernels").iterdir())) == 8
    assert len((out / "manifest.jsonl").read_text().splitlines()) == 4


def test_bad_images_are_reported_and_skipped(tmp_path, capsys):
    src = _photos(tmp_path / "sharp", count=1)
    (src / "broken.png").write_bytes(b"\x89PNG not really")
    assert main(["synth", str(src), "-o", str(tmp_path / "out"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "broken.png" in err and "1 written, 0 skipped, 1 failed" in err
    assert [p.name for p in (tmp_path / "out" / "blur").iterdir()] == ["p0_000.png"]
    assert len((tmp_path / "out" / "manifest.jsonl").read_text().splitlines()) == 1


def test_link_loops_unwritable_output_and_stale_temp_files(tmp_path, capsys):
    src = _photos(tmp_path / "sharp", count=1)
    (src / "loop.png").symlink_to("loop.png")
    out = tmp_path / "out"
    (out / "blur").mkdir(parents=True)
    stale = out / "blur" / ".p0_000.0123456789ab.tmp.png"  # an older version's, a day old
    stale.write_bytes(b"half")
    os.utime(stale, (1e9, 1e9))
    assert main(["synth", str(src), "-o", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert "loop.png: symbolic link loop" in err and "1 written, 0 skipped, 1 failed" in err
    assert sorted(p.name for p in (out / "blur").iterdir()) == ["p0_000.png"]
    (tmp_path / "file").write_text("x")
    assert main(["synth", str(src), "-o", str(tmp_path / "file"), "-q"]) == 2
    assert "is an existing file, not a folder" in capsys.readouterr().err


def test_never_writes_into_the_input_folder(tmp_path, capsys):
    src = _photos(tmp_path / "sharp", count=1)
    for out in (src, src / "dataset", tmp_path):  # tmp_path/sharp would be an output folder
        assert main(["synth", str(src), "-o", str(out), "-q"]) == 2
        assert "input folder" in capsys.readouterr().err
    assert sorted(p.name for p in src.iterdir()) == ["p0.png"]


def test_noise_options_and_paper_preset(tmp_path):
    src = _photos(tmp_path / "sharp", count=1)
    out = tmp_path / "out"
    assert (
        main(
            [
                "synth",
                str(src),
                "-o",
                str(out),
                "--preset",
                "paper",
                "--noise-std",
                "0.02",
                "--poisson-peak",
                "500",
                "--linear-light",
                "--exposures",
                "1",
                "-q",
            ]
        )
        == 0
    )
    record = json.loads((out / "manifest.jsonl").read_text())
    assert record["preset"] == "paper" and record["exposure"] == 1.0 and record["linear_light"]


def test_frame_averaging_from_a_folder_and_from_a_video(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    rng = np.random.default_rng(1)
    still = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    video = []
    for i in range(20):
        Image.fromarray(still).save(frames / f"{i:06d}.png")
        video.append(np.roll(still, i, axis=1))
    assert (
        main(["synth", "--frames", str(frames), "-o", str(tmp_path / "f"), "--n-avg", "3:5", "-q"])
        == 0
    )
    pairs = sorted((tmp_path / "f" / "blur").iterdir())
    assert pairs
    for pair in pairs:  # identical frames: blurred == sharp
        blurred = np.asarray(Image.open(pair))
        assert np.array_equal(blurred, np.asarray(Image.open(tmp_path / "f" / "sharp" / pair.name)))
        assert np.array_equal(blurred, still)
    records = [json.loads(x) for x in (tmp_path / "f" / "manifest.jsonl").read_text().splitlines()]
    assert all(
        3 <= r["n_avg"] <= 5 and r["sharp_frame"] == r["first_frame"] + r["n_avg"] // 2
        for r in records
    )

    with video_writer(tmp_path / "clip.mp4", VideoInfo(Fraction(240), 32, 24, None)) as write:
        for frame in video:
            write(frame)
    assert (
        main(
            [
                "synth",
                "--frames",
                str(tmp_path / "clip.mp4"),
                "-o",
                str(tmp_path / "v"),
                "--n-avg",
                "4",
                "-q",
            ]
        )
        == 0
    )
    assert len(list((tmp_path / "v" / "blur").iterdir())) == 5


def test_synth_needs_exactly_one_source(tmp_path, capsys):
    assert main(["synth", "-o", str(tmp_path / "o")]) == 2
    assert "either SHARP_DIR or --frames" in capsys.readouterr().err


def test_frame_averaging_reads_the_blur_settings_and_both_commands_show_7_13(tmp_path, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(12):
        Image.fromarray(np.full((8, 8, 3), 20 * i, np.uint8)).save(frames / f"{i:06d}.png")
    config = tmp_path / "blur.yaml"
    config.write_text("averaging: {n_avg: [3, 3], gap: 1, gamma: 1.0}\n")

    def synth(out, *options):
        return main(["synth", "--frames", str(frames), "-o", str(tmp_path / out), "-q", *options])

    assert synth("f", "--blur-config", str(config)) == 0
    records = [json.loads(x) for x in (tmp_path / "f" / "manifest.jsonl").read_text().splitlines()]
    assert [(r["first_frame"], r["n_avg"], r["gamma"]) for r in records] == [
        (0, 3, 1.0),
        (4, 3, 1.0),
        (8, 3, 1.0),
    ]
    blurred = np.asarray(Image.open(tmp_path / "f" / "blur" / "frames_000005_n3.png"))
    assert np.all(blurred == 100)  # gamma 1: the plain mean of 80, 100 and 120
    assert (
        synth("g", "--blur-config", str(config), "--n-avg", "2:2", "--set", "averaging.gap=0") == 0
    )
    records = [json.loads(x) for x in (tmp_path / "g" / "manifest.jsonl").read_text().splitlines()]
    assert [r["first_frame"] for r in records] == [0, 2, 4, 6, 8, 10]
    capsys.readouterr()
    for command in ("synth", "detect-bench"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "default: 7:13" in text and "(7, 13)" not in text


def test_a_failed_run_removes_the_output_folder_it_created_if_still_empty(tmp_path, capsys):
    src = tmp_path / "sharp"
    src.mkdir()
    (src / "broken.png").write_bytes(b"\x89PNG not really")
    out = tmp_path / "new" / "out"
    assert main(["synth", str(src), "-o", str(out), "-q"]) == 1
    assert "broken.png" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()  # the parent it made too
    out.mkdir(parents=True)  # the user's folder: kept, empty or not
    assert main(["synth", str(src), "-o", str(out), "-q"]) == 1
    assert out.is_dir()
