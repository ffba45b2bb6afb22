"""Ironic-specific behaviour and failure paths, against a real standalone Ironic server."""

from pathlib import Path

import pytest

from nova_common.exception import InstanceNotFound, NodeNotFound
from nova_common.objects import PowerState, RebootType
from nova_common.testing.factories import RecordingVirtAPI, make_flavor, make_image, make_instance, make_network_info
from nova_ironic.config import IronicConfig
from nova_ironic.driver import IronicDriver
from nova_ironic.exception import IronicConfigError, IronicError, NoAvailableNode
from nova_ironic.ironic_fixture import IronicPeer, free_port, unique_resource_class

pytest_plugins = ["nova_ironic.ironic_fixture"]


def _driver(tmp_path: Path, peer: IronicPeer, rc: str, **options: str) -> IronicDriver:
    opts = {"url": peer.url, "resource_class": rc, "image_base_url": peer.image_base_url, **options}
    drv = IronicDriver(RecordingVirtAPI(tmp_path), opts)
    drv.init_host("h")
    return drv


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "'url'.*required"),
        ({"url": "127.0.0.1:6385"}, "'url'.*not an http"),
        ({"url": "http://i:6385", "uri": "x"}, "'uri'.*unknown option"),
        ({"url": "http://i:6385", "timeout": "soon"}, "'timeout'.*not a number"),
        ({"url": "http://i:6385", "api_timeout": "0"}, "'api_timeout'.*positive"),
        ({"url": "http://i:6385", "resource_class": " "}, "'resource_class'.*must not be empty"),
        ({"url": "http://i:6385", "image_base_url": "images"}, "'image_base_url'.*not a URL"),
    ],
)
def test_bad_options_name_the_option(options: dict[str, str], message: str) -> None:
    with pytest.raises(IronicConfigError, match=message):
        IronicConfig.from_options(options)


def test_options_are_parsed() -> None:
    cfg = IronicConfig.from_options({"url": "http://i:6385/", "timeout": "30", "image_base_url": "http://img/x/"})
    assert (cfg.url, cfg.timeout, cfg.image_base_url, cfg.resource_class) == (
        "http://i:6385",
        30.0,
        "http://img/x",
        None,
    )


def test_unreachable_endpoint_is_a_driver_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    drv = IronicDriver(RecordingVirtAPI(tmp_path), {"url": url, "api_timeout": "5"})
    with pytest.raises(IronicError, match=f"^Ironic failed to reach the Ironic API at {url}: ") as caught:
        drv.init_host("h")
    assert "\n" not in str(caught.value)


def test_no_available_node_is_a_clear_error(tmp_path: Path, ironic_peer: IronicPeer) -> None:
    rc = unique_resource_class()
    ironic_peer.enroll(rc, provide=False)  # enrolled but not provided: not available
    drv = _driver(tmp_path, ironic_peer, rc)
    inst = make_instance()
    with pytest.raises(NoAvailableNode, match=f"no node of resource class '{rc}' is in provision state 'available'"):
        drv.spawn(inst, make_image(), make_network_info())
    assert drv.list_instances() == []


def test_too_small_nodes_are_not_picked(tmp_path: Path, ironic_peer: IronicPeer) -> None:
    rc = unique_resource_class()
    ironic_peer.enroll(rc, cpus=1, memory_mb=256, local_gb=10)
    drv = _driver(tmp_path, ironic_peer, rc)
    big = make_instance(flavor=make_flavor(name="m1.big", memory_mb=512))
    with pytest.raises(NoAvailableNode, match=r"flavor m1.big \(1 vCPU, 512 MB RAM, 1 GB disk\).*none of the 1"):
        drv.spawn(big, make_image(), make_network_info())


def test_spawn_picks_the_smallest_fitting_node_and_records_the_instance(
    tmp_path: Path, ironic_peer: IronicPeer
) -> None:
    rc = unique_resource_class()
    small, large, huge = (
        ironic_peer.enroll(rc, cpus=c, memory_mb=m, local_gb=40)[0] for c, m in ((1, 256), (2, 4096), (8, 65536))
    )
    drv = _driver(tmp_path, ironic_peer, rc)
    inst = make_instance(name="db1", flavor=make_flavor(name="m1.small", vcpus=2, memory_mb=2048, root_gb=20))
    drv.spawn(inst, make_image(), make_network_info())
    node = ironic_peer.conn.baremetal.get_node(large)
    assert (node.instance_id, node.provision_state, node.power_state) == (inst.uuid, "active", "power on")
    assert node.instance_info["display_name"] == "db1"
    assert node.instance_info["image_source"] == ironic_peer.image_base_url + "/cirros-0.6"
    info = drv.get_info(inst)
    assert (info.state, info.internal_id, info.vcpus, info.memory_mb) == (PowerState.RUNNING, large, 2, 4096)
    used = drv.get_available_resource(large)
    assert (used.vcpus_used, used.memory_mb_used, used.local_gb_used) == (2, 4096, 40)
    assert drv.get_available_resource(small).memory_mb_used == 0
    assert sorted(drv.get_available_nodes()) == sorted([small, large, huge])
    drv.destroy(inst, make_network_info())
    node = ironic_peer.conn.baremetal.get_node(large)
    assert (node.instance_id, node.provision_state, node.instance_info) == (None, "available", {})


