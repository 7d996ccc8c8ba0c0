import argparse

import numpy as np
import pytest
from PIL import Image

from deblurgan.cli import build_parser, main


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, action.choices


def test_every_option_has_help_and_shows_its_default():
    _, commands = _subparsers()
    for name, sub in commands.items():
        text = " ".join(sub.format_help().split())
        for action in sub._actions:
            assert action.help, (name, action.option_strings)
            if action.option_strings and action.default not in (None, False, "", argparse.SUPPRESS):
                assert "default" in sub._get_formatter()._get_help_string(action), (
                    name,
                    action.option_strings,
                )
        assert "%(default)" not in text


def test_command_summaries_are_whole_sentences():
    parser, commands = _subparsers()
    text = " ".join(parser.format_help().split())
    for name, sub in commands.items():
        assert sub.description.endswith("."), name
        assert sub.description in text, name  # not cut mid-sentence in the top-level help


def _option_help(command: str, option: str) -> str:
    _, commands = _subparsers()
    sub = commands[command]
    action = next(a for a in sub._actions if option in a.option_strings)
    return " ".join(sub._get_formatter()._get_help_string(action).split())


def test_reporting_commands_describe_their_fp32_default_not_auto_at_length():
    for command in ("evaluate", "detect-bench"):
        text = _option_help(command, "--precision")
        assert text.startswith("fp32 by default here") and "VNNI" not in text, command
    assert "VNNI/AMX" in _option_help("deblur", "--precision")  # deblur's default is auto


def test_resume_help_names_exactly_the_keys_resume_accepts():
    from deblurgan.train.config import RESUMABLE_CHANGES

    text = _option_help("train", "--resume")
    named = text.split("only ")[1].split(" may change")[0].split(", ")
    assert sorted(named) == sorted(RESUMABLE_CHANGES)


def test_suffix_help_says_that_earlier_outputs_are_skipped():
    assert "skips inputs whose output already exists" in _option_help("deblur", "--suffix")


def test_a_pixel_limit_that_is_not_a_number_is_named(capsys):
    with pytest.raises(SystemExit):
        main(["deblur", "x.png", "-o", "out", "--max-pixels", "abc"])
    err = capsys.readouterr().err
    assert "--max-pixels: expected a number of pixels" in err and "_pixels" not in err


def test_quiet_hides_what_its_help_says_and_no_more(tmp_path, capsys):
    assert _option_help("deblur", "-q").startswith(
        "no progress bars, and the summary (counts, decided and note lines) only if something "
        "failed"
    )
    checker = (np.indices((64, 64)).sum(0) // 8 % 2 * 200 + 20).astype(np.uint8)
    Image.fromarray(checker).save(tmp_path / "sharp.png")  # auto returns it unchanged
    argv = ["-o", str(tmp_path / "out"), "-q"]
    assert main(["deblur", str(tmp_path / "sharp.png"), *argv]) == 0
    assert capsys.readouterr() == ("", "")  # no bars, no summary
    (tmp_path / "empty.png").write_bytes(b"")
    inputs = [str(tmp_path / "sharp.png"), str(tmp_path / "empty.png")]
    assert main(["deblur", *inputs, *argv, "--overwrite"]) == 1
    err = capsys.readouterr().err
    assert (
        "1 written, 0 skipped, 1 failed" in err
        and "decided " in err
        and "sharp.png: no blur found" in err
    )
