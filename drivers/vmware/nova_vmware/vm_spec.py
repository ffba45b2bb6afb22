"""The vSphere VM definition for an instance, and reading nova's marks back from a VM.

A nova VM is named ``nova-<instance uuid>``, has the instance uuid as its ``instanceUuid`` and
carries nova's metadata in its ``extraConfig`` (``nova.*`` keys). The ``nova.instance.uuid`` key is
what makes a VM nova's: VMs without it (or with a different ``instanceUuid``) are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyVmomi

from nova_common.objects import Instance, NetworkInfo

__all__ = ["UUID_KEY", "config_spec", "extra_config", "flavor_size", "is_nova_vm", "vm_name"]

# pyvmomi's bundled type stubs leave its data-object constructors untyped, which mypy strict
# rejects; this module uses the vSphere API as the dynamically typed API it is.
vim: Any = pyVmomi.vim

UUID_KEY = "nova.instance.uuid"
_GUEST_ID = "otherGuest64"


def vm_name(instance: Instance) -> str:
    """VMs are named after the instance uuid: unique, and found again after a restart."""
    return f"nova-{instance.uuid}"


def _extra_config(instance: Instance) -> dict[str, str]:
    flavor = instance.flavor
    values = {
        UUID_KEY: instance.uuid,
        "nova.instance.name": instance.name,
        "nova.image": instance.image_ref,
        "nova.flavor.name": flavor.name,
        "nova.flavor.vcpus": str(flavor.vcpus),
        "nova.flavor.memory_mb": str(flavor.memory_mb),
        "nova.flavor.root_gb": str(flavor.root_gb),
        "nova.flavor.ephemeral_gb": str(flavor.ephemeral_gb),
    }
    values.update({f"nova.metadata.{k}": v for k, v in instance.metadata.items()})
    return values


def config_spec(instance: Instance, network_info: NetworkInfo, datastore: str, network: Any) -> Any:
    """Size from the flavor, a thin root disk of ``root_gb``, one NIC per VIF with its MAC."""
    flavor = instance.flavor
    devices: list[Any] = []
    controller = vim.vm.device.ParaVirtualSCSIController(key=-100, busNumber=0, sharedBus="noSharing")
    devices.append(vim.vm.device.VirtualDeviceSpec(operation="add", device=controller))
    if flavor.root_gb > 0:
        disk = vim.vm.device.VirtualDisk(
            key=-101,
            controllerKey=-100,
            unitNumber=0,
            capacityInKB=flavor.root_gb * 1024 * 1024,
            backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
                diskMode="persistent", thinProvisioned=True, fileName=""
            ),
        )
        devices.append(vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk))
    for i, vif in enumerate(network_info.vifs):
        nic = vim.vm.device.VirtualVmxnet3(
            key=-200 - i,
            addressType="manual",
            macAddress=vif.address,
            backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=network.name, network=network),
        )
        devices.append(vim.vm.device.VirtualDeviceSpec(operation="add", device=nic))
    return vim.vm.ConfigSpec(
        name=vm_name(instance),
        instanceUuid=instance.uuid,
        annotation=f"nova instance {instance.name} ({instance.uuid})",
        guestId=_GUEST_ID,
        numCPUs=flavor.vcpus,
        memoryMB=flavor.memory_mb,
        files=vim.vm.FileInfo(vmPathName=f"[{datastore}]"),
        extraConfig=[vim.option.OptionValue(key=k, value=v) for k, v in _extra_config(instance).items()],
        deviceChange=devices,
    )


def extra_config(options: Iterable[Any] | None) -> dict[str, str]:
    """A VM's ``config.extraConfig`` as a dict (``nova.*`` keys only)."""
    return {o.key: str(o.value) for o in options or () if str(o.key).startswith("nova.")}


def is_nova_vm(instance_uuid: str | None, extra: Mapping[str, str]) -> bool:
    """True when nova created this VM for the instance it says it is."""
    return bool(instance_uuid) and extra.get(UUID_KEY) == instance_uuid


def flavor_size(extra: Mapping[str, str]) -> int:
    """Disk GB recorded in a nova VM's metadata (root + ephemeral)."""

    def value(key: str) -> int:
        try:
            return int(extra.get(f"nova.flavor.{key}", "0"))
        except ValueError:
            return 0

    return value("root_gb") + value("ephemeral_gb")
