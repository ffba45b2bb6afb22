"""The conventions both command-line tools (``nova-compute`` and the repository's ``nova-split``) share.

* Exit codes (:data:`EXIT_OK` ...): 0 success, 1 a check or gate that failed (or an operation
  that was refused), 2 a usage error or a tool that could not run, 130 interrupted by SIGINT,
  SIGTERM or SIGHUP (all: a TERM sent by a supervisor or CI timeout, a closed terminal, is an
  interruption too).
* Global options are accepted before or after the subcommand (:class:`GlobalOptions`).
* ``--format`` with help (:func:`add_format_argument`); JSON objects carry ``schema_version``
  (:data:`SCHEMA_VERSION`, documented in docs/cli.md).
* Help is plain words: :func:`plain` strips reStructuredText markup from docstrings.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any, TextIO

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_UNUSABLE",
    "SCHEMA_VERSION",
    "GlobalOptions",
    "Terminated",
    "add_format_argument",
    "plain",
    "prepare_stdout",
    "quiet_signal_races",
    "start_without_interrupts",
    "stdout_to_devnull",
    "to_devnull",
    "terminate_as_exception",
]

EXIT_OK = 0
#: A check or gate ran and failed (stale generated files, missing approvals, a breaking API change).
EXIT_FAILED = 1
#: Bad usage, or the tool could not run (bad revision, missing git or Pants, unreadable input).
EXIT_UNUSABLE = 2
#: Interrupted by SIGINT (Ctrl-C, 128 + 2), SIGTERM or SIGHUP, after cleaning up: the same code for all.
EXIT_INTERRUPTED = 130
#: The version of every JSON document the tools print; bumped when a field changes meaning or goes.
SCHEMA_VERSION = 1

_FORMAT_HELP = {
    "table": "aligned columns for people, the default",
    "json": "one JSON document on stdout, with a schema_version field, for scripts and CI",
    "github": "a GitHub Actions strategy.matrix",
}


def add_format_argument(parser: argparse.ArgumentParser, choices: Sequence[str] = ("table", "json")) -> None:
    """``--format CHOICE`` (default: the first choice), its help naming what each choice prints."""
    described = "; ".join(f"{c}: {_FORMAT_HELP.get(c, c)}" for c in choices)
    parser.add_argument("--format", choices=choices, default=choices[0], help=f"output format ({described})")


_ROLE = re.compile(r":(?:class|func|meth|data|attr|mod|exc|ref):`~?([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")
#: A reference to code for developers: "(see export_history)", "(nova_split_tools.api_surface)",
#: "(see nova_split_tools.owners: ...": a module name (with a dot or an underscore) in parentheses.
_CODE_REF = re.compile(
    r"\s*\((?:see )?(?:[a-z]\w*\.)+\w+\)|\s*\(see [a-z]+_\w+\)|(?<=\()(?:see )?(?:(?:[a-z]\w*\.)+\w+|[a-z]+_\w+):\s+"
)


def plain(doc: str | None) -> str:
    """A docstring as plain help text: no reStructuredText roles, literals or ``::`` markers, no
    parenthesised references to code modules (help is for users, the docstring also for developers)."""
    text = _ROLE.sub(lambda m: m.group(1).rsplit(".", 1)[-1], doc or "")
    text = _CODE_REF.sub("", _LITERAL.sub(r"\1", text))
    return re.sub(r"::\n", ":\n", text).strip()


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised in the main thread like KeyboardInterrupt so ``finally`` blocks run."""

    def __init__(self, *args: object, signal_name: str = "SIGTERM") -> None:
        super().__init__(*args)
        #: The signal that ended the command: ``SIGTERM`` (``kill``, ``timeout``, a CI runner
        #: cancelling) or ``SIGHUP`` (the terminal closed).
        self.signal_name = signal_name


