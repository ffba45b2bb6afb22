"""The recording VirtAPI drivers' tests and the compute service use: what it keeps is what was sent."""

import logging
from pathlib import Path

import pytest

from nova_common.objects import LifecycleEvent, PowerState
from nova_common.testing.factories import RecordingVirtAPI
from nova_common.virtapi import LocalVirtAPI, VirtAPI


def test_lifecycle_events_are_recorded_in_order(tmp_path: Path) -> None:
    api = RecordingVirtAPI(tmp_path / "state")
    sent = [
        LifecycleEvent(instance_uuid="a", power_state=PowerState.SHUTDOWN),
        LifecycleEvent(instance_uuid="b", power_state=PowerState.CRASHED),
        LifecycleEvent(instance_uuid="a", power_state=PowerState.RUNNING),
    ]
    for event in sent:
        api.emit_event(event)  # must not raise
    assert api.events == sent
    assert [(e.instance_uuid, e.power_state) for e in api.events][0] == ("a", PowerState.SHUTDOWN)


def test_state_dir_is_created_and_owned(tmp_path: Path) -> None:
    where = tmp_path / "nested" / "state"
    api: VirtAPI = LocalVirtAPI(where)
    assert api.state_dir == where and where.is_dir()
    assert LocalVirtAPI(where).state_dir == where  # an existing directory is fine


def test_each_lifecycle_event_is_logged_for_the_operator(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The compute log is where an operator sees a guest that shut itself down or crashed: one
    INFO line per event, naming the instance and its new state."""
    api = LocalVirtAPI(tmp_path / "state")
    with caplog.at_level(logging.INFO, logger="nova_common.virtapi"):
        api.emit_event(LifecycleEvent(instance_uuid="a", power_state=PowerState.CRASHED))
        api.emit_event(LifecycleEvent(instance_uuid="b", power_state=PowerState.SHUTDOWN))
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, f"lifecycle event: a is now {PowerState.CRASHED.value}"),
        (logging.INFO, f"lifecycle event: b is now {PowerState.SHUTDOWN.value}"),
    ]
