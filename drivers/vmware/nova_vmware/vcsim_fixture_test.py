"""The vcsim test peer leaves nothing behind: after ``running_vcsim`` its process is gone (stopped
and reaped, not left for the test process's exit) and its port is free."""

import errno
import socket
from pathlib import Path
from urllib.parse import urlsplit

from nova_vmware.vcsim_fixture import running_vcsim


def _connect(port: int) -> int:
    with socket.socket() as client:
        return client.connect_ex(("127.0.0.1", port))


def test_vcsim_is_gone_and_its_port_free_after_use() -> None:
    with running_vcsim() as sim:
        port, pid = urlsplit(sim.url).port, sim.process.pid
        assert port is not None and _connect(port) == 0  # it listens
        assert sim.process.poll() is None and Path(f"/proc/{pid}").exists()
    assert sim.process.returncode is not None  # stopped and reaped
    assert not Path(f"/proc/{pid}").exists()
    assert _connect(port) == errno.ECONNREFUSED
