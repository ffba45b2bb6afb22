from nova_common.power import graceful_power_off, wait_until


class _Guest:
    """A guest that stops ``stops_after`` seconds after being asked, on a virtual clock."""

    def __init__(self, stops_after: float | None, can_be_asked: bool = True) -> None:
        self.now = 0.0
        self.on = True
        self.asked_at: float | None = None
        self.stops_after = stops_after
        self.can_be_asked = can_be_asked
        self.calls: list[str] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.calls.append(f"sleep {seconds}")
        self.now += seconds

    def is_off(self) -> bool:
        if self.asked_at is not None and self.stops_after is not None and self.now - self.asked_at >= self.stops_after:
            self.on = False
        return not self.on

    def request_shutdown(self) -> bool:
        self.calls.append("ask")
        if self.can_be_asked:
            self.asked_at = self.now
        return self.can_be_asked

    def force_off(self) -> None:
        self.calls.append("force")
        self.on = False

    def power_off(self, timeout: float, retry_interval: float) -> None:
        graceful_power_off(
            timeout=timeout,
            retry_interval=retry_interval,
            is_off=self.is_off,
            request_shutdown=self.request_shutdown,
            force_off=self.force_off,
            clock=self.clock,
            sleep=self.sleep,
        )


def test_no_timeout_forces_off_at_once() -> None:
    guest = _Guest(stops_after=1)
    guest.power_off(timeout=0, retry_interval=0)
    assert guest.calls == ["force"] and not guest.on


def test_a_guest_that_shuts_down_in_time_is_not_forced() -> None:
    guest = _Guest(stops_after=3)
    guest.power_off(timeout=10, retry_interval=2)
    assert guest.calls == ["ask", "sleep 2", "sleep 2"] and not guest.on


def test_a_guest_that_ignores_the_request_is_forced_at_the_deadline() -> None:
    guest = _Guest(stops_after=None)
    guest.power_off(timeout=5, retry_interval=2)
    assert guest.calls == ["ask", "sleep 2", "sleep 2", "sleep 2", "force"] and guest.now == 6


def test_a_guest_that_cannot_be_asked_is_forced_without_waiting() -> None:
    guest = _Guest(stops_after=None, can_be_asked=False)
    guest.power_off(timeout=5, retry_interval=1)
    assert guest.calls == ["ask", "force"] and guest.now == 0


def test_a_stopped_guest_is_left_alone() -> None:
    guest = _Guest(stops_after=None)
    guest.on = False
    guest.power_off(timeout=5, retry_interval=1)
    assert guest.calls == []


def test_polls_are_never_closer_than_the_minimum() -> None:
    guest = _Guest(stops_after=0.25)
    guest.asked_at = 0.0
    assert wait_until(guest.is_off, 1, 0, clock=guest.clock, sleep=guest.sleep)
    assert guest.calls == ["sleep 0.1", "sleep 0.1", "sleep 0.1"]