@contextmanager
def terminate_as_exception(restore: bool = True, hangup: bool = False) -> Iterator[None]:
    """Within the block, SIGTERM (and with ``hangup`` SIGHUP) raises :class:`Terminated` (main thread only).

    ``hangup`` is for a program whose cleanup may run at any point (the repository tooling): a
    closed terminal then cleans up as ``kill`` does. SIGHUP is left alone where it is ignored
    already (``nohup``: the user asked the command to outlive the terminal).

    The first interrupt wins: it raises (SIGTERM or SIGHUP :class:`Terminated`, Ctrl-C
    KeyboardInterrupt) after setting every signal the block handles to be ignored, so that a second
    one (``timeout`` and CI runners send several; a closing terminal sends SIGHUP twice, systemd
    SIGTERM then SIGHUP) cuts neither the cleanup short nor the line that says what happened, and
    the cleanup's own children (``git worktree remove``) inherit that. With ``restore`` (a caller
    in Python) the previous handlers come back when the block ends, however it ends. Without it
    (the program, which also takes Ctrl-C here, and whose command is over when the block ends),
    the block leaves them ignored however it ends: a signal after a command printed its result
    (a read-only ``nova-compute list``) must not turn its exit code into a kill (143), nor reach a
    start-up handler given back. A block inside another that handles the
    same signals (``audit`` within the program's) changes nothing: the outer one stays in charge,
    so its first interrupt wins for all of them (a nested block that re-armed on leaving let a
    second signal cut the audit's cleanup short)."""
    global _owner
    wanted = {signal.SIGTERM} | ({signal.SIGHUP} if hangup else set())
    if _owner is not None and wanted <= _owner:
        # Inside a block that already handles these (``audit`` within the program's): that block
        # stays in charge, so its first interrupt wins for every signal it handles (SIGINT too).
        yield
        return
    fired = False
    handled = [signal.SIGTERM]

    def ignore_all() -> None:
        for sig in handled:
            signal.signal(sig, signal.SIG_IGN)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        fired = True
        ignore_all()
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(signal_name=signal.Signals(signum).name)

    try:
        previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, interrupted)}
    except ValueError:  # not the main thread: leave the signals alone
        yield
        return
    if hangup and signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, interrupted)
        handled.append(signal.SIGHUP)
    if not restore:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, interrupted)
        handled.append(signal.SIGINT)
    outer, _owner = _owner, set(handled) | ({signal.SIGHUP} if hangup else set())
    try:
        yield
    finally:
        _owner = outer
        if restore:
            _give_back(previous)
        else:  # as the program: its command is over, however the block ended
            ignore_all()


#: The signals the outermost active :func:`terminate_as_exception` block handles (None: no block).
#: (Under nohup, SIGHUP counts as handled: it is ignored, as the user asked.)
_owner: set[signal.Signals] | None = None


