"""Fixtures of the libvirt driver's tests: the real-QEMU tier's isolated libvirt, one per test process.

libvirt's embedded QEMU driver takes one root directory per process, so every QEMU test module
of a process shares this host (each with its own driver state directory).
"""

from collections.abc import Iterator

import pytest

from nova_libvirt.qemu_fixture import QemuHost, qemu_host


@pytest.fixture(scope="session")
def qemu() -> Iterator[QemuHost]:
    with qemu_host() as host:
        yield host
