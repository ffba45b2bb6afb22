"""The API gate's corpus: realistic nova-common changes against a release, and what the gate must say.

:func:`make_base` builds a real git repository shaped like this one (a small nova-common with a
``ComputeDriver``, versioned objects, an enum, exceptions, ``DRIVER_API_VERSION`` and a helper
module; three drivers using different members) tagged ``nova-common-1.0.0``. Each
:class:`Scenario` is one change a core developer could make, with the verdict it deserves:
``break`` (the breaking kinds, and the drivers whose shipped and test code use the member),
``addition`` (needs a minor bump) or ``silent``. ``python -m nova_split_tools.testing.api_corpus``
runs the whole corpus and prints false negatives and false positives.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

from nova_split_tools.cli import main
from nova_split_tools.testing.repos import commit, git, new_repo

NC = "nova-common/nova_common"

DRIVER = '''"""The driver contract."""

from __future__ import annotations

import abc
from typing import ClassVar

from nova_common.api_version import APIVersionRange
from nova_common.objects import Instance, InstanceInfo, RebootType

__all__ = ["ComputeDriver"]


class ComputeDriver(abc.ABC):
    """Base class of every driver."""

    name: ClassVar[str]
    api_versions: ClassVar[APIVersionRange]
    supports_pause: ClassVar[bool] = False

    @abc.abstractmethod
    def spawn(self, instance: Instance, image_id: str, block_device_info: dict[str, str] | None = None) -> None:
        """Create the guest."""

    @abc.abstractmethod
    def get_info(self, instance: Instance) -> InstanceInfo:
        """Report the guest."""

    def reboot(self, instance: Instance, reboot_type: RebootType) -> None:
        """Restart the guest."""
        raise NotImplementedError

    def get_console_output(self, instance: Instance) -> str | None:
        """The console log."""
        raise NotImplementedError
'''

API_VERSION = '''"""The driver API version."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DRIVER_API_VERSION", "APIVersion", "APIVersionRange"]


@dataclass(frozen=True)
class APIVersion:
    major: int
    minor: int


