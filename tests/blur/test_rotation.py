import numpy as np

from deblurgan.blur.rotation import (
    RotationShake,
    blur_by_rotation,
    local_kernel,
    random_rotation_shake,
)
from deblurgan.deconv.blur_verdict import kernel_spread

SHAPE = (120, 160)


def test_a_still_camera_leaves_the_photo_unchanged():
    still = RotationShake(np.zeros(5), np.zeros(5), np.zeros(5), 160.0)
    image = np.random.default_rng(0).random((*SHAPE, 3)).astype(np.float32)
    assert np.abs(blur_by_rotation(image, still) - image).max() < 1e-4


def test_without_roll_every_point_has_about_the_same_kernel():
    rng = np.random.default_rng(1)
    shake = random_rotation_shake(rng, SHAPE, extent=8, roll_extent=0, focal_factor=3.0)
    centre = local_kernel(shake, SHAPE, (60, 80), 21)
    corner = local_kernel(shake, SHAPE, (5, 5), 21)
    assert np.isclose(centre.sum(), 1.0) and np.isclose(corner.sum(), 1.0)
    assert np.abs(centre - corner).sum() < 0.3  # a long lens: perspective barely matters
    wide = random_rotation_shake(np.random.default_rng(1), SHAPE, 8, 0, focal_factor=0.5)
    difference = local_kernel(wide, SHAPE, (60, 80), 21) - local_kernel(wide, SHAPE, (5, 5), 21)
    assert np.abs(difference).sum() > 0.3  # a wide lens stretches the corners' paths


def test_roll_blurs_the_corners_more_than_the_centre():
    shake = random_rotation_shake(np.random.default_rng(1), SHAPE, extent=2, roll_extent=20)
    centre = kernel_spread(local_kernel(shake, SHAPE, (60, 80), 31))
    corners = [kernel_spread(local_kernel(shake, SHAPE, p, 31)) for p in [(2, 2), (117, 157)]]
    assert min(corners) > 2 * centre


def test_the_blur_matches_the_local_kernel_at_the_centre():
    import cv2

    from deblurgan.blur.apply import blur_image

    rng = np.random.default_rng(2)
    image = cv2.GaussianBlur(rng.random(SHAPE).astype(np.float32), (0, 0), 2.0)[..., None]
    image = (image - image.min()) / (image.max() - image.min())
    shake = random_rotation_shake(rng, SHAPE, extent=6, roll_extent=12)
    kernel = local_kernel(shake, SHAPE, ((SHAPE[0] - 1) / 2, (SHAPE[1] - 1) / 2), 21)
    blurred = blur_by_rotation(image, shake, gamma=1.0)
    predicted = blur_image(image, kernel)
    centre = (slice(50, 70), slice(70, 90))
    model_error = np.abs(blurred[centre] - predicted[centre]).mean()
    assert model_error < 0.25 * np.abs(image[centre] - blurred[centre]).mean()
