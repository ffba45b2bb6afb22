"""Lock files the compute service and the shared fake create are rw-r--r--: other users of a
shared state directory may open them to wait, none may write them, and none is executable."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_common.compute.locks import file_lock
from nova_common.compute.shared_fake import HOST_FILE, SharedFakeDriver
from nova_common.virtapi import LocalVirtAPI


@pytest.fixture
def no_umask() -> Iterator[None]:
    """The modes the code asks for, not what this machine's umask leaves of them."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_shared_hosts_lock_is_rw_r_r(tmp_path: Path, no_umask: None) -> None:
    driver = SharedFakeDriver(LocalVirtAPI(tmp_path), {})
    assert driver.list_instances() == []
    assert _mode(tmp_path / (HOST_FILE + ".lock")) == 0o644


def test_an_instance_lock_is_rw_r_r(tmp_path: Path, no_umask: None) -> None:
    with file_lock(tmp_path / "instance.lock", "instance x"):
        pass
    assert _mode(tmp_path / "instance.lock") == 0o644
