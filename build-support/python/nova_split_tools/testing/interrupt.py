"""Run a Python module in a child process that the kernel kills in the middle of a file write.

:func:`killed_mid_write` runs the module under a file-size limit (``RLIMIT_FSIZE``) with SIGXFSZ's
default action restored (CPython ignores it at startup): the first write that would take a file past
``limit`` bytes writes up to the limit, and the next one kills the process. A write of more than
``limit`` bytes is therefore cut exactly there, deterministically, with no timing involved: what a
SIGKILL halfway through the write leaves behind. :func:`gone` tells whether an interrupted
command's child process went with it.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["gone", "killed_mid_write"]

# After the signal's default is back, runs sys.argv[1:] as `python -m MODULE ARGS` or `python -c CODE ARGS` would.
_BOOT = """
import runpy, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
option, target = sys.argv[1:3]
sys.argv = [target if option == "-m" else "-c", *sys.argv[3:]]
if option == "-m":
    runpy.run_module(target, run_name="__main__", alter_sys=True)
else:
    exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
"""


def killed_mid_write(python_args: Sequence[str], cwd: Path, limit: int) -> subprocess.CompletedProcess[str]:
    """Run ``python PYTHON_ARGS`` (``-m MODULE ...`` or ``-c CODE ...``) in ``cwd`` with files limited
    to ``limit`` bytes; its result.

    A write past the limit kills it with SIGXFSZ (``returncode == -signal.SIGXFSZ``), leaving the
    file it wrote ``limit`` bytes long. The child sees this process's ``sys.path``, dumps no core and
    writes no bytecode (a ``.pyc`` past the limit would kill it before the write under test).
    """
    if len(python_args) < 2 or python_args[0] not in ("-m", "-c"):
        raise ValueError(f"python_args must start with -m MODULE or -c CODE, not {list(python_args)!r}")

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    # Absolute: Pants' test sandbox puts relative source roots (e.g. nova-common) on sys.path, which
    # in ``cwd`` would name that repository's directories instead.
    path = os.pathsep.join(os.path.abspath(p) for p in sys.path if p)
    env = {**os.environ, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", _BOOT, *python_args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=limit_files,
        timeout=120,
    )


def gone(pid: int, within: float = 10.0) -> bool:
    """Whether process ``pid`` ends (or is a zombie nobody has reaped yet) within ``within`` seconds.

    For a child that exec'd another program (a ``./pants`` script ending in ``exec sleep``),
    where a search by command line would no longer find it: the script writes its ``$$`` first.
    """
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False
