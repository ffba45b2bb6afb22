"""The driver's power operations reaching real QEMU guests through Ironic's ``redfish`` power
interface and sushy-tools' Redfish emulator (see :mod:`.redfish_fixture`).

The nodes are ``fake-hardware`` with ``power_interface=redfish``: Ironic's ``redfish`` hardware
type offers no deploy interface that works without an agent ramdisk or a network boot (see the
README), and ``fake-hardware`` is the one type Ironic lets combine any interfaces.
"""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_common.objects import PowerState, RebootType
from nova_common.testing.factories import RecordingVirtAPI, make_image, make_instance, make_network_info
from nova_ironic.driver import IronicDriver
from nova_ironic.exception import IronicError
from nova_ironic.ironic_fixture import SOFT_POWER_OFF_TIMEOUT, IronicPeer, unique_resource_class
from nova_ironic.redfish_fixture import RedfishHost, wait_until

pytest_plugins = ["nova_ironic.ironic_fixture", "nova_ironic.redfish_fixture"]


@pytest.fixture
def guest(redfish_host: RedfishHost) -> Iterator[str]:
    """A guest of the emulator, powered off after the test whatever it did."""
    yield "node0"
    redfish_host.force_off("node0")
    wait_until(lambda: not redfish_host.qemu_pids("node0"), "node0's QEMU to exit")


def _driver(tmp_path: Path, peer: IronicPeer, rc: str) -> IronicDriver:
    opts = {"url": peer.url, "resource_class": rc, "image_base_url": peer.image_base_url, "timeout": "180"}
    drv = IronicDriver(RecordingVirtAPI(tmp_path), opts)
    drv.init_host("h")
    return drv


def _running(host: RedfishHost, guest: str) -> int:
    """The pid of the guest's one QEMU process, once it is running."""
    wait_until(lambda: len(host.qemu_pids(guest)) == 1, f"{guest}'s QEMU to run")
    [pid] = host.qemu_pids(guest)
    return pid


def test_power_operations_drive_a_real_guest(
    tmp_path: Path, ironic_peer: IronicPeer, redfish_host: RedfishHost, guest: str
) -> None:
    host = redfish_host
    rc = unique_resource_class()
    [node_id] = ironic_peer.enroll(rc, power_interface="redfish", driver_info=host.driver_info(guest))
    # Ironic read the power state through Redfish while the node was managed and provided.
    node = ironic_peer.conn.baremetal.get_node(node_id)
    assert (node.power_interface, node.power_state) == ("redfish", "power off")
    assert host.qemu_pids(guest) == [] and host.boots(guest) == 0

    drv = _driver(tmp_path, ironic_peer, rc)
    inst = make_instance(name="bm1")
    drv.spawn(inst, make_image(), make_network_info())
    first = _running(host, guest)
    wait_until(lambda: host.boots(guest) == 1, "the guest's first boot on its console")
    assert drv.get_info(inst).state is PowerState.RUNNING
    assert host.power_state(guest) == "On"

    # Hard reboot: Ironic's redfish reboot is ForceOff then On: a new QEMU, a second boot.
    drv.reboot(inst, make_network_info(), RebootType.HARD)
    second = _running(host, guest)
    assert second != first
    wait_until(lambda: host.boots(guest) == 2, "the guest's second boot")

    # Soft reboot: Redfish GracefulRestart, which libvirt sends as an ACPI power button press.
    # This guest has no OS to obey it, and Ironic only waits for the power to be on (it is):
    # the request succeeds and the guest carries on, not rebooted.
    drv.reboot(inst, make_network_info(), RebootType.SOFT)
    assert host.qemu_pids(guest) == [second] and host.boots(guest) == 2

    # Graceful power off: GracefulShutdown, ignored by the guest; Ironic gives up after its
    # soft_power_off_timeout and records an error, and the driver then forces the power off.
    started = time.monotonic()
    drv.power_off(inst, timeout=120, retry_interval=1)
    assert time.monotonic() - started >= SOFT_POWER_OFF_TIMEOUT
    assert host.qemu_pids(guest) == []
    assert drv.get_info(inst).state is PowerState.SHUTDOWN
    assert host.power_state(guest) == "Off"

    drv.power_on(inst, make_network_info())
    _running(host, guest)
    wait_until(lambda: host.boots(guest) == 3, "the guest's boot after power on")
    assert drv.get_info(inst).state is PowerState.RUNNING

    # A hard power off (no timeout): ForceOff.
    drv.power_off(inst)
    assert host.qemu_pids(guest) == []

    # Deleting a running instance.
    drv.power_on(inst, make_network_info())
    _running(host, guest)
    drv.destroy(inst, make_network_info())
    node = ironic_peer.conn.baremetal.get_node(node_id)
    assert (node.instance_id, node.provision_state) == (None, "available")
    # The fake deploy interface's tear-down does not power the node off (a real deploy
    # interface's does): the guest still runs after the instance is gone.
    assert len(host.qemu_pids(guest)) == 1


def test_a_bmc_that_fails_power_on_leaves_no_instance_behind(
    tmp_path: Path, ironic_peer: IronicPeer, redfish_host: RedfishHost
) -> None:
    # The node is enrolled against a real system, then pointed at one the BMC does not have (a
    # replaced machine, a wrong id): Ironic deploys it (the fake deploy does not touch power),
    # and the power on fails at the BMC. The driver must undeploy and release the node.
    host = redfish_host
    rc = unique_resource_class()
    [node_id] = ironic_peer.enroll(rc, power_interface="redfish", driver_info=host.driver_info("node1"))
    gone = {**host.driver_info("node1"), "redfish_system_id": "/redfish/v1/Systems/no-such-system"}
    ironic_peer.conn.baremetal.update_node(node_id, driver_info=gone)
    drv = _driver(tmp_path, ironic_peer, rc)
    inst = make_instance()
    with pytest.raises(
        IronicError,
        match=f"^Ironic failed to power on node {node_id} for {inst.uuid}: .*Systems/no-such-system not found",
    ):
        drv.spawn(inst, make_image(), make_network_info())
    node = ironic_peer.conn.baremetal.get_node(node_id)
    assert (node.instance_id, node.provision_state, node.instance_info) == (None, "available", {})
    assert drv.list_instances() == []
    assert host.qemu_pids("node1") == [] and host.boots("node1") == 0
