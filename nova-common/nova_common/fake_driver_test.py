from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_common.exception import InvalidDriverConfig
from nova_common.fake_driver import FakeDriver
from nova_common.testing.conformance import DriverConformance
from nova_common.testing.factories import RecordingVirtAPI


class TestFakeConformance(DriverConformance):
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
    with pytest.raises(InvalidDriverConfig, match=message):
        FakeDriver(RecordingVirtAPI(tmp_path), options)


def test_host_size_comes_from_options(tmp_path: Path) -> None:
    drv = FakeDriver(RecordingVirtAPI(tmp_path), {"vcpus": "4", "memory_mb": "1024"})
    drv.init_host("h")
    res = drv.get_available_resource("h")
    assert (res.vcpus, res.memory_mb, res.local_gb) == (4, 1024, 1000)
