from collections import Counter

import numpy as np
import torch
from PIL import Image

from deblurgan.blur.scene import SceneMotion
from deblurgan.data.pairs import find_paired
from deblurgan.data.recipe import BlurSettings, KernelBlur
from deblurgan.train.config import DataConfig
from deblurgan.train.data import EpochPlan, TrainingPairs

RNG = np.random.default_rng(0)


def _save(path, size=(40, 50)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(RNG.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)


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


def test_scene_mode_samples_are_seeded_and_use_other_sources_for_moving_layers(tmp_path):
    for name in ("p.png", "q.png"):
        _save(tmp_path / "photos" / name, (60, 70))
    blur = BlurSettings(kernel_weight=0.0, scene_weight=1.0,
                        scene=SceneMotion(still_fraction=0.0, objects=(1, 1)))  # fmt: skip
    sources = sorted((tmp_path / "photos").iterdir())
    dataset = TrainingPairs([], sources, DataConfig(crop=32, blur=blur))
    blurred, sharp = dataset[(0, 9)]
    assert blurred.shape == sharp.shape == (3, 32, 32)
    assert torch.equal(dataset[(0, 9)][0], blurred) and not torch.equal(blurred, sharp)
