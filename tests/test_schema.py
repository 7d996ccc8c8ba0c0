import pytest

from deblurgan.data.recipe import BlurSettings
from deblurgan.schema import ConfigError, apply_overrides, from_dict


def test_a_setting_of_two_values_reads_a_colon_pair_in_overrides():
    """YAML 1.1 reads 7:13 as 433 (base 60); a two-value setting takes it as [7, 13]."""
    raw = apply_overrides(
        {},
        ["scene.frames=7:13", "scene.speed=0.1:2.5", "effects.jpeg_quality=[60, 90]"],
        BlurSettings,
    )
    assert raw == {
        "scene": {"frames": [7, 13], "speed": [0.1, 2.5]},
        "effects": {"jpeg_quality": [60, 90]},
    }
    settings = from_dict(BlurSettings, raw)
    assert settings.scene.frames == (7, 13) and settings.scene.speed == (0.1, 2.5)
    assert apply_overrides({}, ["kernel.preset=a:b"], BlurSettings) == {"kernel": {"preset": "a:b"}}


def test_a_two_value_setting_given_otherwise_names_the_accepted_forms():
    with pytest.raises(
        ConfigError, match=r"^scene.frames: expected a list \[A, B\] \(A:B in --set\), got 433$"
    ):
        from_dict(BlurSettings, {"scene": {"frames": 433}})
    with pytest.raises(ConfigError, match=r"^kernel.exposures: expected a list, got 'x'$"):
        from_dict(BlurSettings, {"kernel": {"exposures": "x"}})
