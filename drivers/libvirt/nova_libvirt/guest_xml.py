"""Domain XML for an instance, and reading nova's metadata back from a domain."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from nova_common.objects import Instance, NetworkInfo

__all__ = [
    "NOVA_NS",
    "BootSource",
    "disk_device_xml",
    "disk_path",
    "disk_targets",
    "domain_name",
    "domain_xml",
    "find_disk_by_serial",
    "image_properties",
    "interface_macs",
    "interface_xml",
    "is_nova_domain",
    "qemu_domain_xml",
]

#: Image properties that say how an image boots; recorded in the domain so a snapshot keeps them.
BOOT_PROPERTIES = ("kernel_id", "ramdisk_id", "os_command_line")

#: Namespace of the metadata nova stores in each domain (the same one Nova itself uses).
NOVA_NS = "http://openstack.org/xmlns/libvirt/nova/1.1"


def domain_name(instance: Instance) -> str:
    """Domains are named after the instance uuid: unique, and found again after a restart."""
    return f"nova-{instance.uuid}"


@dataclass(frozen=True)
class BootSource:
    """Where a QEMU guest boots from: its root disk, and a kernel for direct kernel boot."""

    disk: Path
    kernel: Path | None = None
    initrd: Path | None = None
    cmdline: str = ""
    #: The source image's boot properties (:data:`BOOT_PROPERTIES`), kept in nova's metadata.
    properties: dict[str, str] = field(default_factory=dict)


def domain_xml(instance: Instance, network_info: NetworkInfo, virt_type: str) -> str:
    """The test hypervisor's domain: nova metadata, size from the flavor, one interface per VIF."""
    dom = _domain(instance, virt_type, {})
    ET.SubElement(dom, "memory", unit="MiB").text = str(instance.flavor.memory_mb)
    ET.SubElement(dom, "vcpu").text = str(instance.flavor.vcpus)
    os_el = ET.SubElement(dom, "os")
    ET.SubElement(os_el, "type").text = "hvm"
    devices = ET.SubElement(dom, "devices")
    for vif in network_info.vifs:
        iface = ET.SubElement(devices, "interface", type="bridge")
        ET.SubElement(iface, "mac", address=vif.address)
        ET.SubElement(iface, "source", bridge=vif.bridge or "br-int")
        if vif.mtu:
            ET.SubElement(iface, "mtu", size=str(vif.mtu))
    ET.register_namespace("nova", NOVA_NS)
    return ET.tostring(dom, encoding="unicode")


def qemu_domain_xml(
    instance: Instance, network_info: NetworkInfo, virt_type: str, boot: BootSource, console_log: Path
) -> str:
    """A QEMU guest: qcow2 root disk on virtio, direct kernel boot when given, ACPI (so a power
    button press reaches the guest), user-mode NICs with the VIFs' MACs, a file-backed serial
    console (appended across boots)."""
    dom = _domain(instance, virt_type, boot.properties)
    ET.SubElement(dom, "memory", unit="MiB").text = str(instance.flavor.memory_mb)
    ET.SubElement(dom, "vcpu").text = str(instance.flavor.vcpus)
    os_el = ET.SubElement(dom, "os")
    ET.SubElement(os_el, "type", arch="x86_64", machine="pc").text = "hvm"
    if boot.kernel is not None:
        ET.SubElement(os_el, "kernel").text = str(boot.kernel)
        if boot.initrd is not None:
            ET.SubElement(os_el, "initrd").text = str(boot.initrd)
        ET.SubElement(os_el, "cmdline").text = boot.cmdline
    else:
        ET.SubElement(os_el, "boot", dev="hd")
    ET.SubElement(ET.SubElement(dom, "features"), "acpi")
    ET.SubElement(dom, "on_poweroff").text = "destroy"
    ET.SubElement(dom, "on_reboot").text = "restart"
    ET.SubElement(dom, "on_crash").text = "destroy"
    devices = ET.SubElement(dom, "devices")
    devices.append(ET.fromstring(disk_device_xml(boot.disk, "qcow2", "vda", serial=None)))
    for vif in network_info.vifs:
        devices.append(ET.fromstring(interface_xml(vif.address)))
    serial = ET.SubElement(devices, "serial", type="file")
    ET.SubElement(serial, "source", path=str(console_log), append="on")
    ET.SubElement(devices, "memballoon", model="none")
    ET.register_namespace("nova", NOVA_NS)
    return ET.tostring(dom, encoding="unicode")


