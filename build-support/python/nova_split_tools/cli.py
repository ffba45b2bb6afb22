"""``nova-split``: the single entry point of the repository tooling.

Each subcommand lives in its own module with ``add_arguments(parser)`` and
``run(args) -> int``; this module only dispatches and applies the conventions of docs/cli.md:
global options before or after the subcommand, ``--version``, plain help, ``completion``, and
one error handler: a :class:`ToolError` is one line on stderr and its exit code (2: could not
run; :class:`CheckFailed`: 1), an ``OSError`` (a path the machine refuses) is one line and 2,
SIGINT, SIGTERM and SIGHUP (the terminal closed; not under ``nohup``) exit 130 after cleaning up,
anything else keeps its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from nova_common_cli.args import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_UNUSABLE,
    GlobalOptions,
    Terminated,
    plain,
    prepare_stdout,
    quiet_signal_races,
    stdout_to_devnull,
    terminate_as_exception,
    to_devnull,
)
from nova_common_cli.completion import add_completion_command, completion_script
from nova_split_tools import (
    api_gate_cmd,
    audit_cmd,
    bench_clone_cmd,
    bench_cmd,
    bench_export_cmd,
    ci_config_cmd,
    clone_cmd,
    export_cmd,
    impact_cmd,
    import_cmd,
    new_driver_cmd,
    owners_cmd,
    packaging_cmd,
    plan_cmd,
    release_cmd,
    remove_driver_cmd,
    review_cmd,
)
from nova_split_tools.errors import ToolError, interrupted_line
from nova_split_tools.metadata import read_metadata

__all__ = ["main", "parser"]

PROG = "nova-split"

COMMANDS: dict[str, ModuleType] = {
    "plan": plan_cmd,
    "ci-config": ci_config_cmd,
    "audit": audit_cmd,
    "impact": impact_cmd,
    "bench": bench_cmd,
    "review": review_cmd,
    "owners": owners_cmd,
    "api-gate": api_gate_cmd,
    "release": release_cmd,
    "clone": clone_cmd,
    "packaging": packaging_cmd,
    "export": export_cmd,
    "import": import_cmd,
    "bench-export": bench_export_cmd,
    "bench-clone": bench_clone_cmd,
    "new-driver": new_driver_cmd,
    "remove-driver": remove_driver_cmd,
}


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (exit 2) instead of the usage text and the error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_UNUSABLE, f"{self.prog}: error: {message}; see '{self.prog} --help'\n")


def _summary(module: ModuleType) -> str:
    """The first line of a command module's docstring, without its ``name:`` prefix."""
    first = plain(module.__doc__).splitlines()[0]
    return first.split(": ", 1)[1] if ": " in first else first


