"""The signal policy of a cut, in process: what ``interrupts_as_keyboard_interrupt`` leaves behind.

The end-to-end kills are in release_crash_test.py; these pin the one rule a race there depends on:
after an interrupt has fired, a later SIGTERM must not kill the process (or replace its exception)
before the line that says what was restored is written.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from nova_split_tools.release_state import INTERRUPTS, interrupts_as_keyboard_interrupt


@pytest.fixture(autouse=True)
def _handlers_back() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in INTERRUPTS}
    yield
    for sig, handling in saved.items():
        signal.signal(sig, handling)


def _marker(signum: int, frame: object) -> None:
    raise AssertionError("the previous handler ran")


def test_a_block_without_an_interrupt_gives_the_handlers_back() -> None:
    for sig in INTERRUPTS:
        signal.signal(sig, _marker)
    with interrupts_as_keyboard_interrupt():
        assert all(signal.getsignal(sig) is not _marker for sig in INTERRUPTS)
    assert all(signal.getsignal(sig) is _marker for sig in INTERRUPTS)


def test_an_error_that_is_not_an_interrupt_gives_the_handlers_back() -> None:
    for sig in INTERRUPTS:
        signal.signal(sig, _marker)
    with pytest.raises(ValueError), interrupts_as_keyboard_interrupt():
        raise ValueError("a failed step")
    assert all(signal.getsignal(sig) is _marker for sig in INTERRUPTS)


@pytest.mark.parametrize("first", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_after_an_interrupt_later_ones_stay_ignored_beyond_the_block(first: signal.Signals) -> None:
    for sig in INTERRUPTS:
        signal.signal(sig, signal.SIG_DFL)  # what a later SIGTERM would otherwise meet: death, no line
    with pytest.raises(KeyboardInterrupt, match=f"interrupted by signal {first.name}"):
        with interrupts_as_keyboard_interrupt():
            os.kill(os.getpid(), first)
            time.sleep(5)  # the handler raises here, inside the block
    assert all(signal.getsignal(sig) == signal.SIG_IGN for sig in INTERRUPTS)
    for sig in INTERRUPTS:  # and they are survived: the process goes on to write its line
        os.kill(os.getpid(), sig)


def test_under_nohup_sighup_stays_ignored_and_the_block_runs_on() -> None:
    """``nohup nova-split release cut ...``: the user asked the release to outlive the terminal."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    ran_on = False
    with interrupts_as_keyboard_interrupt():
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(0.05)
        ran_on = True
    assert ran_on and signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
