"""A real, standalone Ironic server for the tests: provisioned from PyPI, started, stopped.

The Ironic server is a test peer, not a dependency of the driver: it lives in its own virtualenv,
outside every Pants resolve, built on first use and cached under
``~/.cache/nova-split/peers/ironic-<sha256 of the pinned spec>/`` (a marker file says it is
complete; a file lock serializes concurrent builds). Each server runs the all-in-one ``ironic``
command (API and conductor, no message bus) with the ``fake-hardware`` hardware type, no
authentication, and a SQLite database in a temporary directory, on a free loopback port. It runs
in its own process group, is terminated (then killed) afterwards, and dies with the test process
if that is killed (``PR_SET_PDEATHSIG``).

Tests use it through the pytest fixtures below: list this module in ``pytest_plugins``.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import openstack
import pytest

__all__ = [
    "IRONIC_CONSTRAINTS",
    "IRONIC_REQUIREMENTS",
    "IronicPeer",
    "PeerError",
    "SOFT_POWER_OFF_TIMEOUT",
    "build_peer_venv",
    "ironic_peer",
    "free_port",
    "ironic_server",
    "peer_venv",
    "run_ironic",
    "unique_resource_class",
]

#: What the peer virtualenv holds. Changing it builds a new virtualenv (the hash names it).
IRONIC_REQUIREMENTS = ("ironic==39.0.0",)
#: Every package that ironic 39.0.0 pulled in when this peer was verified, pinned (as pip
#: constraints) so that a later release of one of them cannot change the peer under the tests.
IRONIC_CONSTRAINTS = """
alembic==1.20.1 amqp==5.4.2 attrs==26.1.0 automaton==3.5.0 bcrypt==5.0.0 cachetools==8.0.1
certifi==2026.10.18 cffi==2.1.1 charset-normalizer==3.5.2 cheroot==11.1.2 construct==2.10.70
cotyledon==2.2.0 cryptography==50.0.2 debtcollector==3.1.0 decorator==5.3.1 dnspython==2.9.2
dogpile.cache==1.5.0 eventlet==0.41.3 fasteners==0.20 futurist==3.5.0 greenlet==3.5.6 idna==3.20
ifaddr==0.2.0 iso8601==2.1.0 jaraco.functools==4.6.0 Jinja2==3.1.6 jmespath==1.1.0
jsonpatch==1.47 jsonpointer==3.12 jsonschema==4.26.0 jsonschema-specifications==2025.9.1
jwcrypto==1.6.1 keystoneauth1==5.18.1 keystonemiddleware==13.0.1 kombu==5.7.0 lark==1.3.1
Mako==1.4.3 MarkupSafe==3.0.4 microversion_parse==2.1.0 more-itertools==11.2.1 msgpack==1.2.4
netaddr==1.3.0 numpy==2.4.6 openstacksdk==4.22.0 os-service-types==1.9.0 os-traits==3.9.0
oslo.cache==4.3.0 oslo.concurrency==7.6.1 oslo.config==10.7.0 oslo.context==6.5.0
oslo.db==18.1.1 oslo.i18n==6.9.0 oslo.log==8.3.2 oslo.messaging==18.3.1 oslo.metrics==0.17.0
oslo.middleware==8.2.0 oslo.policy==6.0.1 oslo.serialization==5.11.0 oslo.service==4.8.0
oslo.upgradecheck==2.8.0 oslo.utils==10.2.0 oslo.versionedobjects==3.12.0 osprofiler==4.4.0
packaging==26.3 Paste==3.10.1 PasteDeploy==3.1.0 pbr==7.1.3 pecan==1.8.0 platformdirs==4.14.7
prettytable==3.18.0 prometheus_client==0.26.0 psutil==7.2.2 pycadf==4.1.0 pycdlib==1.22.0
pycparser==3.12 PyJWT==2.15.1 pyparsing==3.3.3 python-dateutil==4.0.0
python-keystoneclient==6.0.0 PyYAML==6.0.3 redis==8.1.0 referencing==0.37.0 repoze-lru==0.8
requests==2.34.2 rfc3986==2.0.0 Routes==2.5.1 rpds-py==2026.9.1 setproctitle==1.3.8 six==1.17.0
SQLAlchemy==2.1.9 statsd==4.0.1 stevedore==5.10.0 sushy==5.14.0 tenacity==9.2.1
testresources==2.1.2 testscenarios==0.7.0 tooz==9.1.0 typing_extensions==4.16.0 tzdata==2026.6
urllib3==2.8.0 vine==5.1.0 voluptuous==0.16.0 wcwidth==0.9.4 WebOb==1.8.11 websockify==0.13.0
wrapt==2.5.2 yappi==1.7.6 zeroconf==0.154.0
""".split()

_START_TIMEOUT = 60.0
#: Seconds Ironic waits for a graceful power off (``soft power off``) before it gives up and
#: records an error; the driver then forces the power off. Ironic's default is 600.
SOFT_POWER_OFF_TIMEOUT = 10
_PIP_TIMEOUT = 900.0


class PeerError(RuntimeError):
    """The Ironic test peer could not be provisioned or started; says what is missing."""


def _cache_root() -> Path:
    return Path.home() / ".cache" / "nova-split" / "peers"


def peer_venv() -> Path:
    """The virtualenv with the Ironic server, built the first time (serialized by a lock)."""
    return build_peer_venv("ironic", IRONIC_REQUIREMENTS, IRONIC_CONSTRAINTS)


def build_peer_venv(name: str, requirements: tuple[str, ...], constraints: list[str]) -> Path:
    """A virtualenv ``<peer cache>/<name>-<hash>`` holding ``requirements`` (pinned by
    ``constraints``), built the first time; concurrent builders are serialized by a lock and a
    marker file says the build completed."""
    if sys.version_info < (3, 11):
        raise PeerError(f"the {name} test peer needs Python >= 3.11; the tests run on {sys.version.split()[0]}")
    spec = "\n".join((*requirements, *constraints, f"python{sys.version_info[0]}.{sys.version_info[1]}"))
    venv = _cache_root() / (name + "-" + hashlib.sha256(spec.encode()).hexdigest()[:16])
    marker = venv / ".complete"
    if marker.exists():
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / (venv.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():  # another test process built it while we waited
            return venv
        shutil.rmtree(venv, ignore_errors=True)  # a build that was interrupted
        _build_venv(venv, name, requirements, constraints)
        marker.write_text(spec + "\n")
    return venv


def _build_venv(venv: Path, name: str, requirements: tuple[str, ...], pins: list[str]) -> None:
    # The machine's pip configuration (constraints, extra indexes) is not ours: ignore it, and
    # trust the system CA bundle, as ./pants does.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    cert = []
    paths = ssl.get_default_verify_paths()
    for ca in (paths.cafile, paths.openssl_cafile):
        if ca and os.path.isfile(ca):
            cert = ["--cert", ca]
            env["PIP_CERT"] = ca  # the pip that installs an sdist's build requirements gets no --cert
            break
    constraints = venv.parent / (venv.name + ".constraints.txt")
    constraints.write_text("\n".join(pins) + "\n")
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *cert,
         "-c", str(constraints), *requirements],
    ]  # fmt: skip
    for argv in steps:
        try:
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=_PIP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise PeerError(f"provisioning the {name} test peer timed out: {' '.join(argv)}") from None
        if done.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise PeerError(
                f"could not provision the {name} test peer ({' '.join(argv[2:5])}...): "
                + " | ".join(tail)
                + "; it needs PyPI reachable by pip and the Python venv module"
            )


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_CONFIG = """\
[DEFAULT]
auth_strategy = noauth
rpc_transport = none
host = nova-split-test
enabled_hardware_types = fake-hardware
enabled_bios_interfaces = fake
enabled_boot_interfaces = fake
enabled_console_interfaces = fake
enabled_deploy_interfaces = fake
enabled_firmware_interfaces = fake
enabled_inspect_interfaces = fake
enabled_management_interfaces = fake
enabled_power_interfaces = fake,redfish
enabled_raid_interfaces = fake
enabled_rescue_interfaces = fake
enabled_vendor_interfaces = fake
enabled_network_interfaces = noop
enabled_storage_interfaces = noop
default_network_interface = noop
use_stderr = true
[database]
connection = sqlite:///{db}
[dhcp]
dhcp_provider = none
[conductor]
automated_clean = false
# How long Ironic waits for a graceful power off (ACPI) before it gives up (default 600 s).
soft_power_off_timeout = {soft_off}
[api]
host_ip = 127.0.0.1
port = {port}
[oslo_concurrency]
lock_path = {locks}
[oslo_policy]
enforce_scope = false
enforce_new_defaults = false
"""


def _die_with_parent() -> None:
    """In the child before exec: get SIGKILL when the test process dies, however it dies."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


