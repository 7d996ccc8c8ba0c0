"""The network's time estimate: the cost model, the route a photo takes (whole or tiles),
and speeds fitted from two check images."""

import time

import numpy as np
import pytest

from deblurgan.inference.deblurrer import Deblurrer
from deblurgan.serve.estimate import Speed, forced_route, measure_speed, photo_route


def test_speed_predicts_and_learns_from_a_photo():
    speed = Speed(overhead_s=2.0, pixels_per_s=1e6)
    assert speed.seconds(12_000_000) == pytest.approx(14.0)
    learned = speed.learned(12_000_000, 26.0)  # twice as slow as thought on this photo
    assert learned.pixels_per_s == pytest.approx(5e5) and learned.overhead_s == 2.0
    assert learned.seconds(12_000_000) == pytest.approx(26.0)


class Timed:
    """Sleeps ``overhead + pixels / rate`` seconds."""

    def __init__(self, overhead, rate):
        self.overhead, self.rate = overhead, rate

    def __call__(self, rgb):
        time.sleep(self.overhead + rgb.shape[0] * rgb.shape[1] / self.rate)
        return rgb


def test_two_check_images_give_the_overhead_and_the_rate():
    speed = measure_speed(Timed(0.3, 400_000), "whole", (3000, 4000))
    assert speed.pixels_per_s == pytest.approx(400_000, rel=0.25)
    assert speed.overhead_s == pytest.approx(0.3, abs=0.15)
    assert speed.seconds(12_000_000) == pytest.approx(30.3, rel=0.25)  # 12 MP from 0.26 MP


def test_large_photos_take_the_tiles_route_and_the_checks_are_made_to_take_it(tiny_generator):
    deblurrer = Deblurrer(tiny_generator, precision="fp32", backend="torch", max_memory=2**30)
    assert photo_route(deblurrer, 600, 800) == "whole"
    assert photo_route(deblurrer, 6000, 8000) == "tiles"
    assert photo_route(lambda rgb: rgb, 6000, 8000) == "whole"  # unknown methods: whole
    with forced_route(deblurrer, "tiles", (6000, 8000)) as run:
        assert run is deblurrer and run.plan(64, 64)[0] == 256  # the check is tiled
        check = np.full((64, 64, 3), 0.5, np.float32)
        assert run(check).shape == check.shape
    assert deblurrer.tile is None and deblurrer.plan(64, 64)[0] is None  # as it was
