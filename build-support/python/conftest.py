"""pytest configuration for every test of the tooling: while the test-impact map is recorded,
mark the runs coverage cannot see into (``nova_split_tools.testing.impact``); and every test runs
as from a terminal, with SIGHUP at its default, also when the run was started under ``nohup``."""

import signal
from collections.abc import Iterator

import pytest

from nova_split_tools.testing.impact import watch

watch()


@pytest.fixture(autouse=True)
def _hangup_at_its_default() -> Iterator[None]:
    """Under ``nohup`` SIGHUP is ignored, and every command a test starts inherits that: the
    tests that close a command's terminal (send it SIGHUP) would see it run on, as a user who asked
    for ``nohup`` wants, instead of cleaning up. A test that means ``nohup`` sets it itself."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)
