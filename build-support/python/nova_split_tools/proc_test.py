import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nova_split_tools.proc import run, status


def _state(pid: int) -> str | None:
    """The process's state letter, None when it is gone (Z: dead, not yet reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


@pytest.mark.parametrize("function", ["run", "status"])
def test_a_command_dies_when_the_tooling_is_killed(tmp_path: Path, function: str) -> None:
    """A SIGKILLed tool (a release cut killed by CI) leaves no command of its running on."""
    pidfile = tmp_path / "pid"
    script = (
        f"from pathlib import Path\nfrom nova_split_tools.proc import {function}\n"
        f"{function}(['bash', '-c', 'echo $$ > {pidfile}; exec sleep 60'], Path('{tmp_path}'))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    tool = subprocess.Popen([sys.executable, "-c", script], env=env)
    deadline = time.monotonic() + 30
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline and tool.poll() is None, "the command did not start"
        time.sleep(0.05)
    child = int(pidfile.read_text())
    assert _state(child) not in (None, "Z"), "the command is not running"
    tool.kill()
    tool.wait()
    deadline = time.monotonic() + 10
    while _state(child) not in (None, "Z"):
        assert time.monotonic() < deadline, f"the command (pid {child}) outlived the killed tool"
        time.sleep(0.05)


def test_results_are_unchanged(tmp_path: Path) -> None:
    assert run(["echo", "hi"], tmp_path) == "hi\n"
    assert status(["sh", "-c", "echo out; echo err >&2; exit 3"], tmp_path) == (3, "out\nerr\n")
