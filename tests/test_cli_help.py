"""`--help` says what every flag does and what it defaults to, so README and --help can agree."""

from __future__ import annotations

import argparse

import pytest

from conformance.cli.main import parser


def _subcommands() -> list[tuple[str, argparse.ArgumentParser]]:
    out = []
    for action in parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append((name, sub))
                for nested in sub._actions:
                    if isinstance(nested, argparse._SubParsersAction):
                        out += [(f"{name} {n}", s) for n, s in nested.choices.items()]
    return out


@pytest.mark.parametrize(("name", "sub"), _subcommands(), ids=[n for n, _ in _subcommands()])
def test_every_flag_has_help_and_names_its_default(name: str, sub: argparse.ArgumentParser) -> None:
    for action in sub._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) or action.help == argparse.SUPPRESS:
            continue
        assert action.help, f"{name} {action.option_strings or action.dest}: no help text"
        default = action.default
        if action.option_strings and default not in (None, False, [], argparse.SUPPRESS):
            assert "default" in action.help.lower(), f"{name} {action.option_strings}: help does not name its default"
