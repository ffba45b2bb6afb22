"""Turning SIGINT/SIGTERM/SIGHUP into decisions at step boundaries instead of exceptions anywhere.

A command that changes state runs under :class:`Interrupts`: a signal only sets a flag, and the
code asks :meth:`Interrupts.check` where stopping is safe (before a step, or while waiting for a
lock). So a boot is never cut between the hypervisor call and the record update: it either rolls
back or completes. Read-only commands keep Python's default (Ctrl-C stops at once). SIGHUP (the
terminal closed) is one more interruption, except where it is ignored already (``nohup``: the
user asked the command to outlive the terminal).

For tests, ``NOVA_COMPUTE_TEST_SIGNAL="<step>:<SIGNAL>"`` makes the process send itself
``SIGNAL`` (INT, TERM, HUP or KILL) right after step ``<step>`` of a boot (0-3: ``manager.BOOT_STEPS``),
so every step boundary can be interrupted deterministically with a real signal.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from nova_common.compute.errors import Interrupted

__all__ = ["TEST_HOOK_ENV", "Interrupts"]

TEST_HOOK_ENV = "NOVA_COMPUTE_TEST_SIGNAL"
_HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _handled() -> tuple[signal.Signals, ...]:
    """The signals to defer: all of :data:`_HANDLED` but one this process ignores (``nohup``)."""
    return tuple(s for s in _HANDLED if s != signal.SIGHUP or signal.getsignal(s) is not signal.SIG_IGN)


class Interrupts:
    """Deferred SIGINT/SIGTERM/SIGHUP; a no-op checker when not installed."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._immediate = False

    @contextmanager
    def deferred(self, restore: bool = True) -> Iterator[Interrupts]:
        """Install the flag-setting handlers for the ``with`` block (main thread only).

        With ``restore=False`` the signals are blocked afterwards instead: a program about to exit
        with the result of a completed command keeps that exit code if a signal comes late (even
        during interpreter shutdown, which resets Python's handlers); a blocked signal stays
        pending and dies with the process.
        """
        previous = {s: signal.signal(s, self._handle) for s in _handled()}
        try:
            yield self
        finally:
            if restore:
                for s, handler in previous.items():
                    signal.signal(s, handler)
            else:
                signal.pthread_sigmask(signal.SIG_BLOCK, tuple(previous))

    @contextmanager
    def immediate(self) -> Iterator[None]:
        """For a phase that changes nothing (opening the records, connecting to the hypervisor,
        which may wait minutes for another command's turn): a signal raises ``Interrupted`` at
        once instead of waiting for the next :meth:`check`."""
        self.check()
        self._immediate = True
        try:
            yield
        finally:
            self._immediate = False

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received = signum
        if self._immediate:
            self._immediate = False
            raise Interrupted(signal=signal.Signals(signum).name)

    def check(self) -> None:
        """Raise ``Interrupted`` if a signal arrived: call only where stopping leaves no half-state."""
        if self.received is not None:
            raise Interrupted(signal=signal.Signals(self.received).name)

    def step_done(self, step: int) -> None:
        """Mark the end of boot step ``step``: the test hook may signal the process here."""
        hook = os.environ.get(TEST_HOOK_ENV, "")
        at, _, name = hook.partition(":")
        if at == str(step):
            os.kill(os.getpid(), getattr(signal, f"SIG{name or 'INT'}"))
