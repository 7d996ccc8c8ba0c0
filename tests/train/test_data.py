from collections import Counter

import numpy as np
import pytest
import torch
from PIL import Image

from deblurgan.train.config import DataConfig
from deblurgan.train.data import (
    EpochPlan,
    Pair,
    TrainingPairs,
    find_aligned,
    find_paired,
    load_pair,
    read_pair_list,
    split_validation,
)

RNG = np.random.default_rng(0)


def _save(path, size=(40, 50)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(RNG.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)


def test_gopro_layout_pairs_and_reports_missing_partners(tmp_path):
    for scene in ("GOPR0001", "GOPR0002"):
        for name in ("a.png", "b.png"):
            _save(tmp_path / scene / "blur" / name)
            _save(tmp_path / scene / "sharp" / name)
    _save(tmp_path / "GOPR0002" / "blur" / "orphan.png")
    _save(tmp_path / "GOPR0002" / "sharp" / "lonely.png")
    _save(tmp_path / "GOPR0003" / "blur_gamma" / "g.png")
    _save(tmp_path / "GOPR0003" / "sharp" / "g.png")
    pairs, problems = find_paired(tmp_path)
    assert len(pairs) == 5
    assert all(p.sharp.parent.name == "sharp" and p.sharp.name == p.blurred.name for p in pairs)
    assert any("orphan.png: no sharp partner" in m for m in problems)
    assert any("lonely.png: no blurred partner" in m for m in problems)


def test_empty_root_is_a_problem_not_silence(tmp_path):
    assert find_paired(tmp_path) == ([], [f"{tmp_path}: no blur/ and sharp/ folders found"])
    with pytest.raises(FileNotFoundError):
        find_paired(tmp_path / "missing")


def test_aligned_images_split_in_halves(tmp_path):
    left, right = np.zeros((8, 6, 3), np.uint8), np.full((8, 6, 3), 255, np.uint8)
    Image.fromarray(np.concatenate([left, right], axis=1)).save(tmp_path / "ab.png")
    (pair,) = find_aligned(tmp_path)
    blurred, sharp = load_pair(pair)
    assert blurred.shape == sharp.shape == (8, 6, 3)
    assert blurred.max() == 0 and sharp.min() == 1


def test_pair_list_with_comments_and_problems(tmp_path):
    _save(tmp_path / "x_blur.png")
    _save(tmp_path / "x_sharp.png")
    (tmp_path / "pairs.txt").write_text(
        "# blurred sharp\nx_blur.png x_sharp.png\nx_blur.png gone.png\nonly-one\n"
    )
    pairs, problems = read_pair_list(tmp_path / "pairs.txt")
    assert pairs == [Pair(tmp_path / "x_blur.png", tmp_path / "x_sharp.png")]
    assert "pairs.txt:3: missing" in problems[0] and "pairs.txt:4: expected" in problems[1]


def test_mismatched_sizes_are_refused(tmp_path):
    _save(tmp_path / "a.png", (10, 10))
    _save(tmp_path / "b.png", (10, 12))
    with pytest.raises(ValueError, match="differs"):
        load_pair(Pair(tmp_path / "a.png", tmp_path / "b.png"))


def test_validation_split_is_deterministic_by_name():
    pairs = [Pair(__import__("pathlib").Path(f"/d/blur/{i:04d}.png")) for i in range(400)]
    train, val = split_validation(pairs, 0.25)
    assert len(train) + len(val) == 400 and 60 < len(val) < 140
    assert split_validation(list(reversed(pairs)), 0.25)[1] == list(reversed(val))


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
    config = DataConfig(crop=32, kernel_size=33)
    dataset = TrainingPairs(pairs, [tmp_path / "photos" / "p.png"], config)
    blurred, sharp = dataset[(0, 123)]
    assert (
        blurred.shape == sharp.shape == (3, 32, 32) and blurred.min() >= -1 and blurred.max() <= 1
    )
    assert torch.equal(dataset[(0, 123)][0], blurred)
    assert not torch.equal(dataset[(0, 124)][0], blurred)
    syn_blurred, syn_sharp = dataset[(1, 5)]
    assert syn_blurred.shape == (3, 32, 32)
    assert syn_blurred.std() < syn_sharp.std()  # blurring removes contrast from noise
    assert torch.equal(dataset[(1, 5)][0], syn_blurred)
