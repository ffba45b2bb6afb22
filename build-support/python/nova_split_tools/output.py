"""What every command prints the same way: JSON documents with a ``schema_version``.

``--format json`` prints exactly one JSON object on stdout whose first keys are
``schema_version`` (:data:`SCHEMA_VERSION`, see docs/cli.md for what a bump means) and
``command``; the rest is the command's own fields.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nova_common_cli.args import SCHEMA_VERSION, add_format_argument
from nova_split_tools.errors import CheckFailed

__all__ = ["SCHEMA_VERSION", "add_format_argument", "document", "print_json", "run_generator"]


def document(command: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` as the JSON document of ``command``: ``schema_version`` and ``command`` first."""
    return {"schema_version": SCHEMA_VERSION, "command": command, **data}


def print_json(command: str, data: Mapping[str, Any]) -> None:
    """Print :func:`document` of ``data``, indented, on stdout."""
    print(json.dumps(document(command, data), indent=2))


def run_generator(command: str, sync: Callable[[Path, bool], None], root: Path, check: bool, fmt: str) -> int:
    """A generator command (owners, ci-config, packaging): write or ``check`` its files.

    With ``fmt == "json"`` the diffs and messages go into the document instead of
    stdout (``output``), with ``check``, ``ok`` and ``stale`` (the paths that differ); a failed check still
    says so in one line on stderr and exits 1.
    """
    if fmt != "json":
        sync(root, check)
        return 0
    captured = io.StringIO()
    failed: CheckFailed | None = None
    try:
        with contextlib.redirect_stdout(captured):
            sync(root, check)
    except CheckFailed as e:
        failed = e
    stale = failed.details if failed else []
    print_json(command, {"check": check, "ok": failed is None, "stale": stale, "output": captured.getvalue()})
    if failed:
        raise failed
    return 0
