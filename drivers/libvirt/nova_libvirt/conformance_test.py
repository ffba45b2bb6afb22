"""The nova-common conformance suite, against libvirt's real test hypervisor."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_common.testing.conformance import DriverConformance
from nova_common.testing.factories import RecordingVirtAPI
from nova_libvirt.driver import LibvirtDriver


class TestLibvirtConformance(DriverConformance):
    capabilities = LibvirtDriver.capabilities  # the test:/// hypervisor's set (QEMU's: qemu_conformance_test)

    @pytest.fixture
    def driver(self, tmp_path: Path) -> Iterator[LibvirtDriver]:
        drv = LibvirtDriver(RecordingVirtAPI(tmp_path), {})
        drv.init_host("conformance-host")
        yield drv
        drv.cleanup_host("conformance-host")
