import numpy as np
import pytest

from deblurgan.blur.apply import blur_image
from deblurgan.blur.camera import CameraEffects, boost_highlights, jpeg_roundtrip
from deblurgan.blur.scene import (
    SceneMotion,
    blur_extent,
    random_camera_path,
    synthesize_scene_pair,
)

STILL_CAMERA = dict(speed=(0.0, 0.0), rotation=0.0, zoom=0.0, perspective=0.0, acceleration=0.0)


def _translation(frames: int, speed: float) -> SceneMotion:
    """A pure camera translation at a fixed speed (random direction), nothing else moving."""
    return SceneMotion(
        **{**STILL_CAMERA, "speed": (speed, speed)},
        frames=(frames, frames),
        objects=(0, 0),
        still_fraction=0.0,
    )


def _image(shape=(48, 64, 3), seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def test_target_is_the_middle_sub_frame_the_input_itself():
    image = _image()
    pair = synthesize_scene_pair(image, np.random.default_rng(1), SceneMotion(objects=(0, 0)))
    assert np.array_equal(pair.sharp, image)
    n = pair.camera.shape[0]
    assert np.array_equal(pair.camera[n // 2], np.eye(3))
    assert not np.allclose(pair.blurred, image, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_no_motion_gives_output_equal_to_input_in_any_dtype(dtype):
    image = _image((20, 30, 3))
    if dtype != np.float32:
        image = np.rint(image * np.iinfo(dtype).max).astype(dtype)
    pair = synthesize_scene_pair(image, np.random.default_rng(0), SceneMotion(still_fraction=1.0))
    assert pair.blurred.dtype == pair.sharp.dtype == dtype
    assert np.array_equal(pair.sharp, image)
    if dtype == np.float32:  # decoded to linear light and back: float rounding only
        assert np.abs(pair.blurred - image).max() < 1e-6
    else:
        assert np.array_equal(pair.blurred, image)


def test_a_known_translation_gives_the_box_blur_averaged_in_linear_light():
    """1 px per sub-frame to the right over 7 sub-frames: a 7-tap horizontal box in linear light."""
    image = _image((40, 60, 3))
    motion = _translation(7, 1.0)
    rng = np.random.default_rng(0)
    pair = synthesize_scene_pair(image, rng, motion)
    direction = pair.record["direction"]
    shift = np.round([np.cos(direction), np.sin(direction)], 6)
    # the path's direction is random: check the blur against a line kernel along it
    assert np.allclose(
        pair.camera[:, :2, 2] - pair.camera[3, :2, 2],
        np.arange(-3, 4)[:, None] * shift[None],
        atol=1e-9,
    )
    kernel = np.zeros((9, 9))
    for t in range(-3, 4):  # content at p moves to p + t * shift: out(p) = mean x(p - t * shift)
        x, y = 4 + t * shift[0], 4 + t * shift[1]
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        fx, fy = x - x0, y - y0
        for dy, dx, w in (
            (0, 0, (1 - fx) * (1 - fy)),
            (0, 1, fx * (1 - fy)),
            (1, 0, (1 - fx) * fy),
            (1, 1, fx * fy),
        ):
            if w:
                kernel[y0 + dy, x0 + dx] += w / 7
    expected = blur_image(image, kernel, linear_light=True)
    inner = (slice(6, -6), slice(6, -6))
    assert np.abs(pair.blurred[inner] - expected[inner]).max() < 2e-3


def test_averaging_is_in_linear_light():
    """Half black, half white, moving across: the edge mixes to (1/2)^(1/2.2), not 1/2."""
    image = np.zeros((32, 32), np.float32)
    image[:, 16:] = 1.0
    motion = _translation(3, 20.0)
    for seed in range(20):  # a mostly horizontal direction shows the mix clearly
        pair = synthesize_scene_pair(image, np.random.default_rng(seed), motion)
        if abs(np.cos(pair.record["direction"])) > 0.99:
            break
    values = pair.blurred[16, 4:28]
    assert np.isclose(values, (1 / 3) ** (1 / 2.2), atol=0.02).any()  # 1 of 3 frames white
    assert np.isclose(values, (2 / 3) ** (1 / 2.2), atol=0.02).any()
    assert not np.isclose(values, 1 / 3, atol=0.02).any()


def test_moving_layers_change_only_their_region():
    image, source = _image(seed=0), _image((40, 40, 3), seed=5)
    motion = SceneMotion(objects=(1, 1), still_fraction=0.0, **STILL_CAMERA)
    pair = synthesize_scene_pair(image, np.random.default_rng(2), motion, layer_sources=(source,))
    assert len(pair.layers) == 1
    changed = np.abs(pair.blurred - image).max(axis=2) > 1e-5
    mask, path = pair.layers[0]
    assert changed.any()
    # every changed pixel lies where the layer passes during the exposure (its swept box)
    corners = np.argwhere(mask > 0)
    reach = np.abs(path[:, :2, 2]).max() + 2
    top, left = corners.min(axis=0) - reach
    bottom, right = corners.max(axis=0) + reach
    ys, xs = np.nonzero(changed)
    assert ys.min() >= top and ys.max() <= bottom and xs.min() >= left and xs.max() <= right
    assert not np.array_equal(pair.sharp, image)  # the layer is in the target at its t=0 place
    extents = blur_extent(pair, step=1)
    assert extents.max() > 0 and np.count_nonzero(extents) < extents.size  # background still


def test_same_seed_same_pair_and_different_seed_different_pair():
    image, effects = _image(), CameraEffects(0.5, noise_probability=1.0, jpeg_probability=1.0)
    a = synthesize_scene_pair(image, np.random.default_rng(7), effects=effects)
    b = synthesize_scene_pair(image, np.random.default_rng(7), effects=effects)
    c = synthesize_scene_pair(image, np.random.default_rng(8), effects=effects)
    assert np.array_equal(a.blurred, b.blurred) and a.record == b.record
    assert not np.array_equal(a.blurred, c.blurred)


def test_gray_images_and_layers_of_the_wrong_channel_count():
    gray = _image((30, 40))
    pair = synthesize_scene_pair(gray, np.random.default_rng(0))
    assert pair.blurred.shape == (30, 40)
    with pytest.raises(ValueError, match="channels"):
        synthesize_scene_pair(
            _image(),
            np.random.default_rng(0),
            SceneMotion(objects=(1, 1), still_fraction=0.0),
            layer_sources=(gray,),
        )
    with pytest.raises(ValueError, match="at least 2x2"):
        synthesize_scene_pair(np.zeros((1, 5)), np.random.default_rng(0))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"frames": (9, 3)}, "frames"),
        ({"frames": (0, 3)}, "frames"),
        ({"speed": (-1.0, 2.0)}, "speed"),
        ({"objects": (0, 1.5)}, "objects"),
        ({"object_size": (0.2, 1.5)}, "object_size"),
        ({"still_fraction": -0.1}, "still_fraction"),
        ({"rotation": -1.0}, "rotation"),
        ({"gamma": 0.0}, "gamma"),
    ],
)
def test_bad_motion_settings_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        SceneMotion(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"noise_probability": 2.0}, "noise_probability"),
        ({"highlight_gain": (0.5, 2.0)}, "highlight_gain"),
        ({"jpeg_quality": (50, 120)}, "jpeg_quality"),
    ],
)
def test_bad_effect_settings_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        CameraEffects(**kwargs)


