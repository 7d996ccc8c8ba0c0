import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.ndimage import uniform_filter

from deblurgan.checkpoint import load_generator
from deblurgan.cli import main
from deblurgan.nets import Generator, init_weights
from deblurgan.train import loop
from deblurgan.train.config import ConfigError, load_config
from deblurgan.train.data import UnreadableDataError
from deblurgan.train.loop import gan_iteration, train
from deblurgan.train.run_folder import RunExistsError
from deblurgan.train.run_setup import lr_factor
from deblurgan.train.state import load_training_state

ROOT = Path(__file__).resolve().parents[2]


def _dataset(root, count=4, size=48, seed=0):
    rng = np.random.default_rng(seed)
    for i in range(count):
        smooth = uniform_filter(rng.random((size, size, 3)), size=(5, 5, 1))
        sharp = (smooth - smooth.min()) / (smooth.max() - smooth.min())
        blurred = uniform_filter(sharp, size=(1, 7, 1))
        for folder, image in (("sharp", sharp), ("blur", blurred)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray((image * 255).astype(np.uint8)).save(root / folder / f"{i}.png")
    return root


# A tiny, fast run: widths, crop and schedule of the tests.
TINY = [
    "data.crop=32",
    "data.val_fraction=0.0",
    "data.val_max_side=48",
    "model.ngf=4",
    "model.n_blocks=1",
    "model.ndf=4",
    "model.n_layers=2",
    "loss.content=l1",
    "optim.batch_size=2",
    "optim.critic_steps=2",
    "optim.iterations=6",
    "run.device=cpu",
    "run.log_every=1",
    "run.val_every=3",
    "run.checkpoint_every=3",
    "run.keep_last=1",
]


def _config(tmp_path, *overrides, count=4, write_data=True):
    if write_data:
        _dataset(tmp_path / "data", count)
    return load_config(
        None,
        [
            f"data.paired=[{tmp_path / 'data'}]",
            f"data.val=[{tmp_path / 'data'}]",
            *TINY,
            f"run.dir={tmp_path / 'run'}",
            *overrides,
        ],
    )


def test_lr_is_constant_then_decays_linearly_to_zero():
    factors = [lr_factor(i, 300) for i in range(301)]
    assert factors[:151] == [1.0] * 151
    assert factors[225] == pytest.approx(0.5) and factors[300] == 0.0


def test_one_step_smoke_with_perceptual_loss_writes_logs_and_checkpoints(tmp_path):
    config = _config(
        tmp_path,
        "loss.content=perceptual",
        "optim.iterations=1",
        "run.checkpoint_every=1",
        "run.val_every=1",
        "run.image_every=1",
    )
    generator = train(config, progress=False)
    run = tmp_path / "run"
    assert (run / "checkpoints" / "latest.pt").is_file()
    assert (run / "config.json").is_file() and list((run / "tensorboard").iterdir())
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    train_log = next(r for r in records if r["group"] == "train")
    assert {"critic_loss", "wasserstein", "gp", "adversarial", "content", "lr", "seconds"} <= set(
        train_log
    )
    val_log = next(r for r in records if r["group"] == "val")
    assert {"psnr", "ssim", "blurred_psnr", "blurred_ssim"} <= set(val_log)
    exported = load_generator(run / "generator.safetensors")
    assert exported.config == generator.config
    assert (run / "best_generator.safetensors").is_file()
    from_state = load_generator(run / "checkpoints" / "latest.pt")  # the run's own arguments
    assert from_state.config == generator.config
    for (name, a), b in zip(exported.state_dict().items(), from_state.state_dict().values()):
        assert torch.equal(a, b), name


def test_overfitting_one_pair_drives_the_content_loss_down(tmp_path):
    config = _config(
        tmp_path,
        "loss.gan=none",
        "model.ngf=8",
        "model.dropout=0.0",
        "optim.iterations=80",
        "optim.lr=2e-3",
        "optim.batch_size=1",
        "run.val_every=1000",
        "run.checkpoint_every=1000",
        count=1,
    )
    train(config, progress=False)
    content = [
        json.loads(line)["content"]
        for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()
        if json.loads(line)["group"] == "train"
    ]
    assert np.mean(content[-10:]) < 0.5 * np.mean(content[:5])


def test_identity_init_starts_at_the_input_and_init_from_fine_tunes(tmp_path):
    config = _config(tmp_path, "model.identity_init=true", "optim.lr=1e-12", "optim.iterations=1")
    generator = train(config, progress=False).eval()
    blurred = torch.rand(1, 3, 16, 16) * 2 - 1
    with torch.no_grad():  # one step at a negligible LR: still the identity
        torch.testing.assert_close(generator(blurred), blurred, atol=1e-6, rtol=0)

    exported = tmp_path / "run" / "generator.safetensors"
    config = _config(
        tmp_path / "b", f"model.init_from={exported}", "optim.lr=1e-12", "optim.iterations=1"
    )
    tuned = train(config, progress=False)
    for (name, a), b in zip(generator.state_dict().items(), tuned.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0, msg=name)
    with pytest.raises(ConfigError, match="init_from"):
        train(_config(tmp_path / "c", f"model.init_from={exported}", "model.ngf=8"), progress=False)


def test_a_fine_tune_resumes_after_its_init_from_file_is_gone(tmp_path):
    start = tmp_path / "start.safetensors"
    train(_config(tmp_path / "a", "optim.iterations=1"), progress=False)
    (tmp_path / "a" / "run" / "generator.safetensors").rename(start)
    config = _config(tmp_path / "b", f"model.init_from={start}")
    train(config, progress=False, stop_at=3)
    start.unlink()  # moved, replaced or relative to another folder: the checkpoint has the weights
    resumed = train(config, resume=True, progress=False)
    state = load_training_state(tmp_path / "b" / "run")
    assert state["iteration"] == 6
    for (name, a), b in zip(resumed.state_dict().items(), state["generator"].values()):
        torch.testing.assert_close(a, b, msg=name)


def test_resume_reproduces_an_uninterrupted_run(tmp_path):
    straight = train(_config(tmp_path / "a"), progress=False)
    _config(tmp_path / "b")  # same data
    config_b = _config(tmp_path / "b")
    train(config_b, progress=False, stop_at=3)
    resumed = train(config_b, resume=True, progress=False)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
    state = torch.load(tmp_path / "b" / "run" / "checkpoints" / "latest.pt", weights_only=True)
    assert state["iteration"] == 6 and state["batches"] == 6 * 3
    assert len(list((tmp_path / "b" / "run" / "checkpoints").glob("iter_*.pt"))) == 1  # keep_last


def test_resuming_from_an_earlier_checkpoint_shows_each_step_once_in_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config = _config(tmp_path, "run.keep_last=2")
    train(config, progress=False)  # logs 1-6, checkpoints at 3 and 6
    checkpoints = tmp_path / "run" / "checkpoints"
    (checkpoints / "latest.pt").write_bytes((checkpoints / "iter_00000003.pt").read_bytes())
    train(config, resume=True, progress=False)  # as if killed after logging 4-6: logs 4-6 again
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    assert [e.step for e in events.Scalars("train/lr")] == [1, 2, 3, 4, 5, 6]
    assert [r["iteration"] for r in _records(tmp_path / "run") if r["group"] == "train"] == [
        1, 2, 3, 4, 5, 6
    ]  # fmt: skip


def test_resuming_with_fewer_iterations_than_reached_is_refused_and_changes_nothing(tmp_path):
    train(_config(tmp_path), progress=False)  # 6 iterations
    run = tmp_path / "run"
    before = {name: (run / name).read_bytes() for name in ("config.json", "log.jsonl")}
    with pytest.raises(ConfigError, match="reached iteration 6, past the 4 iterations"):
        train(_config(tmp_path, "optim.iterations=4", write_data=False), resume=True)
    assert {name: (run / name).read_bytes() for name in before} == before


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_a_stop_signal_checkpoints_its_iteration_and_resuming_matches_a_straight_run(
    tmp_path, monkeypatch, capsys, signum
):
    straight = train(_config(tmp_path / "a"), progress=False)
    config = _config(tmp_path / "b")  # checkpoints every 3 iterations
    iterations = []

    def signalled(*args, **kwargs):
        iterations.append(len(iterations) + 1)
        if len(iterations) == 2:  # Ctrl-C or kill, in the middle of iteration 2: the handler
            # installed for it runs (a real signal is sent in tests/train/test_stop_signals.py:
            # sent here, it has ended a test runner's worker under load)
            signal.getsignal(signum)(signum, None)
        return gan_iteration(*args, **kwargs)

    monkeypatch.setattr(loop, "gan_iteration", signalled)
    handler = signal.getsignal(signum)
    with pytest.raises(KeyboardInterrupt):
        train(config, progress=False)
    assert iterations == [1, 2] and load_training_state(tmp_path / "b" / "run")["iteration"] == 2
    assert f"{signal.Signals(signum).name}: stopped after iteration 2" in capsys.readouterr().err
    assert signal.getsignal(signum) is handler  # restored
    monkeypatch.undo()
    resumed = train(config, resume=True, progress=False)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name


def test_a_time_budget_ends_the_session_with_a_checkpoint_and_resume_finishes(tmp_path):
    config = _config(tmp_path)
    with pytest.raises(ValueError, match=">= 0 seconds"):
        train(config, progress=False, stop_after_s=-1)
    train(config, progress=False, stop_after_s=0)  # out of time once the first iteration ends
    assert load_training_state(tmp_path / "run")["iteration"] == 1
    assert (tmp_path / "run" / "generator.safetensors").is_file()
    train(config, resume=True, progress=False, stop_after_s=3600)
    assert load_training_state(tmp_path / "run")["iteration"] == 6


def _resume_with_a_worker(tmp_path: str) -> None:
    tmp_path = Path(tmp_path)
    sharp = _dataset(tmp_path / "d") / "sharp"
    config = _config(
        tmp_path,
        "data.paired=[]",
        f"data.synthetic=[{sharp}]",
        "data.workers=1",
        "optim.iterations=2",
        "run.checkpoint_every=1",
    )
    train(config, progress=False, stop_at=1)
    train(config, resume=True, progress=False)


@pytest.mark.slow
def test_resume_with_on_the_fly_blur_in_a_worker_process(tmp_path):
    # Resuming uses OpenMP in the parent before the loader starts; a forked worker then hung
    # in numba's parallel kernel sampling. Workers are spawned now. The run has its own
    # interpreter: data-worker processes and two OpenMP runtimes stay out of the test process.
    code = "from tests.train.test_loop import _resume_with_a_worker as run; run({!r})"
    code = code.format(str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    state = torch.load(tmp_path / "run" / "checkpoints" / "latest.pt", weights_only=True)
    assert state["iteration"] == 2


def _records(run):
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def test_a_folder_holding_a_run_is_refused_unless_resume_or_overwrite(tmp_path):
    config = _config(tmp_path, "optim.iterations=3")
    train(config, progress=False)
    with pytest.raises(RunExistsError, match="--resume, choose a new run.dir, or .* --overwrite"):
        train(config, progress=False)
    stale = tmp_path / "run" / "checkpoints" / ".iter_00000003.0123456789ab.tmp.pt"
    stale.write_bytes(b"half")
    os.utime(stale, (1e9, 1e9))
    train(config, progress=False, overwrite=True)
    iterations = [r["iteration"] for r in _records(tmp_path / "run") if r["group"] == "train"]
    assert iterations == [1, 2, 3]  # the old run's records are gone, not duplicated
    assert not stale.exists()


def test_unreadable_training_files_are_reported_once_and_left_out(tmp_path, capsys):
    config = _config(
        tmp_path, "optim.iterations=4", "run.val_every=2", "data.max_unreadable=0.5"
    )  # writes the data
    data = tmp_path / "data"
    (data / "sharp" / "0.png").write_bytes(b"")  # found by the start-up header check
    full = (data / "blur" / "1.png").read_bytes()
    (data / "blur" / "1.png").write_bytes(full[:120])  # header intact: fails when decoded
    with pytest.warns(UserWarning, match="validation: skipped a pair"):
        train(config, progress=False)  # 3 pairs, 1 batch an epoch, 3 batches an iteration
    records = _records(tmp_path / "run")
    # Left out after its first failure: one file for the whole run, never counted again.
    assert {r.get("unreadable_files") for r in records if r["group"] == "train"} == {1}
    assert not any("skipped_samples" in r for r in records)
    assert all(r["skipped_pairs"] == 1 for r in records if r["group"] == "val")
    assert load_training_state(tmp_path / "run")["iteration"] == 4
    out = capsys.readouterr().out
    assert f"data: skipped: {data / 'sharp' / '0.png'}: empty file" in out
    left_out = [line for line in out.splitlines() if "left out for the rest of the run" in line]
    assert len(left_out) == 1 and f"{data / 'blur' / '1.png'}: corrupt or truncated" in left_out[0]


def test_too_much_unreadable_data_stops_the_run(tmp_path):
    config = _config(tmp_path, "optim.iterations=4")  # data.max_unreadable: 0.1
    data = tmp_path / "data"
    full = (data / "blur" / "1.png").read_bytes()
    (data / "blur" / "1.png").write_bytes(full[:120])  # 1 of 4 samples: 25%
    with pytest.raises(UnreadableDataError, match=r"1 of 4 training samples cannot be read \(dec"):
        train(config, progress=False)
    (data / "blur" / "1.png").write_bytes(b"")  # now found at start-up, in training and validation
    with pytest.raises(UnreadableDataError, match="data.max_unreadable=0.1"):
        train(config, progress=False, overwrite=True)


def test_a_run_started_with_relative_paths_resumes_from_another_folder(tmp_path, monkeypatch):
    start, elsewhere = tmp_path / "start", tmp_path / "elsewhere"
    _dataset(start / "f_data")
    elsewhere.mkdir()
    monkeypatch.chdir(start)
    options = [f"--set={item}" for item in ["data.paired=[f_data]", "data.val=[f_data]", *TINY]]
    assert main(["train", "-q", *options, "--set=run.dir=runs/f1", "--stop-at=3"]) == 0
    run = start / "runs" / "f1"
    saved = json.loads((run / "config.json").read_text())["data"]
    assert saved["paired"] == saved["val"] == [str(start / "f_data")]
    monkeypatch.chdir(elsewhere)
    assert main(["train", "-q", "--resume", str(run)]) == 0
    assert load_training_state(run)["iteration"] == 6
    assert not list(elsewhere.iterdir())


def _ddp_worker(rank, world, port, tmp_path):
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank),
    )
    torch.set_num_threads(1)
    config = _config(
        Path(tmp_path), "optim.iterations=2", "run.checkpoint_every=2", write_data=False
    )
    # Rank 0 is out of time after its first iteration, rank 1 never: both must stop there.
    generator = train(config, progress=False, stop_after_s=0 if rank == 0 else 3600)
    torch.save(generator.state_dict(), Path(tmp_path) / f"rank{rank}.pt")


