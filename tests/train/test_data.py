import os
import subprocess
import sys
import zlib
from collections import Counter

import numpy as np
import pytest
import torch
from PIL import Image

from deblurgan.blur.scene import SceneMotion
from deblurgan.data.pairs import find_paired
from deblurgan.data.recipe import BlurSettings, KernelBlur
from deblurgan.train.config import DataConfig
from deblurgan.train.data import (
    DataSourceError,
    EpochPlan,
    TrainingPairs,
    UnreadableDataError,
    UnreadableFiles,
    collate_samples,
    gather_pairs,
)


def _save(path, size=(40, 50)):
    rng = np.random.default_rng(zlib.crc32(str(path).encode()))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)


def test_epoch_plan_is_deterministic_sharded_and_keeps_the_ratio():
    plan = EpochPlan(n_real=10, n_synthetic=7, ratio=2.0, seed=3, batch_size=2)
    epoch = [k for b in range(plan.batches_per_epoch) for k in plan.batch(b)]
    assert len(epoch) == 30  # 10 real + 20 synthetic, all whole batches
    kinds = Counter("real" if i < 10 else "synthetic" for i, _ in epoch)
    assert kinds == {"real": 10, "synthetic": 20}
    again = EpochPlan(10, 7, 2.0, 3, 2)
    assert [again.batch(b) for b in range(5)] == [plan.batch(b) for b in range(5)]
    assert plan.batch(0) != plan.batch(plan.batches_per_epoch)  # next epoch: new order
    ranks = [EpochPlan(10, 7, 2.0, 3, 2, rank=r, world=2) for r in range(2)]
    shards = [{k for b in range(p.batches_per_epoch) for k in p.batch(b)} for p in ranks]
    assert not shards[0] & shards[1] and len(shards[0] | shards[1]) == 28


def test_training_pairs_crop_flip_and_synthetic_blur_are_seeded(tmp_path):
    _save(tmp_path / "blur" / "a.png", (40, 50))
    _save(tmp_path / "sharp" / "a.png", (40, 50))
    _save(tmp_path / "photos" / "p.png", (20, 30))  # smaller than the crop: mirrored up
    pairs, _ = find_paired(tmp_path)
    config = DataConfig(crop=32, blur=BlurSettings(kernel=KernelBlur(kernel_size=33)))
    dataset = TrainingPairs(pairs, [tmp_path / "photos" / "p.png"], config)
    blurred, sharp, found = dataset[(0, 123)]
    assert found == ()
    assert (
        blurred.shape == sharp.shape == (3, 32, 32) and blurred.min() >= -1 and blurred.max() <= 1
    )
    assert torch.equal(dataset[(0, 123)][0], blurred)
    assert not torch.equal(dataset[(0, 124)][0], blurred)
    syn_blurred, syn_sharp, _ = dataset[(1, 5)]
    assert syn_blurred.shape == (3, 32, 32)
    assert syn_blurred.std() < syn_sharp.std()  # blurring removes contrast from noise
    assert torch.equal(dataset[(1, 5)][0], syn_blurred)


def test_scene_mode_samples_are_seeded_and_use_other_sources_for_moving_layers(tmp_path):
    for name in ("p.png", "q.png"):
        _save(tmp_path / "photos" / name, (60, 70))
    blur = BlurSettings(
        weights={"kernel": 0.0, "scene": 1.0}, scene=SceneMotion(still_fraction=0.0, objects=(1, 1))
    )
    sources = sorted((tmp_path / "photos").iterdir())
    dataset = TrainingPairs([], sources, DataConfig(crop=32, blur=blur))
    blurred, sharp, _ = dataset[(0, 9)]
    assert blurred.shape == sharp.shape == (3, 32, 32)
    assert torch.equal(dataset[(0, 9)][0], blurred) and not torch.equal(blurred, sharp)


WORKER_THREADS = """
import cv2, numba, torch
from threadpoolctl import threadpool_info
from deblurgan.train.data import limit_worker_threads
limit_worker_threads(0)
pools = [pool["num_threads"] for pool in threadpool_info()]
print(torch.get_num_threads(), cv2.getNumThreads(), numba.get_num_threads(), max(pools, default=1))
"""


