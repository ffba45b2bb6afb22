"""Persisting libvirt's in-process test hypervisor across compute-service restarts.

``test:///default`` lives inside the process, so every ``nova-compute`` run would start with an
empty hypervisor. With ``test_state=persist`` the driver instead opens
``test:///<state dir>/libvirt-test-host.xml``, a node description in the format the libvirt test
driver reads (host CPUs, memory and a storage pool, plus each guest's domain XML with its run
state), and writes it back after every change. Only nova's own guests are written.

The file is the whole hypervisor, and libvirt reads it once, when the connection opens. So an
:class:`EmbeddedHost` holds an exclusive lock (``flock`` on ``libvirt-test-host.xml.lock``) from
open to close: processes sharing a state directory take turns, and none writes back a stale copy
over another's guests. Writes go to a temporary file that is flushed, synced and renamed over the
old one, so a process killed mid-write leaves the previous host intact. The kernel drops the lock
of a killed process.
"""

from __future__ import annotations

import fcntl
import os
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt

from nova_libvirt.exception import LibvirtError
from nova_libvirt.guest_xml import is_nova_domain

__all__ = ["HOST_FILE", "EmbeddedHost"]

HOST_FILE = "libvirt-test-host.xml"
TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"
#: How long to wait for another process's turn on the host before giving up.
LOCK_TIMEOUT_S = 300.0

# A modest pretend host: 8 CPUs, 16 GiB, and one storage pool so the host reports disk
# (the test driver gives pools it loads a 100 GiB capacity).
_INITIAL_NODE = """<node>
  <cpu><mhz>2400</mhz><model>x86_64</model><active>8</active><max>8</max><total>8</total>
  <nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>2</threads></cpu>
  <memory>16777216</memory>
  <pool type='dir'><name>default</name><target><path>/var/lib/nova/instances</path></target></pool>
</node>
"""


class EmbeddedHost:
    """The persisted test host of one state directory, locked while this object is open."""

    def __init__(self, state_dir: Path, timeout: float = LOCK_TIMEOUT_S) -> None:
        self.path = state_dir / HOST_FILE
        self._fd: int | None = os.open(self.path.with_name(HOST_FILE + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self.close()
                    raise LibvirtError(
                        operation=f"lock the embedded test host {self.path}",
                        reason=f"another process has held it for {int(timeout)}s; is one hung?",
                    ) from None
                time.sleep(0.01)
        if not self.path.exists():
            _write_atomically(self.path, _INITIAL_NODE)

    @property
    def uri(self) -> str:
        return f"test://{self.path.resolve()}"

    def save(self, conn: libvirt.virConnect) -> None:
        """Write the node and every nova guest (definition, run state, managed save)."""
        node = ET.fromstring(self.path.read_text())
        for old in node.findall("domain"):
            node.remove(old)
        ET.register_namespace("test", TEST_NS)
        for dom in conn.listAllDomains():
            xml = dom.XMLDesc(0)
            if not is_nova_domain(xml):
                continue
            el = ET.fromstring(xml)
            el.attrib.pop("id", None)
            state = dom.state()[0]
            # The test driver starts every listed domain running unless told otherwise.
            runstate = {libvirt.VIR_DOMAIN_RUNNING: 1, libvirt.VIR_DOMAIN_PAUSED: 3}.get(state, 5)
            ET.SubElement(el, f"{{{TEST_NS}}}runstate").text = str(runstate)
            if dom.hasManagedSaveImage(0):
                ET.SubElement(el, f"{{{TEST_NS}}}hasmanagedsave").text = "yes"
            node.append(el)
        _write_atomically(self.path, ET.tostring(node, encoding="unicode"))

    def close(self) -> None:
        """Release the host to the next process (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
