"""Domain XML for an instance, and reading nova's metadata back from a domain."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from nova_common.objects import Instance, NetworkInfo

__all__ = ["NOVA_NS", "domain_name", "domain_xml", "is_nova_domain"]

#: Namespace of the metadata nova stores in each domain (the same one Nova itself uses).
NOVA_NS = "http://openstack.org/xmlns/libvirt/nova/1.1"


def domain_name(instance: Instance) -> str:
    """Domains are named after the instance uuid: unique, and found again after a restart."""
    return f"nova-{instance.uuid}"


def domain_xml(instance: Instance, network_info: NetworkInfo, virt_type: str) -> str:
    """The domain definition: nova metadata, size from the flavor, one interface per VIF."""
    dom = ET.Element("domain", type=virt_type)
    ET.SubElement(dom, "name").text = domain_name(instance)
    ET.SubElement(dom, "uuid").text = instance.uuid
    ET.SubElement(dom, "title").text = instance.name
    meta = ET.SubElement(ET.SubElement(dom, "metadata"), f"{{{NOVA_NS}}}instance")
    ET.SubElement(meta, f"{{{NOVA_NS}}}name").text = instance.name
    flavor = ET.SubElement(meta, f"{{{NOVA_NS}}}flavor", name=instance.flavor.name)
    for key in ("memory_mb", "vcpus", "root_gb", "ephemeral_gb"):
        ET.SubElement(flavor, f"{{{NOVA_NS}}}{key}").text = str(getattr(instance.flavor, key))
    ET.SubElement(meta, f"{{{NOVA_NS}}}image", uuid=instance.image_ref)
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
