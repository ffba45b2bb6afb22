"""Marking, while ``nova-split impact record`` runs, what a test starts where coverage cannot see.

Coverage measures a child process only if it inherits the environment (``COVERAGE_PROCESS_START``)
and runs an interpreter that has coverage. A test that starts a runner which drops the
environment or runs code elsewhere (``sudo``, ``su``, ``runuser``, tox, a command given an
environment of its own) may depend on code its record does not show, so the map must not trust
it: :func:`watch` notes each such start in the recording's ``sealed`` file (as ``./pants`` does
for nested Pants runs), for the test running at the time. Outside a recording it does nothing.
The tooling's ``conftest.py`` calls it for every test session.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

__all__ = ["SEALED_RUNNERS", "sealed", "watch"]

#: Programs that drop the environment or run code out of coverage's sight.
SEALED_RUNNERS = frozenset({"sudo", "su", "runuser", "tox", "pants", "docker", "podman", "bwrap", "systemd-run"})
_DATA = "NOVA_IMPACT_DATA"
_START = "COVERAGE_PROCESS_START"


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
        if " " in w and w is not words[0]:
            inner = _sealed_runner(_words(w))
            if inner is not None:
                return inner
    return None


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "subprocess.Popen":
        _executable, argv, _cwd, env = args
        words = _words(argv)
        runner = _sealed_runner(words)
        if runner is not None:
            sealed(f"{runner} (a runner coverage cannot see into)")
        elif isinstance(env, Mapping) and _START not in env and b"COVERAGE_PROCESS_START" not in env:
            sealed(f"{PurePath(words[0]).name if words else 'a command'} (with an environment of its own)")
    elif event == "os.system":
        runner = _sealed_runner(_words(args[0]))
        if runner is not None:
            sealed(f"{runner} (a runner coverage cannot see into)")
    elif event in ("os.exec", "os.posix_spawn", "os.spawn"):
        # (path, argv, env) for each; a replaced process or a spawn outside subprocess
        words = _words(args[1]) if len(args) > 1 else []
        env = args[2] if len(args) > 2 else None
        runner = _sealed_runner(words)
        if runner is not None:
            sealed(f"{runner} (a runner coverage cannot see into)")
        elif isinstance(env, Mapping) and _START not in env and b"COVERAGE_PROCESS_START" not in env:
            sealed(f"{PurePath(words[0]).name if words else 'a command'} (with an environment of its own)")


def watch() -> None:
    """Watch this process's subprocesses for the rest of its life, if a recording runs."""
    if os.environ.get(_DATA):
        sys.addaudithook(_hook)