def disk_device_xml(path: Path, fmt: str, target: str, serial: str | None) -> str:
    """A file-backed virtio disk (hot-pluggable); ``serial`` identifies a volume."""
    disk = ET.Element("disk", type="file", device="disk")
    ET.SubElement(disk, "driver", name="qemu", type=fmt)
    ET.SubElement(disk, "source", file=str(path))
    ET.SubElement(disk, "target", dev=target, bus="virtio")
    if serial is not None:
        ET.SubElement(disk, "serial").text = serial
    return ET.tostring(disk, encoding="unicode")


def interface_xml(mac: str) -> str:
    """A virtio NIC on QEMU's user-mode network (needs no host bridge)."""
    iface = ET.Element("interface", type="user")
    ET.SubElement(iface, "mac", address=mac)
    ET.SubElement(iface, "model", type="virtio")
    return ET.tostring(iface, encoding="unicode")


def find_disk_by_serial(xml: str, serial: str) -> str | None:
    """The ``<disk>`` element (as XML) whose serial is ``serial``, if the domain has one."""
    for disk in ET.fromstring(xml).findall("devices/disk"):
        if disk.findtext("serial") == serial:
            return ET.tostring(disk, encoding="unicode")
    return None


def disk_targets(xml: str) -> list[str]:
    """Guest device names of the domain's disks."""
    return [t.get("dev", "") for t in ET.fromstring(xml).findall("devices/disk/target")]


def disk_path(xml: str, target: str) -> Path | None:
    """The file behind disk ``target``."""
    for disk in ET.fromstring(xml).findall("devices/disk"):
        t = disk.find("target")
        src = disk.find("source")
        if t is not None and t.get("dev") == target and src is not None and src.get("file"):
            return Path(src.get("file", ""))
    return None


def interface_macs(xml: str) -> list[str]:
    """MAC addresses of the domain's interfaces, in order."""
    return [m.get("address", "").lower() for m in ET.fromstring(xml).findall("devices/interface/mac")]


def image_properties(xml: str) -> dict[str, str]:
    """The boot properties of the image the domain was created from."""
    image = ET.fromstring(xml).find(f"metadata/{{{NOVA_NS}}}instance/{{{NOVA_NS}}}image")
    if image is None:
        return {}
    return {k: v for k, v in image.attrib.items() if k in BOOT_PROPERTIES}


def _domain(instance: Instance, virt_type: str, image_props: dict[str, str]) -> ET.Element:
    dom = ET.Element("domain", type=virt_type)
    ET.SubElement(dom, "name").text = domain_name(instance)
    ET.SubElement(dom, "uuid").text = instance.uuid
    ET.SubElement(dom, "title").text = instance.name
    meta = ET.SubElement(ET.SubElement(dom, "metadata"), f"{{{NOVA_NS}}}instance")
    ET.SubElement(meta, f"{{{NOVA_NS}}}name").text = instance.name
    flavor = ET.SubElement(meta, f"{{{NOVA_NS}}}flavor", name=instance.flavor.name)
    for key in ("memory_mb", "vcpus", "root_gb", "ephemeral_gb"):
        ET.SubElement(flavor, f"{{{NOVA_NS}}}{key}").text = str(getattr(instance.flavor, key))
    ET.SubElement(meta, f"{{{NOVA_NS}}}image", {"uuid": instance.image_ref, **image_props})
    return dom


def is_nova_domain(xml: str) -> bool:
    """True when the domain carries nova's metadata (so this driver created it)."""
    return ET.fromstring(xml).find(f"metadata/{{{NOVA_NS}}}instance") is not None


def flavor_size(xml: str) -> tuple[int, int, int]:
    """(vcpus, memory_mb, disk_gb) recorded in a nova domain's metadata."""
    flavor = ET.fromstring(xml).find(f"metadata/{{{NOVA_NS}}}instance/{{{NOVA_NS}}}flavor")
    if flavor is None:
        return 0, 0, 0

    def value(key: str) -> int:
        return int(flavor.findtext(f"{{{NOVA_NS}}}{key}") or 0)

    return value("vcpus"), value("memory_mb"), value("root_gb") + value("ephemeral_gb")
