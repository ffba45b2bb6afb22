"""api-gate: nova-common's driver API may only break with a major version bump.

Compares the ``nova_common`` package at a reference (default: nova-common's last release tag,
``nova-common-X.Y.Z``) with the work tree: griffe's breaking changes, plus the fields of the
versioned objects (a removed or retyped field, or a new field without a default, breaks drivers).
A break fails unless nova-common's major version (``nova-common/subproject.toml``) was bumped, or
the break is accepted in the committed ledger ``nova-common/api-breaks.toml`` for this version::

    [[break]]
    symbol = "nova_common.objects.flavor.Flavor.root_gb"
    kind = "field-removed"
    version = "1.1.0"
    reason = "root_gb was never set by the scheduler; see the release notes"

An addition (a new public name, a new optional field) needs at least a minor bump. The report
names, for each broken symbol, the drivers that use it, lists every deprecated name with the
drivers still using it, and fails for a deprecated name whose removal version has been reached.
"""

from __future__ import annotations

import argparse
import ast
import json
import tempfile
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import griffe
from packaging.version import InvalidVersion, Version

from nova_split_tools.api_usage import alias_map, holders, read_tree, scan_uses, users_of
from nova_split_tools.errors import ToolError
from nova_split_tools.repo import Repository, tree_files
from nova_split_tools.subprojects import CORE, load_subprojects

__all__ = ["Finding", "add_arguments", "run"]

PACKAGE = "nova_common"
METADATA = "nova-common/subproject.toml"
LEDGER = "nova-common/api-breaks.toml"
TAG_PREFIX = "nova-common-"
#: Core-internal parts of the package: drivers may not import them, so they are not API.
INTERNAL = ("nova_common.compute",)