class APIVersionRange:
    def __init__(self, minimum: str, maximum: str | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum or minimum


DRIVER_API_VERSION = APIVersion(1, 0)
'''

BASE = '''"""The versioned-object base: subclasses are dataclasses (as type checkers see them too)."""

import dataclasses
from typing import Any, ClassVar, dataclass_transform

__all__ = ["VersionedObject"]


@dataclass_transform()
class VersionedObject:
    VERSION: ClassVar[str] = "1.0"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(cls)
'''

FIELDS = '''"""Enumerations used as field types."""

import enum

__all__ = ["PowerState", "RebootType"]


class PowerState(str, enum.Enum):
    RUNNING = "running"
    SHUTDOWN = "shutdown"


class RebootType(str, enum.Enum):
    SOFT = "soft"
    HARD = "hard"
'''

FLAVOR = '''"""Flavor: the size of a guest."""

from nova_common.objects.base import VersionedObject

__all__ = ["Flavor"]


class Flavor(VersionedObject):
    VERSION = "1.0"

    vcpus: int
    memory_mb: int
'''

INSTANCE = '''"""Instance."""

from __future__ import annotations

from nova_common.objects.base import VersionedObject
from nova_common.objects.flavor import Flavor

__all__ = ["Instance"]


class Instance(VersionedObject):
    VERSION = "1.0"

    uuid: str
    name: str
    flavor: Flavor
    host: str | None = None
'''

INSTANCE_INFO = '''"""InstanceInfo."""

from __future__ import annotations

from typing import Optional

from nova_common.objects.base import VersionedObject
from nova_common.objects.fields import PowerState

__all__ = ["InstanceInfo"]


class InstanceInfo(VersionedObject):
    """Answer of get_info."""

    VERSION = "1.1"

    state: PowerState
    memory_mb: int = 0
    cpu_time_ns: Optional[int] = None
'''

OBJECTS = '''"""The versioned objects."""

from nova_common.objects.base import VersionedObject
from nova_common.objects.fields import PowerState, RebootType
from nova_common.objects.flavor import Flavor
from nova_common.objects.instance import Instance
from nova_common.objects.instance_info import InstanceInfo

__all__ = ["Flavor", "Instance", "InstanceInfo", "PowerState", "RebootType", "VersionedObject"]
'''

EXCEPTION = '''"""Exceptions of the driver API."""

__all__ = ["DriverError", "InstanceNotFound", "NovaError"]


class NovaError(Exception):
    """Base of every error."""

    def __init__(self, message: str = "", **kwargs: object) -> None:
        super().__init__(message.format(**kwargs))


class DriverError(NovaError):
    """Base of a driver's errors."""


class InstanceNotFound(NovaError):
    """No such guest."""
'''

POWER = '''"""Power helpers for drivers."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["graceful_power_off", "wait_until"]


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 1.0) -> bool:
    """Poll ``condition``."""
    return condition()


def graceful_power_off(*, timeout: float, force_off: Callable[[], None]) -> None:
    """Stop a guest."""
    force_off()
'''

INIT = '''"""nova-common."""

from nova_common.api_version import DRIVER_API_VERSION, APIVersion, APIVersionRange
from nova_common.driver import ComputeDriver

__all__ = ["DRIVER_API_VERSION", "APIVersion", "APIVersionRange", "ComputeDriver"]
'''

LIBVIRT = """from nova_common.api_version import APIVersionRange
from nova_common.driver import ComputeDriver
from nova_common.exception import InstanceNotFound
from nova_common.objects import Instance, InstanceInfo, PowerState
from nova_common.power import wait_until


class LibvirtDriver(ComputeDriver):
    name = "libvirt"
    api_versions = APIVersionRange("1.0")

    def spawn(self, instance: Instance, image_id: str, block_device_info: dict[str, str] | None = None) -> None:
        wait_until(lambda: instance.flavor.vcpus > 0, 1.0)

    def get_info(self, instance: Instance) -> InstanceInfo:
        if not instance.uuid:
            raise InstanceNotFound()
        return InstanceInfo(state=PowerState.RUNNING, cpu_time_ns=5)

    def get_console_output(self, instance: Instance) -> str:
        return ""


def busy(info: InstanceInfo) -> bool:
    return (info.cpu_time_ns or 0) > 0
"""

XEN = """from nova_common import APIVersionRange, ComputeDriver
from nova_common.exception import DriverError
from nova_common.objects import Instance, InstanceInfo, PowerState, RebootType


class XenError(DriverError):
    pass


class XenDriver(ComputeDriver):
    name = "xen"
    api_versions = APIVersionRange("1.0")

    def spawn(self, instance: Instance, image_id: str, block_device_info: dict[str, str] | None = None) -> None:
        pass

    def get_info(self, instance: Instance) -> InstanceInfo:
        return InstanceInfo(state=PowerState.SHUTDOWN)

    def reboot(self, instance: Instance, reboot_type: RebootType) -> None:
        pass
"""

VMWARE = """from nova_common.objects import Instance


def describe(instance: Instance) -> str:
    return instance.name
"""

VMWARE_TEST = """from nova_common.exception import InstanceNotFound
from nova_common.power import graceful_power_off


def test_missing() -> None:
    graceful_power_off(timeout=1.0, force_off=lambda: None)
    assert issubclass(InstanceNotFound, Exception)
"""

FILES: dict[str, str] = {
    f"{NC}/__init__.py": INIT,
    f"{NC}/driver.py": DRIVER,
    f"{NC}/api_version.py": API_VERSION,
    f"{NC}/exception.py": EXCEPTION,
    f"{NC}/power.py": POWER,
    f"{NC}/objects/__init__.py": OBJECTS,
    f"{NC}/objects/base.py": BASE,
    f"{NC}/objects/fields.py": FIELDS,
    f"{NC}/objects/instance.py": INSTANCE,
    f"{NC}/objects/flavor.py": FLAVOR,
    f"{NC}/objects/instance_info.py": INSTANCE_INFO,
    f"{NC}/compute/__init__.py": '"""The core\'s own compute service."""\n',
    f"{NC}/compute/manager.py": "def manage() -> None:\n    pass\n",
    "drivers/libvirt/nova_libvirt/__init__.py": "",
    "drivers/libvirt/nova_libvirt/driver.py": LIBVIRT,
    "drivers/xen/nova_xen/__init__.py": "",
    "drivers/xen/nova_xen/driver.py": XEN,
    "drivers/vmware/nova_vmware/__init__.py": "",
    "drivers/vmware/nova_vmware/vm.py": VMWARE,
    "drivers/vmware/nova_vmware/vm_test.py": VMWARE_TEST,
}


