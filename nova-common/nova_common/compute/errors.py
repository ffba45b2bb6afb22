"""Errors of the compute service (not of the driver API).

Each message is one line that says what is wrong and how to recover; the CLI prints it as is.
"""

from __future__ import annotations

from nova_common.exception import NovaError

__all__ = [
    "BadRecord",
    "BootFailed",
    "ComputeError",
    "DatabaseDamaged",
    "DatabaseMissing",
    "DatabaseTooNew",
    "InstanceNameInUse",
    "Interrupted",
    "InvalidName",
    "LockTimeout",
    "NoCapacity",
    "OutputFailed",
    "StateDirInUse",
    "StateDirUnusable",
    "UnknownFlavor",
    "UnknownInstance",
]

_REBUILD = "move it aside (mv {path} {path}.bad) and run 'nova-compute sync' to rebuild the records from the guests"


class ComputeError(NovaError):
    """Base of the compute service's own errors."""


class UnknownInstance(ComputeError):
    msg_fmt = "no instance {kind} {ref}; 'nova-compute list' shows the instances"


class InstanceNameInUse(ComputeError):
    msg_fmt = "an instance named {name} already exists ({uuid}); pick another name or delete it first"


class InvalidName(ComputeError):
    msg_fmt = "invalid {what} {name}: {reason}"


class UnknownFlavor(ComputeError):
    msg_fmt = "no flavor {name!r}; known flavors: {known}"


class BootFailed(ComputeError):
    msg_fmt = "booting {name} failed and was rolled back (no record, no guest left): {reason}"


class NoCapacity(ComputeError):
    msg_fmt = (
        "flavor {flavor} does not fit node {node}: needs {need} {resource}, {free} free "
        "({total} x allocation ratio {ratio} - {used} used); pick a smaller flavor, free some "
        "instances or raise --{option}"
    )


class Interrupted(ComputeError):
    msg_fmt = "interrupted by {signal}"


class OutputFailed(ComputeError):
    msg_fmt = "cannot write the output ({reason}); the command itself completed: 'nova-compute list' shows the state"


class LockTimeout(ComputeError):
    msg_fmt = (
        "{what} is still locked by another nova-compute after {seconds}s ({path}); "
        "wait for it to finish, or check for a hung process"
    )


class StateDirInUse(ComputeError):
    msg_fmt = (
        "state directory {path} belongs to {owner}, not {requested}; "
        "use the same --driver/--driver-opt, or pass another --state-dir"
    )


class StateDirUnusable(ComputeError):
    msg_fmt = "state directory {path} cannot be used: {reason}; fix its permissions or pass another --state-dir"


class DatabaseDamaged(ComputeError):
    msg_fmt = "records database {path} is damaged ({reason}); nothing was changed; " + _REBUILD


class DatabaseMissing(ComputeError):
    msg_fmt = (
        "records database {path} is missing although this state directory has been used; "
        "run 'nova-compute sync' to rebuild the records from the guests"
    )


class DatabaseTooNew(ComputeError):
    msg_fmt = (
        "records database {path} has schema version {found}, newer than this nova-compute "
        "understands ({supported}); upgrade nova-common or use another --state-dir"
    )


class BadRecord(ComputeError):
    msg_fmt = (
        "the record of {name} ({uuid}) is unreadable ({reason}); 'nova-compute delete {uuid}' "
        "removes it and its guest"
    )
