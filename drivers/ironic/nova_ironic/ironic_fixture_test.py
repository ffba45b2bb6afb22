"""The Ironic test peer leaves nothing behind: after ``run_ironic`` (the ``ironic_server`` fixture's
server) no process of it is left and its port is free.

The server is found by the socket listening on its port: it renames its processes
(``master process [...]``, ``ServiceWrapper worker(0)``), so command lines cannot be relied on.
"""

import errno
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

from nova_ironic.ironic_fixture import run_ironic


def _session(pid: int) -> int | None:
    """The session id of a live process, None if it is gone or a zombie (dead, not yet reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, _ppid, _pgrp, session = stat.rsplit(")", 1)[1].split()[:4]
    return None if state in ("Z", "X") else int(session)


def _session_members(session: int) -> set[int]:
    """The live processes of a session (the server runs in a session of its own)."""
    return {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _session(int(p.name)) == session}


def _listeners(port: int) -> set[int]:
    """The processes holding an IPv4 TCP socket that listens on ``port`` (``/proc/net/tcp`` and the fds)."""
    sockets = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
            sockets.add(f"socket:[{fields[9]}]")
    holders = set()
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            if os.readlink(fd) in sockets:
                holders.add(int(fd.parts[2]))
        except OSError:  # gone meanwhile
            continue
    return holders


def test_the_server_is_gone_and_its_port_free_after_use() -> None:
    with run_ironic() as peer:
        assert list(peer.conn.baremetal.nodes()) == []  # it answers
        port = urlsplit(peer.url).port
        assert port is not None
        server = _listeners(port)
        assert server
        session = _session(min(server))
        assert session is not None and server <= _session_members(session)
    assert _session_members(session) == set()  # the server and every process it forked
    assert _listeners(port) == set()
    with socket.socket() as client:
        assert client.connect_ex(("127.0.0.1", port)) == errno.ECONNREFUSED
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a TIME_WAIT left by a request is fine
        listener.bind(("127.0.0.1", port))
        listener.listen()