@dataclass
class IronicPeer:
    """A running Ironic server and a client to enroll nodes in it."""

    url: str
    workdir: Path
    log: Path
    conn: openstack.connection.Connection
    nodes: list[str] = field(default_factory=list)

    @property
    def image_base_url(self) -> str:
        """A ``file://`` base under which the tests' images live (the fake deploy accepts it)."""
        images = self.workdir / "images"
        images.mkdir(exist_ok=True)
        return images.as_uri()

    def enroll(self, resource_class: str, *, count: int = 1, cpus: int = 4, memory_mb: int = 8192,
               local_gb: int = 40, provide: bool = True, power_interface: str = "fake",
               driver_info: dict[str, str] | None = None) -> list[str]:  # fmt: skip
        """Enroll ``count`` ``fake-hardware`` nodes and (with ``provide``) make them ``available``.

        Every interface is ``fake`` but the power interface, which may be ``redfish`` (with
        ``driver_info`` naming the BMC's system: ``redfish_address``, ``redfish_system_id``)."""
        ids = []
        for _ in range(count):
            node = self.conn.baremetal.create_node(
                driver="fake-hardware",
                power_interface=power_interface,
                driver_info=driver_info or {},
                resource_class=resource_class,
                properties={"cpus": cpus, "memory_mb": memory_mb, "local_gb": local_gb, "cpu_arch": "x86_64"},
            )
            self.nodes.append(node.id)
            ids.append(node.id)
            if provide:
                self.set_provision_state(node.id, "manage", "manageable")
                self.set_provision_state(node.id, "provide", "available")
        return ids

    def set_provision_state(self, node_id: str, target: str, expected: str) -> None:
        """Move a node and wait for it, polling fast (the SDK's own wait polls every 2 s)."""
        self.conn.baremetal.set_node_provision_state(node_id, target)
        deadline = time.monotonic() + 60
        while True:
            node = self.conn.baremetal.get_node(node_id)
            if node.provision_state == expected and node.target_provision_state is None:
                return
            if time.monotonic() > deadline:
                raise PeerError(
                    f"node {node_id} stuck in {node.provision_state!r} on the way to {expected!r}: "
                    + (node.last_error or "no error recorded")
                )
            time.sleep(0.05)

    def remove_nodes(self) -> None:
        """Delete every node this peer enrolled, undeploying and releasing them first."""
        bm = self.conn.baremetal
        for node_id in self.nodes:
            node = bm.get_node(node_id)
            if node.provision_state in ("active", "deploy failed", "error"):
                self.set_provision_state(node_id, "deleted", "available")
            if node.instance_id:
                bm.update_node(node, instance_id=None)
            bm.delete_node(node)
        self.nodes.clear()


