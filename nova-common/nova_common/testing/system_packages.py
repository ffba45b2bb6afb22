"""Whether a subproject's ``bindep.txt`` installs what its build and its tests use, asked of dpkg.

A driver's tests run against peers from Debian packages, and its build may compile a binding
against a system library; ``build-support/bin/ensure-system-deps`` installs what each
``bindep.txt`` lists. On a machine that already has the packages a line dropped from that list
shows nowhere, until a fresh CI runner fails. This check does not trust the machine: for each
thing the driver uses (a command, or a file such as a ``.pc`` file) it asks dpkg which package
owns it, and apt which packages installing the listed ones brings (their ``Depends`` and
``PreDepends``, recursively); what is used but not brought is reported. Usage in a driver's test::

    from nova_common.testing.system_packages import unprovided

    def test_bindep_installs_what_the_tests_use() -> None:
        assert unprovided(Path(__file__).parents[1] / "bindep.txt", ["command:qemu-img"]) == {}

Only Debian's tools (dpkg, apt-cache) are supported, as ``bindep.txt`` lists only ``platform:dpkg``
packages. The list is read as bindep's grammar has it: one package per line, then optional
``[selectors]``; lines for another platform, or for profiles other than ``test``, are left out.
(bindep itself parses it in the tooling, ``nova_split_tools.standalone``; it is not in the drivers'
resolves, where this runs, and the lines here use only that subset of its grammar.)
"""

from __future__ import annotations

import glob
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

__all__ = ["brought_by", "listed_packages", "owners", "unprovided"]

#: The bindep profiles CI installs for tests (besides lines without a profile).
TEST_PROFILES = frozenset({"test"})
_LINE = re.compile(r"^\s*([a-z0-9][a-z0-9+.:-]*)\s*(?:\[([^\]]*)\])?\s*(?:#.*)?$")


def listed_packages(bindep: Path) -> set[str]:
    """The dpkg packages ``bindep`` (a ``bindep.txt``) installs for tests."""
    found = set()
    for n, raw in enumerate(bindep.read_text().splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        m = _LINE.match(raw)
        if not m:
            raise ValueError(f"{bindep}:{n}: not a bindep line: {raw!r}")
        selectors = (m.group(2) or "").split()
        platforms = {s for s in selectors if s.startswith("platform:")}
        profiles = {s for s in selectors if not s.startswith(("platform:", "!"))}
        if platforms and "platform:dpkg" not in platforms:
            continue
        if profiles and not profiles & TEST_PROFILES:
            continue
        found.add(m.group(1))
    return found


def brought_by(packages: Iterable[str]) -> set[str]:
    """The packages installing ``packages`` installs: themselves and what they depend on
    (``Depends``, ``PreDepends``), recursively, as apt would choose it: the first alternative of
    each or-group; a virtual package (``<name>``) and its providers are not followed, since which
    provider apt takes depends on the machine."""
    names = sorted(packages)
    if not names:
        return set()
    proc = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--important", *names],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"apt-cache depends {' '.join(names)} failed: {proc.stderr.strip()}")
    depends: dict[str, list[str]] = {}
    current: list[str] = []
    in_group = False  # the previous line began an or-group ("|Depends: a" means a | the next)
    for line in proc.stdout.splitlines():
        if not line.startswith(" "):
            current = depends.setdefault(_bare(line), [])
            in_group = False
            continue
        kind, sep, name = line.strip().partition(":")
        if not sep or kind.lstrip("|") not in ("Depends", "PreDepends"):
            continue  # a provider of a virtual package listed under it
        if not in_group:
            current.append(_bare(name))
        in_group = kind.startswith("|")
    brought: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in brought or name.startswith("<"):
            continue
        brought.add(name)
        todo.extend(depends.get(name, []))
    return brought


def _bare(name: str) -> str:
    """``pkg`` of ``pkg:any`` or ``pkg:amd64`` (virtual ``<name>`` kept as it is)."""
    name = name.strip()
    return name if name.startswith("<") else name.split(":", 1)[0]


def owners(path: str) -> list[str]:
    """The packages dpkg says own ``path`` (a directory may have several; tried also without
    ``/usr``, as dpkg records ``/bin/tar`` on merged-/usr systems); empty if none."""
    candidates = [path]
    if path.startswith("/usr/") and path.split("/")[2] in ("bin", "sbin", "lib", "lib64"):
        candidates.append(path[len("/usr") :])
    for candidate in candidates:
        proc = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, check=False)
        for line in proc.stdout.splitlines():
            packages, _, owned = line.partition(": ")
            if owned == candidate and "diversion " not in packages:
                return [p.strip().split(":", 1)[0] for p in packages.split(",")]
    return []


def _locate(need: str) -> str | None:
    """``command:NAME`` on PATH, or a path (a glob; the first match), as a real path; None if absent."""
    if need.startswith("command:"):
        found = shutil.which(need.removeprefix("command:"))
        return str(Path(found).resolve()) if found else None
    matches = sorted(glob.glob(need))
    return str(Path(matches[0]).resolve()) if matches else None


def unprovided(bindep: Path, needs: Iterable[str]) -> dict[str, str]:
    """What of ``needs`` installing ``bindep``'s packages would not bring: need -> why.

    ``needs`` are ``command:NAME`` or absolute paths (globs allowed, e.g. ``/usr/lib/*/x.so``).
    Empty when every need is on this machine and owned by a package the list brings.
    """
    for tool in ("dpkg", "apt-cache"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"checking {bindep} needs {tool}: bindep.txt lists Debian (dpkg) packages")
    brought = brought_by(listed_packages(bindep))
    missing = {}
    for need in needs:
        path = _locate(need)
        if path is None:
            missing[need] = "not on this machine (build-support/bin/ensure-system-deps installs the lists)"
            continue
        packages = owners(path)
        if not packages:
            missing[need] = f"{path} belongs to no package"
        elif not set(packages) & brought:
            missing[need] = f"{path} is in package {', '.join(packages)}, which {bindep.name} does not bring"
    return missing
