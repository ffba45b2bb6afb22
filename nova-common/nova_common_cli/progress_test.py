"""The status line: when it is shown, what it says, how it fits the terminal, and that each redraw
reaches the terminal at once (on a real pipe or pseudo-terminal)."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO

import pytest

from nova_common_cli.progress import Progress, _duration, enabled


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


def test_every_redraw_reaches_the_terminal_without_waiting_for_a_newline(
    pipe: tuple[IO[str], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the line is cut to the terminal's width: room for all of it
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


def test_echo_prints_its_line_between_clearing_and_redrawing_the_status(
    pipe: tuple[IO[str], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    stream, read_fd = pipe
    out = io.StringIO()
    p = Progress("auditing", total=2, stream=stream, show=True)  # not entered: no ticker to draw meanwhile
    p.echo("caught  drivers/xen", stream=out)
    assert out.getvalue() == "caught  drivers/xen\n"
    drawn = _arrived(read_fd)
    assert drawn.startswith("\r\x1b[K") and drawn.count("\r\x1b[K") == 1, repr(drawn)  # cleared once
    assert drawn[len("\r\x1b[K") :].startswith("auditing 0/2 (0%)"), repr(drawn)  # then drawn again
    silent = Progress("auditing", total=2, stream=stream, show=False)
    silent.echo("survived drivers/xen", stream=out)
    assert out.getvalue().endswith("caught  drivers/xen\nsurvived drivers/xen\n")
    stream.flush()
    assert _arrived(read_fd) == ""  # off: only the line itself


class _Recorder(io.StringIO):
    """A terminal that keeps each write, and tells when the status line is cleared."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []
        self.cleared = threading.Event()

    def write(self, text: str) -> int:
        self.writes.append(text)
        if text == "\r\x1b[K":
            self.cleared.set()
        return len(text)


class _LateTick(threading.Event):
    """The ticker's stop event, losing the race the join guards against: its one-second wait ends
    just as the block ends, so the ticker goes on to draw. It holds that draw back until the line
    has been cleared (or 2 s, when the end of the block waits for the ticker, as it must)."""

    def __init__(self, stream: _Recorder) -> None:
        super().__init__()
        self.stream = stream
        self.lost = False

    def wait(self, timeout: float | None = None) -> bool:
        if self.lost:
            return True
        super().wait()  # until the block ends
        self.lost = True
        self.stream.cleared.wait(2)
        return False  # the wait "timed out": draw once more


def test_nothing_is_drawn_after_the_line_is_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    """The end of the block waits for the ticker: a redraw that had begun cannot land after the clear."""
    stream = _Recorder()
    before = set(threading.enumerate())
    p = Progress("auditing", stream=stream, show=True)
    p._stop = _LateTick(stream)
    with p:
        pass
    assert set(threading.enumerate()) - before == set()  # the ticker is gone
    assert stream.writes[-1] == "\r\x1b[K", stream.writes[-2:]  # and the last thing written is the clear


def test_eta_from_the_first_step_done_to_the_last(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    p = Progress("auditing", total=3, show=False)
    assert "ETA" not in p.line()  # nothing done: no rate yet
    p.advance()
    assert "auditing 1/3 (33%)" in p.line() and "ETA" in p.line()
    p.advance(steps=2)
    assert "3/3 (100%)" in p.line() and "ETA" not in p.line()


@pytest.mark.parametrize(("columns", "length"), [("50", 49), ("30", 29), ("2", 3)])
def test_the_line_is_cut_to_the_terminal_width(monkeypatch: pytest.MonkeyPatch, columns: str, length: int) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    line = Progress("auditing", total=3, show=False)
    line.advance("drivers/libvirt/nova_libvirt/" + "x" * 80)
    text = line.line()
    assert len(text) == length and text.endswith("...")  # one column is left for the cursor
    assert text == "..." or text.startswith("auditing 1/3")


def test_off_a_terminal_the_width_is_100_columns() -> None:
    """No COLUMNS and no terminal (a pipe): 100 columns, the line cut to 99."""
    code = (
        "from nova_common_cli.progress import Progress\n"
        "p = Progress('a', show=False)\np.item = 'x' * 300\nprint(p.line())"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert len(out.rstrip("\n")) == 99 and out.rstrip("\n").endswith("...")


class _NoTerminal:
    """A stream without ``isatty`` (a logging handler's, a wrapper's)."""

    def write(self, text: str) -> int:
        return len(text)


@pytest.mark.parametrize(
    ("forced", "stream", "on"),
    [
        ("1", "pipe", True),  # forced on, even off a terminal
        ("0", "closed", False),
        ("", "pipe", False),
        ("", "closed", False),  # a closed stream: isatty raises ValueError
        ("", "no-isatty", False),
        ("yes", "pipe", False),  # not 0 or 1: decided by the stream
    ],
)
def test_enabled_by_the_stream_unless_forced(
    monkeypatch: pytest.MonkeyPatch, pipe: tuple[IO[str], int], forced: str, stream: str, on: bool
) -> None:
    monkeypatch.setenv("NOVA_PROGRESS", forced)
    closed = io.StringIO()
    closed.close()
    streams: dict[str, object] = {"pipe": pipe[0], "closed": closed, "no-isatty": _NoTerminal()}
    assert enabled(streams[stream]) is on  # type: ignore[arg-type]


def test_enabled_on_a_terminal_unless_dumb_or_forced_off(monkeypatch: pytest.MonkeyPatch) -> None:
    leader, follower = pty.openpty()
    with open(follower, "w", encoding="utf-8") as tty:
        monkeypatch.setenv("TERM", "xterm")
        monkeypatch.delenv("NOVA_PROGRESS", raising=False)
        assert enabled(tty) is True
        monkeypatch.setenv("TERM", "dumb")
        assert enabled(tty) is False
        monkeypatch.setenv("TERM", "xterm")
        monkeypatch.setenv("NOVA_PROGRESS", "0")
        assert enabled(tty) is False
    os.close(leader)


def test_the_clock_moves_without_a_step(pipe: tuple[IO[str], int]) -> None:
    """A step that takes minutes still shows the time going: the ticker redraws once a second."""
    stream, read_fd = pipe
    with Progress("auditing", stream=stream, show=True):
        assert _arrived(read_fd).endswith("auditing, 0s elapsed")
        drawn, deadline = "", time.monotonic() + 10
        while "\r\x1b[K" not in drawn and time.monotonic() < deadline:  # no step: only the ticker draws
            time.sleep(0.1)
            drawn += _arrived(read_fd)
        assert drawn.startswith("\r\x1b[Kauditing, ") and drawn.endswith(" elapsed"), repr(drawn)
