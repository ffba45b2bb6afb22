"""The files of a new driver subproject, as ``nova-split new-driver`` writes them.

A new driver is a working skeleton: ``nova_<name>/driver.py`` implements every mandatory
operation of the driver contract over a small client interface (``nova_<name>/client.py``), the
seam where the team wires in its hypervisor's client library; until then ``init_host`` fails
with one clear error. The tests run nova-common's conformance suite and ``nova-compute`` end to
end against an in-memory hypervisor (``client_fake.py``, test support, not in the wheel), the
pattern the existing drivers follow with their contract fakes. Generated files (``OWNERS``,
``pyproject.toml``, ``tox.ini``, the lockfile) are not here: their generators write them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from string import Template

__all__ = ["DriverSpec", "render"]


@dataclass(frozen=True)
class DriverSpec:
    """What a new driver is made from.

    ``requirements``: its client packages as requirement lines (``pyvbox>=1.0``);
    ``client_packages``: their canonical project names, recorded in ``subproject.toml``;
    ``api``: nova-common's driver API version (major, minor) the driver is written for.
    """

    name: str
    requirements: tuple[str, ...]
    client_packages: tuple[str, ...]
    owners: tuple[str, ...]
    api: tuple[int, int]

    @property
    def package(self) -> str:
        return "nova_" + self.name

    @property
    def cls(self) -> str:
        return self.name.capitalize()

    @property
    def path(self) -> str:
        return "drivers/" + self.name


def _toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def render(spec: DriverSpec) -> dict[str, str]:
    """Repo-relative path -> content of every hand-maintained file of the new driver."""
    values = {
        "name": spec.name,
        "package": spec.package,
        "Class": spec.cls,
        "major": str(spec.api[0]),
        "minor": str(spec.api[1]),
        "client_packages": _toml_list(spec.client_packages),
        "owners": _toml_list(spec.owners),
        "requirements": "".join(r + "\n" for r in spec.requirements)
        or "# (none yet: add the hypervisor's client library here, and to subproject.toml's client-packages)\n",
    }
    files: dict[str, str] = {}
    for rel, text in _FILES.items():
        files[f"{spec.path}/{Template(rel).substitute(values)}"] = Template(text).substitute(values)
    return files


_BUILD = """\
nova_driver(
    name="$name",
    driver_class="${Class}Driver",
    # The in-memory hypervisor the tests run against: test support, not in the wheel.
    test_utils=["$package/client_fake.py"],
)
"""

_SUBPROJECT_TOML = """\
# The $name driver's metadata: the single source of truth for its version and API range.
[project]
name = "nova-$name"
version = "0.1.0"
description = "nova compute driver for $Class"

[driver]
# The driver API major version this driver is built for: the wheel requires nova-common $major.x.
api-major = $major
# This driver's own client packages (from requirements.txt): no other driver's lockfile may
# contain them (the resolve isolation test). Packages several drivers use are not listed here.
client-packages = $client_packages

[ci]
# How this driver's CI treats nova-common changes (its own changes always run and vote): "vote"
# runs and gates the change, "advisory" runs without voting, "skip" does not run. Per path:
# api-changes: the change touches a driver API member this driver's code or tests use;
# core-changes: it reaches this driver only through its end-to-end tests (the compute service).
# Read by `build-support/bin/nova-split plan` and `ci-config`; see docs/change-aware-ci.md.
api-changes = "vote"
core-changes = "skip"

[owners]
# This driver's core team: the only approvers of changes under drivers/$name/.
# Read by `build-support/bin/nova-split owners` (CODEOWNERS, OWNERS) and `nova-split review`.
team = "$name-core"
members = $owners
"""

_BINDEP_TXT = """\
# System packages for drivers/$name (OpenStack's bindep format, read by the `bindep` tool;
# build-support/bin/ensure-system-deps installs them, ./pants calls it). One Debian package a line
# with its selectors; profile `test` for what only the tests' peers need, e.g.:
#   libfoo-dev [platform:dpkg]
#   foo-simulator [platform:dpkg test]
"""

_REQUIREMENTS_TXT = """\
# The $name driver's own third-party requirements (its '$name' resolve). After changing them:
# ./pants generate-lockfiles --resolve=$name && build-support/bin/nova-split packaging
$requirements"""

_README_MD = """\
# nova-$name

