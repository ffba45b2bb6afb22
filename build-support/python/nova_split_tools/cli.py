"""``nova-split``: the single entry point of the repository tooling.

Each subcommand lives in its own module with ``add_arguments(parser)`` and
``run(args) -> int``; this module only dispatches and handles errors: a :class:`ToolError` is
one line on stderr and exit 1, Ctrl-C exits 130, anything else keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from nova_split_tools import (
    api_gate_cmd,
    audit_cmd,
    bench_clone_cmd,
    bench_cmd,
    bench_export_cmd,
    ci_config_cmd,
    clone_cmd,
    export_cmd,
    import_cmd,
    new_driver_cmd,
    owners_cmd,
    packaging_cmd,
    plan_cmd,
    release_cmd,
    remove_driver_cmd,
    review_cmd,
)
from nova_split_tools.errors import ToolError

__all__ = ["main"]

COMMANDS: dict[str, ModuleType] = {
    "plan": plan_cmd,
    "ci-config": ci_config_cmd,
    "audit": audit_cmd,
    "bench": bench_cmd,
    "review": review_cmd,
    "owners": owners_cmd,
    "api-gate": api_gate_cmd,
    "release": release_cmd,
    "clone": clone_cmd,
    "packaging": packaging_cmd,
    "export": export_cmd,
    "import": import_cmd,
    "bench-export": bench_export_cmd,
    "bench-clone": bench_clone_cmd,
    "new-driver": new_driver_cmd,
    "remove-driver": remove_driver_cmd,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nova-split", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="the repository root (default: current dir)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        doc = (module.__doc__ or "").strip().splitlines()[0]
        cmd = sub.add_parser(
            name, help=doc, description=module.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        module.add_arguments(cmd)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result: int = COMMANDS[args.command].run(args)
        return result
    except ToolError as e:
        print(f"nova-split {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"nova-split {args.command}: interrupted", file=sys.stderr)
        return 130