def test_data_workers_run_on_one_thread_each():
    env = {**os.environ, "OMP_NUM_THREADS": "2", "NUMBA_NUM_THREADS": "2"}
    out = subprocess.run(
        [sys.executable, "-c", WORKER_THREADS], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert out.split() == ["1", "1", "1", "1"]


def _sources_with_a_truncated_file(photos):
    photos.mkdir()
    for i, name in enumerate(("a.png", "b.png", "c.png")):
        Image.fromarray(np.full((40, 40, 3), 60 * (i + 1), np.uint8)).save(photos / name)
    full = (photos / "a.png").read_bytes()
    (photos / "a.png").write_bytes(full[:60])  # the header passes, decoding fails
    return sorted(photos.iterdir())


def test_a_file_that_fails_to_decode_is_replaced_by_the_next_sample(tmp_path):
    sources = _sources_with_a_truncated_file(tmp_path / "photos")
    dataset = TrainingPairs([], sources, DataConfig(crop=32))
    blurred, sharp, found = dataset[(0, 3)]
    ((index, cause),) = found
    assert index == 0 and f"{sources[0]}: corrupt or truncated" in cause
    assert torch.equal(dataset[(1, 3)][1], sharp) and dataset[(1, 3)][2] == ()


def test_an_unreadable_file_is_decoded_once_and_reported_once(tmp_path, monkeypatch):
    import deblurgan.train.data as data_module

    sources = _sources_with_a_truncated_file(tmp_path / "photos")
    reads = Counter()
    read_image = data_module.read_image

    def counting_read(path, *args, **kwargs):
        reads[path] += 1
        return read_image(path, *args, **kwargs)

    monkeypatch.setattr(data_module, "read_image", counting_read)
    plan = EpochPlan(n_real=0, n_synthetic=3, ratio=1.0, seed=5, batch_size=1)
    keys = [key for number in range(4 * plan.batches_per_epoch) for key in plan.batch(number)]
    dataset = TrainingPairs([], sources, DataConfig(crop=32))
    samples = [dataset[key] for key in keys]  # four epochs
    assert reads[sources[0]] == 1 and dataset.unreadable.keys() == {0}
    assert sum(len(found) for _, _, found in samples) == 1
    fresh = TrainingPairs([], sources, DataConfig(crop=32))  # another worker: same samples
    for key, (blurred, sharp, _) in zip(keys, samples):
        again = fresh[key]
        assert torch.equal(again[0], blurred) and torch.equal(again[1], sharp)
    batch = collate_samples(samples[:3])
    assert batch[0].shape == (3, 3, 32, 32) and len(batch[2]) == sum(len(s[2]) for s in samples[:3])


def test_unreadable_files_are_reported_once_and_too_many_stop(tmp_path):
    lines = []
    unreadable = UnreadableFiles(total=20, limit=0.1, report=lines.append)
    unreadable.add([(3, "x.png: corrupt")])
    unreadable.add([(3, "x.png: corrupt"), (4, "y.png: corrupt")])
    assert len(unreadable) == 2 and lines == [
        "data: left out for the rest of the run: x.png: corrupt",
        "data: left out for the rest of the run: y.png: corrupt",
    ]
    with pytest.raises(UnreadableDataError, match="3 of 20 training samples cannot be read"):
        unreadable.add([(5, "z.png: corrupt")])


def test_a_crop_larger_than_a_training_image_is_refused_naming_the_smallest(tmp_path):
    for name, size in (("a.png", (40, 50)), ("b.png", (36, 70))):
        _save(tmp_path / "pairs" / "blur" / name, size)
        _save(tmp_path / "pairs" / "sharp" / name, size)
    _save(tmp_path / "aligned" / "c.png", (60, 68))  # two halves of 60x34
    paired = DataConfig(paired=(str(tmp_path / "pairs"),), val_fraction=0.0, crop=36)
    real, _, _, _ = gather_pairs(paired)  # every side at least 36: fine
    assert len(real) == 2
    both = DataConfig(paired=paired.paired, aligned=(str(tmp_path / "aligned"),), crop=37)
    expected = "data.crop=37 is larger than 2 of the 3 training images; the smallest, "
    with pytest.raises(
        ValueError, match=expected + ".*c.png, is 34x60: set data.crop to at most 34"
    ):
        gather_pairs(both)
    halved = DataConfig(paired=paired.paired, val_fraction=0.0, crop=19, downscale=True)
    expected = "after data.downscale halves them; the smallest, .*b.png, is 35x18: set data.crop"
    with pytest.raises(ValueError, match=expected + " to at most 18"):
        gather_pairs(halved)
    _save(tmp_path / "photos" / "p.png", (30, 80))
    synthetic = DataConfig(synthetic=(str(tmp_path / "photos"),), crop=32)
    with pytest.raises(ValueError, match="larger than 1 of the 1 training images"):
        gather_pairs(synthetic)


def test_a_synthetic_crop_of_an_image_at_least_as_large_holds_only_real_pixels(tmp_path):
    # The crop's margin (crop / 4 each side, for the blur) may be mirrored, never the crop.
    path = tmp_path / "p.png"
    _save(path, (33, 47))  # below crop + 2 margins (48) both ways
    source = np.asarray(Image.open(path), np.float32) / 127.5 - 1
    dataset = TrainingPairs([], [path], DataConfig(crop=32, flip=False))
    for seed in range(6):
        sharp = dataset[(0, seed)][1].permute(1, 2, 0).numpy()
        windows = np.lib.stride_tricks.sliding_window_view(source, (32, 32, 3))
        error = np.abs(windows[..., 0, :, :, :] - sharp).max(axis=(-3, -2, -1))
        assert error.min() < 1e-5, seed


def test_data_source_errors_name_the_key_and_say_what_is_missing(tmp_path):
    for name in ("a.png", "b.png", "c.png"):  # crc32 % 10000: 7247, 7695, 5423
        _save(tmp_path / "pairs" / "blur" / name)
        _save(tmp_path / "pairs" / "sharp" / name)
    pairs = (str(tmp_path / "pairs"),)
    took_all = r"hold-out \(data.val_fraction=0.8\) took all 3 of the 3 pairs found; lower"
    with pytest.raises(DataSourceError, match=took_all):
        gather_pairs(DataConfig(paired=pairs, val_fraction=0.8, crop=32))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataSourceError, match=f"data.val: {tmp_path / 'empty'} holds no valid"):
        gather_pairs(DataConfig(paired=pairs, val=(str(tmp_path / "empty"),), crop=32))
    missing = tmp_path / "missing"
    for key in ("paired", "aligned", "synthetic", "val"):
        with pytest.raises(DataSourceError, match=f"^data.{key}: {missing}: no such folder$"):
            gather_pairs(DataConfig(**{key: (str(missing),)}))
    with pytest.raises(DataSourceError, match=f"^data.lists: {missing}: No such file or direc"):
        gather_pairs(DataConfig(lists=(str(missing),)))
