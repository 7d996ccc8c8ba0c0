import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deblurgan.checkpoint import save_generator
from deblurgan.cli import main
from deblurgan.inference.deblurrer import Deblurrer
from deblurgan.io.video import VideoInfo, probe_video, read_frames, video_writer


@pytest.fixture
def weights(tmp_path, identity_generator):
    path = tmp_path / "identity.safetensors"
    save_generator(identity_generator, path)
    return str(path)


def _photo(path, size=(12, 17), mode="RGB"):
    rng = np.random.default_rng(abs(hash(path.name)) % 2**32)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    pixels = rng.integers(0, 256, (*size, channels), dtype=np.uint8)
    Image.fromarray(pixels.squeeze(-1) if channels == 1 else pixels, mode=mode).save(path)
    return pixels


def test_batch_continues_past_bad_files_and_reports_them(tmp_path, weights, capsys):
    src = tmp_path / "in"
    src.mkdir()
    good = _photo(src / "good.png")
    (src / "empty.png").write_bytes(b"")
    (src / "notes.jpg").write_text("not an image")
    (src / "folder.png").mkdir()
    full = src / "full.png"
    _photo(full, size=(64, 64))
    (src / "cut.png").write_bytes(full.read_bytes()[:200])
    snapshot = {p.name: p.read_bytes() for p in src.iterdir() if p.is_file()}

    status = main(
        [
            "deblur",
            str(src),
            "-o",
            str(tmp_path / "out"),
            "--weights",
            weights,
            "--method",
            "network",
            "-q",
        ]
    )

    assert status == 1
    err = capsys.readouterr().err
    for name, cause in [
        ("empty.png", "empty file"),
        ("notes.jpg", "not a readable image"),
        ("folder.png", "is a directory"),
        ("cut.png", "truncated"),
    ]:
        assert any(name in line and cause in line for line in err.splitlines()), (name, err)
    assert "2 written, 0 skipped, 4 failed" in err
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "good.png")), good)
    assert {p.name: p.read_bytes() for p in src.iterdir() if p.is_file()} == snapshot
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temp files


def test_inputs_are_never_overwritten(tmp_path, weights, capsys):
    photo = tmp_path / "a.png"
    _photo(photo)
    before = photo.read_bytes()
    for extra in ([], ["--overwrite"]):
        assert (
            main(
                [
                    "deblur",
                    str(photo),
                    "-o",
                    str(tmp_path),
                    "--weights",
                    weights,
                    "--method",
                    "network",
                    "-q",
                    *extra,
                ]
            )
            == 1
        )
        assert "would overwrite an input" in capsys.readouterr().err
    assert photo.read_bytes() == before
    assert (
        main(
            [
                "deblur",
                str(photo),
                "-o",
                str(tmp_path),
                "--suffix",
                "_sharp",
                "--weights",
                weights,
                "-q",
            ]
        )
        == 0
    )
    assert (tmp_path / "a_sharp.png").is_file()


def test_existing_outputs_are_skipped_unless_overwrite(tmp_path, weights, capsys):
    photo = tmp_path / "a.png"
    _photo(photo)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"keep me")
    assert (
        main(["deblur", str(photo), "-o", str(out), "--weights", weights, "--method", "network"])
        == 0
    )
    assert "0 written, 1 skipped" in capsys.readouterr().out
    assert (out / "a.png").read_bytes() == b"keep me"
    assert (
        main(
            [
                "deblur",
                str(photo),
                "-o",
                str(out),
                "--weights",
                weights,
                "--method",
                "network",
                "--overwrite",
                "-q",
            ]
        )
        == 0
    )
    assert (out / "a.png").read_bytes() != b"keep me"


def test_globs_recursion_suffix_and_ext(tmp_path, weights):
    src = tmp_path / "shots"
    (src / "day" / "1").mkdir(parents=True)
    _photo(src / "top.jpg")
    _photo(src / "day" / "1" / "deep.png", mode="L")
    _photo(src / "day" / "alpha.png", mode="RGBA")
    out = tmp_path / "out"
    assert (
        main(
            [
                "deblur",
                str(src),
                "-r",
                "-o",
                str(out),
                "--suffix",
                "_s",
                "--ext",
                "png",
                "--weights",
                weights,
                "-q",
            ]
        )
        == 0
    )
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == [
        "day/1/deep_s.png",
        "day/alpha_s.png",
        "top_s.png",
    ]
    assert Image.open(out / "day" / "1" / "deep_s.png").mode == "L"
    assert Image.open(out / "day" / "alpha_s.png").mode == "RGBA"
    glob_out = tmp_path / "glob"
    assert (
        main(
            [
                "deblur",
                str(src / "*.jpg"),
                "-o",
                str(glob_out),
                "--weights",
                weights,
                "--method",
                "network",
                "-q",
            ]
        )
        == 0
    )
    assert [p.name for p in glob_out.iterdir()] == ["top.jpg"]


