"""The hyperv driver's options, parsed from the strings the compute service passes."""

from __future__ import annotations

import ntpath
from collections.abc import Mapping
from dataclasses import dataclass

from nova_hyperv.exception import HyperVConfigError

__all__ = ["HyperVConfig"]

_KNOWN = ("instances_path", "vm_generation", "host")


@dataclass(frozen=True)
class HyperVConfig:
    """Options (all optional):

    ``instances_path``
        Where Hyper-V keeps each VM's configuration, an absolute Windows path. Default
        ``C:\\OpenStack\\Instances``. Its drive is the one reported as local disk.
    ``vm_generation``
        ``1`` (default, BIOS) or ``2`` (UEFI).
    ``host``
        The WMI host os-win's VM utilities connect to. Default ``.``, this machine.
    """

    instances_path: str = "C:\\OpenStack\\Instances"
    vm_generation: int = 1
    host: str = "."

    @property
    def drive(self) -> str:
        """The drive letter of ``instances_path``, as os-win's ``get_volume_info`` wants it (``C:``)."""
        return ntpath.splitdrive(self.instances_path)[0]

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> HyperVConfig:
        unknown = sorted(set(options) - set(_KNOWN))
        if unknown:
            raise HyperVConfigError(
                driver="hyperv", option=unknown[0], reason="unknown option; known: " + ", ".join(_KNOWN)
            )
        path = options.get("instances_path", cls.instances_path)
        drive = ntpath.splitdrive(path)[0]
        if len(drive) != 2 or not drive[0].isalpha() or not ntpath.isabs(path):
            raise HyperVConfigError(
                driver="hyperv", option="instances_path", reason=f"{path!r} is not an absolute path like C:\\VMs"
            )
        generation = options.get("vm_generation", str(cls.vm_generation))
        if generation not in ("1", "2"):
            raise HyperVConfigError(driver="hyperv", option="vm_generation", reason="must be 1 or 2")
        host = options.get("host", cls.host)
        if not host:
            raise HyperVConfigError(driver="hyperv", option="host", reason="must not be empty")
        return cls(instances_path=path, vm_generation=int(generation), host=host)