# Two processes spawned from a separate interpreter, so that nothing of the test process
# (its output capture, libraries it loaded) is inherited, and a crash is reported, not fatal.
DDP_LAUNCH = """
import sys
import torch.multiprocessing as mp
from tests.train.test_loop import _ddp_worker
mp.spawn(_ddp_worker, args=(2, int(sys.argv[1]), sys.argv[2]), nprocs=2, join=True)
"""


@pytest.mark.slow
def test_two_process_ddp_on_cpu_keeps_ranks_identical_and_stops_them_together(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _dataset(tmp_path / "data", count=8)
    launch = [sys.executable, "-c", DDP_LAUNCH, str(port), str(tmp_path)]
    done = subprocess.run(launch, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    m = _config(tmp_path, write_data=False).model  # weights moved from the seeded start
    start = Generator(ngf=m.ngf, n_blocks=m.n_blocks, dropout=m.dropout)
    start = init_weights(start, generator=torch.Generator().manual_seed(0)).state_dict()
    assert start.keys() == rank0.keys()
    moved = [key for key in rank0 if not torch.allclose(rank0[key], start[key], atol=1e-7)]
    assert "head.weight" in moved and len(moved) > len(rank0) // 2
    assert load_training_state(tmp_path / "run")["iteration"] == 1
