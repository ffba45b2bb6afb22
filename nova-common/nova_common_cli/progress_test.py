"""The status line's durations: seconds, then minutes and seconds, then hours and minutes."""

import pytest

from nova_common_cli.progress import _duration


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (59.9, "59s"), (60, "1m00s"), (61, "1m01s"), (3599, "59m59s"), (3600, "1h00m"), (7322, "2h02m")],
)
def test_durations_read_like_a_clock(seconds: float, shown: str) -> None:
    assert _duration(seconds) == shown