The $Class compute driver (entry point `$name`), scaffolded by `build-support/bin/nova-split new-driver`.

## State: a skeleton

`${package}/driver.py` implements the mandatory operations of the driver contract (no optional
capability is declared) over the small client interface in `${package}/client.py`. No hypervisor
client is wired in yet: `client.connect` raises, so `init_host` fails with one clear error
(`$Class is unavailable: ...`). Replace `client.connect` with the hypervisor's client library.

## How it is tested

Against `${package}/client_fake.py`, an in-memory hypervisor implementing `client.Hypervisor`
(test support, not in the wheel): nova-common's conformance suite (`conformance_test.py`),
the driver's own behaviour (`driver_test.py`) and `nova-compute` through the installed entry
point (`cli_integration_test.py`). What is not verified: any real hypervisor.

## Development

- `./pants test drivers/$name::`; `build-support/bin/nova-split plan` says which other tests a
  change runs.
- `pyproject.toml`, `tox.ini` and `OWNERS` are generated from `subproject.toml`,
  `requirements.txt` and the BUILD file: change those, then run `build-support/bin/nova-split
  packaging` and `build-support/bin/nova-split owners`.
- Remove the driver with `build-support/bin/nova-split remove-driver $name`.
"""

_CHANGELOG_MD = """\
# nova-$name changelog

<!-- towncrier release notes start -->
"""

_CHANGES_README_MD = """\
Release-note fragments of nova-$name, committed with the change they describe: one file per change,
`<id>.<category>.md` (`<id>`: a bug number, or `+<slug>` when there is none), category one of
`breaking`, `feature`, `bugfix`, `doc`. `build-support/bin/nova-split release cut` assembles
them into ../CHANGELOG.md and removes them; `nova-split release plan` shows the pending ones.
"""

_TOWNCRIER_TOML = """\
# Release notes of nova-$name: one fragment per change in changes/, named <id>.<category>.md
# (<id>: a bug number, or +<slug> for none), assembled into CHANGELOG.md by
# `build-support/bin/nova-split release cut` (which also reads the categories: breaking -> major,
# feature -> minor, others -> patch).
[tool.towncrier]
name = "nova-$name"
directory = "changes"
filename = "CHANGELOG.md"
start_string = "<!-- towncrier release notes start -->\\n"
title_format = "## nova-$name {version} ({project_date})"
issue_format = "{issue}"
underlines = ["", "", ""]

[[tool.towncrier.type]]
directory = "breaking"
name = "Breaking changes"
showcontent = true

[[tool.towncrier.type]]
directory = "feature"
name = "Features"
showcontent = true

[[tool.towncrier.type]]
directory = "bugfix"
name = "Bug fixes"
showcontent = true

[[tool.towncrier.type]]
directory = "doc"
name = "Documentation"
showcontent = true
"""

_PKG_INIT_PY = '''\
"""nova-$name: the $Class compute driver (registered as ``$name``)."""
'''

_PKG_EXCEPTION_PY = '''\
"""The $name driver's own errors. The client's exceptions never cross the driver API."""

from __future__ import annotations

from nova_common.exception import DriverError, InvalidDriverConfig

__all__ = ["${Class}ConfigError", "${Class}Error", "${Class}Unavailable"]


class ${Class}Error(DriverError):
    """The hypervisor refused or failed an operation."""

    msg_fmt = "$Class failed to {operation}: {reason}"


class ${Class}Unavailable(${Class}Error):
    """The hypervisor cannot be reached from this machine."""

    msg_fmt = "$Class is unavailable: {reason}"


class ${Class}ConfigError(InvalidDriverConfig):
    """A $name driver option is wrong."""
'''

_PKG_CLIENT_PY = '''\
"""What the driver needs of a $Class hypervisor client, and the seam that makes one.