def metadata(version: str) -> str:
    return f'[project]\nname = "nova-common"\nversion = "{version}"\n'


def make_base(root: Path) -> Path:
    """The corpus' repository: nova-common 1.0.0 and three drivers, tagged ``nova-common-1.0.0``."""
    new_repo(root)
    files: dict[str, str | None] = {
        "pants.toml": '[python.resolves]\ncommon = "nova-common/common.lock"\n'
        + "".join(f'{d} = "drivers/{d}/{d}.lock"\n' for d in ("libvirt", "vmware", "xen")),
        "nova-common/subproject.toml": metadata("1.0.0"),
        **{
            f"drivers/{d}/subproject.toml": f'[project]\nname = "nova-{d}"\nversion = "1.0.0"\n'
            for d in ("libvirt", "vmware", "xen")
        },
        **FILES,
    }
    commit(root, "nova-common 1.0.0", files)
    git(root, "tag", "nova-common-1.0.0")
    return root


@dataclass(frozen=True)
class Scenario:
    """One change (``edits``: path -> [(old text, new text)], or whole new files) and its verdict."""

    id: str
    edits: dict[str, list[tuple[str, str]] | str]
    verdict: str  # "break", "addition" or "silent"
    kinds: frozenset[str] = frozenset()
    shipped: tuple[str, ...] = ()
    test: tuple[str, ...] = ()
    symbols: tuple[str, ...] = field(default=())


def _b(id: str, edits: dict[str, Any], kinds: str, shipped: str = "", test: str = "", symbols: str = "") -> Scenario:
    return Scenario(
        id,
        edits,
        "break",
        frozenset(kinds.split()),
        tuple(shipped.split()),
        tuple(test.split()),
        tuple(symbols.split()),
    )


def _a(id: str, edits: dict[str, Any], kinds: str) -> Scenario:
    return Scenario(id, edits, "addition", frozenset(kinds.split()))


def _s(id: str, edits: dict[str, Any]) -> Scenario:
    return Scenario(id, edits, "silent")


D, II, F, E, P, INST = (f"{NC}/driver.py", f"{NC}/objects/instance_info.py", f"{NC}/objects/fields.py",
                     f"{NC}/exception.py", f"{NC}/power.py", f"{NC}/objects/instance.py")  # fmt: skip
CD = "nova_common.driver.ComputeDriver"
INFO = "nova_common.objects.instance_info.InstanceInfo"
SPAWN_SIG = "def spawn(self, instance: Instance, image_id: str, block_device_info: dict[str, str] | None = None)"
REEXPORT = (
    "from nova_common._power_impl import graceful_power_off, wait_until\n\n"
    '__all__ = ["graceful_power_off", "wait_until"]\n'
)
WAIT = "def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 1.0) -> bool:"

