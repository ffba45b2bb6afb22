"""Running git and other commands, with failures as one-line ToolErrors."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from nova_split_tools.errors import ToolError

__all__ = ["git", "run"]


def run(cmd: Sequence[str], cwd: Path, *, stdin: str | None = None, what: str | None = None) -> str:
    """Run ``cmd`` in ``cwd`` and return its stdout.

    A non-zero exit is a ToolError naming the command (or ``what``) and its last line of stderr.
    """
    proc = subprocess.run(list(cmd), cwd=cwd, input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        last = [line for line in proc.stderr.splitlines() if line.strip()][-1:] or ["(no output)"]
        raise ToolError(f"'{what or ' '.join(cmd)}' failed in {cwd}: {last[0].strip()}")
    return proc.stdout


def git(cwd: Path, *args: str, stdin: str | None = None) -> str:
    """``git ARGS`` in ``cwd``; its stdout."""
    return run(["git", *args], cwd, stdin=stdin, what=f"git {' '.join(args[:2])}")
