"""A wire-level XenAPI fake: an XML-RPC server on loopback answering like xapi does.

No XenServer / XCP-ng simulator exists anywhere, so the driver's tests talk to this instead,
through the real ``XenAPI.Session`` client over real HTTP. It speaks xapi's envelope
(``{"Status": "Success", "Value": ...}`` / ``{"Status": "Failure", "ErrorDescription": [...]}``)
and models, after xapi:

* sessions: ``session.login_with_password`` checks the credentials
  (``SESSION_AUTHENTICATION_FAILED``), every other call needs a live session ref
  (``SESSION_INVALID``, on which the client logs in again and retries), ``session.logout``,
  ``session.get_this_host``;
* VMs: ``VM.create`` (required record fields), ``get_all_records``, ``get_record``,
  ``get_by_uuid`` (``UUID_INVALID``), refs checked (``HANDLE_INVALID``), and the power-state
  machine: ``start``, ``clean_shutdown``, ``hard_shutdown``, ``clean_reboot``, ``hard_reboot``,
  ``pause``, ``unpause``, ``suspend``, ``resume``, ``destroy`` each allowed only from the states
  xapi allows, else ``VM_BAD_POWER_STATE [ref, expected, actual]`` with lower-case state names;
  templates refuse to start (``VM_IS_TEMPLATE``); the control domain refuses lifecycle calls
  (``OPERATION_NOT_ALLOWED``); ``VM.snapshot`` makes a snapshot VM (a template, copying
  ``other_config``) listed in the VM's ``snapshots``;
* one host with ``host_metrics``, one pool whose default SR has a size; a control domain
  (dom0) and a template exist from the start, so tests prove the driver leaves them alone.

Like xapi, 64-bit integers travel as strings. Guests without PV tools cannot shut down or
reboot cleanly: ``clean_shutdown``/``clean_reboot`` fail with ``VM_MISSING_PV_DRIVERS`` for a VM
whose ``other_config`` has ``fake_pv_drivers = "false"`` (PV tools are assumed otherwise).

Use :func:`running_fake` (a context manager) or :class:`FakeXenServer` directly: ``start()``
binds a free loopback port and serves from a background thread; ``stop()`` shuts the server
down, joins the thread and closes the socket.
"""

from __future__ import annotations

import copy
import secrets
import threading
import uuid as uuidlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

__all__ = ["FakeXenServer", "running_fake"]

NULL = "OpaqueRef:NULL"
GiB = 1024**3

#: Fields VM.create requires (the ones Nova's XenAPI driver always sent).
REQUIRED_VM_FIELDS = (
    "name_label",
    "name_description",
    "user_version",
    "is_a_template",
    "affinity",
    "memory_static_max",
    "memory_static_min",
    "memory_dynamic_max",
    "memory_dynamic_min",
    "VCPUs_max",
    "VCPUs_at_startup",
    "VCPUs_params",
    "actions_after_shutdown",
    "actions_after_reboot",
    "actions_after_crash",
    "PV_bootloader",
    "PV_kernel",
    "PV_ramdisk",
    "PV_args",
    "PV_bootloader_args",
    "PV_legacy_args",
    "HVM_boot_policy",
    "HVM_boot_params",
    "platform",
    "PCI_bus",
    "other_config",
    "recommendations",
)

# operation -> (power states it is allowed from, the state xapi names as expected, resulting state)
_TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "start": (("Halted",), "halted", "Running"),
    "clean_shutdown": (("Running",), "running", "Halted"),
    "hard_shutdown": (("Running", "Paused", "Suspended"), "running", "Halted"),
    "clean_reboot": (("Running",), "running", "Running"),
    "hard_reboot": (("Running", "Paused"), "running", "Running"),
    "pause": (("Running",), "running", "Paused"),
    "unpause": (("Paused",), "paused", "Running"),
    "suspend": (("Running",), "running", "Suspended"),
    "resume": (("Suspended",), "suspended", "Running"),
}


class XapiError(Exception):
    """Raised inside the fake; becomes a Failure envelope."""

    def __init__(self, *description: str) -> None:
        super().__init__(*description)
        self.description = [str(d) for d in description]


