"""The nova-common conformance suite on real QEMU guests (TCG, embedded libvirt).

Every optional operation is declared here, so the suite runs all of them against QEMU; the guests
are fresh for each test and are exercised while they boot (what they see is checked in
``qemu_test.py``).
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_common.testing.conformance import DriverConformance
from nova_common.testing.factories import RecordingVirtAPI
from nova_libvirt.driver import QEMU_CAPABILITIES, LibvirtDriver
from nova_libvirt.qemu_fixture import QemuHost


class TestLibvirtQemuConformance(DriverConformance):
    capabilities = QEMU_CAPABILITIES  # a connection to QEMU declares every optional operation

    @pytest.fixture
    def driver(self, qemu: QemuHost, tmp_path: Path) -> Iterator[LibvirtDriver]:
        drv = LibvirtDriver(RecordingVirtAPI(tmp_path), qemu.options())
        drv.init_host("conformance-qemu-host")
        yield drv
        drv.cleanup_host("conformance-qemu-host")