@contextlib.contextmanager
def run_ironic() -> Iterator[IronicPeer]:
    """Start a standalone Ironic server and stop it afterwards."""
    venv = peer_venv()
    python = str(venv / "bin" / "python")
    with tempfile.TemporaryDirectory(prefix="ironic-peer-") as tmp:
        work = Path(tmp)
        port = free_port()
        conf = work / "ironic.conf"
        conf.write_text(
            _CONFIG.format(db=work / "ironic.sqlite", port=port, locks=work / "locks", soft_off=SOFT_POWER_OFF_TIMEOUT)
        )
        log = work / "ironic.log"
        dbsync = subprocess.run(
            [python, "-c", "import sys; from ironic.command.dbsync import main; sys.exit(main())",
             "--config-file", str(conf), "create_schema"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if dbsync.returncode != 0:
            last = (dbsync.stderr.strip().splitlines() or ["no output"])[-1]
            raise PeerError(f"the Ironic test peer's 'ironic-dbsync create_schema' failed: {last}")
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [python, "-c", "import sys; from ironic.command.singleprocess import main; sys.exit(main())",
                 "--config-file", str(conf)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=_die_with_parent,
            )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_answering(url, proc, log)
            conn = openstack.connection.Connection(auth_type="none", baremetal_endpoint_override=url)
            peer = IronicPeer(url=url, workdir=work, log=log, conn=conn)
            yield peer
        finally:
            _stop(proc)


def _wait_until_answering(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise PeerError(f"the Ironic server exited with status {proc.returncode} at start: {' | '.join(tail)}")
        try:
            with urllib.request.urlopen(url + "/v1", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise PeerError(f"the Ironic server did not answer on {url} within {_START_TIMEOUT:.0f} s; see {log}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the server's process group, then kill it if it lingers."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    # The worker process the server forks exits with it; make sure the group is gone.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def ironic_server() -> Iterator[IronicPeer]:
    """One Ironic server per test process (it takes seconds to start)."""
    with run_ironic() as peer:
        yield peer


@pytest.fixture
def ironic_peer(ironic_server: IronicPeer) -> Iterator[IronicPeer]:
    """The server, with the nodes a test enrolls removed after the test."""
    yield ironic_server
    ironic_server.remove_nodes()


def unique_resource_class() -> str:
    """A resource class no other test uses: a driver option that isolates a test's nodes."""
    return "test-" + uuid.uuid4().hex[:12]
