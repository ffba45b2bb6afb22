"""``nova-compute``: load a driver by name and run the instance lifecycle from the shell.

Examples::

    nova-compute boot web1                      # libvirt's embedded test hypervisor, no set-up
    nova-compute list
    nova-compute --driver fake --format json host
    nova-compute --driver vmware --driver-opt url=http://127.0.0.1:8989/sdk list

Instance records live in ``<state dir>/instances.sqlite`` (default
``~/.local/state/nova-compute/<driver>``, or ``$NOVA_COMPUTE_STATE_DIR``), so they survive
restarts; the directory remembers its driver and driver options and refuses others. Any number
of ``nova-compute`` processes may share a state directory. Expected failures print one line;
the exit code (docs/cli.md) is 1 when the operation failed or was refused (no capacity, wrong
state, name in use), 2 when it could not run as asked (usage, an unknown instance, flavor or
driver, an unusable state directory, an unreachable hypervisor). Commands that change state
defer SIGINT/SIGTERM/SIGHUP to a safe point: an interrupted boot is rolled back (exit 130 for
each) unless its guest already exists, in which case it completes (exit 0). Read-only commands
stop at once on Ctrl-C, SIGTERM or SIGHUP (exit 130, like the changing ones). Under ``nohup``
SIGHUP stays ignored.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

from nova_common.compute.capacity import AllocationRatios
from nova_common.compute.errors import (
    BadRecord,
    DatabaseDamaged,
    DatabaseMissing,
    DatabaseTooNew,
    Interrupted,
    LockTimeout,
    OutputFailed,
    StateDirInUse,
    StateDirUnusable,
    UnknownFlavor,
    UnknownInstance,
)
from nova_common.compute.flavors import FLAVORS
from nova_common.compute.identity import identity, legacy_identity
from nova_common.compute.manager import ComputeManager
from nova_common.compute.names import MAX_NAME_LENGTH, safe
from nova_common.compute.signals import Interrupts
from nova_common.compute.store import InstanceStore
from nova_common.exception import DriverLoadError, InvalidDriverConfig, NovaError
from nova_common.loader import installed_drivers, load_driver
from nova_common.objects import HostResources, Instance, InstanceInfo
from nova_common.virtapi import LocalVirtAPI
from nova_common_cli.args import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_UNUSABLE,
    SCHEMA_VERSION,
    GlobalOptions,
    Terminated,
    prepare_stdout,
    stdout_to_devnull,
    terminate_as_exception,
)
from nova_common_cli.completion import add_completion_command, completion_script

__all__ = ["completion", "main"]

DEFAULT_DRIVER = "libvirt"
DISTRIBUTION = "nova-common"


_CHANGING = frozenset({"boot", "delete", "reboot", "stop", "start", "pause", "unpause", "sync"})


class CouldNotRun(NovaError):
    """The command could not run as asked (exit 2): bad options, or the hypervisor is unreachable."""

    msg_fmt = "{reason}"


#: Expected failures that mean the command could not run as asked (exit 2, not 1): see docs/cli.md.
_UNUSABLE: tuple[type[NovaError], ...] = (
    CouldNotRun,
    DriverLoadError,
    InvalidDriverConfig,
    StateDirUnusable,
    StateDirInUse,
    DatabaseDamaged,
    DatabaseMissing,
    DatabaseTooNew,
    LockTimeout,
    UnknownInstance,
    UnknownFlavor,
)


def _state_dir(text: str) -> Path:
    if not text.strip():  # Path("") is the current directory: never a silent choice
        raise argparse.ArgumentTypeError("the path is empty; pass a directory")
    try:
        return Path(text).expanduser()
    except RuntimeError:  # ~user of no such user
        raise argparse.ArgumentTypeError(f"{text!r}: no such user's home; pass a full path") from None


def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):  # nan, inf and 1e400 (inf) too
        raise argparse.ArgumentTypeError(f"expected a positive, finite number, got {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (exit 2) instead of the usage text and the error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {safe(message)}; see '{self.prog} --help'\n")


def _version() -> str:
    """``nova-compute`` is nova-common's: its installed version, and each installed driver's."""
    try:
        own = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from the monorepo's sources: its subproject.toml
        source = Path(__file__).resolve().parents[2] / "subproject.toml"
        try:
            own = str(tomllib.loads(source.read_text())["project"]["version"]) + " (source tree)"
        except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
            own = "(version unknown: not installed)"
    drivers = []
    for name, dist in sorted(installed_drivers().items()):
        try:
            drivers.append(f"{name} ({dist} {metadata.version(dist)})")
        except metadata.PackageNotFoundError:
            drivers.append(f"{name} ({dist})")
    return f"nova-compute {own} ({DISTRIBUTION}); drivers: {', '.join(drivers) or 'none'}"


class _Version(argparse.Action):
    """``--version``: computed only when asked (it reads the installed distributions)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        try:
            _out(_version() + "\n")
        except OutputFailed as e:  # --version >/dev/full: one line, as every other output
            parser.exit(EXIT_FAILED, f"nova-compute: error: {e}\n")
        parser.exit()


