"""VirtAPI: the one narrow way a driver calls back into the compute service."""

from __future__ import annotations

import abc
from pathlib import Path

from nova_common.objects import LifecycleEvent

__all__ = ["VirtAPI"]


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
