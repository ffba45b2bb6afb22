"""For tests: the fake driver with its guests in a file, so separate processes share one hypervisor.

:class:`~nova_common.fake_driver.FakeDriver` keeps guests in the process, so two
``nova-compute`` processes never see each other's guests. Multi-process tests of the compute
service (concurrency, interruption) register this subclass as the ``fake`` driver instead: every
driver call locks ``<state dir>/fake-host.json``, loads the guests, runs the fake's own code and
writes them back atomically, like one hypervisor serving many clients. Semantics are otherwise
exactly the fake's.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from nova_common.fake_driver import FakeDriver, _Guest
from nova_common.objects import BlockDevice, Instance, PowerState

__all__ = ["HOST_FILE", "SharedFakeDriver"]

HOST_FILE = "fake-host.json"
_F = TypeVar("_F", bound=Callable[..., Any])


def _shared(method: _F) -> _F:
    @functools.wraps(method)
    def locked(self: SharedFakeDriver, *args: Any, **kwargs: Any) -> Any:
        path = self.virtapi.state_dir / HOST_FILE
        fd = os.open(path.with_name(HOST_FILE + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._guests = _load(path)
            result = method(self, *args, **kwargs)
            _save(path, self._guests)
            return result
        finally:
            os.close(fd)

    return locked  # type: ignore[return-value]


class SharedFakeDriver(FakeDriver):
    """:class:`FakeDriver` whose guests live in ``<state dir>/fake-host.json`` (see module doc)."""


for _name in (
    "get_available_resource",
    "list_instances",
    "get_info",
    "spawn",
    "destroy",
    "reboot",
    "power_off",
    "power_on",
    "pause",
    "unpause",
    "suspend",
    "resume",
    "snapshot",
    "attach_volume",
    "detach_volume",
    "plug_vifs",
    "unplug_vifs",
    "get_console_output",
):
    setattr(SharedFakeDriver, _name, _shared(getattr(FakeDriver, _name)))


def _load(path: Path) -> dict[str, _Guest]:
    if not path.exists():
        return {}
    return {
        uuid: _Guest(
            instance=Instance.obj_from_primitive(g["instance"]),
            state=PowerState(g["state"]),
            volumes={k: BlockDevice.obj_from_primitive(v) for k, v in g["volumes"].items()},
            vifs_plugged=g["vifs_plugged"],
            console=g["console"],
        )
        for uuid, g in json.loads(path.read_text()).items()
    }


def _save(path: Path, guests: dict[str, _Guest]) -> None:
    data = {
        uuid: {
            "instance": g.instance.obj_to_primitive(),
            "state": g.state.value,
            "volumes": {k: v.obj_to_primitive() for k, v in g.volumes.items()},
            "vifs_plugged": g.vifs_plugged,
            "console": g.console,
        }
        for uuid, g in guests.items()
    }
    tmp = path.with_name(f"{HOST_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, sort_keys=True))
    os.replace(tmp, path)
