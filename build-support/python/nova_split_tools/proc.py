"""The one way the tooling runs a command (git, ``./pants``, towncrier, pip): failures as one-line ToolErrors.

``run``/``git`` return stdout and raise on failure; ``probe``/``git_probe`` return None instead
(asking whether something holds); ``status`` returns the exit code and output for commands whose
failure is a result (a test run); ``passthrough`` lets a command talk to the terminal.

Every command dies with the tooling: on Linux it gets SIGTERM when the process that started it
dies (``PR_SET_PDEATHSIG``), so a SIGKILLed ``release cut`` leaves no ``./pants test`` running on
beside the ``--continue`` that follows (daemons such as pantsd detach first, and are unaffected).

An interrupt (SIGINT, SIGTERM, SIGHUP) that arrives while a command starts waits until the
command is this module's to stop (:func:`completed`): raised in the middle of starting it, the
child was nobody's and ran on, or, raised in a fork callback, the exception was dropped as
"unraisable" after the handler had set the signals to be ignored, so the command could no longer
be stopped at all.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nova_split_tools.errors import ToolError

__all__ = ["completed", "git", "git_bytes", "git_probe", "passthrough", "probe", "run", "status"]


_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


_INTERRUPTS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies (kept across exec; only a syscall)."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def completed(cmd: Sequence[str], *, input: bytes | None = None, **popen: Any) -> subprocess.CompletedProcess[bytes]:
    """``subprocess.run``, but the child is stopped (:func:`_stop`: SIGINT, then SIGKILL, and
    reaped) by any exception, an interrupt included, from the moment it exists: the interrupts
    are held back (blocked) while it starts, and the child unblocks them for itself before exec."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPTS)

    def child() -> None:
        # unblocked whatever the starting thread had (a helper thread blocks them for good:
        # nova_common_cli.args.start_without_interrupts): Ctrl-C and PR_SET_PDEATHSIG reach the command
        signal.pthread_sigmask(signal.SIG_SETMASK, set(held) - _INTERRUPTS)
        _die_with_parent()

    try:
        proc = subprocess.Popen(list(cmd), preexec_fn=child, **popen)
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        raise
    with proc:
        try:
            # Ours from here on: an interrupt held back meanwhile is raised here, inside the try.
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            stdout, stderr = proc.communicate(input)
        except BaseException:
            _stop(proc)
            raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


#: Seconds a command has to end after SIGINT before it is killed.
_GRACE = 10.0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop ``proc`` as Ctrl-C would, so that it cleans up (git removes its ``index.lock``, Pants
    ends its run), and kill it if it has not ended after :data:`_GRACE` seconds; reaped either way."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGINT)
            proc.wait(_GRACE)
            return
        except subprocess.TimeoutExpired:
            pass
    proc.kill()
    proc.wait()


def _check(proc: subprocess.CompletedProcess[bytes], cmd: Sequence[str], cwd: Path, what: str | None) -> None:
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.decode(errors="replace").splitlines() if line.strip()]
        lines = lines or [line for line in proc.stdout.decode(errors="replace").splitlines() if line.strip()]
        last = lines[-1:] or ["(no output)"]
        raise ToolError(f"'{what or ' '.join(cmd)}' failed in {cwd}: {last[0].strip()}")


def _env(env: Mapping[str, str] | None) -> dict[str, str] | None:
    return {**os.environ, **env} if env else None


def run(
    cmd: Sequence[str],
    cwd: Path,
    *,
    stdin: str | None = None,
    what: str | None = None,
    env: Mapping[str, str] | None = None,
    with_stderr: bool = False,
) -> str:
    """Run ``cmd`` in ``cwd`` and return its stdout (followed by its stderr if ``with_stderr``).

    A non-zero exit is a ToolError naming the command (or ``what``) and its last line of output
    (stderr's, else stdout's). ``env`` is added to this process's environment.
    """
    proc = completed(
        cmd,
        cwd=cwd,
        input=None if stdin is None else stdin.encode(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE if stdin is not None else None,
        env=_env(env),
    )
    _check(proc, cmd, cwd, what)
    return (proc.stdout + proc.stderr).decode() if with_stderr else proc.stdout.decode()


def probe(cmd: Sequence[str], cwd: Path) -> str | None:
    """``cmd``'s stdout, stripped; None when it fails (a question, not an operation)."""
    proc = completed(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def status(cmd: Sequence[str], cwd: Path, *, env: Mapping[str, str] | None = None) -> tuple[int, str]:
    """``cmd``'s exit code and its stdout and stderr together, for commands whose failure is a result."""
    proc = completed(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(env))
    return proc.returncode, (proc.stdout + proc.stderr).decode(errors="replace")


def passthrough(cmd: Sequence[str], cwd: Path) -> int:
    """Run ``cmd`` attached to this terminal; its exit code."""
    return completed(cmd, cwd=cwd).returncode


def git(cwd: Path, *args: str, stdin: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """``git ARGS`` in ``cwd``; its stdout."""
    return run(["git", *args], cwd, stdin=stdin, what=f"git {' '.join(args[:2])}", env=env)


def git_probe(cwd: Path, *args: str) -> str | None:
    """``git ARGS``' stdout, stripped, or None when git fails (e.g. ``cwd`` may not be a repository)."""
    return probe(["git", *args], cwd)


def git_bytes(cwd: Path, *args: str, stdin: bytes = b"") -> bytes:
    """``git ARGS`` in ``cwd`` with binary stdin and stdout (``cat-file --batch`` and friends)."""
    cmd = ["git", *args]
    proc = completed(cmd, cwd=cwd, input=stdin, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _check(proc, cmd, cwd, f"git {' '.join(args[:2])}")
    return proc.stdout
