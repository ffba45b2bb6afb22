"""The driver API surface, and which drivers use which of its symbols.

The files whose change can break a driver are the public modules of :mod:`api_surface` (the one
definition): a change there needs the approval of every driver team that uses a changed symbol
(``nova-split review``), and the API gate (``nova-split api-gate``) names, for each break, the
drivers whose code uses that exact member (:func:`who_uses`).

Uses come from the import graph of the driver sources, read with :mod:`ast`: ``from
nova_common.objects import Flavor`` is a use of ``nova_common.objects.Flavor``, and ``import
nova_common.objects as o`` followed by ``o.Flavor`` is too. Re-exports (``nova_common.objects``
re-exports ``nova_common.objects.flavor.Flavor``) are resolved from nova-common's own imports, so
both spellings name the same symbol. A use of a class covers its members (fields, methods).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from nova_split_tools.api_surface import CORE_ROOT, is_api_file, module_of

__all__ = [
    "AliasMap",
    "FileUses",
    "alias_map",
    "canonical",
    "holders",
    "is_test_file",
    "scan_file_uses",
    "changed_symbols",
    "is_api_surface",
    "module_of",
    "read_tree",
    "scan_uses",
    "users_of",
    "who_uses",
]

CORE_SOURCES = CORE_ROOT

AliasMap = Mapping[str, str]


def is_api_surface(path: str) -> bool:
    """Whether ``path`` is a module of the public driver API (:func:`api_surface.is_api_file`)."""
    return is_api_file(path)


def alias_map(sources: Mapping[str, str], source_root: str = CORE_SOURCES) -> dict[str, str]:
    """Re-exported name -> the name it re-exports, from the top-level imports of ``sources``.

    ``sources`` maps a path (under ``source_root``) to its text.
    """
    aliases: dict[str, str] = {}
    for path, text in sources.items():
        module = module_of(path, source_root)
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                origin = _absolute(node, package)
                for a in node.names:
                    if a.name != "*":
                        aliases[f"{module}.{a.asname or a.name}"] = f"{origin}.{a.name}"
    return aliases


def canonical(name: str, aliases: AliasMap) -> str:
    """``name`` with every re-exported prefix replaced by what it re-exports."""
    for _ in range(20):  # re-exports of re-exports; a cycle stops here
        parts = name.split(".")
        for i in range(len(parts), 0, -1):
            target = aliases.get(".".join(parts[:i]))
            if target is not None and target != ".".join(parts[:i]):
                name = ".".join([target, *parts[i:]])
                break
        else:
            return name
    return name


def scan_uses(files: Mapping[str, str], package: str = "nova_common") -> dict[str, set[str]]:
    """Path -> the dotted names of ``package`` that the file uses (imports and attribute chains)."""
    uses: dict[str, set[str]] = {}
    for path, text in files.items():
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        local: dict[str, str] = {}  # local name -> dotted name it stands for
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == package or node.module.startswith(package + "."):
                    for a in node.names:
                        local[a.asname or a.name] = f"{node.module}.{a.name}"
                        found.add(f"{node.module}.{a.name}")
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name == package or a.name.startswith(package + "."):
                        found.add(a.name)
                        local[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                chain = _attribute_chain(node)
                if chain and chain[0] in local:
                    found.add(".".join([local[chain[0]], *chain[1:]]))
        if found:
            uses[path] = found
    return uses


def users_of(
    symbols: Iterable[str], uses: Mapping[str, set[str]], aliases: AliasMap
) -> dict[str, dict[str, list[str]]]:
    """Symbol -> {file: [the names it uses that touch the symbol]}, for files that use it.

    A file uses a symbol when it names the symbol, something inside it (a member of a class) or
    something containing it (the class of a field, the module of a class).
    """
    canon_uses = {path: {canonical(u, aliases): u for u in names} for path, names in uses.items()}
    out: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for symbol in symbols:
        target = canonical(symbol, aliases)
        for path, names in sorted(canon_uses.items()):
            hits = sorted(
                {
                    raw
                    for c, raw in names.items()
                    if c == target or c.startswith(target + ".") or target.startswith(c + ".") and _is_class_name(c)
                }
            )
            if hits:
                out[symbol][path] = hits
    return dict(out)


def holders(symbol: str, sources: Mapping[str, str], aliases: AliasMap, source_root: str = CORE_SOURCES) -> list[str]:
    """The classes whose fields hold ``symbol`` (a class), transitively: ``Instance`` for ``Flavor``.

    A driver reading ``instance.flavor.vcpus`` names only ``Instance``, yet a change of ``Flavor``
    reaches it. Returns canonical class names, without ``symbol`` itself.
    """
    fields: dict[str, set[str]] = {}  # class -> canonical names its field annotations mention
    for path, text in sources.items():
        module = module_of(path, source_root)
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        local = {k.rpartition(".")[2]: v for k, v in aliases.items() if k.rpartition(".")[0] == module}
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                names = {
                    n.id
                    for item in node.body
                    if isinstance(item, ast.AnnAssign)
                    for n in ast.walk(item.annotation)
                    if isinstance(n, ast.Name)
                }
                fields[f"{module}.{node.name}"] = {canonical(local.get(n, f"{module}.{n}"), aliases) for n in names}
    start = canonical(symbol, aliases)
    while start not in fields and "." in start:  # a field or method: its class
        start = start.rpartition(".")[0]
    found: list[str] = []
    todo = [start]
    while todo:
        target = todo.pop()
        for cls, mentions in sorted(fields.items()):
            private = any(part.startswith("_") for part in cls.split("."))
            if target in mentions and cls not in found and cls != start and not private:
                found.append(cls)
                todo.append(cls)
    return found


def _is_class_name(dotted: str) -> bool:
    """A use of a class covers its members; a use of a module does not cover the whole module."""
    return dotted.rpartition(".")[2][:1].isupper()


def changed_symbols(module: str, old: str | None, new: str | None) -> list[str]:
    """Top-level names of ``module`` that differ between two versions of its source.

    Comments and formatting do not count; a docstring does (it documents the contract).
    """
    before, after = _top_level(old), _top_level(new)
    return sorted(f"{module}.{n}" for n in set(before) | set(after) if before.get(n) != after.get(n))


def _top_level(text: str | None) -> dict[str, str]:
    if text is None:
        return {}
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return {"<unparsable>": text}
    out: dict[str, str] = {}
    for node in tree.body:
        names: list[str] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                out[a.asname or a.name.split(".")[0]] = ast.dump(node) + a.name
            continue
        for n in names:
            out[n] = ast.dump(node)
    return out


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if node.level == 0:
        return node.module or ""
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _attribute_chain(node: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]


def read_tree(root: Path, prefix: str) -> dict[str, str]:
    """Every ``*.py`` under ``root/prefix``, by path relative to ``root``."""
    base = root / prefix
    if not base.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(base.rglob("*.py"))}


# -- member-level use: who feels a finding -------------------------------------------------------


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
            chain = _attribute_chain(expr)
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
                or any(t.startswith(c + ".") and _is_class_name(c) for t in targets for c in canon(n))
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
