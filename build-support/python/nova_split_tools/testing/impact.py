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


def _found(program: str, env: Any, cwd: Any = None) -> Path | None:
    """``program`` as the child would find it (through its PATH, for a bare name; a relative
    path from the child's working directory)."""
    if os.sep in program:
        base = os.fsdecode(cwd) if isinstance(cwd, (str, bytes, os.PathLike)) else os.getcwd()
        return Path(os.path.normpath(os.path.join(base, program)))
    path = env.get("PATH") if isinstance(env, Mapping) else None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    found = shutil.which(program, path=path if isinstance(path, str) else None)
    return Path(found) if found else None


def _is_python(path: Path) -> bool:
    """Whether ``path`` is a Python interpreter, also under another name (a symlink to one)."""
    return bool(_PYTHON.fullmatch(path.name) or _PYTHON.fullmatch(Path(os.path.realpath(path)).name))


def _after_env(words: list[str]) -> list[str]:
    """The command ``env [OPTIONS] [NAME=VALUE]... COMMAND`` runs (``words`` without ``env``)."""
    rest = list(words)
    while rest and (rest[0].startswith("-") or "=" in rest[0]):
        rest.pop(0)
    return rest


def _interpreter(words: list[str], env: Any, cwd: Any) -> tuple[Path, list[str]] | None:
    """The Python interpreter a command runs and its arguments: the program itself, a command
    after ``env``, or a ``#!`` line's (``env python3`` too); None when it runs no Python."""
    program = _found(words[0], env, cwd) if words else None
    if program is None:
        return None
    if program.name == "env":
        return _interpreter(_after_env(words[1:]), env, cwd)
    if _is_python(program):
        return program, words[1:]
    try:
        with program.open("rb") as f:
            first = f.readline(256)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    line = os.fsdecode(first[2:]).split()
    if line and PurePath(line[0]).name == "env":
        line = _after_env(line[1:])
    if not line:
        return None
    found = _found(line[0], env, cwd)
    return (found, line[1:] + words) if found is not None and _is_python(found) else None


def _measured(interpreter: Path, args: list[str]) -> bool:
    """Whether coverage starts in ``interpreter`` run with ``args``: the test's own (or the same
    interpreter beside it, ``python3`` for ``python``), or a venv's with coverage's start-up
    ``.pth``; never with ``-S`` (no ``site``, so no ``.pth`` runs)."""
    options = [a for a in args[: next((i for i, a in enumerate(args) if not a.startswith("-")), len(args))]]
    if any(o.startswith("-") and not o.startswith("--") and "S" in o[1:] for o in options):
        return False
    own = Path(sys.executable)
    if interpreter == own or (
        interpreter.parent == own.parent and os.path.realpath(interpreter) == os.path.realpath(own)
    ):
        return True
    venv = interpreter.parent.parent
    return (venv / "pyvenv.cfg").is_file() and any(venv.glob("lib/python*/site-packages/a1_coverage.pth"))


def _unmeasured_python(words: list[str], env: Any, cwd: Any = None) -> str | None:
    """The interpreter of a Python child that coverage will not measure, if the command is one
    (also inside a shell command line: ``bash -c "python3 ..."``)."""
    found = _interpreter(words, env, cwd)
    if found is not None:
        interpreter, args = found
        return None if _measured(interpreter, args) else str(interpreter)
    for w in words[1:]:
        if " " in w:  # a shell command line: each simple command in it
            for command in re.split(r"&&|\|\||[;|&\n]", w):
                inner = _unmeasured_python(_words(command), env, cwd)
                if inner is not None:
                    return inner
    return None


def _check(words: list[str], env: Any, cwd: Any = None) -> None:
    runner = _sealed_runner(words)
    if runner is not None:
        sealed(f"{runner} (a runner coverage cannot see into)")
    elif isinstance(env, Mapping) and _START not in env and b"COVERAGE_PROCESS_START" not in env:
        sealed(f"{PurePath(words[0]).name if words else 'a command'} (with an environment of its own)")
    elif (python := _unmeasured_python(words, env, cwd)) is not None:
        sealed(f"{PurePath(words[0]).name} (a Python without coverage: {python})")


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "subprocess.Popen":
        executable, argv, cwd, env = args
        words = _words(argv)
        if executable is not None and words:
            words = [os.fsdecode(executable), *words[1:]]
        _check(words, env, cwd)
    elif event == "os.system":
        _check(["sh", "-c", os.fsdecode(args[0])], None)
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