def parser() -> tuple[argparse.ArgumentParser, GlobalOptions]:
    """The whole command line, and its global options (to merge after parsing)."""
    p = _Parser(
        prog=PROG,
        # no abbreviations before the command: `--form json` would be taken for --format here, yet
        # not moved after the command (see _format_after_command), and the table printed silently
        allow_abbrev=False,
        description="The repository tooling of nova-split: CI plans, reviews, releases, exports and checks.",
        epilog="Global options may also follow the command. Exit codes: 0 success, 1 a check or gate "
        "failed, 2 usage error or the tool could not run, 130 interrupted (SIGINT, SIGTERM or SIGHUP). "
        "Details: docs/cli.md.",
    )
    # dest: not "version", which a subcommand's own --version (release cut --version X.Y.Z) sets in the same namespace
    p.add_argument(
        "--version",
        dest="show_version",
        action="store_true",
        help="print the version of the tooling's nova-common and exit",
    )
    globals_ = GlobalOptions()
    globals_.add(
        p, "--repo", type=Path, default=Path.cwd(), help="the repository to work on (default: the current directory)"
    )
    early = p.add_argument(
        "--format",
        dest="early_format",
        metavar="FORMAT",
        help="the command's output format (json, ...), as if it followed the command; a command "
        "without --format refuses it, and one given after the command wins",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in COMMANDS.items():
        cmd = sub.add_parser(
            name,
            help=_summary(module),
            description=plain(module.__doc__),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(cmd)
    add_completion_command(sub, PROG)
    globals_.attach(GlobalOptions.subparsers(p))
    # before the command: any format some command takes (that command's own choices then decide)
    early.choices = list(dict.fromkeys(c for parser in _parsers(p) for c in _format_choices(parser)))
    return p, globals_


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``parser``'s subcommand parsers, nested ones too."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += [child, *_parsers(child)]
    return found


def _format_choices(parser: argparse.ArgumentParser) -> list[str]:
    return [str(c) for a in parser._actions if "--format" in a.option_strings for c in a.choices or ()]


def _version(repo: Path) -> str:
    """``nova-split`` is versioned with the repository: the nova-common version of its checkout."""
    for root in (repo, Path(__file__).resolve().parents[3]):
        for candidate in (root, *root.resolve().parents):
            if (candidate / "nova-common" / "subproject.toml").is_file():
                meta = read_metadata(candidate / "nova-common")
                return f"{PROG} (tooling of {meta.name} {meta.version_text}, {candidate})"
    raise ToolError(f"{repo} is not inside a nova-split checkout (no nova-common/subproject.toml); pass --repo")


def _settle() -> None:
    """The program's command is over (done, failed or interrupted): only its line is left to write.
    A signal now changes nothing: ignored, so that it neither turns the command's exit code into an
    interruption it never had nor reaches the start-up handler the block gave back (which would say
    "interrupted while starting")."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def _interruption(error: BaseException) -> KeyboardInterrupt | Terminated | None:
    """The interrupt ``error`` was raised while handling (its cleanup's), if any."""
    seen: set[int] = set()
    current: BaseException = error
    # (``raise ... from None`` says the context is not part of the story: a handled Ctrl-C is not)
    while not current.__suppress_context__ and (context := current.__context__) is not None:
        if isinstance(context, (KeyboardInterrupt, Terminated)):
            return context
        if id(context) in seen:
            break
        seen.add(id(context))
        current = context
    return None


def _interrupted(e: KeyboardInterrupt | Terminated) -> str:
    return interrupted_line(e, "interrupted" if isinstance(e, KeyboardInterrupt) else f"terminated ({e.signal_name})")


def _fail(command: str, message: str, code: int) -> int:
    """Print the command's one line on stderr; ``code``, whether or not the line could be written."""
    try:
        print(f"{PROG}{' ' + command if command else ''}: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr is a full disk, closed, or a terminal gone: the code still says it
        to_devnull(sys.stderr)
    return code


def _format_after_command(argv: list[str]) -> list[str]:
    """``argv`` with a ``--format X`` given before the command moved after it, where the command's
    own ``--format`` (with its own choices) parses it; one already after the command wins."""
    head: list[str] = []
    value = None
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        word = argv[i]
        if word == "--format" and i + 1 < len(argv):
            value, i = argv[i + 1], i + 2
        elif word.startswith("--format="):
            value, i = word.split("=", 1)[1], i + 1
        elif word == "--repo" and i + 1 < len(argv):
            head += argv[i : i + 2]
            i += 2
        else:
            head.append(word)
            i += 1
    rest = argv[i:]
    operands = rest[: rest.index("--")] if "--" in rest else rest
    if value is None or any(w == "--format" or w.startswith("--format=") for w in operands):
        return head + rest
    return head + operands + ["--format", value] + rest[len(operands) :]


def main(argv: Sequence[str] | None = None) -> int:
    """The program (``argv`` None) or a caller in Python, whose signal handlers (SIGINT, SIGTERM,
    SIGHUP) are given back whatever the command did with them (an interrupted release cut leaves
    them ignored, for the program's last line)."""
    if argv is None:
        quiet_signal_races()  # a second signal, ignored on purpose, is not an error to report
        return _main(None)
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        return _main(argv)
    finally:
        with contextlib.suppress(ValueError):  # not the main thread: nothing was changed
            for sig, handling in saved.items():
                if handling is not None:
                    signal.signal(sig, handling)


def _main(argv: Sequence[str] | None) -> int:
    p, globals_ = parser()
    args = globals_.merge(p.parse_args(_format_after_command(list(sys.argv[1:] if argv is None else argv))))
    command = args.command or ""
    problem = prepare_stdout()
    if problem is not None:
        return _fail(command, f"error: {problem}", EXIT_UNUSABLE)
    try:
        # from here on Ctrl-C is KeyboardInterrupt, and cleanup runs (see __main__ for before)
        with contextlib.suppress(ValueError):  # not the main thread: signals are not ours
            signal.signal(signal.SIGINT, signal.default_int_handler)
        # as the program, an interrupt leaves SIGTERM/SIGINT/SIGHUP ignored until the line below is written
        try:
            with terminate_as_exception(restore=argv is not None, hangup=True):
                if args.show_version:
                    print(_version(args.repo))
                    result = 0
                elif not command:
                    p.error("a COMMAND is required")
                elif command == "completion":
                    sys.stdout.write(completion_script(p, args.shell))
                    result = 0
                else:
                    result = COMMANDS[command].run(args)
                # written out here, where a closed pipe or a full disk is one line, not at exit (120)
                sys.stdout.flush()
                return result
        finally:
            if argv is None:
                _settle()
    except ToolError as e:
        if (first := _interruption(e)) is not None:  # the cleanup of an interrupted command failed
            return _fail(command, f"{_interrupted(first)}; then its cleanup failed: {e}", EXIT_INTERRUPTED)
        return _fail(command, f"error: {e}", e.exit_code)
    except UnicodeDecodeError as e:  # a file the command reads is not UTF-8 (damaged, or another encoding)
        if (first := _interruption(e)) is not None:
            return _fail(command, f"{_interrupted(first)}; then its cleanup failed: {e}", EXIT_INTERRUPTED)
        return _fail(
            command, f"error: a file is not UTF-8 ({e.reason} at byte {e.start}); repair it, then rerun", EXIT_UNUSABLE
        )
    except BrokenPipeError as e:  # the reader went away (`| head`): as nova-compute, one line and 1
        stdout_to_devnull()
        if (first := _interruption(e)) is not None:  # Ctrl-C stopped the reader too (`| tee`)
            return _fail(command, f"{_interrupted(first)}; its output could not be written", EXIT_INTERRUPTED)
        return _fail(command, "error: the output could not be written (its reader closed the pipe)", EXIT_FAILED)
    except OSError as e:  # the machine said no (a read-only or damaged directory, a full disk): one line
        if (first := _interruption(e)) is not None:
            return _fail(command, f"{_interrupted(first)}; then its cleanup failed: {e}", EXIT_INTERRUPTED)
        if e.filename:
            return _fail(command, f"error: {e.strerror or e}: {e.filename}; fix that path, then rerun", EXIT_UNUSABLE)
        return _fail(command, f"error: {e.strerror or e}; fix the cause, then rerun", EXIT_UNUSABLE)
    except (KeyboardInterrupt, Terminated) as e:
        return _fail(command, _interrupted(e), EXIT_INTERRUPTED)
