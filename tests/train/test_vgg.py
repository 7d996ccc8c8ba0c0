import numpy as np
import pytest
import torch
from skimage import data

from deblurgan.blur import blur_image
from deblurgan.train.vgg import VGGWeightsError, load_vgg19_conv33


@pytest.fixture(scope="module")
def vgg():
    return load_vgg19_conv33()


def _tensor(image):
    return torch.from_numpy(image).permute(2, 0, 1)[None].float() * 2 - 1


def test_real_weights_respond_monotonically_to_blur_strength(vgg):
    photo = data.astronaut()[::2, ::2].astype(np.float32) / 255
    reference = vgg(_tensor(photo))
    distances = []
    for length in (1, 3, 7, 13, 21):
        kernel = np.zeros((length, length))
        kernel[length // 2] = 1 / length
        distances.append(float(((vgg(_tensor(blur_image(photo, kernel))) - reference) ** 2).mean()))
    assert distances[0] == 0
    assert all(a < b for a, b in zip(distances, distances[1:]))


def test_features_are_frozen_and_stay_in_eval_mode(vgg):
    vgg.train()
    assert not vgg.training
    assert not any(p.requires_grad for p in vgg.parameters())
    out = vgg(torch.zeros(1, 3, 32, 24))
    assert out.shape == (1, 256, 8, 6) and out.min() >= 0  # after relu3_3


def test_torchvision_format_state_dict_loads(tmp_path, vgg):
    torch.save(
        {f"features.{k.split('.', 1)[1]}": v for k, v in vgg.state_dict().items()}
        | {"classifier.0.weight": torch.zeros(1)},
        tmp_path / "vgg19.pth",
    )
    other = load_vgg19_conv33(tmp_path / "vgg19.pth")
    assert other.convention == "torchvision"
    for a, b in zip(vgg.features.parameters(), other.features.parameters()):
        assert torch.equal(a, b)


def test_missing_or_wrong_weights_are_refused(tmp_path):
    with pytest.raises(VGGWeightsError, match="cannot read"):
        load_vgg19_conv33(tmp_path / "nope.pth")
    torch.save({"features.0.weight": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(VGGWeightsError, match="do not fit"):
        load_vgg19_conv33(tmp_path / "bad.pth")
