"""Running git and other commands, with failures as one-line ToolErrors."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from nova_split_tools.errors import ToolError

__all__ = ["git", "git_bytes", "run"]


def _check(proc: subprocess.CompletedProcess[bytes], cmd: Sequence[str], cwd: Path, what: str | None) -> None:
    if proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace")
        last = [line for line in stderr.splitlines() if line.strip()][-1:] or ["(no output)"]
        raise ToolError(f"'{what or ' '.join(cmd)}' failed in {cwd}: {last[0].strip()}")


def run(
    cmd: Sequence[str],
    cwd: Path,
    *,
    stdin: str | None = None,
    what: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run ``cmd`` in ``cwd`` and return its stdout.

    A non-zero exit is a ToolError naming the command (or ``what``) and its last line of stderr.
    ``env`` is added to this process's environment.
    """
    proc = subprocess.run(
        list(cmd),
        cwd=cwd,
        input=None if stdin is None else stdin.encode(),
        capture_output=True,
        env={**os.environ, **env} if env else None,
    )
    _check(proc, cmd, cwd, what)
    return proc.stdout.decode()


def git(cwd: Path, *args: str, stdin: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """``git ARGS`` in ``cwd``; its stdout."""
    return run(["git", *args], cwd, stdin=stdin, what=f"git {' '.join(args[:2])}", env=env)


def git_bytes(cwd: Path, *args: str, stdin: bytes = b"") -> bytes:
    """``git ARGS`` in ``cwd`` with binary stdin and stdout (``cat-file --batch`` and friends)."""
    cmd = ["git", *args]
    proc = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True)
    _check(proc, cmd, cwd, f"git {' '.join(args[:2])}")
    return proc.stdout