def _parser() -> tuple[argparse.ArgumentParser, GlobalOptions]:
    p = _Parser(
        prog="nova-compute",
        description="Run instances through a nova compute driver.",
        epilog="Global options may also follow the command. Exit codes: 0 success, 1 the operation "
        "failed or was refused, 2 usage error or it could not run (unknown instance, driver or "
        "flavor; unusable state directory; unreachable hypervisor), 130 interrupted (SIGINT, "
        "SIGTERM or SIGHUP). Details: docs/cli.md.",
    )
    p.add_argument("--version", action=_Version, help="print the versions of nova-compute and its drivers and exit")
    g = GlobalOptions()
    g.add(p, "--driver", default=DEFAULT_DRIVER, help="driver name (default: %(default)s; see 'drivers')")
    g.add(p, "--driver-opt", action="append", default=[], metavar="KEY=VALUE", help="a driver option (repeatable)")
    g.add(
        p,
        "--state-dir",
        type=_state_dir,
        help="where records live (default: $NOVA_COMPUTE_STATE_DIR or ~/.local/state/nova-compute/DRIVER)",
    )
    g.add(p, "--host", default=socket.gethostname(), help="this compute host's name (default: %(default)s)")
    g.add(
        p,
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format (table: aligned columns for people, the default; json: a list of records, "
        "each with a schema_version field, for scripts)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    boot = sub.add_parser("boot", help="create and start an instance")
    boot.add_argument("name", help=f"unique, printable, at most {MAX_NAME_LENGTH} characters, not a UUID")
    boot.add_argument("--flavor", default="m1.tiny", choices=sorted(FLAVORS))
    boot.add_argument("--image", default="cirros-0.6")
    defaults = AllocationRatios()
    for kind, default in (("cpu", defaults.cpu), ("ram", defaults.ram), ("disk", defaults.disk)):
        boot.add_argument(
            f"--{kind}-allocation-ratio",
            type=_ratio,
            default=default,
            metavar="RATIO",
            help=f"overcommit: the node offers its {kind} times RATIO (default: %(default)s)",
        )
    sub.add_parser("list", help="list instances")
    for name, text in (
        ("show", "show an instance and what the hypervisor reports"),
        ("stop", "power an instance off"),
        ("start", "power an instance on"),
        ("pause", "pause an instance"),
        ("unpause", "unpause an instance"),
        ("delete", "destroy an instance and remove its record"),
    ):
        sub.add_parser(name, help=text).add_argument("instance", help="uuid, or name")
    reboot = sub.add_parser("reboot", help="reboot an instance")
    reboot.add_argument("instance", help="uuid, or name")
    reboot.add_argument("--hard", action="store_true", help="reset instead of asking the guest")
    snapshot = sub.add_parser("snapshot", help="capture an instance's disk as a new image")
    snapshot.add_argument("instance", help="uuid, or name")
    snapshot.add_argument("image", help="id of the new image")
    sub.add_parser("console", help="print an instance's console output").add_argument("instance", help="uuid, or name")
    sub.add_parser("host", help="show host resources")
    sync = sub.add_parser(
        "sync",
        help="reconcile records with the hypervisor (adopt lost guests, mark missing ones) and print what changed",
    )
    sync.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    sub.add_parser("drivers", help="list installed drivers")
    add_completion_command(sub, "nova-compute")
    g.attach(GlobalOptions.subparsers(p))
    return p, g


def completion(shell: str) -> str:
    """nova-compute's completion script for ``shell``: what ``nova-compute completion SHELL`` prints.

    The nova-common wheel also installs the bash script as
    ``share/bash-completion/completions/nova-compute`` under its prefix (written from here by
    ``nova-split packaging``), where bash-completion finds it (docs/cli.md, "Shell completion").
    """
    return completion_script(_parser()[0], shell)


def _driver_options(pairs: Sequence[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CouldNotRun(reason=f"--driver-opt takes KEY=VALUE, got {pair!r}")
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
        rows = [{**row, "schema_version": SCHEMA_VERSION} for row in rows]
        _out(json.dumps(rows, indent=2, sort_keys=True) + "\n")
        return
    if not rows:
        _out("(none)\n")
        return
    cols = list(rows[0])
    cells = [[safe(str(r[c])) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[n]) for row in cells)) for n, c in enumerate(cols)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in [cols, *cells]]
    _out("".join(line + "\n" for line in lines))


def _out(text: str) -> None:
    """Write ``text`` to stdout now; a closed pipe or a full disk is one line, not a traceback."""
    if sys.stdout is None:  # started with stdout closed (>&-)
        raise OutputFailed(reason="standard output is closed")
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as e:
        stdout_to_devnull()  # what is still buffered goes nowhere, so exiting does not fail again
        raise OutputFailed(reason=e.strerror or str(e)) from None


def _show_rows(instance: Instance, info: InstanceInfo | None) -> list[dict[str, Any]]:
    row = _instance_row(instance)
    row["hypervisor"] = info.state.value if info else "missing"
    row["hypervisor_id"] = (info.internal_id or "-") if info else "-"
    return [row]


def _host_rows(resources: list[HostResources], fmt: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for r in resources:
        row: dict[str, Any] = {
            "node": r.hypervisor_hostname,
            "hypervisor": f"{r.hypervisor_type} {r.hypervisor_version}",
        }
        for name, used, total in (
            ("vcpus", r.vcpus_used, r.vcpus),
            ("memory_mb", r.memory_mb_used, r.memory_mb),
            ("disk_gb", r.local_gb_used, r.local_gb),
        ):
            if fmt == "json":
                row[name], row[f"{name}_used"] = total, used
            else:
                row[f"{name} used/total"] = f"{used}/{total}" if total else f"{used}/unreported"
        rows.append(row)
    return rows


def _warn_bad_records(store: InstanceStore) -> None:
    for row in store.rows():
        if row.instance is None:
            print(
                f"nova-compute: warning: {safe(str(BadRecord(name=repr(row.name), uuid=row.uuid, reason=row.error)))}",
                file=sys.stderr,
            )


def _run(args: argparse.Namespace, interrupts: Interrupts) -> int:
    if args.command == "drivers":
        _print([{"driver": k, "distribution": v} for k, v in installed_drivers().items()], args.format)
        return 0
    env_dir = os.environ.get("NOVA_COMPUTE_STATE_DIR")
    try:
        state_dir = args.state_dir or (
            Path(env_dir).expanduser() if env_dir else Path.home() / ".local/state/nova-compute" / args.driver
        )
    except RuntimeError:  # ~user of no such user, or no home directory at all
        raise CouldNotRun(
            reason="cannot find the state directory's home: pass --state-dir (or NOVA_COMPUTE_STATE_DIR) as a full path"
        ) from None
    options = _driver_options(args.driver_opt)
    # Until the command starts, nothing has changed: an interrupt stops at once, also while
    # waiting for another command's turn on the records or the hypervisor.
    with interrupts.immediate():
        try:
            virtapi = LocalVirtAPI(state_dir)
        except FileExistsError:  # a file, a dangling symlink or a symlink loop
            raise StateDirUnusable(path=state_dir, reason="it exists but is not a directory") from None
        except OSError as e:
            raise StateDirUnusable(path=state_dir, reason=e.strerror or str(e)) from None
        loaded = load_driver(args.driver, virtapi, options)
        store = InstanceStore(
            state_dir / "instances.sqlite",
            identity(args.driver, options),
            rebuild=args.command == "sync",
            writing=args.command in _CHANGING,
            claim=False,
            previous_owner=legacy_identity(args.driver, options),
        )
    driver = loaded.driver
    try:
        with interrupts.immediate():
            try:
                driver.init_host(args.host)
            except Interrupted:  # Ctrl-C, SIGTERM or SIGHUP while connecting: 130, as everywhere
                raise
            except NovaError as e:  # the hypervisor is unreachable or refuses: nothing could run
                raise CouldNotRun(reason=str(e)) from None
        try:
            with interrupts.immediate():
                store.claim()  # connected: this is the directory's hypervisor from now on
            _command(args, ComputeManager(driver, store, args.host, interrupts=interrupts, ratios=_ratios(args)))
        finally:
            driver.cleanup_host(args.host)
    finally:
        store.close()
    return 0


def _ratios(args: argparse.Namespace) -> AllocationRatios:
    if args.command != "boot":
        return AllocationRatios()
    return AllocationRatios(
        cpu=args.cpu_allocation_ratio, ram=args.ram_allocation_ratio, disk=args.disk_allocation_ratio
    )


def _command(args: argparse.Namespace, manager: ComputeManager) -> None:
    single: dict[str, Callable[[str], Instance]] = {
        "stop": manager.stop,
        "start": manager.start,
        "pause": manager.pause,
        "unpause": manager.unpause,
    }
    if args.command == "boot":
        _print([_instance_row(manager.boot(args.name, args.flavor, args.image))], args.format)
    elif args.command == "list":
        _warn_bad_records(manager.store)
        _print([_instance_row(i) for i in manager.instances()], args.format)
    elif args.command == "show":
        _print(_show_rows(*manager.show(args.instance)), args.format)
    elif args.command == "reboot":
        _print([_instance_row(manager.reboot(args.instance, hard=args.hard))], args.format)
    elif args.command == "snapshot":
        image = manager.snapshot(args.instance, args.image)
        _print([{"image": image.id, "name": image.name, "disk_format": image.disk_format}], args.format)
    elif args.command == "console":
        _out(manager.console_output(args.instance))
    elif args.command == "host":
        _print(_host_rows(manager.host_resources(), args.format), args.format)
    elif args.command == "delete":
        _print([asdict(manager.delete(args.instance))], args.format)
    elif args.command == "sync":
        changes = manager.sync_power_states(dry_run=args.dry_run)
        if changes or args.format == "json":
            _print([asdict(c) for c in changes], args.format)
        else:
            _out("in sync: nothing changed\n")
    else:
        _print([_instance_row(single[args.command](args.instance))], args.format)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``nova-compute``; returns the exit code."""
    parser, globals_ = _parser()
    args = globals_.merge(parser.parse_args(argv))
    problem = prepare_stdout()
    if problem is not None:
        print(f"nova-compute: error: {problem}", file=sys.stderr)
        return EXIT_UNUSABLE
    if args.command == "completion":
        try:
            _out(completion_script(parser, args.shell))
        except OutputFailed as e:
            print(f"nova-compute: error: {e}", file=sys.stderr)
            return EXIT_FAILED
        return 0
    interrupts = Interrupts()
    try:
        if args.command not in _CHANGING:  # read-only: SIGTERM/SIGHUP stop it at once, as Ctrl-C does (130)
            with terminate_as_exception(restore=argv is not None, hangup=True):
                return _run(args, interrupts)
        # As the program (argv None), block the signals once the command is done, until exit: a
        # signal after it completed must not turn its exit 0 into a kill. Called from Python
        # (tests), restore the handlers instead.
        with interrupts.deferred(restore=argv is not None):
            code = _run(args, interrupts)
        if interrupts.received is not None:
            name = signal.Signals(interrupts.received).name
            print(f"nova-compute: {name} arrived after {args.command} had completed; kept the result", file=sys.stderr)
        return code
    except Interrupted as e:
        done = (
            "was rolled back"
            if args.command == "boot"
            else "stopped at a safe point; 'nova-compute list' shows the state"
        )
        print(f"nova-compute: {e}; {args.command} {done}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except NovaError as e:
        print(f"nova-compute: error: {safe(str(e))}", file=sys.stderr)
        return EXIT_UNUSABLE if isinstance(e, _UNUSABLE) else EXIT_FAILED
    except KeyboardInterrupt:
        print("nova-compute: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated as e:
        print(f"nova-compute: terminated ({e.signal_name})", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
