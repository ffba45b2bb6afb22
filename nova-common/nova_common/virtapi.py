"""VirtAPI: the one narrow way a driver calls back into the compute service."""

from __future__ import annotations

import abc
import logging
from pathlib import Path

from nova_common.objects import LifecycleEvent

__all__ = ["LocalVirtAPI", "VirtAPI"]

LOG = logging.getLogger(__name__)


class VirtAPI(abc.ABC):
    """What the compute service offers a driver. Drivers must not reach the core any other way."""

    @property
    @abc.abstractmethod
    def state_dir(self) -> Path:
        """A directory that exists and belongs to this compute host, for the driver's own files
        (disk images, persisted hypervisor state). Like Nova's ``instances_path``."""

    @abc.abstractmethod
    def emit_event(self, event: LifecycleEvent) -> None:
        """Report a guest state change the hypervisor noticed on its own (guest shut itself down,
        crashed, ...). Must not raise; may be called from any thread."""


class LocalVirtAPI(VirtAPI):
    """The VirtAPI of a single compute process: a state directory and an event log.

    Used by the compute service and by driver tests (``testing.factories.RecordingVirtAPI``).
    """

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self._state_dir = state_dir
        self.events: list[LifecycleEvent] = []

    @property
    def state_dir(self) -> Path:
        return self._state_dir

    def emit_event(self, event: LifecycleEvent) -> None:
        LOG.info("lifecycle event: %s is now %s", event.instance_uuid, event.power_state.value)
        self.events.append(event)
