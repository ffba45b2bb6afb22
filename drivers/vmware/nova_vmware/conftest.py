"""Fixtures of the VMware driver's tests: one real vcsim per test process."""

from collections.abc import Iterator

import pytest

from nova_vmware.vcsim_fixture import Vcsim, running_vcsim


@pytest.fixture(scope="session")
def vcsim() -> Iterator[Vcsim]:
    with running_vcsim() as sim:
        yield sim