SCENARIOS: list[Scenario] = [
    # -- removed / renamed -------------------------------------------------------------------------
    _b(
        "remove-function",
        {
            P: [
                (WAIT + '\n    """Poll ``condition``."""\n    return condition()\n', ""),
                ('"graceful_power_off", "wait_until"', '"graceful_power_off"'),
            ]
        },
        "removed",
        "libvirt",
        symbols="nova_common.power.wait_until",
    ),
    _b(
        "rename-function",
        {P: [("def wait_until(", "def wait_for("), ('"wait_until"', '"wait_for"')]},
        "renamed",
        "libvirt",
        symbols="nova_common.power.wait_until",
    ),
    _b(
        "remove-method",
        {
            D: [
                (
                    "    def get_console_output(self, instance: Instance) -> str | None:\n"
                    '        """The console log."""\n        raise NotImplementedError\n',
                    "",
                )
            ]
        },
        "removed",
        "libvirt",
        symbols=f"{CD}.get_console_output",
    ),
    _b(
        "remove-reexport",
        {f"{NC}/__init__.py": [('"APIVersionRange", ', ""), (", APIVersionRange", "")]},
        "removed",
        "xen",
        symbols="nova_common.APIVersionRange",
    ),
    _b(
        "remove-class-behind-reexport",
        {E: [('class InstanceNotFound(NovaError):\n    """No such guest."""\n', ""), (', "InstanceNotFound"', "")]},
        "removed",
        "libvirt",
        "vmware",
        symbols="nova_common.exception.InstanceNotFound",
    ),
    # -- parameters ----------------------------------------------------------------------------------
    _b("param-removed", {P: [(", interval: float = 1.0", "")]}, "parameter-removed", "libvirt"),
    _b(
        "param-renamed",
        {P: [("timeout: float, interval", "deadline: float, interval")]},
        "parameter-renamed",
        "libvirt",
    ),
    _b(
        "param-added-required",
        {P: [("interval: float = 1.0)", "interval: float = 1.0, *, clock: float)")]},
        "parameter-added-required",
        "libvirt",
    ),
    _b(
        "params-reordered",
        {P: [("condition: Callable[[], bool], timeout: float,", "timeout: float, condition: Callable[[], bool],")]},
        "parameter-moved",
        "libvirt",
    ),
    _b(
        "param-made-keyword-only",
        {P: [("timeout: float, interval", "*, timeout: float, interval")]},
        "parameter-kind-changed",
        "libvirt",
    ),
    _b(
        "param-default-changed",
        {P: [("interval: float = 1.0", "interval: float = 5.0")]},
        "parameter-default-changed",
        "libvirt",
    ),
    _b(
        "param-made-required", {P: [("interval: float = 1.0", "interval: float")]}, "parameter-made-required", "libvirt"
    ),
    _b(
        "param-type-narrowed",
        {P: [("timeout: float, interval", "timeout: int, interval")]},
        "parameter-type-changed",
        "libvirt",
    ),
    _b(
        "return-widened",
        {P: [("interval: float = 1.0) -> bool:", "interval: float = 1.0) -> bool | None:")]},
        "return-type-changed",
        "libvirt",
    ),
    _b(
        "callback-param-changed",
        {P: [("condition: Callable[[], bool]", "condition: Callable[[float], bool]")]},
        "parameter-type-changed",
        "libvirt",
    ),
    _b(
        "implemented-param-widened",
        {D: [("def get_info(self, instance: Instance)", "def get_info(self, instance: Instance | str)")]},
        "parameter-type-changed",
        "libvirt xen",
    ),
    _b(
        "implemented-return-narrowed",
        {
            D: [
                (
                    "def get_console_output(self, instance: Instance) -> str | None:",
                    "def get_console_output(self, instance: Instance) -> str:",
                )
            ]
        },
        "return-type-changed",
        "libvirt",
    ),
    _b(
        "implemented-optional-param-added",
        {D: [(SPAWN_SIG, SPAWN_SIG.replace("= None)", "= None, admin_password: str | None = None)"))]},
        "parameter-added",
        "libvirt xen",
    ),
    _b(
        "implemented-param-removed",
        {
            D: [
                (
                    "def reboot(self, instance: Instance, reboot_type: RebootType)",
                    "def reboot(self, instance: Instance)",
                )
            ]
        },
        "parameter-removed",
        "xen",
    ),
    # -- objects ---------------------------------------------------------------------------------
    _b(
        "field-removed",
        {II: [("    cpu_time_ns: Optional[int] = None\n", "")]},
        "field-removed",
        "libvirt",
        symbols=f"{INFO}.cpu_time_ns",
    ),
    _b("field-renamed", {II: [("cpu_time_ns: Optional[int]", "cpu_ns: Optional[int]")]}, "field-renamed", "libvirt"),
    _b(
        "field-retyped",
        {II: [("cpu_time_ns: Optional[int]", "cpu_time_ns: Optional[float]")]},
        "field-retyped",
        "libvirt",
        symbols=f"{INFO}.cpu_time_ns",
    ),
    _b("field-made-required", {II: [("memory_mb: int = 0", "memory_mb: int")]}, "field-made-required", "libvirt xen"),
    _b(
        "field-added-required",
        {II: [("    cpu_time_ns: Optional[int] = None\n", "    cpu_time_ns: Optional[int] = None\n    vcpus: int\n")]},
        "field-added-required",
        "libvirt xen",
    ),
    _b("field-of-unread-class-removed", {INST: [("    host: str | None = None\n", "")]}, "field-removed", ""),
    _b(
        "held-object-field-removed",
        {f"{NC}/objects/flavor.py": [("    vcpus: int\n", "")]},
        "field-removed",
        "libvirt",
        symbols="nova_common.objects.flavor.Flavor.vcpus",
    ),
    _b(
        "field-default-changed",
        {II: [("memory_mb: int = 0", "memory_mb: int = 512")]},
        "field-default-changed",
        "libvirt xen",
    ),
    _b(
        "implemented-param-made-optional",
        {D: [(SPAWN_SIG, SPAWN_SIG.replace("image_id: str,", 'image_id: str = "",'))]},
        "parameter-made-optional",
        "libvirt xen",
    ),
    _b(
        "object-version-lowered",
        {II: [('VERSION = "1.1"', 'VERSION = "1.0"')]},
        "object-version-lowered",
        "libvirt xen",
    ),
    # -- enums, exceptions ------------------------------------------------------------------------
    _b("enum-value-changed", {F: [('RUNNING = "running"', 'RUNNING = "active"')]}, "enum-value-changed", "libvirt"),
    _b("enum-member-removed", {F: [('    HARD = "hard"\n', "")]}, "enum-member-removed", ""),
    _b(
        "exception-rebased",
        {E: [("class InstanceNotFound(NovaError):", "class InstanceNotFound(DriverError):")]},
        "exception-base-changed",
        "libvirt",
        "vmware",
    ),
    _b(
        "exception-base-lost",
        {E: [("class DriverError(NovaError):", "class DriverError(Exception):")]},
        "exception-base-changed",
        "xen",
    ),
    # -- what a driver must implement --------------------------------------------------------------
    _b(
        "abstract-method-added",
        {
            D: [
                (
                    "    def reboot(",
                    "    @abc.abstractmethod\n    def power_off(self, instance: Instance) -> None:\n"
                    '        """Stop."""\n\n    def reboot(',
                )
            ]
        },
        "abstract-method-added",
        "libvirt xen",
    ),
    _b(
        "method-made-abstract",
        {D: [("    def get_console_output(", "    @abc.abstractmethod\n    def get_console_output(")]},
        "method-made-abstract",
        "libvirt xen",
    ),
    _b(
        "required-class-attribute",
        {
            D: [
                (
                    "    supports_pause: ClassVar[bool] = False\n",
                    "    supports_pause: ClassVar[bool] = False\n    vendor: ClassVar[str]\n",
                )
            ]
        },
        "required-attribute-added",
        "libvirt xen",
    ),
    _b(
        "class-attribute-made-required",
        {D: [("supports_pause: ClassVar[bool] = False", "supports_pause: ClassVar[bool]")]},
        "attribute-made-required",
        "libvirt xen",
    ),
    _b(
        "break-behind-reexport",
        {
            P: REEXPORT,
            f"{NC}/_power_impl.py": POWER.replace("interval: float = 1.0", "interval: float = 1.0, *, jitter: float"),
        },
        "parameter-added-required",
        "libvirt",
        symbols="nova_common.power.wait_until",
    ),
    # -- additions ---------------------------------------------------------------------------------
    _a(
        "new-function",
        {
            P: [
                ('"wait_until"]', '"wait_until", "sleep_briefly"]'),
                (
                    "\n\ndef graceful_power_off",
                    "\n\ndef sleep_briefly() -> None:\n    pass\n\n\ndef graceful_power_off",
                ),
            ]
        },
        "added",
    ),
    _a(
        "new-optional-keyword-param",
        {P: [("interval: float = 1.0)", "interval: float = 1.0, *, jitter: float = 0.0)")]},
        "parameter-added",
    ),
    _a(
        "widened-param-type",
        {P: [("timeout: float, interval", "timeout: float | str, interval")]},
        "parameter-type-changed",
    ),
    _a(
        "new-enum-member",
        {F: [('    HARD = "hard"\n', '    HARD = "hard"\n    FORCE = "force"\n')]},
        "enum-member-added",
    ),
    _a(
        "new-optional-field",
        {
            II: [
                (
                    "    cpu_time_ns: Optional[int] = None\n",
                    "    cpu_time_ns: Optional[int] = None\n    vcpus: int = 0\n",
                )
            ]
        },
        "field-added",
    ),
    _a(
        "new-optional-method",
        {
            D: [
                (
                    "    def get_console_output(",
                    "    def pause(self, instance: Instance) -> None:\n        raise NotImplementedError\n\n"
                    "    def get_console_output(",
                )
            ]
        },
        "added",
    ),
    _a(
        "widened-keyword-param-to-optional",
        {P: [("def graceful_power_off(*, timeout: float,", "def graceful_power_off(*, timeout: float | None,")]},
        "parameter-type-changed",
    ),
    _a(
        "implemented-return-widened",
        {
            D: [
                (
                    "def get_console_output(self, instance: Instance) -> str | None:",
                    "def get_console_output(self, instance: Instance) -> str | bytes | None:",
                )
            ]
        },
        "return-type-changed",
    ),
    _b(
        "implemented-param-made-optional-type",
        {
            D: [
                (
                    "def reboot(self, instance: Instance, reboot_type: RebootType)",
                    "def reboot(self, instance: Instance, reboot_type: RebootType | None)",
                )
            ]
        },
        "parameter-type-changed",
        "xen",
    ),
    # -- silent ------------------------------------------------------------------------------------
    _s(
        "move-behind-reexport",
        {
            P: REEXPORT,
            f"{NC}/_power_impl.py": POWER,
        },
    ),
    _s(
        "new-private-helper",
        {
            P: [
                (
                    "\n\ndef graceful_power_off",
                    "\n\ndef _clamp(x: float) -> float:\n    return max(x, 0.1)\n\n\ndef graceful_power_off",
                )
            ]
        },
    ),
    _s(
        "import-added",
        {
            P: [
                (
                    "from collections.abc import Callable\n",
                    "import logging\nfrom collections.abc import Callable\n\nLOG = logging.getLogger(__name__)\n",
                )
            ],
            D: [("import abc\n", "import abc\nimport logging\n")],
        },
    ),
    _s(
        "docstring-only",
        {
            D: [('"""Create the guest."""', '"""Create and start the guest; clean up on failure."""')],
            P: [('"""Poll ``condition``."""', '"""Poll ``condition`` until it holds."""')],
        },
    ),
    _s("optional-spelling", {II: [("cpu_time_ns: Optional[int] = None", "cpu_time_ns: int | None = None")]}),
    _s("int-to-float-of-param-widening-equivalent", {P: [("interval: float = 1.0", "interval: float | int = 1.0")]}),
    _s("core-internal-change", {f"{NC}/compute/manager.py": "def manage(force: bool) -> None:\n    pass\n"}),
    _s(
        "reexport-spelling-of-annotation",
        {
            D: [
                (
                    "from nova_common.objects import Instance, InstanceInfo, RebootType",
                    "from nova_common.objects.instance import Instance\n"
                    "from nova_common.objects import InstanceInfo, RebootType",
                )
            ]
        },
    ),
    # -- found by red-teaming on scratch clones of the real nova-common -----------------------------
    _s("enum-to-strenum-same-values", {F: [("class PowerState(str, enum.Enum):", "class PowerState(enum.StrEnum):")]}),
    _a(
        "exception-renamed-alias-kept",
        {
            E: [
                ("class InstanceNotFound(NovaError):", "class GuestNotFound(NovaError):"),
                ('__all__ = ["DriverError",', '__all__ = ["DriverError", "GuestNotFound",'),
                ('    """No such guest."""\n', '    """No such guest."""\n\n\nInstanceNotFound = GuestNotFound\n'),
            ],
        },
        "added",
    ),
    _b(
        "public-type-alias-narrowed",
        {
            P: [
                ('__all__ = ["graceful_power_off"', '__all__ = ["Seconds", "graceful_power_off"'),
                ("\n\ndef wait_until(", "\nSeconds = int\n\n\ndef wait_until("),
                ("bool], timeout: float, interval", "bool], timeout: Seconds, interval"),
            ]
        },
        "parameter-type-changed",
        "libvirt",
        symbols="nova_common.power.wait_until",
    ),
    _s(
        "private-type-alias-refactor",
        {
            P: [
                ("\n\ndef wait_until(", "\n_Seconds = float\n\n\ndef wait_until("),
                ("bool], timeout: float, interval", "bool], timeout: _Seconds, interval"),
            ]
        },
    ),
    _b(
        "inherited-init-kwargs-removed",
        {
            E: [
                ('def __init__(self, message: str = "", **kwargs: object)', 'def __init__(self, message: str = "")'),
                ("message.format(**kwargs)", "message"),
            ]
        },
        "parameter-removed",
        "libvirt xen",
        symbols="nova_common.exception.NovaError.__init__",
    ),
    _b(
        "object-fields-reordered",
        {
            II: [
                (
                    "    memory_mb: int = 0\n    cpu_time_ns: Optional[int] = None\n",
                    "    cpu_time_ns: Optional[int] = None\n    memory_mb: int = 0\n",
                )
            ]
        },
        "field-moved",
        "libvirt xen",
        symbols=f"{INFO}.memory_mb {INFO}.cpu_time_ns",
    ),
    _s(
        "all-lists-an-imported-stdlib-name",
        {P: [('__all__ = ["graceful_power_off"', '__all__ = ["Callable", "graceful_power_off"')]},
    ),
]


