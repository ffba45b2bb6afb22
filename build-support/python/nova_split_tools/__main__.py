"""``python -m nova_split_tools``: what build-support/bin/nova-split runs.

Until ``main`` installs its handlers (once the command line is parsed), the imports take a
moment (seconds on a loaded machine): a SIGINT, SIGTERM or SIGHUP (unless ``nohup`` ignores it)
then stops the program with its one line and exit 130, as later ones do. Nothing has started, so
there is nothing to clean up, and the exit is immediate (``os._exit``): an exception raised there
could land inside an import and be swallowed, and the command would go on after saying it had
stopped.

The tooling imports nova-common from the work tree it runs in (its command-line plumbing, nova_common_cli):
a branch where that does not import (a syntax error, a deleted module) gets one line naming the
file and line and the way on, not a traceback (:func:`unimportable`).
"""

import os
import signal
import sys
import sysconfig
import traceback
from pathlib import Path
from types import FrameType

#: The packages of this repository: a missing module outside them is a missing library.
_OURS = frozenset({"nova_common", "nova_common_cli", "nova_split_tools"})


def unimportable(error: BaseException) -> str:
    """The one line for a tooling that does not import: where, what, and how to go on."""
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] not in _OURS:
        return (
            f"nova-split: a library the tooling needs is missing ({error.name}): its virtualenv is stale; "
            "remove dist/export/python/virtualenvs/common and run it again"
        )
    if isinstance(error, SyntaxError) and error.filename:
        where = f"{_shown(error.filename)}:{error.lineno}"
        what = f"{error.msg}"
    else:
        frames = traceback.extract_tb(error.__traceback__)
        # the innermost frame outside the interpreter's libraries (a failure inside the standard
        # library is its caller's: json.loads of a bad literal in nova-common is nova-common's line)
        ours = [f for f in frames if not _library(f.filename)] or frames
        where = f"{_shown(ours[-1].filename)}:{ours[-1].lineno}" if ours else "?"
        what = f"{type(error).__name__}: {error}"
    what = "; ".join(part.strip() for part in what.splitlines() if part.strip())
    return (
        f"nova-split: the tooling does not import in this work tree ({where}: {what}); it imports "
        "nova-common from here: fix that file, or run nova-split from a clean checkout (git stash)"
    )


def _library(filename: str) -> bool:
    """Whether ``filename`` is the standard library's or an installed package's, or frozen."""
    if filename.startswith("<"):
        return True
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            Path(filename).resolve().relative_to(Path(paths[key]).resolve())
        except (ValueError, OSError, KeyError):
            continue
        return True
    return False


def _shown(filename: str) -> str:
    """``filename`` relative to the working directory where it lies under it."""
    try:
        return Path(filename).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):  # outside it, or the working directory is gone
        return filename


def _stopped(signum: int, frame: FrameType | None) -> None:
    try:  # an unwritable stderr (a full disk, a terminal gone) must not turn into an exception here:
        print("nova-split: interrupted while starting", file=sys.stderr, flush=True)
    finally:  # raised inside an import, the import system could swallow it and the command run on
        os._exit(130)


signal.signal(signal.SIGINT, _stopped)
signal.signal(signal.SIGTERM, _stopped)
_HANGUP_IGNORED = signal.getsignal(signal.SIGHUP) is signal.SIG_IGN  # under nohup: stays so
if not _HANGUP_IGNORED:
    signal.signal(signal.SIGHUP, _stopped)
try:
    from nova_split_tools.cli import main  # (after the handlers, on purpose)
except Exception as error:  # noqa: BLE001  (any import-time failure of the work tree's code)
    print(unimportable(error), file=sys.stderr)
    sys.exit(2)

code = main()
# Done: a signal now must not turn the command's exit code into an interruption it never had.
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
sys.exit(code)
