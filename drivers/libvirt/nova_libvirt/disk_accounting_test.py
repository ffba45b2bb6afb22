"""Local disk accounting: an instance's root and ephemeral disks both count, against libvirt's test hypervisor."""

from pathlib import Path

from nova_common.testing.factories import RecordingVirtAPI, make_flavor, make_image, make_instance, make_network_info
from nova_libvirt import guest_xml
from nova_libvirt.driver import LibvirtDriver


def test_local_gb_used_counts_root_and_ephemeral(tmp_path: Path) -> None:
    drv = LibvirtDriver(RecordingVirtAPI(tmp_path), {})
    drv.init_host("h")
    node = drv.get_available_nodes()[0]
    before = drv.get_available_resource(node).local_gb_used
    inst = make_instance(flavor=make_flavor(root_gb=1, ephemeral_gb=2))
    drv.spawn(inst, make_image(), make_network_info())
    try:
        assert drv.get_available_resource(node).local_gb_used == before + 3
    finally:
        drv.destroy(inst, make_network_info())
    assert drv.get_available_resource(node).local_gb_used == before
    drv.cleanup_host("h")


def test_flavor_size_reads_back_what_the_domain_records() -> None:
    inst = make_instance(flavor=make_flavor(vcpus=2, memory_mb=256, root_gb=4, ephemeral_gb=5))
    xml = guest_xml.domain_xml(inst, make_network_info(), "test")
    assert guest_xml.flavor_size(xml) == (2, 256, 9)
