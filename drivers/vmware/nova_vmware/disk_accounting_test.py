"""Local disk accounting: an instance's root and ephemeral disks both count, against a real vcsim."""

from pathlib import Path

from nova_common.testing.factories import RecordingVirtAPI, make_flavor, make_image, make_instance, make_network_info
from nova_vmware import vm_spec
from nova_vmware.driver import VMwareDriver
from nova_vmware.vcsim_fixture import Vcsim


def test_local_gb_used_counts_root_and_ephemeral(tmp_path: Path, vcsim: Vcsim) -> None:
    drv = VMwareDriver(RecordingVirtAPI(tmp_path), vcsim.options())
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


def test_flavor_size_is_root_plus_ephemeral_of_the_recorded_metadata() -> None:
    extra = {"nova.flavor.root_gb": "4", "nova.flavor.ephemeral_gb": "5", "nova.flavor.vcpus": "2"}
    assert vm_spec.flavor_size(extra) == 9
    assert vm_spec.flavor_size({"nova.flavor.root_gb": "4"}) == 4
