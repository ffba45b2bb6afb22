import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nova_common_cli.args import terminate_as_exception
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


_STARTING = f"""
import os, signal, sys
from pathlib import Path
from {terminate_as_exception.__module__} import Terminated, terminate_as_exception
from nova_split_tools import proc

# The interrupt arrives as the command starts (in the parent, right after the fork).
os.register_at_fork(after_in_parent=lambda: os.kill(os.getpid(), signal.SIGTERM))
try:
    with terminate_as_exception(restore=False, hangup=True):  # as the program
        getattr(proc, sys.argv[1])(["bash", "-c", f"echo $$ > {{sys.argv[2]}}; exec sleep 60"], Path(sys.argv[3]))
except Terminated:
    print("terminated")
    sys.exit(130)
print("ran on")
"""


@pytest.mark.parametrize("function", ["run", "status", "probe", "passthrough"])
def test_an_interrupt_as_a_command_starts_stops_it_and_is_not_lost(tmp_path: Path, function: str) -> None:
    """Raised while the child was being started, the interrupt left a child nobody stopped; raised
    in a fork callback, it was dropped as unraisable after the handler had set the signals to be
    ignored, and the command ran to its end and could no longer be stopped."""
    pidfile = tmp_path / "pid"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _STARTING, function, str(pidfile), str(tmp_path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError("the interrupt was lost: the command ran on") from None
    assert (done.returncode, done.stdout) == (130, "terminated\n"), done
    if pidfile.exists() and pidfile.read_text().strip():  # it got as far as starting: it was stopped
        child = int(pidfile.read_text())
        deadline = time.monotonic() + 10
        while _state(child) not in (None, "Z"):
            assert time.monotonic() < deadline, f"the command (pid {child}) outlived the interrupt"
            time.sleep(0.05)


_STOPPED = """
import sys
from pathlib import Path
from nova_common_cli.args import Terminated, terminate_as_exception
from nova_split_tools import proc

proc._GRACE = float(sys.argv[2])
try:
    with terminate_as_exception(restore=False, hangup=True):  # as the program
        proc.run(["bash", "-c", sys.argv[1]], Path.cwd())
except Terminated:
    sys.exit(130)
"""


@pytest.mark.parametrize(
    ("child", "grace", "left"),
    [
        # git, Pants: Ctrl-C lets the command clean up (a lock file removed) before it ends
        ("trap 'echo cleaned > left; exit 130' INT; echo $$ > pid; sleep 60 & wait", "10", "cleaned\n"),
        # a command that does not end on SIGINT is killed after the grace period
        ("trap '' INT; echo $$ > pid; while :; do sleep 0.1; done", "0.5", None),
    ],
)
def test_an_interrupted_command_gets_ctrl_c_then_is_killed(
    tmp_path: Path, child: str, grace: str, left: str | None
) -> None:
    # (absolute: the tool runs in tmp_path, and a test runner's sys.path may hold relative entries)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in sys.path if p)}
    tool = subprocess.Popen([sys.executable, "-c", _STOPPED, child, grace], cwd=tmp_path, env=env)
    pidfile = tmp_path / "pid"
    deadline = time.monotonic() + 30
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline and tool.poll() is None, "the command did not start"
        time.sleep(0.05)
    tool.terminate()
    assert tool.wait(timeout=30) == 130
    assert _state(int(pidfile.read_text())) is None  # ended and reaped
    assert ((tmp_path / "left").read_text() if left else None) == left


def test_a_command_started_from_a_thread_that_blocks_interrupts_can_be_interrupted(tmp_path: Path) -> None:
    """A helper thread blocks SIGINT, SIGTERM and SIGHUP for good; a command it starts must not
    inherit that (Ctrl-C could not stop it, nor SIGTERM when the tool dies)."""
    import threading

    from nova_common_cli.args import start_without_interrupts

    out: list[str] = []
    start_without_interrupts(
        threading.Thread(target=lambda: out.append(run(["grep", "^SigBlk", "/proc/self/status"], tmp_path)))
    ).join()
    blocked = int(out[0].split()[1], 16)
    assert not blocked & ((1 << 1) | (1 << 14) | (1 << 0)), out  # SIGINT (2), SIGTERM (15), SIGHUP (1)
