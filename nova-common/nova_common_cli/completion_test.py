"""The generated completion script, run by bash: which options take a value and which do not.

A flag (``store_true``, ``nargs=0``) takes no value, so the word after it is a command or an
option; an option with ``nargs=1`` (or the default) takes one, so the word after it is its value
(file names, or its choices). The parser here is built for that space; the programs' own parsers
are exercised in their ``cli_conventions_test.py``.
"""

from __future__ import annotations

import argparse
import os
import subprocess

import pytest

from nova_common_cli.completion import add_completion_command, completion_script


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="demo")
    parser.add_argument("-v", "--verbose", action="store_true")  # nargs=0: a flag
    parser.add_argument("--count", nargs=1)  # nargs=1: one value
    parser.add_argument("--repo")  # nargs=None: one value
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run")
    run.add_argument("--dry-run", action="store_true")
    run.add_argument("--level", choices=["low", "high"])
    sub.add_parser("stop")
    add_completion_command(sub, "demo")
    return parser


def _complete(*words: str) -> list[str]:
    """What bash offers after ``words`` (the last one is the word being typed)."""
    program = (
        completion_script(_parser(), "bash")
        + f"\nCOMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        + "_demo_complete\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("BASH_ENV", "ENV")}  # read by a non-interactive bash
    proc = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True, check=True, env=env)
    return sorted(filter(None, proc.stdout.splitlines()))


def test_after_a_flag_come_commands_not_a_value() -> None:
    assert _complete("demo", "--verbose", "") == ["completion", "run", "stop"]
    assert _complete("demo", "--verbose", "ru") == ["run"]
    # the flag does not hide the command after it: run's choices are still completed
    assert _complete("demo", "--verbose", "run", "--level", "") == ["high", "low"]
    assert _complete("demo", "run", "--dry-run", "--") == ["--dry-run", "--help", "--level"]  # (-h is not a --word)


@pytest.mark.parametrize("option", ["--count", "--repo"])
def test_after_an_option_that_takes_a_value_comes_its_value(option: str) -> None:
    assert _complete("demo", option, "") == []  # a free value: the shell's own file names
    assert _complete("demo", option, "ru") == []  # not the command 'run'
    # the value is skipped, not read as a command: the path stays at the top
    assert _complete("demo", option, "stop", "r") == ["run"]
    assert _complete("demo", option, "x", "run", "--level", "h") == ["high"]


def test_the_completion_command_completes_its_shells() -> None:
    assert _complete("demo", "completion", "") == ["bash", "zsh"]
    assert _complete("demo", "--verbose", "completion", "z") == ["zsh"]


def test_options_are_offered_in_their_long_form_and_help_as_h() -> None:
    assert _complete("demo", "-") == ["--count", "--help", "--repo", "--verbose", "-h"]  # not -v
    assert _complete("demo", "-v", "") == ["completion", "run", "stop"]  # still a flag


def test_the_zsh_script_completes_on_its_first_autoloaded_call() -> None:
    lines = completion_script(_parser(), "zsh").splitlines()
    assert lines[0] == "#compdef demo"  # what compinit reads in $fpath
    assert lines[2] == "autoload -U +X bashcompinit && bashcompinit"
    # autoloaded from $fpath, the file's first run defines the function: it must complete then too
    assert lines[-1] == '[[ ${funcstack[1]-} == _demo ]] && _bash_complete -F _demo_complete "$@"'
    assert "[[ ${funcstack" not in completion_script(_parser(), "bash")
