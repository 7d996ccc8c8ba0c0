import json

import pytest

from deblurgan.data.manifest import OtherSettingsError, check_settings, read_manifest


def test_a_manifest_without_settings_is_refused_and_the_message_says_why(tmp_path):
    """Pairs of an earlier version recorded no settings: they are not taken as this run's."""
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"name": "a_000.png", "seed": [0, 1, 0]}))
    earlier = read_manifest(tmp_path)
    with pytest.raises(OtherSettingsError, match="an earlier version did not record them"):
        check_settings(tmp_path, earlier, {"seed": 0})
    check_settings(tmp_path, {}, {"seed": 0})  # an empty folder takes any settings


def test_the_keys_that_differ_are_named_in_order(tmp_path):
    earlier = {"a.png": {"name": "a.png", "settings": {"seed": 0, "kernel": {"size": 64}}}}
    with pytest.raises(OtherSettingsError, match=r"\(kernel.size, seed differ\)"):
        check_settings(tmp_path, earlier, {"seed": 1, "kernel": {"size": 32}})
    check_settings(tmp_path, earlier, {"seed": 0, "kernel": {"size": 64}})
