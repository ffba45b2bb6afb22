"""api-gate: nova-common's driver API may only break with a major version bump.

Compares the public driver API (nova_split_tools.api_surface) at a reference (default:
nova-common's last release tag, nova-common-X.Y.Z) with the work tree and reports every break and
addition with the drivers whose shipped and test code use that exact member. A break fails unless
nova-common's major version was bumped (with DRIVER_API_VERSION in step) or the ledger
nova-common/api-breaks.toml accepts it; an addition needs a minor bump. Then each driver's last
release (nova-<name>-X.Y.Z, else HEAD) is type-checked with strict mypy against the changed
nova-common (--no-typecheck skips it); --deep also runs each release's conformance suite.

Exit codes: 0 the gate passes, 1 it fails, 2 it could not run (bad ref, no tag, unreadable tree).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nova_split_tools.api_consumers import conformance_drivers, typecheck_drivers
from nova_split_tools.api_gate import LEDGER, GateReport, run_gate
from nova_split_tools.errors import ToolError
from nova_split_tools.output import add_format_argument, print_json
from nova_split_tools.repo import Repository

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--against", metavar="REF", help="compare with REF (default: the last nova-common-X.Y.Z tag)")
    add_format_argument(parser)
    parser.add_argument("--no-typecheck", action="store_true", help="skip type-checking the drivers' releases")
    parser.add_argument("--deep", action="store_true", help="also run each driver release's conformance suite")
    parser.add_argument(
        "--driver", action="append", metavar="NAME", help="type-check (and --deep) only this driver (repeatable)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        repo = Repository(args.repo)
        report = run_gate(repo, args.against)
        if not args.no_typecheck:
            report.consumers = typecheck_drivers(repo, report.against, args.driver)
            if report.consumers:
                drivers = sorted({c["driver"] for c in report.consumers})
                report.problems.append(
                    f"the changed nova-common fails strict mypy for the released code of {', '.join(drivers)}"
                )
        deep: list[dict[str, Any]] = conformance_drivers(repo, args.driver) if args.deep else []
    except ToolError as e:
        print(f"nova-split api-gate: error: {e}", file=sys.stderr)
        return 2
    for d in deep:
        if d["passed"] is False:
            report.problems.append(
                f"{d['driver']} {d['release']}'s conformance suite fails against the changed nova-common"
            )
    if args.format == "json":
        print_json("api-gate", {**report.as_json(), "conformance": deep})
    else:
        _print_report(report, deep)
    if report.problems:
        print(f"nova-split api-gate: error: {'; '.join(report.problems)}", file=sys.stderr)
        return 1
    return 0


def _print_report(report: GateReport, deep: list[dict[str, Any]]) -> None:
    print(f"driver API of nova-common {report.new_version} against {report.against} (nova-common {report.old_version})")
    if not report.findings:
        print("  no API changes")
    for f in report.findings:
        label = "BREAKING" if f.breaking and f.accepted is None else ("accepted" if f.breaking else "added")
        used = ""
        if f.breaking:
            parts = [f"{', '.join(v)} ({k})" for k, v in f.users.items() if v]
            used = f"; used by {'; '.join(parts)}" if parts else "; used by no driver"
        print(f"  {label:<8} [{f.kind}] {f.message}{used}")
        if f.accepted:
            print(f"           accepted in {LEDGER}: {f.accepted}")
    for d in report.deprecations:
        users = [f"{', '.join(v)} ({k})" for k, v in d["users"].items() if v]
        print(f"  deprecated {d['name']} (removal {d['removal']}): still used by {'; '.join(users) or 'no driver'}")
    for c in report.consumers:
        print(f"  mypy     {c['driver']} {c['release']}: {c['file']}:{c['line']}: {c['message']} ({c['code']} code)")
    for d in deep:
        verdict = {True: "passes", False: "FAILS", None: "not run"}[d["passed"]]
        print(f"  conformance {d['driver']} {d['release']}: {verdict}")
