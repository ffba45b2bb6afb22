"""The status line: its durations read like a clock, and each redraw reaches the terminal at once."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from typing import IO

import pytest

from nova_common_cli.progress import Progress, _duration


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (59.9, "59s"), (60, "1m00s"), (61, "1m01s"), (3599, "59m59s"), (3600, "1h00m"), (7322, "2h02m")],
)
def test_durations_read_like_a_clock(seconds: float, shown: str) -> None:
    assert _duration(seconds) == shown


@pytest.fixture
def pipe() -> Iterator[tuple[IO[str], int]]:
    """A block-buffered text stream onto a real pipe, and the pipe's reading end (non-blocking).

    The status line never ends in a newline, so a line-buffered stream would not pass it on
    either: only a flush does.
    """
    read_fd, write_fd = os.pipe()
    fcntl.fcntl(read_fd, fcntl.F_SETFL, fcntl.fcntl(read_fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    stream = open(write_fd, "w", buffering=8192, encoding="utf-8")  # noqa: SIM115 (closed below)
    yield stream, read_fd
    stream.close()
    os.close(read_fd)


def _arrived(read_fd: int) -> str:
    try:
        return os.read(read_fd, 65536).decode()
    except BlockingIOError:  # nothing written through to the pipe
        return ""


def test_every_redraw_reaches_the_terminal_without_waiting_for_a_newline(pipe: tuple[IO[str], int]) -> None:
    stream, read_fd = pipe
    with Progress("auditing", total=3, stream=stream, show=True) as p:
        assert "auditing 0/3 (0%)" in _arrived(read_fd)  # drawn on entry
        p.advance("drivers/xen")
        drawn = _arrived(read_fd)
        assert drawn.startswith("\r\x1b[K") and "auditing 1/3 (33%)" in drawn and drawn.endswith(": drivers/xen")
        p.status("drivers/vmware")
        drawn = _arrived(read_fd)  # a status names the next step without counting one done
        assert "auditing 1/3 (33%)" in drawn and drawn.endswith(": drivers/vmware")
    assert _arrived(read_fd).endswith("\r\x1b[K")  # cleared on exit, at once (after any redraw the ticker made)


def test_silent_progress_writes_nothing(pipe: tuple[IO[str], int]) -> None:
    stream, read_fd = pipe
    with Progress("auditing", total=3, stream=stream, show=False) as p:
        p.advance("drivers/xen")
    stream.flush()
    assert _arrived(read_fd) == ""