The driver talks to the hypervisor only through :class:`Hypervisor`. :func:`connect` is where
the real client library is wired in; until it is, it raises :class:`ClientUnavailable`. Tests
pass the in-memory ``client_fake.FakeHypervisor`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from nova_common.objects import PowerState

__all__ = ["ClientError", "ClientUnavailable", "Guest", "GuestNotFound", "Hypervisor", "connect"]


class ClientError(Exception):
    """The hypervisor failed an operation."""


class ClientUnavailable(ClientError):
    """No hypervisor can be reached."""


class GuestNotFound(ClientError):
    """No guest has that name."""


@dataclass(frozen=True)
class Guest:
    """A guest as the hypervisor reports it."""

    name: str
    state: PowerState
    vcpus: int
    memory_mb: int
    disk_gb: int


class Hypervisor(Protocol):
    """The hypervisor operations the driver uses."""

    def hostname(self) -> str:
        """The host's name."""
        ...

    def capacity(self) -> tuple[int, int, int]:
        """The host's vCPUs, memory in MiB and disk in GB."""
        ...

    def guests(self) -> list[Guest]:
        """Every guest on the host."""
        ...

    def create(self, name: str, vcpus: int, memory_mb: int, disk_gb: int) -> None:
        """Create and start a guest; ClientError if the name is taken."""
        ...

    def delete(self, name: str) -> None:
        """Stop and remove a guest; GuestNotFound if there is none."""
        ...

    def set_running(self, name: str, running: bool, timeout: float = 0) -> None:
        """Start or stop a guest; stopping asks the guest first for up to ``timeout`` seconds."""
        ...

    def restart(self, name: str, hard: bool) -> None:
        """Restart a running guest (``hard``: reset rather than ask the guest)."""
        ...


def connect(options: Mapping[str, str]) -> Hypervisor:
    """A client for the hypervisor ``options`` describe: wire the real client library in here."""
    raise ClientUnavailable("no client library is wired in yet (nova_$name.client.connect)")
'''

_PKG_CLIENT_FAKE_PY = '''\
"""An in-memory hypervisor for the $name driver's tests (a :class:`.client.Hypervisor`)."""

from __future__ import annotations

from dataclasses import replace

from nova_common.objects import PowerState
from nova_$name.client import ClientError, Guest, GuestNotFound

__all__ = ["FakeHypervisor"]


class FakeHypervisor:
    """A host of ``vcpus`` vCPUs, ``memory_mb`` MiB and ``disk_gb`` GB; guests live in a dict."""

    def __init__(self, vcpus: int = 8, memory_mb: int = 16384, disk_gb: int = 500) -> None:
        self.size = (vcpus, memory_mb, disk_gb)
        self.vms: dict[str, Guest] = {}

    def hostname(self) -> str:
        return "fake-$name-host"

    def capacity(self) -> tuple[int, int, int]:
        return self.size

    def guests(self) -> list[Guest]:
        return list(self.vms.values())

    def create(self, name: str, vcpus: int, memory_mb: int, disk_gb: int) -> None:
        if name in self.vms:
            raise ClientError(f"a guest named {name} exists")
        self.vms[name] = Guest(name, PowerState.RUNNING, vcpus, memory_mb, disk_gb)

    def delete(self, name: str) -> None:
        self._get(name)
        del self.vms[name]

    def set_running(self, name: str, running: bool, timeout: float = 0) -> None:
        state = PowerState.RUNNING if running else PowerState.SHUTDOWN
        self.vms[name] = replace(self._get(name), state=state)

    def restart(self, name: str, hard: bool) -> None:
        if self._get(name).state is not PowerState.RUNNING:
            raise ClientError(f"{name} is not running")

    def _get(self, name: str) -> Guest:
        try:
            return self.vms[name]
        except KeyError:
            raise GuestNotFound(name) from None
'''

_PKG_DRIVER_PY = '''\
"""${Class}Driver: the $name compute driver, over the client interface in :mod:`.client`.

Each instance is a guest named ``nova-<instance uuid>``; other guests are never listed or
touched. The client comes from :data:`connect` (this module's seam, by default
:func:`nova_$name.client.connect`) or is passed to the driver. No optional capability is
declared: the base class raises ``NotSupported`` for each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from nova_common.api_version import APIVersionRange
from nova_common.driver import ComputeDriver
from nova_common.exception import InstanceExists, InstanceNotFound, InvalidPowerState, NodeNotFound
from nova_common.objects import (
    BlockDeviceInfo,
    HostResources,
    ImageMeta,
    Instance,
    InstanceInfo,
    NetworkInfo,
    PowerState,
    RebootType,
)
from nova_common.virtapi import VirtAPI
from nova_$name import client
from nova_$name.exception import ${Class}ConfigError, ${Class}Error, ${Class}Unavailable

__all__ = ["${Class}Driver", "connect", "guest_name"]

_T = TypeVar("_T")
_PREFIX = "nova-"

#: The seam: how every driver the loader builds gets its hypervisor client.
connect: Callable[[Mapping[str, str]], client.Hypervisor] = client.connect


def guest_name(instance_uuid: str) -> str:
    """The guest name of an instance: unique, and found again from the uuid alone."""
    return _PREFIX + instance_uuid


class ${Class}Driver(ComputeDriver):
    """No options yet: any option is an error."""

    name = "$name"
    api_versions = APIVersionRange("$major.0", "$major.$minor")

    def __init__(
        self, virtapi: VirtAPI, options: Mapping[str, str], hypervisor: client.Hypervisor | None = None
    ) -> None:
        super().__init__(virtapi, options)
        if options:
            raise ${Class}ConfigError(driver=self.name, option=sorted(options)[0], reason="unknown option")
        self._options = dict(options)
        self._given = hypervisor
        self._hv: client.Hypervisor | None = None

    def init_host(self, host: str) -> None:
        try:
            self._hv = self._given if self._given is not None else connect(self._options)
        except client.ClientError as e:
            raise ${Class}Unavailable(reason=str(e)) from None

    @property
    def hv(self) -> client.Hypervisor:
        if self._hv is None:
            raise ${Class}Error(operation="use the hypervisor", reason="init_host() was not called")
        return self._hv

    def _call(self, operation: str, fn: Callable[[], _T], instance: Instance | None = None) -> _T:
        """One client call, its exceptions turned into the API's and the driver's."""
        try:
            return fn()
        except client.GuestNotFound:
            if instance is not None:
                raise InstanceNotFound(instance_uuid=instance.uuid) from None
            raise ${Class}Error(operation=operation, reason="the guest disappeared") from None
        except client.ClientError as e:
            raise ${Class}Error(operation=operation, reason=str(e)) from None

    def _guests(self) -> dict[str, client.Guest]:
        """nova uuid -> guest, for every guest this driver created."""
        guests = self._call("list guests", self.hv.guests)
        return {g.name[len(_PREFIX) :]: g for g in guests if g.name.startswith(_PREFIX)}

    def _guest(self, instance: Instance) -> client.Guest:
        try:
            return self._guests()[instance.uuid]
        except KeyError:
            raise InstanceNotFound(instance_uuid=instance.uuid) from None

    # -- host ------------------------------------------------------------------------------------

    def get_available_nodes(self, refresh: bool = False) -> list[str]:
        return [self._call("read the host name", self.hv.hostname)]

    def get_available_resource(self, nodename: str) -> HostResources:
        host = self._call("read the host name", self.hv.hostname)
        if nodename != host:
            raise NodeNotFound(nodename=nodename, nodes=[host])
        vcpus, memory_mb, disk_gb = self._call("read the host's capacity", self.hv.capacity)
        guests = self._guests().values()
        return HostResources(
            hypervisor_type="$name",
            hypervisor_version="0",
            hypervisor_hostname=host,
            vcpus=vcpus,
            vcpus_used=sum(g.vcpus for g in guests),
            memory_mb=memory_mb,
            memory_mb_used=sum(g.memory_mb for g in guests),
            local_gb=disk_gb,
            local_gb_used=sum(g.disk_gb for g in guests),
        )

    # -- instances -------------------------------------------------------------------------------

    def list_instances(self) -> list[str]:
        return list(self._guests())

    def get_info(self, instance: Instance) -> InstanceInfo:
        guest = self._guest(instance)
        return InstanceInfo(state=guest.state, internal_id=guest.name, memory_mb=guest.memory_mb, vcpus=guest.vcpus)

    def spawn(
        self,
        instance: Instance,
        image_meta: ImageMeta,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        if instance.uuid in self._guests():
            raise InstanceExists(instance_uuid=instance.uuid)
        flavor = instance.flavor
        disk = flavor.root_gb + flavor.ephemeral_gb
        name = guest_name(instance.uuid)
        self._call("create the guest", lambda: self.hv.create(name, flavor.vcpus, flavor.memory_mb, disk))

    def destroy(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
    ) -> None:
        if instance.uuid in self._guests():
            self._call("delete the guest", lambda: self.hv.delete(guest_name(instance.uuid)))

    def reboot(self, instance: Instance, network_info: NetworkInfo, reboot_type: RebootType) -> None:
        self._require(instance, "reboot", PowerState.RUNNING)
        hard = reboot_type is RebootType.HARD
        self._call("reboot the guest", lambda: self.hv.restart(guest_name(instance.uuid), hard), instance)

    def power_off(self, instance: Instance, timeout: int = 0, retry_interval: int = 0) -> None:
        if self._guest(instance).state is not PowerState.SHUTDOWN:
            name = guest_name(instance.uuid)
            self._call("stop the guest", lambda: self.hv.set_running(name, False, timeout), instance)

    def power_on(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        if self._guest(instance).state is not PowerState.RUNNING:
            self._call("start the guest", lambda: self.hv.set_running(guest_name(instance.uuid), True), instance)

    def _require(self, instance: Instance, operation: str, state: PowerState) -> None:
        current = self._guest(instance).state
        if current is not state:
            raise InvalidPowerState(operation=operation, instance_uuid=instance.uuid, power_state=current.value)
'''

_PKG_CONFORMANCE_TEST_PY = '''\
"""The nova-common conformance suite, against the in-memory $Class hypervisor."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_common.testing.conformance import DriverConformance
from nova_common.testing.factories import RecordingVirtAPI
from nova_$name.client_fake import FakeHypervisor
from nova_$name.driver import ${Class}Driver


class Test${Class}Conformance(DriverConformance):
    capabilities = ${Class}Driver.capabilities  # what the suite tests: the set the driver declares

    # A pytest fixture override may take other fixtures: not a Liskov violation at run time.
    @pytest.fixture
    def driver(self, tmp_path: Path) -> Iterator[${Class}Driver]:  # type: ignore[override]
        drv = ${Class}Driver(RecordingVirtAPI(tmp_path), {}, hypervisor=FakeHypervisor())
        drv.init_host("conformance-host")
        yield drv
        drv.cleanup_host("conformance-host")
'''

_PKG_DRIVER_TEST_PY = '''\
"""$name-specific behaviour and failure paths, against the in-memory hypervisor."""

from pathlib import Path

import pytest

from nova_common.exception import InstanceNotFound
from nova_common.objects import PowerState
from nova_common.testing.factories import RecordingVirtAPI, make_image, make_instance, make_network_info
from nova_$name.client import ClientError
from nova_$name.client_fake import FakeHypervisor
from nova_$name.driver import ${Class}Driver, guest_name
from nova_$name.exception import ${Class}ConfigError, ${Class}Error, ${Class}Unavailable


def _driver(tmp_path: Path, hv: FakeHypervisor) -> ${Class}Driver:
    drv = ${Class}Driver(RecordingVirtAPI(tmp_path), {}, hypervisor=hv)
    drv.init_host("h")
    return drv


def test_without_a_client_library_init_host_is_one_clear_error(tmp_path: Path) -> None:
    drv = ${Class}Driver(RecordingVirtAPI(tmp_path), {})
    with pytest.raises(${Class}Unavailable) as exc:
        drv.init_host("h")
    reason = "no client library is wired in yet (nova_$name.client.connect)"
    assert str(exc.value) == f"$Class is unavailable: {reason}"


def test_unknown_option_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(${Class}ConfigError, match="invalid option 'colour' for driver '$name'"):
        ${Class}Driver(RecordingVirtAPI(tmp_path), {"colour": "blue"})


def test_guest_carries_the_uuid_and_the_flavor_size(tmp_path: Path) -> None:
    hv = FakeHypervisor()
    drv = _driver(tmp_path, hv)
    inst = make_instance()
    drv.spawn(inst, make_image(), make_network_info())
    guest = hv.vms[guest_name(inst.uuid)]
    assert (guest.vcpus, guest.memory_mb, guest.disk_gb) == (1, 128, 1)
    assert drv.get_info(inst).internal_id == guest.name


def test_guests_not_created_by_nova_are_never_listed_or_touched(tmp_path: Path) -> None:
    hv = FakeHypervisor()
    hv.create("someone-elses-vm", 1, 64, 1)
    drv = _driver(tmp_path, hv)
    assert drv.list_instances() == []
    with pytest.raises(InstanceNotFound):
        drv.power_off(make_instance())
    assert hv.vms["someone-elses-vm"].state is PowerState.RUNNING


def test_client_failures_become_driver_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hv = FakeHypervisor()
    drv = _driver(tmp_path, hv)

    def refuse(name: str, vcpus: int, memory_mb: int, disk_gb: int) -> None:
        raise ClientError("out of memory")

    monkeypatch.setattr(hv, "create", refuse)
    with pytest.raises(${Class}Error, match="^$Class failed to create the guest: out of memory$$"):
        drv.spawn(make_instance(), make_image(), make_network_info())
    assert hv.vms == {}
'''

_PKG_CLI_INTEGRATION_TEST_PY = '''\
"""nova-compute with the $name driver, found by its entry point, against the in-memory hypervisor."""

from pathlib import Path
from typing import Any

import pytest

import nova_$name.driver
from nova_common.testing.cli import installed_driver, installed_drivers, run_error, run_json
from nova_$name.client_fake import FakeHypervisor

_installed = installed_driver("nova-$name", {"$name": "nova_$name.driver:${Class}Driver"}, version="0.1.0")


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> FakeHypervisor:
    # One hypervisor for the whole test, through the driver's seam: it outlives every main() call.
    hv = FakeHypervisor()
    monkeypatch.setattr(nova_$name.driver, "connect", lambda options: hv)
    return hv


def _json(capsys: pytest.CaptureFixture[str], state: Path, *command: str) -> list[dict[str, Any]]:
    return run_json(capsys, "--driver", "$name", "--state-dir", str(state), "--format", "json", *command)


def test_boot_stop_start_delete_across_restarts(
    tmp_path: Path, host: FakeHypervisor, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    [booted] = _json(capsys, state, "boot", "web1")
    assert (booted["vm_state"], booted["power_state"]) == ("active", "running")
    _json(capsys, state, "stop", "web1")
    [listed] = _json(capsys, state, "list")
    assert (listed["name"], listed["power_state"]) == ("web1", "shutdown")
    [started] = _json(capsys, state, "start", "web1")
    assert started["power_state"] == "running"
    _json(capsys, state, "delete", "web1")
    assert _json(capsys, state, "list") == [] and host.vms == {}


def test_${name}_is_installed_as_a_driver(capsys: pytest.CaptureFixture[str]) -> None:
    assert installed_drivers(capsys)["$name"] == "nova-$name 0.1.0"


def test_without_a_client_library_the_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = run_error(capsys, "--driver", "$name", "--state-dir", str(tmp_path / "state"), "list")
    assert err == "$Class is unavailable: no client library is wired in yet (nova_$name.client.connect)"
'''

#: path in the driver directory -> content, both templates
_FILES: dict[str, str] = {
    "BUILD": _BUILD,
    "subproject.toml": _SUBPROJECT_TOML,
    "requirements.txt": _REQUIREMENTS_TXT,
    "bindep.txt": _BINDEP_TXT,
    "README.md": _README_MD,
    "CHANGELOG.md": _CHANGELOG_MD,
    "changes/README.md": _CHANGES_README_MD,
    "towncrier.toml": _TOWNCRIER_TOML,
    "$package/__init__.py": _PKG_INIT_PY,
    "$package/exception.py": _PKG_EXCEPTION_PY,
    "$package/client.py": _PKG_CLIENT_PY,
    "$package/client_fake.py": _PKG_CLIENT_FAKE_PY,
    "$package/driver.py": _PKG_DRIVER_PY,
    "$package/conformance_test.py": _PKG_CONFORMANCE_TEST_PY,
    "$package/driver_test.py": _PKG_DRIVER_TEST_PY,
    "$package/cli_integration_test.py": _PKG_CLI_INTEGRATION_TEST_PY,
}
