"""Enumerations used as object field types. Values are stable strings: they are stored and sent."""

from __future__ import annotations

import enum

__all__ = ["PowerState", "RebootType", "VMState"]


class PowerState(str, enum.Enum):
    """What the hypervisor says a guest is doing (Nova's ``power_state``)."""

    NOSTATE = "nostate"
    RUNNING = "running"
    PAUSED = "paused"
    SHUTDOWN = "shutdown"
    CRASHED = "crashed"
    SUSPENDED = "suspended"


class VMState(str, enum.Enum):
    """What the compute service believes an instance should be doing (Nova's ``vm_state``)."""

    BUILDING = "building"
    ACTIVE = "active"
    PAUSED = "paused"
    SUSPENDED = "suspended"
    STOPPED = "stopped"
    ERROR = "error"


class RebootType(str, enum.Enum):
    """``SOFT`` asks the guest to restart; ``HARD`` resets it like a power button."""

    SOFT = "soft"
    HARD = "hard"
