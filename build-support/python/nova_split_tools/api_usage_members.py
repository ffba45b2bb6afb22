"""Member-level use: which driver files a finding of the API diff reaches (:func:`who_uses`).

A file's :class:`FileUses` (from :mod:`ast`) say which API names it refers to (through
:mod:`api_usage`'s import resolution), which attribute and keyword names it touches, which API
names it calls and which it subclasses; ``getattr(obj, "name")`` touches ``name``, and a file that
reaches attributes by computed names touches every identifier it spells out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Protocol

from nova_split_tools.api_usage import AliasMap, attribute_chain, canonical, is_class_name, scan_uses

__all__ = ["FileUses", "ReachLike", "is_test_file", "scan_file_uses", "who_uses"]


@dataclass
class FileUses:
    """What one driver file does with the API, as far as its source says.

    ``names``: dotted API names it refers to (imports, attribute chains on them); ``members``:
    attribute names it reads or sets on anything, and keyword names it passes; ``constructs``:
    API names it calls (``InstanceInfo(...)``); ``subclasses``: API base name -> the names its
    subclass defines (methods, class attributes).
    """

    names: set[str] = field(default_factory=set)
    members: set[str] = field(default_factory=set)
    constructs: set[str] = field(default_factory=set)
    subclasses: dict[str, set[str]] = field(default_factory=dict)


class ReachLike(Protocol):
    """What :func:`who_uses` needs of a finding's reach (``api_diff.Reach``)."""

    @property
    def names(self) -> frozenset[str]:
        ...

    @property
    def member(self) -> str | None:
        ...

    @property
    def how(self) -> str:
        ...


def is_test_file(path: str) -> bool:
    """Test code of a driver: ``*_test.py``, ``test_*.py``, ``conftest.py``, anything under ``tests/``."""
    p = PurePosixPath(path)
    return p.name.endswith("_test.py") or p.name.startswith("test_") or p.name == "conftest.py" or "tests" in p.parts


#: Builtins that reach an attribute by its name as a string.
_DYNAMIC = frozenset({"getattr", "setattr", "hasattr", "delattr"})


def scan_file_uses(files: Mapping[str, str], package: str = "nova_common") -> dict[str, FileUses]:
    """Path -> :class:`FileUses` for every file that refers to ``package``."""
    out: dict[str, FileUses] = {}
    names_by_file = scan_uses(files, package)
    for path, names in names_by_file.items():
        tree = ast.parse(files[path])
        local: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == package or node.module.startswith(package + "."):
                    for a in node.names:
                        local[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name == package or a.name.startswith(package + "."):
                        local[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]

        def dotted(expr: ast.expr, local: dict[str, str] = local) -> str | None:
            chain = attribute_chain(expr)
            if chain and chain[0] in local:
                return ".".join([local[chain[0]], *chain[1:]])
            return None

        uses = FileUses(names=set(names))
        dynamic = False
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                uses.members.add(node.attr)
            elif isinstance(node, ast.Call):
                uses.members.update(k.arg for k in node.keywords if k.arg)
                if isinstance(node.func, ast.Name) and node.func.id in _DYNAMIC and len(node.args) >= 2:
                    attr = node.args[1]
                    if isinstance(attr, ast.Constant) and isinstance(attr.value, str):
                        uses.members.add(attr.value)
                    else:
                        dynamic = True
                called = dotted(node.func)
                if called:
                    uses.constructs.add(called)
            elif isinstance(node, ast.ClassDef):
                defined = {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
                defined |= {
                    t.id for n in node.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
                }
                defined |= {
                    n.target.id for n in node.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
                }
                for base in node.bases:
                    name = dotted(base)
                    if name:
                        uses.subclasses.setdefault(name, set()).update(defined)
        if dynamic:  # getattr(obj, key): any identifier the file spells out may be the member
            uses.members.update(
                n.value
                for n in ast.walk(tree)
                if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.isidentifier()
            )
        out[path] = uses
    return out


def who_uses(
    reach: ReachLike, uses: Mapping[str, FileUses], aliases: Sequence[AliasMap], holders_of: Iterable[str] = ()
) -> list[str]:
    """The files whose code a finding reaches (see :class:`api_diff.Reach`), sorted.

    A file reaches the owner when it names one of its spellings (under any of ``aliases``: the
    trees before and after the change), something inside it, or one of ``holders_of`` (classes
    whose fields hold it). A member finding also needs the file to touch that member: read or set
    it, pass it as a keyword, or define it in a subclass; ``construct`` findings need a call of the
    owner and ``subclass`` findings a subclass (which must implement every abstract method).
    """
    targets = {canonical(n, a) for n in reach.names for a in aliases} | set(reach.names)
    holder_names = set(holders_of)

    def canon(name: str) -> set[str]:
        return {name} | {canonical(name, a) for a in aliases}

    def names_target(name: str, among: set[str], cover_members: bool = True) -> bool:
        return any(c in among or (cover_members and any(c.startswith(t + ".") for t in among)) for c in canon(name))

    found: list[str] = []
    if reach.how == "spelling":
        return sorted(
            p
            for p, u in uses.items()
            if any(n in reach.names or any(n.startswith(t + ".") for t in reach.names) for n in u.names)
        )
    for path, u in sorted(uses.items()):
        subclassed = {
            s for base, defined in u.subclasses.items() if names_target(base, targets, False) for s in defined
        }
        is_subclass = any(names_target(base, targets, False) for base in u.subclasses)
        if reach.how == "subclass":
            hit = is_subclass
        elif reach.how == "construct":
            hit = is_subclass or any(names_target(c, targets, False) for c in u.constructs)
        else:
            touches = is_subclass or any(
                names_target(n, targets)
                or any(t.startswith(c + ".") and is_class_name(c) for t in targets for c in canon(n))
                for n in u.names
            )
            touches = touches or any(names_target(n, holder_names) for n in u.names)
            if reach.member is None:
                hit = touches
            else:
                hit = touches and (
                    reach.member in u.members
                    or reach.member in subclassed
                    or any(names_target(n, {f"{t}.{reach.member}" for t in targets}) for n in u.names)
                )
        if hit:
            found.append(path)
    return found
