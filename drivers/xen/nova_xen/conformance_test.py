"""The nova-common conformance suite, against the wire-level XenAPI fake (no Xen simulator exists)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_common.testing.conformance import DriverConformance
from nova_common.testing.factories import RecordingVirtAPI
from nova_xen.driver import XenDriver
from nova_xen.xenapi_fake import running_fake


class TestXenConformance(DriverConformance):
    capabilities = XenDriver.capabilities

    # A pytest fixture override may take other fixtures: not a Liskov violation at run time.
    @pytest.fixture
    def driver(self, tmp_path: Path) -> Iterator[XenDriver]:  # type: ignore[override]
        with running_fake() as fake:
            drv = XenDriver(RecordingVirtAPI(tmp_path), {"url": fake.url, "password": fake.password})
            drv.init_host("conformance-host")
            yield drv
            drv.cleanup_host("conformance-host")
