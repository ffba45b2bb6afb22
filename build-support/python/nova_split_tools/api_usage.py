"""The driver API surface, and which drivers use which of its symbols.

The files whose change can break a driver are the public modules of :mod:`api_surface` (the one
definition): a change there needs the approval of every driver team that uses a changed symbol
(``nova-split review``), and the API gate (``nova-split api-gate``) names, for each break, the
drivers whose code uses that exact member (:func:`api_usage_members.who_uses`).

Uses come from the import graph of the driver sources, read with :mod:`ast`: ``from
nova_common.objects import Flavor`` is a use of ``nova_common.objects.Flavor``, and ``import
nova_common.objects as o`` followed by ``o.Flavor`` is too. Re-exports (``nova_common.objects``
re-exports ``nova_common.objects.flavor.Flavor``) are resolved from nova-common's own imports, so
both spellings name the same symbol. A use of a class covers its members (fields, methods).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from nova_split_tools.api_surface import CORE_ROOT, is_api_file, module_of

__all__ = [
    "AliasMap",
    "alias_map",
    "attribute_chain",
    "canonical",
    "changed_symbols",
    "holders",
    "is_api_surface",
    "is_class_name",
    "module_of",
    "read_tree",
    "scan_uses",
    "users_of",
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
                chain = attribute_chain(node)
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
                    if c == target or c.startswith(target + ".") or target.startswith(c + ".") and is_class_name(c)
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


def is_class_name(dotted: str) -> bool:
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


def attribute_chain(node: ast.expr) -> list[str] | None:
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
