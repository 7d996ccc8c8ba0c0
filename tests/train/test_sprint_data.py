import numpy as np
import pytest
import torch

from deblurgan.train.sprint_data import (
    Mix,
    Pack,
    SprintBatches,
    gather_crops,
    load_pack,
    split_batch,
)
from tests.train.tiny_pack import write_tiny_pack


def test_gather_crops_is_slicing_with_flips_and_transposes():
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (3, 10, 12, 3), dtype=torch.uint8, generator=g)
    index, top, left = (
        torch.tensor([2, 0, 1, 2]),
        torch.tensor([1, 0, 5, 3]),
        torch.tensor([4, 0, 2, 6]),
    )
    flips = torch.tensor([[0, 0, 0], [1, 0, 0], [0, 1, 1], [1, 1, 1]], dtype=torch.bool)
    crops = gather_crops(images, index, top, left, 5, flips)
    for b in range(4):
        ref = images[index[b], top[b] : top[b] + 5, left[b] : left[b] + 5].permute(2, 0, 1)
        if flips[b, 0]:
            ref = ref.flip(1)
        if flips[b, 1]:
            ref = ref.flip(2)
        if flips[b, 2]:
            ref = ref.transpose(1, 2)
        assert torch.equal(crops[b], ref.float() / 255)


def test_split_batch_keeps_the_total_and_the_shares():
    assert split_batch(10, (1, 1, 1)) == [4, 3, 3]
    assert split_batch(8, (0, 1, 3)) == [0, 2, 6]
    assert sum(split_batch(7, (0.3, 0.2, 0.5))) == 7


def test_batches_mix_real_and_synthetic_pairs_in_range(tmp_path):
    pack = load_pack(write_tiny_pack(tmp_path))
    assert pack.photos.shape == (4, 48, 48, 3) and pack.real_blur.shape == (2, 40, 40, 3)
    assert set(pack.eval_sets) == {"set_a", "set_b"} and len(pack.eval_sets["set_a"]) == 2
    # Real pairs are recognisable: all-black blurred images with all-white sharp ones.
    pack.real_blur.zero_()
    pack.real_sharp.fill_(255)
    mix = Mix(kernel_size=9, scene_frames=3, scene_margin=4)
    batches = SprintBatches(pack, 6, 32, mix, torch.Generator().manual_seed(0))
    assert batches.counts == [2, 2, 2]
    blurred, sharp = batches()
    assert blurred.shape == sharp.shape == (6, 3, 32, 32)
    assert torch.equal(blurred[:2], -torch.ones(2, 3, 32, 32))
    assert torch.equal(sharp[:2], torch.ones(2, 3, 32, 32))
    assert blurred.min() >= -1 and blurred.max() <= 1
    assert not torch.equal(blurred[2:], sharp[2:])
    again = SprintBatches(pack, 6, 32, mix, torch.Generator().manual_seed(0))()
    assert torch.equal(again[0], blurred)


def test_too_small_tiles_and_missing_packs_are_refused(tmp_path):
    pack = load_pack(write_tiny_pack(tmp_path))
    with pytest.raises(ValueError, match="smaller than crop 44"):
        SprintBatches(pack, 2, 44, Mix(kernel_size=9), torch.Generator())
    with pytest.raises(FileNotFoundError, match="build_sprint_pack"):
        load_pack(tmp_path / "nothing")
    with pytest.raises(ValueError, match="odd"):
        Mix(scene_frames=4)


def test_a_pack_without_real_pairs_draws_synthetic_ones_only():
    photos = torch.from_numpy(np.full((2, 40, 40, 3), 128, np.uint8))
    empty = torch.zeros(0, 1, 1, 3, dtype=torch.uint8)
    pack = Pack(empty, empty, photos, {}, {})
    batches = SprintBatches(pack, 4, 24, Mix(kernel_size=5, scene_margin=2), torch.Generator())
    assert batches.counts == [0, 2, 2]
    assert batches()[0].shape == (4, 3, 24, 24)