def apply(repo: Path, scenario: Scenario) -> dict[str, str | None]:
    """The files ``scenario`` changes, with their new text (read from ``repo``)."""
    out: dict[str, str | None] = {}
    for path, edit in scenario.edits.items():
        if isinstance(edit, str):
            out[path] = edit
            continue
        text = (repo / path).read_text()
        for old, new in edit:
            if old not in text:
                raise AssertionError(f"{scenario.id}: {old!r} is not in {path}")
            text = text.replace(old, new, 1)
        out[path] = text
    return out


def bump(version: str, api: str | None = None) -> dict[str, str | None]:
    """The files that set nova-common's version (and ``DRIVER_API_VERSION``'s ``major, minor``)."""
    files: dict[str, str | None] = {"nova-common/subproject.toml": metadata(version)}
    if api is not None:
        files[f"{NC}/api_version.py"] = API_VERSION.replace("APIVersion(1, 0)", f"APIVersion({api})")
    return files


def gate(repo: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """Run ``nova-split api-gate --format json --no-typecheck`` on ``repo``: code, report, stderr."""
    out, err = StringIO(), StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--repo", str(repo), "api-gate", "--format", "json", "--no-typecheck", *args])
    return code, (json.loads(out.getvalue()) if out.getvalue().strip() else {}), err.getvalue()


def check(base: Path, scenario: Scenario, work: Path) -> list[str]:
    """Run ``scenario`` on a copy of ``base`` under ``work``; the ways the gate got it wrong."""
    repo = work / scenario.id
    shutil.copytree(base, repo, symlinks=True)
    commit(repo, scenario.id, apply(repo, scenario))
    wrong: list[str] = []
    code, report, err = gate(repo)
    breaks = [c for c in report.get("changes", []) if c["breaking"]]
    if scenario.verdict == "silent":
        if code != 0 or report.get("changes"):
            wrong.append(f"false positive: expected no finding, got {report.get('changes')} {err.strip()}")
        return wrong
    if scenario.verdict == "addition":
        if breaks:
            wrong.append(f"false positive: an addition reported as breaking: {breaks}")
        kinds = {c["kind"] for c in report.get("changes", [])}
        if code != 1 or "without a version bump" not in err or not scenario.kinds <= kinds:
            wrong.append(
                f"false negative: an addition ({sorted(scenario.kinds)}) passed without a bump: {report.get('changes')}"
            )
        commit(repo, "minor", bump("1.1.0"))
        if gate(repo)[0] != 0:
            wrong.append(f"false positive: an addition failed at a minor bump: {gate(repo)}")
        return wrong
    commit(repo, "minor", bump("1.1.0", "1, 1"))
    code, report, err = gate(repo)
    breaks = [c for c in report.get("changes", []) if c["breaking"]]
    kinds = {c["kind"] for c in breaks}
    if code != 1 or not breaks:
        wrong.append(f"false negative: the break passed a minor bump: {report.get('changes')}")
    elif kinds != set(scenario.kinds):
        wrong.append(f"wrong kind: expected {sorted(scenario.kinds)}, got {sorted(kinds)}: {breaks}")
    for c in breaks:
        if (tuple(c["users"]["shipped"]), tuple(c["users"]["test"])) != (scenario.shipped, scenario.test):
            wrong.append(
                f"wrong users of {c['symbol']}: {c['users']} "
                f"(expected shipped {scenario.shipped}, test {scenario.test})"
            )
    if scenario.symbols and sorted(c["symbol"] for c in breaks) != sorted(scenario.symbols):
        wrong.append(f"wrong symbols: {[c['symbol'] for c in breaks]} (expected {scenario.symbols})")
    commit(repo, "major", bump("2.0.0", "2, 0"))
    code, report, err = gate(repo)
    if code != 0:
        wrong.append(f"a major bump did not pass: {err.strip()}")
    return wrong


def measure(scenarios: list[Scenario] = SCENARIOS) -> dict[str, list[str]]:
    """Scenario id -> what the gate got wrong, for the whole corpus."""
    with tempfile.TemporaryDirectory(prefix="api-corpus-") as tmp:
        base = make_base(Path(tmp) / "base")
        return {s.id: check(base, s, Path(tmp)) for s in scenarios}


if __name__ == "__main__":
    results = measure()
    fn = sum(any(w.startswith("false negative") for w in ws) for ws in results.values())
    fp = sum(any(w.startswith("false positive") for w in ws) for ws in results.values())
    for sid, ws in results.items():
        for w in ws:
            print(f"{sid}: {w}")
    breaks = sum(s.verdict == "break" for s in SCENARIOS)
    print(
        f"{len(SCENARIOS)} scenarios ({breaks} breaks, {len(SCENARIOS) - breaks} compatible): "
        f"{fn} false negative(s), {fp} false positive(s), {sum(bool(w) for w in results.values())} wrong"
    )
    sys.exit(1 if any(results.values()) else 0)
