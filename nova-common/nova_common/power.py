"""Helpers for the power semantics the driver contract prescribes, for drivers to share.

:meth:`ComputeDriver.power_off` says: with ``timeout > 0`` ask the guest OS to shut down and wait
up to ``timeout`` seconds, polling every ``retry_interval``, before forcing it off; idempotent on
a stopped guest. :func:`graceful_power_off` is exactly that, given three hypervisor operations.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["MIN_POLL_INTERVAL", "graceful_power_off", "wait_until"]

#: Polls are never closer together than this, whatever ``retry_interval`` says.
MIN_POLL_INTERVAL = 0.1


def wait_until(
    condition: Callable[[], bool],
    timeout: float,
    interval: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Poll ``condition`` every ``interval`` seconds until it holds or ``timeout`` seconds pass.

    Returns whether it held. ``condition`` is checked once more at the deadline.
    """
    deadline = clock() + timeout
    while True:
        if condition():
            return True
        if clock() >= deadline:
            return False
        sleep(max(interval, MIN_POLL_INTERVAL))


def graceful_power_off(
    *,
    timeout: float,
    retry_interval: float,
    is_off: Callable[[], bool],
    request_shutdown: Callable[[], bool],
    force_off: Callable[[], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Stop a guest as ``power_off`` prescribes.

    ``is_off`` reports whether the guest is stopped; ``request_shutdown`` asks the guest OS to
    shut down and returns False when it cannot be asked (no guest agent, not running);
    ``force_off`` pulls the plug. A stopped guest is left alone.
    """
    if is_off():
        return
    if timeout > 0 and request_shutdown() and wait_until(is_off, timeout, retry_interval, clock=clock, sleep=sleep):
        return
    if not is_off():
        force_off()
