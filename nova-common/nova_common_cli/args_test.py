"""``terminate_as_exception``: what SIGTERM (and SIGHUP) does inside the block, and what is left after it.

In process, with real signals sent to this process; a fixture puts the test runner's handlers back.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType, SimpleNamespace

import pytest

from nova_common_cli.args import Terminated, quiet_signal_races, start_without_interrupts, terminate_as_exception

_BOTH = (signal.SIGTERM, signal.SIGINT)
_ALL = (*_BOTH, signal.SIGHUP)


@pytest.fixture(autouse=True)
def _handlers_back() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in _ALL}
    yield
    for sig, handling in saved.items():
        signal.signal(sig, handling)


def _previous(signum: int, frame: FrameType | None) -> None:
    raise AssertionError("the previous handler ran")


def _sigterm_inside(restore: bool) -> None:
    with pytest.raises(Terminated), terminate_as_exception(restore=restore):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # Terminated is raised here, inside the block


def test_sigterm_inside_the_block_raises_terminated_and_the_handler_comes_back() -> None:
    signal.signal(signal.SIGTERM, _previous)
    _sigterm_inside(restore=True)
    assert signal.getsignal(signal.SIGTERM) is _previous


def test_as_the_program_an_interrupt_leaves_sigterm_and_sigint_ignored() -> None:
    """A second SIGTERM between the block's end and the program's last line must not kill it."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _sigterm_inside(restore=False)
    assert [signal.getsignal(s) for s in _BOTH] == [signal.SIG_IGN, signal.SIG_IGN]
    os.kill(os.getpid(), signal.SIGTERM)  # survived: the line can still be written


def test_as_the_program_ctrl_c_in_the_block_also_leaves_them_ignored() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with pytest.raises(KeyboardInterrupt), terminate_as_exception(restore=False):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    assert [signal.getsignal(s) for s in _BOTH] == [signal.SIG_IGN, signal.SIG_IGN]


@pytest.mark.parametrize("ending", ["normal", "error"])
def test_as_the_program_a_block_not_interrupted_also_leaves_them_ignored(ending: str) -> None:
    """The command is over: a signal after it printed its result must not kill it (143)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, _previous)
    if ending == "normal":
        with terminate_as_exception(restore=False):
            pass
    else:
        with pytest.raises(ValueError), terminate_as_exception(restore=False):
            raise ValueError("a command's own failure")
    assert [signal.getsignal(s) for s in _BOTH] == [signal.SIG_IGN, signal.SIG_IGN]
    os.kill(os.getpid(), signal.SIGTERM)  # survived: the exit code stays the command's


@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT])
def test_as_the_program_a_second_signal_cuts_no_cleanup_short(second: signal.Signals) -> None:
    """``timeout`` and CI runners send SIGTERM more than once, a user presses Ctrl-C twice: the
    cleanup the first began runs to its end and the exception stays the first one's."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    cleaned = False
    with pytest.raises(Terminated), terminate_as_exception(restore=False):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        finally:
            os.kill(os.getpid(), second)
            time.sleep(0.05)
            cleaned = True
    assert cleaned


def test_with_hangup_sighup_raises_terminated_naming_it_and_the_handler_comes_back() -> None:
    """A closed terminal cleans up as ``kill`` does (the repository tooling asks for this)."""
    signal.signal(signal.SIGHUP, _previous)
    with pytest.raises(Terminated) as stopped, terminate_as_exception(hangup=True):
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(5)
    assert stopped.value.signal_name == "SIGHUP"
    assert signal.getsignal(signal.SIGHUP) is _previous


def test_sigterm_is_named_as_such() -> None:
    with pytest.raises(Terminated) as stopped, terminate_as_exception(hangup=True):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    assert stopped.value.signal_name == "SIGTERM"


def test_without_hangup_sighup_is_left_as_it_was() -> None:
    """nova-compute defers SIGINT and SIGTERM to its boot's step boundaries; SIGHUP stays its own."""
    signal.signal(signal.SIGHUP, _previous)
    with terminate_as_exception(restore=False):
        assert signal.getsignal(signal.SIGHUP) is _previous
    assert signal.getsignal(signal.SIGHUP) is _previous


