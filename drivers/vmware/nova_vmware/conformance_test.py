"""The nova-common conformance suite, against a real vcsim (govmomi's vCenter simulator)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_common.testing.conformance import DriverConformance
from nova_common.testing.factories import RecordingVirtAPI
from nova_vmware.driver import VMwareDriver
from nova_vmware.vcsim_fixture import Vcsim


class TestVMwareConformance(DriverConformance):
    capabilities = VMwareDriver.capabilities

    @pytest.fixture
    def driver(self, tmp_path: Path, vcsim: Vcsim) -> Iterator[VMwareDriver]:  # type: ignore[override]
        drv = VMwareDriver(RecordingVirtAPI(tmp_path), vcsim.options())
        drv.init_host("conformance-host")
        yield drv
        drv.cleanup_host("conformance-host")