def _ref() -> str:
    return f"OpaqueRef:{uuidlib.uuid4()}"


class _Handler(SimpleXMLRPCRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (base class signature)
        """Quiet: the tests' output is the driver's, not an access log."""


class FakeXenServer:
    """The fake xapi. State lives here, outside any client, so it outlives driver restarts."""

    def __init__(self, username: str = "root", password: str = "xenroot") -> None:
        self.username = username
        self.password = password
        self.sessions: set[str] = set()
        self.calls: list[str] = []
        self.vms: dict[str, dict[str, Any]] = {}
        self._faults: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._server: SimpleXMLRPCServer | None = None
        self._thread: threading.Thread | None = None
        self.host_ref, self.metrics_ref, self.pool_ref, self.sr_ref = _ref(), _ref(), _ref(), _ref()
        self.host: dict[str, Any] = {
            "uuid": str(uuidlib.uuid4()),
            "name_label": "xenserver-fake",
            "hostname": "xenserver-fake",
            "software_version": {"product_brand": "XCP-ng", "product_version": "8.2.1"},
            "cpu_info": {"cpu_count": "16", "vendor": "GenuineIntel", "modelname": "Fake Xeon"},
            "metrics": self.metrics_ref,
            "API_version_major": "2",
            "API_version_minor": "21",
        }
        self.metrics: dict[str, Any] = {"memory_total": str(32 * GiB), "memory_free": str(30 * GiB)}
        self.pool: dict[str, Any] = {"name_label": "", "master": self.host_ref, "default_SR": self.sr_ref}
        self.sr: dict[str, Any] = {
            "name_label": "Local storage",
            "type": "lvm",
            "physical_size": str(500 * GiB),
            "physical_utilisation": str(20 * GiB),
        }
        # What every XenServer has before nova arrives: dom0 and a template. Both carry a
        # nova_uuid in other_config to prove that the driver's filter is not just that key.
        self.dom0_ref = self._add_vm(
            {
                "name_label": "Control domain on host: xenserver-fake",
                "is_control_domain": True,
                "power_state": "Running",
                "memory_static_max": str(4 * GiB),
                "VCPUs_max": "16",
                "other_config": {"nova_uuid": "00000000-0000-0000-0000-000000000000"},
            }
        )
        self.template_ref = self._add_vm(
            {
                "name_label": "Debian Bookworm 12",
                "is_a_template": True,
                "memory_static_max": str(1 * GiB),
                "VCPUs_max": "1",
                "other_config": {"nova_uuid": "11111111-1111-1111-1111-111111111111", "default_template": "true"},
            }
        )

    # -- server lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake XenAPI server is not started")
        port = int(self._server.server_address[1])
        return f"http://127.0.0.1:{port}/"

    def start(self) -> FakeXenServer:
        server = SimpleXMLRPCServer(
            ("127.0.0.1", 0), requestHandler=_Handler, logRequests=False, allow_none=False, use_builtin_types=False
        )
        server.register_instance(self)
        self._server = server
        # A short poll interval: shutdown() waits for the serving loop to notice it.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-xapi", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def invalidate_sessions(self) -> None:
        """Forget every session, as xapi does on restart or session expiry."""
        with self._lock:
            self.sessions.clear()

    def fail_next(self, method: str, *description: str) -> None:
        """Make the next call of ``method`` fail with ``description``, as xapi would report it
        (e.g. ``HOST_NOT_ENOUGH_FREE_MEMORY``): for failures the model cannot produce itself."""
        with self._lock:
            self._faults[method] = list(description)

    # -- XML-RPC dispatch ------------------------------------------------------------------------

    def _dispatch(self, method: str, params: tuple[Any, ...]) -> dict[str, Any]:
        with self._lock:
            self.calls.append(method)
            try:
                fault = self._faults.pop(method, None)
                if fault is not None and params and params[0] in self.sessions:
                    raise XapiError(*fault)
                return {"Status": "Success", "Value": self._handle(method, list(params))}
            except XapiError as e:
                return {"Status": "Failure", "ErrorDescription": e.description}

    def _handle(self, method: str, params: list[Any]) -> Any:
        if method == "session.login_with_password":
            if len(params) < 2:
                raise XapiError("MESSAGE_PARAMETER_COUNT_MISMATCH", method, "2", str(len(params)))
            if params[0] != self.username or params[1] != self.password:
                raise XapiError("SESSION_AUTHENTICATION_FAILED", str(params[0]), "Authentication failure")
            session = f"OpaqueRef:{secrets.token_hex(16)}"
            self.sessions.add(session)
            return session
        if not params or params[0] not in self.sessions:
            raise XapiError("SESSION_INVALID", str(params[0]) if params else "")
        args = params[1:]
        handler = self._methods().get(method)
        if handler is None:
            raise XapiError("MESSAGE_METHOD_UNKNOWN", method)
        return handler(params[0], *args)

    def _methods(self) -> dict[str, Callable[..., Any]]:
        methods: dict[str, Callable[..., Any]] = {
            "session.logout": self._logout,
            "session.get_this_host": self._get_this_host,
            "host.get_all": lambda s: [self.host_ref],
            "host.get_record": lambda s, ref: self._host_record(ref),
            "host_metrics.get_record": lambda s, ref: self._metrics_record(ref),
            "pool.get_all_records": lambda s: {self.pool_ref: dict(self.pool)},
            "SR.get_record": lambda s, ref: self._sr_record(ref),
            "VM.get_all": lambda s: list(self.vms),
            "VM.get_all_records": lambda s: copy.deepcopy(self.vms),
            "VM.get_record": lambda s, ref: copy.deepcopy(self._vm(ref)),
            "VM.get_by_uuid": lambda s, uuid: self._vm_by_uuid(uuid),
            "VM.get_power_state": lambda s, ref: self._vm(ref)["power_state"],
            "VM.get_other_config": lambda s, ref: dict(self._vm(ref)["other_config"]),
            "VM.create": lambda s, record: self._create(record),
            "VM.destroy": lambda s, ref: self._destroy(ref),
            "VM.snapshot": lambda s, ref, name: self._snapshot(ref, name),
            "VM.start": lambda s, ref, paused, force: self._transition(ref, "start", paused=bool(paused)),
            "VM.resume": lambda s, ref, paused, force: self._transition(ref, "resume", paused=bool(paused)),
        }
        for op in ("clean_shutdown", "hard_shutdown", "clean_reboot", "hard_reboot", "pause", "unpause", "suspend"):
            methods[f"VM.{op}"] = lambda s, ref, op=op: self._transition(ref, op)
        return methods

    def _logout(self, session: str) -> str:
        self.sessions.discard(session)
        return ""

    # -- host ------------------------------------------------------------------------------------

    def _get_this_host(self, session: str, this_session: str) -> str:
        if this_session not in self.sessions:
            raise XapiError("HANDLE_INVALID", "session", str(this_session))
        return self.host_ref

    def _host_record(self, ref: str) -> dict[str, Any]:
        if ref != self.host_ref:
            raise XapiError("HANDLE_INVALID", "host", str(ref))
        return copy.deepcopy(self.host)

    def _metrics_record(self, ref: str) -> dict[str, Any]:
        if ref != self.metrics_ref:
            raise XapiError("HANDLE_INVALID", "host_metrics", str(ref))
        return dict(self.metrics)

    def _sr_record(self, ref: str) -> dict[str, Any]:
        if ref != self.sr_ref:
            raise XapiError("HANDLE_INVALID", "SR", str(ref))
        return dict(self.sr)

    # -- VMs -------------------------------------------------------------------------------------

    def _add_vm(self, fields: dict[str, Any]) -> str:
        ref = _ref()
        record: dict[str, Any] = {
            "uuid": str(uuidlib.uuid4()),
            "name_label": "",
            "name_description": "",
            "power_state": "Halted",
            "is_a_template": False,
            "is_a_snapshot": False,
            "is_control_domain": False,
            "snapshot_of": NULL,
            "snapshots": [],
            "resident_on": NULL,
            "memory_static_max": "0",
            "VCPUs_max": "0",
            "other_config": {},
        }
        record.update(copy.deepcopy(fields))
        self.vms[ref] = record
        return ref

    def _vm(self, ref: Any) -> dict[str, Any]:
        if not isinstance(ref, str) or ref not in self.vms:
            raise XapiError("HANDLE_INVALID", "VM", str(ref))
        return self.vms[ref]

    def _vm_by_uuid(self, uuid: str) -> str:
        for ref, rec in self.vms.items():
            if rec["uuid"] == uuid:
                return ref
        raise XapiError("UUID_INVALID", "VM", str(uuid))

    def _create(self, record: Any) -> str:
        if not isinstance(record, dict):
            raise XapiError("FIELD_TYPE_ERROR", "VM record")
        for field in REQUIRED_VM_FIELDS:
            if field not in record:
                raise XapiError("FIELD_TYPE_ERROR", field)
        for field in ("memory_static_max", "VCPUs_max", "VCPUs_at_startup"):
            if not str(record[field]).isdigit():
                raise XapiError("FIELD_TYPE_ERROR", field)
        fields = {k: v for k, v in record.items() if k in REQUIRED_VM_FIELDS}
        fields["power_state"] = "Halted"
        return self._add_vm(fields)

    def _check_lifecycle_allowed(self, ref: str, rec: dict[str, Any], op: str) -> None:
        if rec["is_control_domain"]:
            raise XapiError("OPERATION_NOT_ALLOWED", f"VM.{op} is not allowed on the control domain")
        if rec["is_a_template"] and op != "destroy":
            raise XapiError("VM_IS_TEMPLATE", ref)

    def _transition(self, ref: str, op: str, paused: bool = False) -> str:
        rec = self._vm(ref)
        self._check_lifecycle_allowed(ref, rec, op)
        allowed, expected, result = _TRANSITIONS[op]
        if rec["power_state"] not in allowed:
            raise XapiError("VM_BAD_POWER_STATE", ref, expected, rec["power_state"].lower())
        if op in ("clean_shutdown", "clean_reboot") and rec["other_config"].get("fake_pv_drivers") == "false":
            raise XapiError("VM_MISSING_PV_DRIVERS", ref)
        if op in ("start", "resume") and paused:
            result = "Paused"
        rec["power_state"] = result
        rec["resident_on"] = NULL if result == "Halted" else self.host_ref
        return ""

    def _destroy(self, ref: str) -> str:
        rec = self._vm(ref)
        self._check_lifecycle_allowed(ref, rec, "destroy")
        if rec["power_state"] not in ("Halted", "Suspended") and not rec["is_a_snapshot"]:
            raise XapiError("VM_BAD_POWER_STATE", ref, "halted", rec["power_state"].lower())
        if rec["is_a_snapshot"]:
            parent = self.vms.get(rec["snapshot_of"])
            if parent is not None and ref in parent["snapshots"]:
                parent["snapshots"].remove(ref)
        del self.vms[ref]
        return ""

    def _snapshot(self, ref: str, name: str) -> str:
        rec = self._vm(ref)
        if rec["is_control_domain"] or rec["is_a_template"]:
            raise XapiError("OPERATION_NOT_ALLOWED", "VM.snapshot is not allowed on a template or the control domain")
        fields = copy.deepcopy({k: v for k, v in rec.items() if k not in ("uuid", "snapshots", "power_state")})
        fields.update(
            name_label=str(name), is_a_template=True, is_a_snapshot=True, snapshot_of=ref, power_state="Halted"
        )
        snap = self._add_vm(fields)
        rec["snapshots"].append(snap)
        return snap


@contextmanager
def running_fake(username: str = "root", password: str = "xenroot") -> Iterator[FakeXenServer]:
    """A started :class:`FakeXenServer`, stopped (port released, thread joined) on exit."""
    fake = FakeXenServer(username, password).start()
    try:
        yield fake
    finally:
        fake.stop()