def test_under_nohup_sighup_stays_ignored_and_the_block_runs_on() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    ran_on = False
    with terminate_as_exception(restore=False, hangup=True):
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(0.05)
        ran_on = True
    assert ran_on and signal.getsignal(signal.SIGHUP) is signal.SIG_IGN


def test_as_the_program_a_hangup_leaves_every_handled_signal_ignored() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    with pytest.raises(Terminated), terminate_as_exception(restore=False, hangup=True):
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(5)
    assert [signal.getsignal(s) for s in _ALL] == [signal.SIG_IGN] * 3
    os.kill(os.getpid(), signal.SIGHUP)  # survived: the line can still be written


@pytest.mark.parametrize("second", [signal.SIGHUP, signal.SIGTERM])
def test_in_a_block_that_restores_a_second_signal_cuts_no_cleanup_short(second: signal.Signals) -> None:
    """A block inside the program's (``nova-split audit``'s) is interrupted by a closing terminal,
    which sends SIGHUP twice: the second must not interrupt the cleanup the first began (the
    audit's scratch worktree), and the handlers before the block still come back afterwards."""
    signal.signal(signal.SIGTERM, _previous)
    signal.signal(signal.SIGHUP, _previous)
    cleaned = False
    with pytest.raises(Terminated) as stopped, terminate_as_exception(hangup=True):
        try:
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(5)
        finally:
            os.kill(os.getpid(), second)
            time.sleep(0.05)
            cleaned = True
    assert cleaned and stopped.value.signal_name == "SIGHUP"
    assert [signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)] == [_previous, _previous]


def test_signal_races_drop_only_the_report_of_an_ignored_signal() -> None:
    """CPython reports a signal that came as its handler became SIG_IGN; the program means it."""
    reported: list[BaseException | None] = []
    saved = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: reported.append(unraisable.exc_value)
    try:
        quiet_signal_races()
        race = OSError("Signal 1 ignored due to race condition")
        other = OSError("something else went wrong")
        for error in (race, other):
            sys.unraisablehook(SimpleNamespace(exc_type=OSError, exc_value=error, exc_traceback=None, object=None))
    finally:
        sys.unraisablehook = saved
    assert reported == [other]


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGHUP, signal.SIGTERM])
def test_a_block_inside_the_programs_leaves_the_signals_to_it(second: signal.Signals) -> None:
    """``nova-split audit`` runs a block of its own inside the program's: SIGTERM there, then a
    second signal (Ctrl-C too) while the audit cleans up: the cleanup ends, the exception stays the
    first one's, and everything is left ignored for the program's line."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    cleaned = False
    with pytest.raises(Terminated) as stopped, terminate_as_exception(restore=False, hangup=True):
        with terminate_as_exception(hangup=True):  # the audit's
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            finally:
                os.kill(os.getpid(), second)
                time.sleep(0.05)
                cleaned = True
    assert cleaned and stopped.value.signal_name == "SIGTERM"
    assert [signal.getsignal(s) for s in _ALL] == [signal.SIG_IGN] * 3


@pytest.mark.parametrize("started", ["without interrupts", "plainly"])
def test_a_signal_the_main_thread_holds_back_waits_only_if_other_threads_block_it(started: str) -> None:
    """With the main thread blocking SIGTERM (as ``proc.completed`` does while a child starts), a
    helper thread that does not block it takes it, and the handler runs at once all the same."""
    assert threading.active_count() == 1, f"other threads run in this test process: {threading.enumerate()}"
    got: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: got.append(signum))
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait, daemon=True)
    if started == "plainly":
        helper.start()
    else:
        assert start_without_interrupts(helper) is helper
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline and not got:
            time.sleep(0.01)  # bytecodes between which a handler would run
        held_back = not got
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        stop.set()
        helper.join()
    for _ in range(100):  # unblocked: the pending signal is the main thread's now
        if got:
            break
        time.sleep(0.01)
    assert got == [signal.SIGTERM]
    assert held_back is (started == "without interrupts")
