"""Advisory file locks between ``nova-compute`` processes sharing one state directory.

``fcntl.flock`` rather than a lock-file library: the kernel drops the lock when the holder dies
(even by SIGKILL), so a crashed command never leaves a stale lock, and shared locks come free.
Waiting polls instead of blocking so a pending SIGINT/SIGTERM is noticed (see :mod:`.signals`).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from nova_common.compute.errors import LockTimeout, StateDirUnusable

__all__ = ["file_lock", "instance_lock", "lock_file"]

#: How long a command waits for another one before giving up with a one-line error.
DEFAULT_TIMEOUT = 300.0
_POLL = 0.01


@contextmanager
def file_lock(
    path: Path,
    what: str,
    *,
    shared: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    check: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold ``path``'s flock (exclusive unless ``shared``) for the ``with`` block.

    ``check`` is called while waiting; it may raise to abandon the wait (an interrupt).
    Raises ``LockTimeout`` naming ``what`` after ``timeout`` seconds.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise StateDirUnusable(path=path.parent, reason=f"{e.strerror or e} ({path})") from None
    try:
        mode = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, mode)
                break
            except BlockingIOError:
                if check is not None:
                    check()
                if time.monotonic() > deadline:
                    raise LockTimeout(what=what, path=path, seconds=int(timeout)) from None
                time.sleep(_POLL)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def instance_lock(state_dir: Path, uuid: str, check: Callable[[], None] | None = None) -> AbstractContextManager[None]:
    """The lock every command holds while it changes instance ``uuid`` (record or guest)."""
    path = lock_file(state_dir, uuid)
    try:
        path.parent.mkdir(exist_ok=True)
    except OSError as e:
        raise StateDirUnusable(path=state_dir, reason=f"{e.strerror or e} ({path.parent})") from None
    return file_lock(path, f"instance {uuid}", check=check)


def lock_file(state_dir: Path, uuid: str) -> Path:
    """Where instance ``uuid``'s lock lives."""
    return state_dir / "locks" / f"{uuid}.lock"
