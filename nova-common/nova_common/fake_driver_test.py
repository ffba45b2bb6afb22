from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_common.exception import DriverError, InvalidDriverConfig, NodeNotFound
from nova_common.fake_driver import FakeConfigError, FakeDriver, FakeDriverError
from nova_common.objects import BlockDevice
from nova_common.testing.conformance import DriverConformance
from nova_common.testing.factories import RecordingVirtAPI, make_flavor, make_image, make_instance, make_network_info


class TestFakeConformance(DriverConformance):
    capabilities = FakeDriver.capabilities

    @pytest.fixture
    def driver(self, tmp_path: Path) -> Iterator[FakeDriver]:
        drv = FakeDriver(RecordingVirtAPI(tmp_path), {})
        drv.init_host("conformance-host")
        yield drv
        drv.cleanup_host("conformance-host")


@pytest.mark.parametrize(
    ("options", "message"),
    [({"vcpus": "0"}, "'vcpus'.*positive integer"), ({"colour": "red"}, "'colour'.*unknown option")],
)
def test_bad_options_name_the_option(tmp_path: Path, options: dict[str, str], message: str) -> None:
    with pytest.raises(FakeConfigError, match=message) as raised:
        FakeDriver(RecordingVirtAPI(tmp_path), options)
    # The contract's types: the driver's own InvalidDriverConfig subclass, a DriverError.
    assert isinstance(raised.value, InvalidDriverConfig) and isinstance(raised.value, DriverError)
    assert raised.value.kwargs["driver"] == "fake"


def test_host_size_comes_from_options(tmp_path: Path) -> None:
    drv = FakeDriver(RecordingVirtAPI(tmp_path), {"vcpus": "4", "memory_mb": "1024"})
    drv.init_host("h")
    res = drv.get_available_resource("h")
    assert (res.vcpus, res.memory_mb, res.local_gb) == (4, 1024, 1000)


def test_unknown_node_names_the_managed_one(tmp_path: Path) -> None:
    drv = FakeDriver(RecordingVirtAPI(tmp_path), {})
    drv.init_host("h")
    with pytest.raises(NodeNotFound) as raised:
        drv.get_available_resource("other")
    assert str(raised.value) == "unknown node 'other'; this driver manages ['h']"
    assert isinstance(raised.value, ValueError)  # what driver API 1.0 named; callers keep working


def test_attach_to_a_device_in_use_is_a_fake_driver_error(tmp_path: Path) -> None:
    drv = FakeDriver(RecordingVirtAPI(tmp_path), {})
    drv.init_host("h")
    inst = make_instance()
    drv.spawn(inst, make_image(), make_network_info())
    drv.attach_volume(inst, BlockDevice(volume_id="v1", device_name="vdb", size_gb=1))
    with pytest.raises(FakeDriverError, match="device vdb is already in use"):
        drv.attach_volume(inst, BlockDevice(volume_id="v2", device_name="vdb", size_gb=1))


def test_local_disk_counts_root_and_ephemeral(tmp_path: Path) -> None:
    drv = FakeDriver(RecordingVirtAPI(tmp_path), {})
    drv.init_host("h")
    before = drv.get_available_resource("h").local_gb_used
    inst = make_instance(flavor=make_flavor(root_gb=1, ephemeral_gb=2))
    drv.spawn(inst, make_image(), make_network_info())
    assert drv.get_available_resource("h").local_gb_used == before + 3
    drv.destroy(inst, make_network_info())
    assert drv.get_available_resource("h").local_gb_used == before
