"""Mutations of the non-Python inputs a change can touch: lockfiles, requirements, BUILD files,
``pants.toml``, ``subproject.toml``, system package lists, the vcsim Go source.

Each is a pure text edit (``edit(text) -> text``) chosen so that it changes what a test run
sees, the way a real change to that file would:

- ``lock-corrupt-hash``: one hex digit of the first artifact hash in a lockfile changes (every
  test whose environment is built from that lockfile must now fail to build);
- ``lock-valid-refresh``: the lockfile's JSON body is re-serialised (same pins, different bytes,
  still valid: what a refresh that changes nothing but formatting looks like to Pants; every
  test built from it re-runs, so the plan must include them even though none fails);
- ``requirements-drop``: the first requirement of a ``requirements.txt`` is removed;
- ``build-rename``: the first driver class or entry-point object a BUILD file names gets a
  suffix (the wheel's entry point then names nothing);
- ``pants-toml-pytest-args``: ``[pytest] args`` gains ``-W error`` (warnings fail tests);
- ``subproject-version``: ``[project] version`` gains a ``.post1`` suffix;
- ``system-deps-drop``: the first package line of ``system-deps`` (or ``bindep.txt``) is removed;
- ``go-flip-compare``: the first ``==`` (or ``!=``) in a Go source file of vcsim flips.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["NEUTRAL_OPERATORS", "InputMutation", "input_mutations"]

#: Edits that keep every behaviour (same pins in other bytes; a new version number): no test
#: should fail, and a survivor of one is the expected result, not a test gap. What they check is
#: the plan: every test Pants re-runs for them must be planned (``unplanned_reruns``).
NEUTRAL_OPERATORS = frozenset({"lock-valid-refresh", "subproject-version"})


@dataclass(frozen=True)
class InputMutation:
    operator: str
    path: str
    description: str
    edit: Callable[[str], str]


class NotApplicable(ValueError):
    """The file has no site for this operator."""


def _corrupt_hash(text: str) -> str:
    m = re.search(r'"hash": "([0-9a-f])', text)
    if not m:
        raise NotApplicable("no artifact hash")
    digit = "0" if m.group(1) != "0" else "1"
    return text[: m.start(1)] + digit + text[m.end(1) :]


def _refresh(text: str) -> str:
    lines = text.splitlines(keepends=True)
    header = [line for line in lines if line.startswith("//")]
    body = "".join(line for line in lines if not line.startswith("//"))
    data = json.loads(body)
    return "".join(header) + json.dumps(data, indent=4, sort_keys=False) + "\n"


def _drop_first_requirement(text: str) -> str:
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip() and not line.lstrip().startswith(("#", "-")):
            return "".join(lines[:i] + lines[i + 1 :])
    raise NotApplicable("no requirement line")


def _rename_in_build(text: str) -> str:
    m = re.search(r'(?:driver_class="|:)([A-Za-z_]\w*)"', text)
    if not m:
        raise NotApplicable("no driver class or entry point")
    return text[: m.end(1)] + "Audit" + text[m.end(1) :]


def _pytest_args(text: str) -> str:
    m = re.search(r"(?m)^\[pytest\]\n(?:.*\n)*?args = \[", text)
    if not m:
        raise NotApplicable("no [pytest] args")
    return text[: m.end()] + '"-W", "error", ' + text[m.end() :]


def _version(text: str) -> str:
    m = re.search(r'(?m)^version = "([^"]+)"', text)
    if not m:
        raise NotApplicable("no version")
    return text[: m.end(1)] + ".post1" + text[m.end(1) :]


def _drop_system_dep(text: str) -> str:
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip() and not line.lstrip().startswith("#"):
            return "".join(lines[:i] + lines[i + 1 :])
    raise NotApplicable("no package line")


def _go_flip(text: str) -> str:
    m = re.search(r" (==|!=) ", text)
    if not m:
        raise NotApplicable("no comparison")
    flipped = "!=" if m.group(1) == "==" else "=="
    return text[: m.start(1)] + flipped + text[m.end(1) :]


_RULES: list[tuple[str, Callable[[PurePosixPath], bool], Callable[[str], str], str]] = [
    ("lock-corrupt-hash", lambda p: p.suffix == ".lock", _corrupt_hash, "one artifact hash corrupted"),
    ("lock-valid-refresh", lambda p: p.suffix == ".lock", _refresh, "same pins re-serialised (valid)"),
    ("requirements-drop", lambda p: p.name == "requirements.txt", _drop_first_requirement, "first requirement dropped"),
    ("build-rename", lambda p: p.name == "BUILD", _rename_in_build, "driver class / entry point renamed"),
    ("pants-toml-pytest-args", lambda p: str(p) == "pants.toml", _pytest_args, "[pytest] args gain -W error"),
    ("subproject-version", lambda p: p.name == "subproject.toml", _version, "version gains .post1"),
    ("system-deps-drop", lambda p: p.name in ("system-deps", "bindep.txt"), _drop_system_dep, "first package dropped"),
    ("go-flip-compare", lambda p: p.suffix == ".go", _go_flip, "first ==/!= flipped"),
]


def input_mutations(root: Path, files: list[str]) -> list[InputMutation]:
    """The non-Python mutations that apply to ``files`` (repo-relative paths) under ``root``."""
    found = []
    for path in sorted(files):
        p = PurePosixPath(path)
        for operator, matches, edit, what in _RULES:
            if not matches(p):
                continue
            try:
                edit((root / path).read_text())
            except (NotApplicable, ValueError, OSError):
                continue
            found.append(InputMutation(operator, path, what, edit))
    return found
