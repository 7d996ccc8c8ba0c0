import numpy as np

from deblurgan.deconv.estimation_region import automatic_kernel_size, edge_window, kernel_size_limit


def test_automatic_kernel_size_is_odd_and_fits():
    for shape in [(255, 255), (720, 1280), (3000, 4000), (40, 60), (9, 2000)]:
        size = automatic_kernel_size(*shape)
        assert size % 2 == 1 and size >= 3 and (size <= min(shape) // 7 or size == 3)


def test_edge_window_finds_the_textured_corner():
    image = np.zeros((100, 120), np.float32)
    image[60:, 80:] = np.random.default_rng(0).random((40, 40))
    y, x = edge_window(image, 40)
    assert (y, x) == (60, 80)


def test_the_kernel_size_limit_is_a_seventh_of_the_shorter_side_and_odd():
    assert [kernel_size_limit(h, w) for h, w in [(70, 700), (77, 77), (84, 84), (10, 10)]] == [
        9, 11, 11, 3,
    ]  # fmt: skip