def test_camera_path_is_the_identity_at_the_middle_and_smooth():
    times = np.arange(11) - 5
    homographies, record = random_camera_path(
        times, (100, 200), SceneMotion(), np.random.default_rng(3)
    )
    assert np.array_equal(homographies[5], np.eye(3))
    shifts = homographies[:, :2, 2]  # nearly quadratic in time: tiny third differences
    assert np.abs(np.diff(shifts, 3, axis=0)).max() < 1e-3 * np.abs(shifts).max()
    assert record["speed"] > 0


def test_highlights_are_boosted_only_where_clipped_and_jpeg_roundtrip_is_close():
    linear = np.array([[0.2, 1.0], [0.5, 0.99]], np.float32)[..., None].repeat(3, axis=2)
    boosted = boost_highlights(linear, 3.0)
    assert np.allclose(boosted[0, 0], 0.2) and np.allclose(boosted[0, 1], 3.0)
    assert np.allclose(boosted[1, 0], 0.5) and np.allclose(boosted[1, 1], 3.0)
    ramp = np.linspace(0, 1, 32, dtype=np.float32)
    image = np.stack(
        [
            ramp[None, :].repeat(32, 0),
            ramp[:, None].repeat(32, 1),
            np.full((32, 32), 0.5, np.float32),
        ],
        axis=2,
    )
    assert np.abs(jpeg_roundtrip(image, 95) - image).mean() < 0.01
    assert (
        np.abs(jpeg_roundtrip(image, 10) - image).mean()
        > np.abs(jpeg_roundtrip(image, 95) - image).mean()
    )
    assert jpeg_roundtrip(image[..., :1], 90).shape == (32, 32, 1)