@dataclass
class Finding:
    """One API difference: a break (``breaking``) or an addition."""

    symbol: str
    kind: str
    detail: str
    breaking: bool
    users: list[str] = field(default_factory=list)
    accepted: str | None = None  # the ledger's reason


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--against", metavar="REF", help="compare with REF (default: the last nova-common-X.Y.Z tag)")
    parser.add_argument("--format", choices=("table", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    repo = Repository(args.repo)
    ref = args.against or _last_release(repo)
    commit = repo.resolve(ref)
    old_version = _version(tree_text(repo, commit, METADATA), f"{METADATA} at {ref}")
    new_version = _version(_read(repo.root / METADATA), METADATA)
    with tempfile.TemporaryDirectory(prefix="nova-split-api-") as tmp:
        old_root = Path(tmp)
        for path, text in tree_files(repo, commit, "nova-common").items():
            (old_root / path).parent.mkdir(parents=True, exist_ok=True)
            (old_root / path).write_text(text)
        old = _load(old_root / "nova-common", ref)
        new = _load(repo.root / "nova-common", "the work tree")
    findings = _compare(old, new)
    subprojects = load_subprojects(repo.root)
    drivers = [s for s in subprojects if s.is_driver]
    driver_files: dict[str, str] = {}
    for driver in drivers:
        driver_files.update(read_tree(repo.root, driver.path))
    uses = scan_uses(driver_files)
    core = read_tree(repo.root, "nova-common/nova_common")
    aliases = alias_map(core, CORE)

    def users(symbol: str) -> list[str]:
        """Drivers naming ``symbol``, or a class whose fields hold it (``Instance`` for ``Flavor``)."""
        found = users_of([symbol, *holders(symbol, core, aliases)], uses, aliases)
        return sorted({d.name for d in drivers for files in found.values() for f in files if d.owns(f)})

    for f in findings:
        f.users = users(f.symbol)
    ledger = _ledger(repo.root, new_version)
    for f in findings:
        if f.breaking:
            f.accepted = ledger.get((f.symbol, f.kind))
    deprecations: list[dict[str, Any]] = [{**d, "users": users(d["name"])} for d in _deprecations(repo.root)]
    breaks = [f for f in findings if f.breaking and f.accepted is None]
    changed = bool(findings)
    bump = _bump(old_version, new_version)
    problems: list[str] = []
    if breaks and bump != "major":
        problems.append(
            f"{len(breaks)} breaking change(s) need a major version bump of nova-common "
            f"({old_version} at {ref} -> {old_version.major + 1}.0.0 in {METADATA}, and DRIVER_API_VERSION) "
            f"or an accepted entry in {LEDGER}"
        )
    elif changed and bump is None:
        problems.append(
            f"the driver API changed without a version bump: raise nova-common's version in {METADATA} "
            f"to at least {old_version.major}.{old_version.minor + 1}.0 (and DRIVER_API_VERSION's minor)"
        )
    for dep in deprecations:
        if new_version.major >= Version(dep["removal"]).major:
            used = f" (still used by {', '.join(dep['users'])})" if dep["users"] else ""
            problems.append(f"{dep['name']} is past its removal version {dep['removal']}{used}: delete it")
    if args.format == "json":
        print(json.dumps(_as_json(ref, old_version, new_version, findings, deprecations, problems), indent=2))
    else:
        _print_report(ref, old_version, new_version, findings, deprecations)
    if problems:
        raise ToolError("; ".join(problems))
    return 0


def tree_text(repo: Repository, commit: str, path: str) -> str:
    try:
        blob = repo.git.commit(commit).tree / path
    except KeyError:
        raise ToolError(
            f"{path} does not exist at {commit[:12]}; compare with a revision that has nova-common"
        ) from None
    return str(blob.data_stream.read().decode())


def _last_release(repo: Repository) -> str:
    tags = []
    for tag in repo.git.tags:
        if tag.name.startswith(TAG_PREFIX):
            try:
                tags.append((Version(tag.name[len(TAG_PREFIX) :]), tag.name))
            except InvalidVersion:
                continue
    if not tags:
        raise ToolError(
            f"no release tag {TAG_PREFIX}X.Y.Z in this clone (fetch tags: git fetch --tags); or pass --against REF"
        )
    return max(tags)[1]


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as e:
        raise ToolError(f"cannot read {path}: {e.strerror}") from None


def _version(text: str, where: str) -> Version:
    try:
        return Version(tomllib.loads(text)["project"]["version"])
    except (tomllib.TOMLDecodeError, KeyError, InvalidVersion) as e:
        raise ToolError(f"{where} has no valid [project] version ({e})") from None


def _load(source_root: Path, where: str) -> griffe.Object:
    try:
        module = griffe.load(PACKAGE, search_paths=[source_root], resolve_aliases=False)
    except (ImportError, griffe.LoadingError) as e:
        raise ToolError(f"griffe cannot load {PACKAGE} from {where}: {e}") from None
    assert isinstance(module, griffe.Object)
    return module


def _is_api(path: str) -> bool:
    parts = path.split(".")
    return not any(path == p or path.startswith(p + ".") for p in INTERNAL) and not any(
        part.endswith("_test") or (part.startswith("_") and not part.startswith("__")) for part in parts
    )


def _compare(old: griffe.Object, new: griffe.Object) -> list[Finding]:
    findings: dict[tuple[str, str], Finding] = {}
    for path, (old_fields, new_fields) in _object_fields(old, new).items():
        for name, annotation in old_fields.items():
            if name not in new_fields:
                findings[(f"{path}.{name}", "field-removed")] = Finding(
                    f"{path}.{name}", "field-removed", f"field {name}: {annotation[0]} was removed", True
                )
            elif new_fields[name][0] != annotation[0]:
                detail = f"field {name} changed type: {annotation[0]} -> {new_fields[name][0]}"
                findings[(f"{path}.{name}", "field-retyped")] = Finding(f"{path}.{name}", "field-retyped", detail, True)
        for name, (new_annotation, has_default) in new_fields.items():
            if name not in old_fields and not has_default:
                findings[(f"{path}.{name}", "field-added-required")] = Finding(
                    f"{path}.{name}", "field-added-required", f"new field {name}: {new_annotation} has no default", True
                )
    reported = {symbol for symbol, _ in findings}
    for b in griffe.find_breaking_changes(old, new):
        symbol = b.obj.path
        if symbol in reported or not _is_api(symbol):
            continue
        kind = b.kind.name.lower().replace("_", "-")
        detail = b.kind.value + (f": {b.old_value} -> {b.new_value}" if b.new_value is not None else "")
        findings[(symbol, kind)] = Finding(symbol, kind, detail, True)
    added = sorted(_public_paths(new) - _public_paths(old))
    for path in added:
        if any(path.startswith(p + ".") for p in added):
            continue  # inside a new module or class: the container is the addition
        if (path, "field-added-required") not in findings:
            findings[(path, "added")] = Finding(path, "added", "new public name", False)
    return sorted(findings.values(), key=lambda f: (not f.breaking, f.symbol))


def _object_fields(
    old: griffe.Object, new: griffe.Object
) -> dict[str, tuple[dict[str, tuple[str, bool]], dict[str, tuple[str, bool]]]]:
    """Class path -> (fields at the ref, fields now) of every versioned object class in both."""
    before, after = _versioned_classes(old), _versioned_classes(new)
    return {path: (before[path], after[path]) for path in before.keys() & after.keys()}


def _versioned_classes(module: griffe.Object) -> dict[str, dict[str, tuple[str, bool]]]:
    out: dict[str, dict[str, tuple[str, bool]]] = {}
    objects = module.members.get("objects")
    if not isinstance(objects, griffe.Module):
        return out
    for sub in objects.members.values():
        if not isinstance(sub, griffe.Module):
            continue
        for cls in sub.classes.values():
            if not any("VersionedObject" in str(b) for b in cls.bases):
                continue
            out[cls.path] = {
                name: (str(attr.annotation), attr.value is not None)
                for name, attr in cls.attributes.items()
                if attr.annotation is not None and not str(attr.annotation).startswith("ClassVar")
            }
    return out


def _public_paths(obj: griffe.Object | griffe.Alias, depth: int = 0) -> set[str]:
    paths: set[str] = set()
    if depth > 4 or isinstance(obj, griffe.Alias):
        return paths
    for member in obj.members.values():
        if member.name.startswith("_") or not _is_api(member.path):
            continue
        paths.add(member.path)
        if isinstance(member, griffe.Object) and member.kind in (griffe.Kind.MODULE, griffe.Kind.CLASS):
            paths |= _public_paths(member, depth + 1)
    return paths


def _bump(old: Version, new: Version) -> str | None:
    if new.major > old.major:
        return "major"
    if new.major == old.major and new.minor > old.minor:
        return "minor"
    return None


def _ledger(root: Path, version: Version) -> dict[tuple[str, str], str]:
    """(symbol, kind) -> reason, for the ledger's entries recorded for ``version``."""
    path = root / LEDGER
    if not path.exists():
        return {}
    try:
        entries = tomllib.loads(path.read_text()).get("break", [])
    except tomllib.TOMLDecodeError as e:
        raise ToolError(f"{LEDGER}: {e}") from None
    out = {}
    for i, entry in enumerate(entries):
        missing = [
            k for k in ("symbol", "kind", "reason", "version") if not isinstance(entry.get(k), str) or not entry[k]
        ]
        if missing:
            raise ToolError(f"{LEDGER}: break #{i + 1} lacks {', '.join(missing)}; every entry needs all four")
        if Version(entry["version"]) == version:
            out[(entry["symbol"], entry["kind"])] = entry["reason"]
    return out


def _deprecations(root: Path) -> list[dict[str, str]]:
    """Every ``@deprecated(removal=...)`` function and ``deprecated_alias(...)`` name in nova_common."""
    found = []
    for path, text in read_tree(root, "nova-common/nova_common").items():
        if path.endswith("_test.py"):
            continue
        module = path.removeprefix("nova-common/").removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for dec in node.decorator_list:
                    kw = _call_keywords(dec, "deprecated")
                    if kw and "removal" in kw:
                        found.append({"name": f"{module}.{node.name}", "removal": kw["removal"]})
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                kw = _call_keywords(node.value, "deprecated_alias")
                if kw and "removal" in kw:
                    found.append({"name": f"{module}.{node.targets[0].id}", "removal": kw["removal"]})
    return sorted(found, key=lambda d: d["name"])


def _call_keywords(node: ast.expr, func: str) -> dict[str, str] | None:
    if not isinstance(node, ast.Call):
        return None
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
    if name != func:
        return None
    return {k.arg: k.value.value for k in node.keywords if k.arg and isinstance(k.value, ast.Constant)}


def _as_json(
    ref: str,
    old: Version,
    new: Version,
    findings: list[Finding],
    deprecations: list[dict[str, Any]],
    problems: list[str],
) -> dict[str, Any]:
    return {
        "against": ref,
        "version_at_ref": str(old),
        "version": str(new),
        "changes": [asdict(f) for f in findings],
        "deprecations": deprecations,
        "problems": problems,
        "ok": not problems,
    }


def _print_report(
    ref: str, old: Version, new: Version, findings: list[Finding], deprecations: list[dict[str, Any]]
) -> None:
    print(f"driver API of nova-common {new} against {ref} (nova-common {old})")
    if not findings:
        print("  no API changes")
    for f in findings:
        label = "BREAKING" if f.breaking and f.accepted is None else ("accepted" if f.breaking else "added")
        used = f"; used by {', '.join(f.users)}" if f.users else ("; used by no driver" if f.breaking else "")
        print(f"  {label:<8} {f.symbol} [{f.kind}] {f.detail}{used}")
        if f.accepted:
            print(f"           accepted in {LEDGER}: {f.accepted}")
    for d in deprecations:
        used = ", ".join(d["users"]) or "no driver"
        print(f"  deprecated {d['name']} (removal {d['removal']}): still used by {used}")
