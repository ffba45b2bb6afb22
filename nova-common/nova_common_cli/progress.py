"""Progress on stderr for long commands: shown on a terminal, silent otherwise.

``with Progress("auditing", total=len(files)) as p: ... p.advance(path)`` redraws one line on
stderr (``auditing 12/80 (15%), 1m05s elapsed, ETA 6m10s: drivers/xen/...``) when stderr is a
terminal; without a total it shows the elapsed time. A ticker thread redraws once a second, so
a step that takes minutes still shows the clock moving. When stderr is not a terminal (CI logs,
pipes, tests), nothing is written: the command's output and exit code are the same either way.
``NOVA_PROGRESS=0`` turns it off on a terminal too, ``NOVA_PROGRESS=1`` forces it on.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from types import TracebackType
from typing import IO

from nova_common_cli.args import start_without_interrupts

__all__ = ["Progress", "enabled"]


def enabled(stream: IO[str] | None = None) -> bool:
    """Whether progress goes to ``stream`` (default stderr): a terminal, unless NOVA_PROGRESS says."""
    forced = os.environ.get("NOVA_PROGRESS", "")
    if forced in ("0", "1"):
        return forced == "1"
    stream = stream or sys.stderr
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """One redrawn status line; a context manager that clears it on exit."""

    def __init__(
        self, label: str, total: int | None = None, stream: IO[str] | None = None, show: bool | None = None
    ) -> None:
        """``show``: None decides by :func:`enabled`; False keeps it silent (a library's default)."""
        self.label = label
        self.total = total
        self.done = 0
        self.item = ""
        self._stream = stream or sys.stderr
        self._on = enabled(self._stream) if show is None else show
        self._start = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self._on:
            self._draw()
            self._ticker = start_without_interrupts(threading.Thread(target=self._tick, daemon=True))
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self._on:
            with self._lock:
                self._write("\r\x1b[K")

    def advance(self, item: str = "", steps: int = 1) -> None:
        """``steps`` more done; ``item`` names what runs next (shown after the counts)."""
        with self._lock:
            self.done += steps
            self.item = item
        if self._on:
            self._draw()

    def echo(self, text: str, stream: IO[str] | None = None) -> None:
        """Print ``text`` (a line) to ``stream`` (default stdout) without mixing it into the status line."""
        with self._lock:
            if self._on:
                self._write("\r\x1b[K")
            print(text, file=stream or sys.stdout, flush=True)
            if self._on:
                self._write(self.line())

    def status(self, item: str) -> None:
        """Name the step now running, without counting one done."""
        self.advance(item, steps=0)

    def line(self) -> str:
        """The status line as it is drawn now (without the carriage return)."""
        elapsed = time.monotonic() - self._start
        text = self.label
        if self.total:
            text += f" {self.done}/{self.total} ({100 * self.done // self.total}%), {_duration(elapsed)} elapsed"
            if 0 < self.done < self.total:
                text += f", ETA {_duration(elapsed / self.done * (self.total - self.done))}"
        else:
            text += f", {_duration(elapsed)} elapsed"
        if self.item:
            text += f": {self.item}"
        width = shutil.get_terminal_size((100, 20)).columns - 1
        return text if len(text) <= width else text[: max(width - 3, 0)] + "..."

    def _draw(self) -> None:
        with self._lock:
            self._write("\r\x1b[K" + self.line())

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # a closed terminal: progress is never worth failing for
            self._on = False

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            self._draw()
