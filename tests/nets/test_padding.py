"""One padding rule for tensors and numpy arrays."""

import numpy as np
import pytest
import torch

from deblurgan.nets.padding import side_padding
from deblurgan.nets.tensors import crop_padding, pad_to_multiple


@pytest.mark.parametrize("sides", [(4, 8), (8, 16), (1, 1)])
@pytest.mark.parametrize("size", [(1, 1), (5, 7), (9, 3), (8, 12), (13, 6), (17, 40)])
def test_numpy_and_tensor_padding_agree_and_fit_the_network(size, sides):
    multiple, min_side = sides
    x = np.random.default_rng(0).random((3, *size), dtype=np.float32)
    rows, cols, mode = side_padding(*size, multiple, min_side)
    padded = np.pad(x, ((0, 0), rows, cols), mode=mode)
    assert padded.shape[1] % multiple == 0 and padded.shape[2] % multiple == 0
    assert min(padded.shape[1:]) >= min_side
    tensor, pads = pad_to_multiple(torch.from_numpy(x)[None], multiple, min_side)
    np.testing.assert_array_equal(padded, tensor[0].numpy())
    np.testing.assert_array_equal(crop_padding(tensor, pads)[0].numpy(), x)


def test_padding_is_split_between_both_sides():
    assert side_padding(10, 10, 8, 8) == ((3, 3), (3, 3), "reflect")
    assert side_padding(2, 20, 4, 8) == ((3, 3), (0, 0), "edge")  # 3 rows cannot mirror 2