_INTERRUPTS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def start_without_interrupts(thread: threading.Thread) -> threading.Thread:
    """Start ``thread`` with SIGINT, SIGTERM and SIGHUP blocked in it for good, and return it.

    Python runs signal handlers in the main thread, but the kernel hands a signal sent to the
    process to any thread that does not block it. A helper thread that does not (a progress
    ticker, a heartbeat, a test server) takes the signal while the main thread holds it back
    (``nova_split_tools.proc.completed`` blocks the interrupts while a child starts, nova-compute
    after its command completed), and the handler then runs in the main thread all the same, in
    the middle of what the block protected. A thread started here leaves them to the main thread."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPTS)
    try:
        thread.start()  # the new thread inherits this thread's mask
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
    return thread


def quiet_signal_races() -> None:
    """Drop CPython's report of a signal that came just as its handler became SIG_IGN.

    A signal caught by the interpreter is handled between two bytecodes; if the program set that
    signal to be ignored in between (the first interrupt does, see :func:`terminate_as_exception`),
    CPython writes "Exception ignored ... OSError: Signal 1 ignored due to race condition" to
    stderr: a second SIGHUP of a closing terminal, a SIGTERM sent twice. For a program that ignores
    later interrupts on purpose that is the intended outcome, not an error; every other unraisable
    exception is reported as before (:func:`sys.unraisablehook`)."""
    report = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        error = unraisable.exc_value
        if isinstance(error, OSError) and str(error).endswith("ignored due to race condition"):
            return
        report(unraisable)

    sys.unraisablehook = hook


def _give_back(previous: dict[signal.Signals, Any]) -> None:
    for sig, handling in previous.items():
        if handling is not None:  # None: a handler not installed from Python, which cannot be put back
            signal.signal(sig, handling)


def prepare_stdout() -> str | None:
    """Make stdout safe to write before a command runs, or say why it cannot be written at all.

    Characters the output's encoding cannot represent (``PYTHONIOENCODING=ascii``, a non-UTF-8
    locale) are written as backslash escapes rather than failing halfway through the output. A
    closed stdout (``>&-``: Python then has no ``sys.stdout``) is refused before the command does
    anything, rather than after it did its work and could not report it: the returned line says so.
    """
    if sys.stdout is None:
        return "standard output is closed; run the command with it open (>/dev/null discards the output)"
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="backslashreplace")
        except (OSError, ValueError):  # a stream that cannot change: it stays as it is
            pass
    return None


def to_devnull(stream: TextIO) -> None:
    """Point ``stream`` at /dev/null once writing it failed (a closed pipe, a full disk, a terminal
    gone), so what is still buffered does not fail again, with a traceback, when the interpreter exits."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
    except (OSError, ValueError):
        pass


def stdout_to_devnull() -> None:
    """:func:`to_devnull` for stdout."""
    to_devnull(sys.stdout)


class GlobalOptions:
    """Options given to the program that may also follow the subcommand.

    Each option is added to the top-level parser and, under a private destination, to every
    subcommand's parser; :meth:`merge` then folds the late values in: a single value given after
    the subcommand wins, repeatable (``append``) values from both places are kept in order.
    """

    _PREFIX = "_late_"

    def __init__(self) -> None:
        self._options: list[tuple[tuple[str, ...], dict[str, Any]]] = []
        self._dests: dict[str, str] = {}

    def add(self, parser: argparse.ArgumentParser, *flags: str, **kwargs: Any) -> None:
        """Like ``parser.add_argument``; remembered for :meth:`attach`."""
        action = parser.add_argument(*flags, **kwargs)
        self._options.append((flags, kwargs))
        self._dests[action.dest] = kwargs.get("action", "store")

    def attach(self, subparsers: Iterable[argparse.ArgumentParser]) -> None:
        """Accept every global option in each of ``subparsers`` too (their help lists them)."""
        for sub in subparsers:
            group = sub.add_argument_group("global options (also accepted before the command)")
            for flags, kwargs in self._options:
                late = dict(kwargs)
                dest = late.pop("dest", None) or flags[0].lstrip("-").replace("-", "_")
                if isinstance(late.get("help"), str):  # the default shown is the top level's
                    late["help"] = late["help"].replace("%(default)s", str(kwargs.get("default")))
                late.update(dest=self._PREFIX + dest, default=argparse.SUPPRESS)
                if late.get("action", "store") in ("store", "append"):
                    late.setdefault("metavar", dest.upper())
                late.pop("required", None)
                group.add_argument(*flags, **late)

    def merge(self, args: argparse.Namespace) -> argparse.Namespace:
        """Fold the values given after the subcommand into ``args`` (in place; returned)."""
        for dest, action in self._dests.items():
            late = self._PREFIX + dest
            if not hasattr(args, late):
                continue
            value = getattr(args, late)
            delattr(args, late)
            if action == "append":
                setattr(args, dest, [*(getattr(args, dest) or []), *value])
            else:
                setattr(args, dest, value)
        return args

    @staticmethod
    def subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
        """Every parser below ``parser`` (subcommands, their actions, ...)."""
        found: list[argparse.ArgumentParser] = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in dict.fromkeys(action.choices.values()):
                    found.append(sub)
                    found.extend(GlobalOptions.subparsers(sub))
        return found
