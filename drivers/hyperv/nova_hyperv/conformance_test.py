"""The nova-common conformance suite, against the contract fake of os-win (Hyper-V needs Windows)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_common.testing.conformance import DriverConformance
from nova_common.testing.factories import RecordingVirtAPI
from nova_hyperv.driver import HyperVDriver
from nova_hyperv.oswin_fake import FakeUtilsFactory


class TestHyperVConformance(DriverConformance):
    capabilities = HyperVDriver.capabilities

    # A pytest fixture override may take other fixtures: not a Liskov violation at run time.
    @pytest.fixture
    def driver(self, tmp_path: Path) -> Iterator[HyperVDriver]:  # type: ignore[override]
        drv = HyperVDriver(RecordingVirtAPI(tmp_path), {}, utils_factory=FakeUtilsFactory())
        drv.init_host("conformance-host")
        yield drv
        drv.cleanup_host("conformance-host")
