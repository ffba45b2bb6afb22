"""Persisting libvirt's in-process test hypervisor across compute-service restarts.

``test:///default`` lives inside the process, so every ``nova-compute`` run would start with an
empty hypervisor. With ``test_state=persist`` the driver instead opens
``test:///<state dir>/libvirt-test-host.xml``, a node description in the format the libvirt test
driver reads (host CPUs and memory, plus each guest's domain XML with its run state), and writes
it back after every change, atomically. Only nova's own guests are written.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt

from nova_libvirt.guest_xml import is_nova_domain

__all__ = ["HOST_FILE", "ensure_host_file", "save_host_file"]

HOST_FILE = "libvirt-test-host.xml"
TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"

# A modest pretend host: 8 CPUs, 16 GiB.
_INITIAL_NODE = """<node>
  <cpu><mhz>2400</mhz><model>x86_64</model><active>8</active><max>8</max><total>8</total>
  <nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>2</threads></cpu>
  <memory>16777216</memory>
</node>
"""


def ensure_host_file(state_dir: Path) -> Path:
    """The host file in ``state_dir``, created with an empty host the first time."""
    path = state_dir / HOST_FILE
    if not path.exists():
        _write_atomically(path, _INITIAL_NODE)
    return path


def save_host_file(conn: libvirt.virConnect, path: Path) -> None:
    """Write the node and every nova guest (definition, run state, managed save) to ``path``."""
    node = ET.fromstring(path.read_text())
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
    _write_atomically(path, ET.tostring(node, encoding="unicode"))


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