def test_missing_inputs_and_collisions_are_reported(tmp_path, weights, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    _photo(tmp_path / "x" / "same.png")
    _photo(tmp_path / "y" / "same.png")
    status = main(
        [
            "deblur",
            str(tmp_path / "x" / "same.png"),
            str(tmp_path / "y" / "same.png"),
            str(tmp_path / "ghost.png"),
            str(tmp_path / "*.tif"),
            "-o",
            str(tmp_path / "o"),
            "--weights",
            weights,
            "-q",
        ]
    )
    err = capsys.readouterr().err
    assert status == 1
    assert "ghost.png: no such file or folder" in err
    assert "pattern matches no file" in err
    assert "is also the output of" in err


def test_video_in_video_out_same_rate_size_and_frame_count(tmp_path, weights):
    y, x = np.mgrid[0:36, 0:52]
    frames = [
        np.stack([x * 4, y * 6, x + y + 30 * i], -1).clip(0, 255).astype(np.uint8) for i in range(5)
    ]
    with video_writer(tmp_path / "clip.mp4", VideoInfo(Fraction(24), 52, 36, None)) as write:
        for frame in frames:
            write(frame)
    assert (
        main(
            [
                "deblur",
                str(tmp_path / "clip.mp4"),
                "-o",
                str(tmp_path / "out"),
                "--weights",
                weights,
                "-q",
            ]
        )
        == 0
    )
    source, result = probe_video(tmp_path / "clip.mp4"), probe_video(tmp_path / "out" / "clip.mp4")
    assert (result.fps, result.width, result.height) == (source.fps, source.width, source.height)
    decoded_in = list(read_frames(tmp_path / "clip.mp4"))
    decoded_out = list(read_frames(tmp_path / "out" / "clip.mp4"))
    assert len(decoded_out) == len(decoded_in) == 5
    assert (
        np.mean([np.abs(a.astype(float) - b).mean() for a, b in zip(decoded_in, decoded_out)]) < 3
    )


def test_video_frames_in_batches_equal_frames_one_by_one(tmp_path, tiny_generator):
    from deblurgan.io.media import deblur_video_file

    rng = np.random.default_rng(0)
    with video_writer(tmp_path / "clip.mp4", VideoInfo(Fraction(24), 40, 24, None)) as write:
        for _ in range(5):
            write(rng.integers(0, 256, (24, 40, 3), dtype=np.uint8))
    deblur = Deblurrer(tiny_generator, backend="torch")
    calls: dict[str, list[np.ndarray]] = {"one": [], "three": []}

    def recorded(name):
        def run(frames: np.ndarray) -> np.ndarray:
            out = deblur(frames)
            calls[name].append(out if out.ndim == 4 else out[None])
            return out

        return run

    deblur_video_file(recorded("one"), tmp_path / "clip.mp4", tmp_path / "one.mp4", False)
    deblur_video_file(recorded("three"), tmp_path / "clip.mp4", tmp_path / "three.mp4", False, 3)
    assert [len(c) for c in calls["three"]] == [3, 2]  # batched: 5 frames in two calls
    # the same frames, up to float rounding (a batch sums in another order)
    np.testing.assert_allclose(
        np.concatenate(calls["three"]), np.concatenate(calls["one"]), atol=1e-6
    )
    one, three = (list(read_frames(tmp_path / n)) for n in ("one.mp4", "three.mp4"))
    assert len(one) == len(three) == 5


def test_missing_weights_message_names_the_option(tmp_path, capsys, monkeypatch):
    from deblurgan.inference import weights as bundled

    monkeypatch.setattr(bundled, "BUNDLED_WEIGHTS", "absent.safetensors")
    _photo(tmp_path / "a.png")
    argv = ["deblur", str(tmp_path / "a.png"), "-o", str(tmp_path / "o"), "--method", "network"]
    assert main(argv) == 2
    assert "--weights" in capsys.readouterr().err


def test_module_entry_point_runs():
    done = subprocess.run(
        [sys.executable, "-m", "deblurgan", "deblur", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "--stochastic" in done.stdout


@pytest.mark.slow
def test_two_processes_share_the_files_without_overlap(tmp_path, weights):
    import os

    src = tmp_path / "in"
    src.mkdir()
    for i in range(5):
        _photo(src / f"p{i}.png")
    out = tmp_path / "out"
    processes = []
    for rank in range(2):
        env = {**os.environ, "RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_RANK": str(rank)}
        command = [
            sys.executable,
            "-m",
            "deblurgan",
            "deblur",
            str(src),
            "-o",
            str(out),
            "--weights",
            weights,
        ]
        processes.append(
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes)
    assert "rank 0/2: 3 written" in outputs[0] and "rank 1/2: 2 written" in outputs[1]
    assert sorted(p.name for p in out.iterdir()) == [f"p{i}.png" for i in range(5)]


def test_symlink_loops_are_failed_inputs_and_the_batch_goes_on(tmp_path, weights, capsys):
    src = tmp_path / "in"
    src.mkdir()
    good = _photo(src / "good.png")
    (src / "loop.png").symlink_to("loop.png")
    (tmp_path / "self.jpg").symlink_to("self.jpg")
    out = tmp_path / "out"
    status = main(
        [
            "deblur",
            str(src),
            str(tmp_path / "self.jpg"),
            "-o",
            str(out),
            "--weights",
            weights,
            "--method",
            "network",
            "-q",
        ]
    )
    err = capsys.readouterr().err
    assert status == 1 and "1 written, 0 skipped, 2 failed" in err
    assert "loop.png: cannot resolve the path" in err and "self.jpg: cannot resolve" in err
    assert np.array_equal(np.asarray(Image.open(out / "good.png")), good)


def test_outputs_in_the_input_folder_are_never_inputs(tmp_path, weights, capsys):
    folder = tmp_path / "shots"
    folder.mkdir()
    for name in ("a.png", "b.jpg"):
        _photo(folder / name)
    args = [
        "deblur",
        str(folder),
        "-o",
        str(folder),
        "--suffix",
        "_sharp",
        "--weights",
        weights,
        "--method",
        "network",
    ]
    assert main(args) == 0
    assert "2 written, 0 skipped, 0 failed" in capsys.readouterr().out
    for _ in range(2):  # a second and third run find nothing new to do
        assert main(args) == 0
        assert "0 written, 2 skipped, 0 failed" in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir()) == [
        "a.png",
        "a_sharp.png",
        "b.jpg",
        "b_sharp.jpg",
    ]


@pytest.mark.parametrize("kind", ["file", "proc"])
def test_unwritable_output_stops_before_any_work(tmp_path, capsys, kind):
    photo = tmp_path / "a.png"
    _photo(photo)
    if kind == "file":
        out = tmp_path / "taken"
        out.write_text("a file")
        expected = "is an existing file, not a folder"
    else:
        out = Path("/proc/deblurgan-out")
        expected = "cannot write to the output folder /proc/deblurgan-out"
    # The weights do not exist: the output folder must be refused before the model is loaded.
    status = main(
        [
            "deblur",
            str(photo),
            "-o",
            str(out),
            "--weights",
            str(tmp_path / "no.pt"),
            "--method",
            "network",
        ]
    )
    err = capsys.readouterr().err
    assert status == 2 and expected in err and "no.pt" not in err
    assert len(err.strip().splitlines()) == 1


def test_animated_gif_is_deblurred_frame_by_frame(tmp_path, weights):
    frames = [Image.fromarray(np.full((10, 14, 3), 50 * k + 10, np.uint8)) for k in range(4)]
    frames[0].save(
        tmp_path / "anim.gif",
        save_all=True,
        append_images=frames[1:],
        duration=[40, 60, 80, 100],
        loop=0,
    )
    out = tmp_path / "out"
    assert (
        main(
            [
                "deblur",
                str(tmp_path / "anim.gif"),
                "-o",
                str(out),
                "--weights",
                weights,
                "--method",
                "network",
                "-q",
            ]
        )
        == 0
    )
    with Image.open(out / "anim.gif") as result:
        assert result.n_frames == 4 and result.info["loop"] == 0
        durations = []
        for k in range(4):
            result.seek(k)
            durations.append(result.info["duration"])
            assert np.asarray(result.convert("RGB")).mean() == pytest.approx(50 * k + 10, abs=1)
    assert durations == [40, 60, 80, 100]


def test_exif_is_kept_and_pixel_limit_is_an_option(tmp_path, weights, capsys):
    exif = Image.Exif()
    exif[0x010F] = "PhotoCam"
    exif[0x0112] = 8
    Image.fromarray(np.full((30, 40, 3), 128, np.uint8)).save(tmp_path / "cam.jpg", exif=exif)
    out = tmp_path / "out"
    assert (
        main(
            [
                "deblur",
                str(tmp_path / "cam.jpg"),
                "-o",
                str(out),
                "--weights",
                weights,
                "--method",
                "network",
                "-q",
            ]
        )
        == 0
    )
    with Image.open(out / "cam.jpg") as result:
        assert result.size == (30, 40) and result.getexif()[0x010F] == "PhotoCam"
        assert result.getexif()[0x0112] == 1
    status = main(
        [
            "deblur",
            str(tmp_path / "cam.jpg"),
            "-o",
            str(tmp_path / "o2"),
            "--weights",
            weights,
            "--max-pixels",
            "1000",
            "-q",
        ]
    )
    err = capsys.readouterr().err
    assert status == 1 and "above the limit" in err and "--max-pixels" in err


def test_temp_files_of_killed_runs_are_removed(tmp_path, weights):
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".a.0123456789ab.tmp.png"  # an older version's temp file, a day old
    stale.write_bytes(b"half")
    os.utime(stale, (1e9, 1e9))
    _photo(tmp_path / "a.png")
    assert (
        main(
            [
                "deblur",
                str(tmp_path / "a.png"),
                "-o",
                str(out),
                "--weights",
                weights,
                "--method",
                "network",
                "-q",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == ["a.png"]


def test_cli_backend_option(tmp_path, tiny_generator):
    from PIL import Image

    save_generator(tiny_generator, tmp_path / "g.safetensors")
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(
        tmp_path / "a.png"
    )
    for backend in ("torch", "onnxruntime"):
        assert (
            main(
                [
                    "deblur",
                    str(tmp_path / "a.png"),
                    "-o",
                    str(tmp_path / backend),
                    "--backend",
                    backend,
                    "--weights",
                    str(tmp_path / "g.safetensors"),
                    "-q",
                ]
            )
            == 0
        )
    a, b = (
        np.asarray(Image.open(tmp_path / n / "a.png")).astype(int) for n in ("torch", "onnxruntime")
    )
    assert np.abs(a - b).max() <= 1


@pytest.mark.slow
def test_compile_option_builds_a_compiled_pytorch_deblurrer(tmp_path, tiny_generator):
    from deblurgan.cli import build_parser
    from deblurgan.cli.options import method_from_args

    save_generator(tiny_generator, tmp_path / "g.safetensors")
    args = build_parser(["deblur"]).parse_args(
        [
            "deblur",
            "x.png",
            "-o",
            str(tmp_path),
            "--weights",
            str(tmp_path / "g.safetensors"),
            "--method",
            "network",
        ]
    )
    assert not method_from_args(args).compiled
    args.compile = True
    compiled = method_from_args(args)  # compiles on the first image, not here
    assert (compiled.compiled, compiled.backend) == (True, "torch")


def test_a_video_through_l0_is_decided_once_per_shot(tmp_path, capsys):
    from ..deconv.conftest import shapes_scene

    flat = np.full((64, 64, 3), 90, np.uint8)
    scene = (np.stack([shapes_scene(64, s) for s in (0, 1, 2)], -1) * 255).astype(np.uint8)
    with video_writer(tmp_path / "clip.mp4", VideoInfo(Fraction(24), 64, 64, None)) as write:
        for frame in [flat] * 3 + [scene] * 3:  # two shots
            write(frame)
    status = main(
        ["deblur", str(tmp_path / "clip.mp4"), "-o", str(tmp_path / "out"), "--method", "l0"]
    )
    out = capsys.readouterr()
    summary = out.out + out.err
    assert status == 0
    assert "frames 1-3" in summary and "frames 4-6" in summary, summary
