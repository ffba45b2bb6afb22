"""The exception types for expected failures: printed as one line, with the exit code they carry.

``ToolError``: the tool could not do what was asked (bad input, a revision that does not exist,
missing git or Pants): exit 2. ``CheckFailed``: a check or gate ran and its answer is no (stale
generated files, a missing approval, a breaking API change): exit 1. See docs/cli.md.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["CheckFailed", "ToolError", "interrupted_line"]


class ToolError(Exception):
    """Something the user can fix; the message says what is wrong and how to fix it."""

    exit_code = 2


class CheckFailed(ToolError):
    """A check or gate that ran and failed; the message says what failed and how to fix it.

    ``details`` lists what failed (file paths, team names) for ``--format json``.
    """

    exit_code = 1

    def __init__(self, message: str, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.details = list(details)


def interrupted_line(e: BaseException, default: str) -> str:
    """One line for an interruption (``default``: "interrupted", "terminated (SIGTERM)"): its
    message, then what the command did about it (the exception's notes, e.g. a release cut's
    "restored the state before the cut ...")."""
    said = str(e)
    head = said if said.startswith(default) else f"{default} ({said})" if said else default
    return "; ".join([head, *getattr(e, "__notes__", [])])
