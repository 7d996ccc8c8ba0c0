import argparse

from deblurgan.cli import build_parser


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
