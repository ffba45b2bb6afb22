"""``nova-compute``: load a driver by name and run the instance lifecycle from the shell.

Examples::

    nova-compute boot web1                      # libvirt's embedded test hypervisor, no set-up
    nova-compute list
    nova-compute --driver fake --format json host
    nova-compute --driver vmware --driver-opt url=http://127.0.0.1:8989/sdk list

Instance records live in ``<state dir>/instances.sqlite`` (default
``~/.local/state/nova-compute/<driver>``, or ``$NOVA_COMPUTE_STATE_DIR``), so they survive
restarts. Expected failures print one line and exit 1; Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nova_common.compute.flavors import FLAVORS
from nova_common.compute.manager import ComputeManager
from nova_common.compute.store import InstanceStore
from nova_common.exception import NovaError
from nova_common.loader import installed_drivers, load_driver
from nova_common.objects import HostResources, Instance, InstanceInfo
from nova_common.virtapi import LocalVirtAPI

__all__ = ["main"]

DEFAULT_DRIVER = "libvirt"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nova-compute", description="Run instances through a nova compute driver.")
    p.add_argument("--driver", default=DEFAULT_DRIVER, help="driver name (default: %(default)s; see 'drivers')")
    p.add_argument(
        "--driver-opt", action="append", default=[], metavar="KEY=VALUE", help="a driver option (repeatable)"
    )
    p.add_argument("--state-dir", type=Path, help="where records live (default: ~/.local/state/nova-compute/DRIVER)")
    p.add_argument("--host", default=socket.gethostname(), help="this compute host's name (default: %(default)s)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    boot = sub.add_parser("boot", help="create and start an instance")
    boot.add_argument("name")
    boot.add_argument("--flavor", default="m1.tiny", choices=sorted(FLAVORS))
    boot.add_argument("--image", default="cirros-0.6")
    sub.add_parser("list", help="list instances")
    for name, text in (
        ("show", "show an instance and what the hypervisor reports"),
        ("stop", "power an instance off"),
        ("start", "power an instance on"),
        ("pause", "pause an instance"),
        ("unpause", "unpause an instance"),
        ("delete", "destroy an instance and remove its record"),
    ):
        sub.add_parser(name, help=text).add_argument("instance", help="name or uuid")
    reboot = sub.add_parser("reboot", help="reboot an instance")
    reboot.add_argument("instance", help="name or uuid")
    reboot.add_argument("--hard", action="store_true", help="reset instead of asking the guest")
    snapshot = sub.add_parser("snapshot", help="capture an instance's disk as a new image")
    snapshot.add_argument("instance", help="name or uuid")
    snapshot.add_argument("image", help="id of the new image")
    sub.add_parser("console", help="print an instance's console output").add_argument("instance", help="name or uuid")
    sub.add_parser("host", help="show host resources")
    sub.add_parser("sync", help="reconcile records with the hypervisor and print what changed")
    sub.add_parser("drivers", help="list installed drivers")
    return p


def _driver_options(pairs: Sequence[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise NovaError(f"--driver-opt takes KEY=VALUE, got {pair!r}")
        options[key] = value
    return options


def _instance_row(i: Instance) -> dict[str, Any]:
    return {
        "name": i.name,
        "uuid": i.uuid,
        "flavor": i.flavor.name,
        "vm_state": i.vm_state.value,
        "power_state": i.power_state.value,
    }


def _print(rows: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(rows, indent=2, sort_keys=True))
        return
    if not rows:
        print("(none)")
        return
    cols = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    for r in rows:
        print("  ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())


def _show_rows(instance: Instance, info: InstanceInfo | None) -> list[dict[str, Any]]:
    row = _instance_row(instance)
    row["hypervisor"] = info.state.value if info else "missing"
    row["hypervisor_id"] = (info.internal_id or "-") if info else "-"
    return [row]


def _host_rows(resources: list[HostResources]) -> list[dict[str, Any]]:
    return [
        {
            "node": r.hypervisor_hostname,
            "hypervisor": f"{r.hypervisor_type} {r.hypervisor_version}",
            "vcpus": f"{r.vcpus_used}/{r.vcpus}",
            "memory_mb": f"{r.memory_mb_used}/{r.memory_mb}",
            "disk_gb": f"{r.local_gb_used}/{r.local_gb}",
        }
        for r in resources
    ]


def _run(args: argparse.Namespace) -> int:
    if args.command == "drivers":
        _print([{"driver": k, "distribution": v} for k, v in installed_drivers().items()], args.format)
        return 0
    state_dir = args.state_dir or Path(
        os.environ.get("NOVA_COMPUTE_STATE_DIR") or Path.home() / ".local/state/nova-compute" / args.driver
    )
    virtapi = LocalVirtAPI(state_dir)
    loaded = load_driver(args.driver, virtapi, _driver_options(args.driver_opt))
    store = InstanceStore(state_dir / "instances.sqlite", args.driver)
    driver = loaded.driver
    driver.init_host(args.host)
    try:
        manager = ComputeManager(driver, store, args.host)
        single: dict[str, Callable[[str], Instance]] = {
            "stop": manager.stop,
            "start": manager.start,
            "pause": manager.pause,
            "unpause": manager.unpause,
            "delete": manager.delete,
        }
        if args.command == "boot":
            _print([_instance_row(manager.boot(args.name, args.flavor, args.image))], args.format)
        elif args.command == "list":
            _print([_instance_row(i) for i in manager.instances()], args.format)
        elif args.command == "show":
            _print(_show_rows(*manager.show(args.instance)), args.format)
        elif args.command == "reboot":
            _print([_instance_row(manager.reboot(args.instance, hard=args.hard))], args.format)
        elif args.command == "snapshot":
            image = manager.snapshot(args.instance, args.image)
            _print([{"image": image.id, "name": image.name, "disk_format": image.disk_format}], args.format)
        elif args.command == "console":
            sys.stdout.write(manager.console_output(args.instance))
        elif args.command == "host":
            _print(_host_rows(manager.host_resources()), args.format)
        elif args.command == "sync":
            changes = manager.sync_power_states()
            _print([vars(c) for c in changes], args.format) if changes or args.format == "json" else print(
                "in sync: nothing changed"
            )
        else:
            _print([_instance_row(single[args.command](args.instance))], args.format)
    finally:
        driver.cleanup_host(args.host)
        store.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``nova-compute``; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except NovaError as e:
        print(f"nova-compute: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("nova-compute: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
