import threading

import numpy as np
import pytest

from deblurgan.deconv.threads import PARALLEL_PIXELS, budget, by_rows, thread_budget


def bands_seen(rows: int, pixels: int) -> list[tuple[int, int, str]]:
    seen = []
    lock = threading.Lock()

    def task(first: int, stop: int) -> None:
        with lock:
            seen.append((first, stop, threading.current_thread().name))

    by_rows(task, rows, pixels)
    return sorted(seen)


def test_a_large_image_is_cut_into_one_band_per_thread_covering_every_row_once():
    with thread_budget(3):
        seen = bands_seen(100, PARALLEL_PIXELS)
    assert [(a, b) for a, b, _ in seen] == [(0, 33), (33, 67), (67, 100)]
    here = threading.current_thread().name
    assert sum(name == here for *_, name in seen) == 1  # the caller computes one band itself


def test_a_small_image_or_a_budget_of_one_is_one_band_in_the_calling_thread():
    here = threading.current_thread().name
    with thread_budget(2):
        assert bands_seen(100, PARALLEL_PIXELS - 1) == [(0, 100, here)]
    with thread_budget(1):
        assert bands_seen(100, PARALLEL_PIXELS) == [(0, 100, here)]
    with thread_budget(8):
        assert len(bands_seen(3, PARALLEL_PIXELS)) == 3  # never more bands than rows


def test_an_error_in_a_band_is_raised_after_every_band_has_finished():
    finished = []

    def task(first: int, stop: int) -> None:
        if first == 0:  # the caller's own band fails at once
            raise ValueError("bad band")
        threading.Event().wait(0.2)  # while a helper's band is still writing
        finished.append(first)

    with thread_budget(2), pytest.raises(ValueError, match="bad band"):
        by_rows(task, 10, PARALLEL_PIXELS)
    assert finished == [5]  # the helper's band had finished before the error came out


def test_the_budget_is_restored_after_its_block_even_on_error():
    before = budget()
    with pytest.raises(RuntimeError), thread_budget(1):
        assert budget() == 1
        raise RuntimeError
    assert budget() == before
    with thread_budget(0):
        assert budget() == 1  # at least one thread


def test_bands_write_the_same_array_as_one_pass():
    rng = np.random.default_rng(0)
    values = rng.random((700, 400)).astype(np.float32)
    out = np.empty_like(values)

    def square_root(first: int, stop: int) -> None:
        out[first:stop] = np.sqrt(values[first:stop])

    with thread_budget(2):
        by_rows(square_root, values.shape[0], values.size)
    assert np.array_equal(out, np.sqrt(values))
