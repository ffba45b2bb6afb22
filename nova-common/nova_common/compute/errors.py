"""Errors of the compute service (not of the driver API)."""

from __future__ import annotations

from nova_common.exception import NovaError

__all__ = ["BootFailed", "ComputeError", "InstanceNameInUse", "StateDirInUse", "UnknownFlavor", "UnknownInstance"]


class ComputeError(NovaError):
    """Base of the compute service's own errors."""


class UnknownInstance(ComputeError):
    msg_fmt = "no instance named or with uuid {ref!r}; 'nova-compute list' shows the instances"


class InstanceNameInUse(ComputeError):
    msg_fmt = "an instance named {name!r} already exists ({uuid}); pick another name or delete it first"


class UnknownFlavor(ComputeError):
    msg_fmt = "no flavor {name!r}; known flavors: {known}"


class BootFailed(ComputeError):
    msg_fmt = "booting {name!r} failed and was rolled back (no record, no guest left): {reason}"


class StateDirInUse(ComputeError):
    msg_fmt = (
        "state directory {path} belongs to driver {owner!r}, not {driver!r}; "
        "pass --state-dir with another directory to use {driver!r}"
    )
