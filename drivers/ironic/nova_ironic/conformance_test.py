"""The nova-common conformance suite, against a real standalone Ironic server."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_common.testing.conformance import DriverConformance
from nova_common.testing.factories import RecordingVirtAPI
from nova_ironic.driver import IronicDriver
from nova_ironic.ironic_fixture import IronicPeer, unique_resource_class

pytest_plugins = ["nova_ironic.ironic_fixture"]


class TestIronicConformance(DriverConformance):
    capabilities = IronicDriver.capabilities

    @pytest.fixture
    def driver(self, tmp_path: Path, ironic_peer: IronicPeer) -> Iterator[IronicDriver]:  # type: ignore[override]
        # One fresh node per test, in a resource class of its own: the driver sees only it.
        rc = unique_resource_class()
        ironic_peer.enroll(rc)
        options = {"url": ironic_peer.url, "resource_class": rc, "image_base_url": ironic_peer.image_base_url}
        drv = IronicDriver(RecordingVirtAPI(tmp_path), options)
        drv.init_host("conformance-host")
        yield drv
        drv.cleanup_host("conformance-host")
