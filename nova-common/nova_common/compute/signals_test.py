"""``Interrupts.deferred`` with real signals sent to a real process at chosen moments.

The child stops at each moment (inside the block, after it, during interpreter shutdown) and
waits for a byte on stdin; the test sends the signal first, then the byte, so the signal is
pending or handled before the child goes on: no sleeps, no races.
"""

import os
import signal
import subprocess
import sys

import pytest

import nova_common.compute.signals  # noqa: F401  (what the child imports: a dependency)

_CHILD = r"""
import os, signal, sys
from nova_common.compute.signals import Interrupts

# A program's usual start, whatever the test process left: default handlers, nothing blocked.
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.signal(signal.SIGHUP, signal.SIG_IGN if sys.argv[2] == "nohup" else signal.SIG_DFL)
signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT, signal.SIGTERM, signal.SIGHUP))

def pause(stage, write=os.write, read=os.read):
    # Say where we are; the parent sends its signal, then the byte we wait for.
    write(1, stage.encode() + b"\n")
    read(0, 1)

class AtShutdown:
    # Deleted while the interpreter tears __main__ down, after it reset Python's signal handlers.
    def __del__(self, pause=pause):
        pause("shutdown")

interrupts = Interrupts()
with interrupts.deferred(restore=sys.argv[1] == "restore"):
    pause("in the block")
pause(f"after the block, received {interrupts.received}")
at_shutdown = AtShutdown()
sys.exit(3)
"""


def _signal_at_each_stage(restore: bool, signum: signal.Signals, nohup: bool = False) -> tuple[list[str], int, str]:
    """Run the child, send ``signum`` at every stage it reaches; its stages, exit status, stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, "restore" if restore else "block", "nohup" if nohup else "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stages = []
    while line := proc.stdout.readline():
        stages.append(line.decode().strip())
        proc.send_signal(signum)
        try:
            proc.stdin.write(b"x")
            proc.stdin.flush()
        except BrokenPipeError:  # the signal ended it
            break
    stdout, stderr = proc.communicate(timeout=60)
    stages += stdout.decode().splitlines()
    return stages, proc.returncode, stderr.decode()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_without_restore_the_signals_stay_blocked_until_exit(signum: signal.Signals) -> None:
    # nova-compute as a program: a signal after the command completed, even one that comes while
    # the interpreter shuts down, must not turn the command's exit status into a kill.
    stages, status, stderr = _signal_at_each_stage(restore=False, signum=signum)
    expected = ["in the block", f"after the block, received {signum.value}", "shutdown"]
    assert (stages, status, stderr) == (expected, 3, "")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_with_restore_the_previous_handlers_are_back_after_the_block(signum: signal.Signals) -> None:
    # Inside the block the signal is only recorded; after it, the program's own handler acts again
    # (SIGTERM's and SIGHUP's defaults kill, SIGINT's KeyboardInterrupt ends Python with SIGINT).
    stages, status, stderr = _signal_at_each_stage(restore=True, signum=signum)
    assert (stages, status) == (["in the block", f"after the block, received {signum.value}"], -signum.value), stderr


@pytest.mark.parametrize("restore", [True, False], ids=["restore", "block"])
def test_under_nohup_a_hangup_is_neither_recorded_nor_fatal(restore: bool) -> None:
    """``nohup nova-compute boot ...``: the user asked the command to outlive the terminal."""
    stages, status, stderr = _signal_at_each_stage(restore=restore, signum=signal.SIGHUP, nohup=True)
    assert (stages, status, stderr) == (["in the block", "after the block, received None", "shutdown"], 3, "")
