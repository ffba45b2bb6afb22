"""Marking, while ``nova-split impact record`` runs, what a test starts where coverage cannot see.

Coverage measures a child process only if it inherits the environment (``COVERAGE_PROCESS_START``)
and runs an interpreter that has coverage. A test that starts a runner which drops the
environment or runs code elsewhere (``sudo``, ``su``, ``runuser``, tox, a command given an
environment of its own, a Python interpreter or a ``#!`` script of one that is not the test's own
and has no coverage, such as the base interpreter behind a venv) may depend on code its record
does not show, so the map must not trust it: :func:`watch` notes each such start in the
recording's ``sealed`` file (as ``./pants`` does for nested Pants runs), for the test running at
the time. Outside a recording it does nothing.
The tooling's ``conftest.py`` calls it for every test session.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

__all__ = ["SEALED_RUNNERS", "sealed", "watch"]

#: Programs that drop the environment or run code out of coverage's sight.
SEALED_RUNNERS = frozenset({"sudo", "su", "runuser", "tox", "pants", "docker", "podman", "bwrap", "systemd-run"})
_DATA = "NOVA_IMPACT_DATA"
_START = "COVERAGE_PROCESS_START"
_PYTHON = re.compile(r"python(\d+(\.\d+)?)?|pypy3?")


def sealed(what: str) -> None:
    """Note that the running test started ``what``, which coverage cannot see into."""
    data = os.environ.get(_DATA)
    if not data:
        return
    line = f"{os.environ.get('PYTEST_CURRENT_TEST', '')}\t{what}\n"
    try:
        with open(os.path.join(data, "sealed"), "a") as f:
            f.write(line)
    except OSError:
        pass


def _words(args: Any) -> list[str]:
    """A command's words: an argv, or a shell command line split as a shell would."""
    if isinstance(args, (str, bytes, os.PathLike)):
        try:
            return shlex.split(os.fsdecode(args))
        except ValueError:
            return os.fsdecode(args).split()
    if isinstance(args, Sequence):
        return [os.fsdecode(a) for a in args if isinstance(a, (str, bytes, os.PathLike))]
    return []


def _sealed_runner(words: list[str]) -> str | None:
    """The sealed runner among a command's words (``sudo``, ``env -i``, ``python -m tox``, a
    runner after ``bash -c``), if any."""
    names = [PurePath(w).name for w in words]
    for i, name in enumerate(names):
        if name in SEALED_RUNNERS:
            return name
        if name == "env" and any(w in ("-i", "--ignore-environment", "-") for w in words[i + 1 :]):
            return "env -i"
        if name == "-m" and i + 1 < len(names) and names[i + 1] in SEALED_RUNNERS:
            return names[i + 1]
    # a shell command line inside an argv (bash -c "cd x && sudo ...")
    for w in words[1:]:
        if " " in w:
            inner = _sealed_runner(_words(w))
            if inner is not None:
                return inner
    return None


def _found(program: str, env: Any) -> Path | None:
    """``program`` as the child would find it (through its PATH, for a bare name)."""
    if os.sep in program:
        return Path(os.path.abspath(program))
    path = env.get("PATH") if isinstance(env, Mapping) else None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    found = shutil.which(program, path=path if isinstance(path, str) else None)
    return Path(found) if found else None


def _interpreter(program: Path, env: Any) -> Path | None:
    """The Python interpreter ``program`` runs: itself, or its ``#!`` line's (``env python3`` too)."""
    if _PYTHON.fullmatch(program.name):
        return program
    try:
        with program.open("rb") as f:
            first = f.readline(256)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = os.fsdecode(first[2:]).split()
    if words and PurePath(words[0]).name == "env":
        words = [w for w in words[1:] if not w.startswith("-")]
    if not words or not _PYTHON.fullmatch(PurePath(words[0]).name):
        return None
    return _found(words[0], env)


def _measured(interpreter: Path) -> bool:
    """Whether coverage starts in ``interpreter``: the test's own, or a venv's with coverage's
    start-up ``.pth``."""
    if str(interpreter) == sys.executable:
        return True
    venv = interpreter.parent.parent
    return (venv / "pyvenv.cfg").is_file() and any(venv.glob("lib/python*/site-packages/a1_coverage.pth"))


def _unmeasured_python(words: list[str], env: Any) -> str | None:
    """The interpreter of a Python child that coverage will not measure, if the command is one."""
    program = _found(words[0], env) if words else None
    interpreter = _interpreter(program, env) if program is not None else None
    if interpreter is None or _measured(interpreter):
        return None
    return str(interpreter)


def _check(words: list[str], env: Any) -> None:
    runner = _sealed_runner(words)
    if runner is not None:
        sealed(f"{runner} (a runner coverage cannot see into)")
    elif isinstance(env, Mapping) and _START not in env and b"COVERAGE_PROCESS_START" not in env:
        sealed(f"{PurePath(words[0]).name if words else 'a command'} (with an environment of its own)")
    elif (python := _unmeasured_python(words, env)) is not None:
        sealed(f"{PurePath(words[0]).name} (a Python without coverage: {python})")


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "subprocess.Popen":
        executable, argv, _cwd, env = args
        words = _words(argv)
        if executable is not None and words:
            words = [os.fsdecode(executable), *words[1:]]
        _check(words, env)
    elif event == "os.system":
        runner = _sealed_runner(_words(args[0]))
        if runner is not None:
            sealed(f"{runner} (a runner coverage cannot see into)")
    elif event in ("os.exec", "os.posix_spawn", "os.spawn"):
        # (path, argv, env) for each; a replaced process or a spawn outside subprocess
        words = _words(args[1]) if len(args) > 1 else []
        if words and isinstance(args[0], (str, bytes, os.PathLike)):
            words = [os.fsdecode(args[0]), *words[1:]]
        _check(words, args[2] if len(args) > 2 else None)


def watch() -> None:
    """Watch this process's subprocesses for the rest of its life, if a recording runs."""
    if os.environ.get(_DATA):
        sys.addaudithook(_hook)