def test_failed_deploy_releases_the_node(tmp_path: Path, ironic_peer: IronicPeer) -> None:
    # Without image_base_url, "cirros-0.6" is neither a Glance UUID nor a URL: Ironic refuses to
    # deploy it after the node was claimed. The driver must undo the claim.
    rc = unique_resource_class()
    [node_id] = ironic_peer.enroll(rc)
    drv = IronicDriver(RecordingVirtAPI(tmp_path), {"url": ironic_peer.url, "resource_class": rc})
    drv.init_host("h")
    inst = make_instance()
    with pytest.raises(IronicError, match=f"^Ironic failed to deploy node {node_id} for {inst.uuid}: .*image"):
        drv.spawn(inst, make_image(), make_network_info())
    node = ironic_peer.conn.baremetal.get_node(node_id)
    assert (node.instance_id, node.provision_state, node.instance_info) == (None, "available", {})
    assert drv.list_instances() == []
    with pytest.raises(InstanceNotFound):
        drv.get_info(inst)


def test_nodes_without_instance_and_other_classes_are_ignored(tmp_path: Path, ironic_peer: IronicPeer) -> None:
    rc, other = unique_resource_class(), unique_resource_class()
    [mine] = ironic_peer.enroll(rc)
    [theirs] = ironic_peer.enroll(other)
    drv = _driver(tmp_path, ironic_peer, rc)
    assert drv.list_instances() == []
    assert drv.get_available_nodes() == [mine]
    with pytest.raises(NodeNotFound, match="unknown node"):
        drv.get_available_resource(theirs)
    # Another compute service deploys the other class's node: this driver does not see it.
    _driver(tmp_path / "other", ironic_peer, other).spawn(make_instance(), make_image(), make_network_info())
    assert drv.list_instances() == []


def test_maintenance_nodes_are_not_picked(tmp_path: Path, ironic_peer: IronicPeer) -> None:
    rc = unique_resource_class()
    [node_id] = ironic_peer.enroll(rc)
    ironic_peer.conn.baremetal.set_node_maintenance(node_id, reason="disk replacement")
    drv = _driver(tmp_path, ironic_peer, rc)
    with pytest.raises(NoAvailableNode):
        drv.spawn(make_instance(), make_image(), make_network_info())
    ironic_peer.conn.baremetal.unset_node_maintenance(node_id)


def test_instances_survive_a_restart_and_ironic_is_the_truth(tmp_path: Path, ironic_peer: IronicPeer) -> None:
    rc = unique_resource_class()
    ironic_peer.enroll(rc, count=2)
    first = _driver(tmp_path, ironic_peer, rc)
    on, off = make_instance(name="on"), make_instance(name="off")
    for inst in (on, off):
        first.spawn(inst, make_image(), make_network_info())
    first.power_off(off, timeout=5, retry_interval=1)
    first.cleanup_host("h")

    second = _driver(tmp_path, ironic_peer, rc)
    assert sorted(second.list_instances()) == sorted([on.uuid, off.uuid])
    assert second.get_info(off).state is PowerState.SHUTDOWN
    # Someone powers the node off behind nova's back: get_info reports what Ironic says.
    node_id = second.get_info(on).internal_id
    assert node_id is not None
    ironic_peer.conn.baremetal.set_node_power_state(node_id, "power off", wait=True, timeout=30)
    assert second.get_info(on).state is PowerState.SHUTDOWN
    with pytest.raises(Exception, match="cannot reboot instance .* while it is shutdown"):
        second.reboot(on, make_network_info(), RebootType.SOFT)
    second.power_on(on, make_network_info())
    second.reboot(on, make_network_info(), RebootType.SOFT)
    assert second.get_info(on).state is PowerState.RUNNING
    for inst in (on, off):
        second.destroy(inst, make_network_info())
    assert second.list_instances() == []


def test_unknown_instance_is_not_found_everywhere(tmp_path: Path, ironic_peer: IronicPeer) -> None:
    rc = unique_resource_class()
    ironic_peer.enroll(rc)
    drv = _driver(tmp_path, ironic_peer, rc)
    ghost = make_instance()
    for call in (
        lambda: drv.get_info(ghost),
        lambda: drv.power_on(ghost, make_network_info()),
        lambda: drv.power_off(ghost),
        lambda: drv.reboot(ghost, make_network_info(), RebootType.SOFT),
    ):
        with pytest.raises(InstanceNotFound):
            call()
    drv.destroy(ghost, make_network_info())  # idempotent: nothing to do


def test_server_going_away_is_a_driver_error(tmp_path: Path) -> None:
    # A server of its own, stopped under a driver that was connected to it.
    from nova_ironic.ironic_fixture import run_ironic

    with run_ironic() as peer:
        rc = unique_resource_class()
        peer.enroll(rc)
        drv = _driver(tmp_path, peer, rc, api_timeout="5")
        url = peer.url
    with pytest.raises(IronicError, match="^Ironic failed to list nodes: "):
        drv.list_instances()
    assert url


def test_smoke_options_parse_without_a_peer(tmp_path: Path) -> None:
    """`release cut`'s install check (docs/releases.md) loads the driver with these: nothing connects."""
    from nova_common.virtapi import LocalVirtAPI
    from nova_ironic.driver import IronicDriver

    assert "parsed" in IronicDriver.smoke_check()
    driver = IronicDriver(LocalVirtAPI(tmp_path), IronicDriver.smoke_options)
    assert driver.name == "ironic"
