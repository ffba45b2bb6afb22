"""libvirt-specific behaviour, against libvirt's real test hypervisor."""

from pathlib import Path

import libvirt
import pytest

from nova_common.exception import InstanceNotFound
from nova_common.objects import PowerState
from nova_common.testing.factories import RecordingVirtAPI, make_image, make_instance, make_network_info
from nova_libvirt.config import LibvirtConfig
from nova_libvirt.driver import LibvirtDriver
from nova_libvirt.embedded_host import HOST_FILE
from nova_libvirt.exception import LibvirtConfigError, LibvirtError


def _driver(state_dir: Path, **options: str) -> LibvirtDriver:
    drv = LibvirtDriver(RecordingVirtAPI(state_dir), options)
    drv.init_host("h")
    return drv


def test_guests_and_their_states_survive_a_restart(tmp_path: Path) -> None:
    first = _driver(tmp_path)
    running, paused, stopped = (make_instance(name=n) for n in ("running", "paused", "stopped"))
    for inst in (running, paused, stopped):
        first.spawn(inst, make_image(), make_network_info())
    first.pause(paused)
    first.power_off(stopped)
    first.cleanup_host("h")
    assert (tmp_path / HOST_FILE).exists()

    second = _driver(tmp_path)
    assert sorted(second.list_instances()) == sorted(i.uuid for i in (running, paused, stopped))
    assert second.get_info(running).state is PowerState.RUNNING
    assert second.get_info(paused).state is PowerState.PAUSED
    assert second.get_info(stopped).state is PowerState.SHUTDOWN
    second.destroy(running, make_network_info())
    second.cleanup_host("h")
    assert running.uuid not in _driver(tmp_path).list_instances()


def test_suspended_guest_survives_a_restart_and_resumes(tmp_path: Path) -> None:
    first = _driver(tmp_path)
    inst = make_instance()
    first.spawn(inst, make_image(), make_network_info())
    first.suspend(inst)
    first.cleanup_host("h")
    second = _driver(tmp_path)
    assert second.get_info(inst).state is PowerState.SUSPENDED
    second.resume(inst, make_network_info())
    assert second.get_info(inst).state is PowerState.RUNNING


def test_domains_not_created_by_nova_are_ignored(tmp_path: Path) -> None:
    # test:///default, in memory, ships a domain called "test" that nova did not create.
    drv = _driver(tmp_path, test_state="memory")
    assert "test" in [d.name() for d in drv.conn.listAllDomains()]
    assert drv.list_instances() == []
    inst = make_instance()
    drv.spawn(inst, make_image(), make_network_info())
    try:
        assert drv.list_instances() == [inst.uuid]
        res = drv.get_available_resource(drv.get_available_nodes()[0])
        assert (res.vcpus_used, res.memory_mb_used) == (inst.flavor.vcpus, inst.flavor.memory_mb)
    finally:
        drv.destroy(inst, make_network_info())
    assert not (tmp_path / HOST_FILE).exists()


def test_guest_carries_nova_metadata_and_flavor_size(tmp_path: Path) -> None:
    drv = _driver(tmp_path)
    inst = make_instance(name="web1")
    drv.spawn(inst, make_image(), make_network_info(count=2))
    dom = drv.conn.lookupByUUIDString(inst.uuid)
    xml = dom.XMLDesc(0)
    assert dom.name() == f"nova-{inst.uuid}"
    assert "<nova:name>web1</nova:name>" in xml and xml.count("<interface") == 2
    info = drv.get_info(inst)
    assert (info.memory_mb, info.vcpus, info.internal_id) == (128, 1, inst.uuid)


def test_failed_start_leaves_no_domain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drv = _driver(tmp_path)

    def refuse(self: libvirt.virDomain) -> int:
        raise libvirt.libvirtError("injected: no space left for guest memory")

    monkeypatch.setattr(libvirt.virDomain, "create", refuse)
    inst = make_instance()
    with pytest.raises(LibvirtError, match="libvirt failed to spawn .*injected"):
        drv.spawn(inst, make_image(), make_network_info())
    assert drv.list_instances() == []
    with pytest.raises(InstanceNotFound):
        drv.get_info(inst)


def test_snapshot_is_a_real_domain_snapshot(tmp_path: Path) -> None:
    drv = _driver(tmp_path)
    inst = make_instance()
    drv.spawn(inst, make_image(), make_network_info())
    image = drv.snapshot(inst, "nightly-<1>")
    assert image.id == "nightly-<1>"
    assert [s.getName() for s in drv.conn.lookupByUUIDString(inst.uuid).listAllSnapshots()] == ["nightly-<1>"]
    drv.destroy(inst, make_network_info())
    assert drv.list_instances() == []


def test_unreachable_uri_is_a_driver_error(tmp_path: Path) -> None:
    drv = LibvirtDriver(RecordingVirtAPI(tmp_path), {"uri": "test:///no/such/host.xml"})
    with pytest.raises(LibvirtError, match="libvirt failed to connect to test:///no/such/host.xml"):
        drv.init_host("h")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"uri": "nonsense"}, "'uri'.*not a libvirt URI"),
        ({"test_state": "disk"}, "'test_state'.*must be one of"),
        ({"virt_type": "xen"}, "'virt_type'.*test, kvm or qemu"),
        ({"url": "x"}, "'url'.*unknown option"),
        ({"virt_type": "kvm"}, "'virt_type'.*does not fit the URI 'test:///default'"),
        ({"uri": "qemu:///system", "virt_type": "test"}, "'virt_type'.*does not fit"),
    ],
)
def test_bad_options_name_the_option(options: dict[str, str], message: str) -> None:
    with pytest.raises(LibvirtConfigError, match=message):
        LibvirtConfig.from_options(options)


def test_non_test_uris_default_to_tcg_domains() -> None:
    assert LibvirtConfig.from_options({"uri": "qemu:///system"}).virt_type == "qemu"
    assert not LibvirtConfig.from_options({"uri": "qemu:///system"}).persists_test_state


def test_smoke_options_parse_without_a_peer(tmp_path: Path) -> None:
    """`release cut`'s install check (docs/releases.md) loads the driver with these: nothing connects."""
    from nova_common.virtapi import LocalVirtAPI
    from nova_libvirt.driver import LibvirtDriver

    assert "parsed" in LibvirtDriver.smoke_check()
    driver = LibvirtDriver(LocalVirtAPI(tmp_path), LibvirtDriver.smoke_options)
    assert driver.name == "libvirt"
