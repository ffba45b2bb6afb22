"""The API gate's verdict: nova-common's driver API may only break with a major version bump.

:func:`run_gate` compares the public driver API (:mod:`api_surface`) of ``nova_common`` at a
reference (default: nova-common's last release tag, ``nova-common-X.Y.Z``) with the work tree
(:mod:`api_diff`), names for each finding the drivers whose shipped code and test code use that
exact member (:func:`api_usage_members.who_uses`), and decides:

* a break fails unless nova-common's major version was bumped, or the committed ledger
  ``nova-common/api-breaks.toml`` accepts it for this version (one entry, one finding)::

      [[break]]
      symbol = "nova_common.objects.flavor.Flavor.root_gb"
      kind = "field-removed"
      version = "1.1.0"
      reason = "root_gb was never set by the scheduler; see the release notes"

  an entry for this version that matches no finding, or names an unknown symbol or kind, fails;
* an addition needs at least a minor bump;
* ``DRIVER_API_VERSION``'s major must equal nova-common's major version;
* a deprecated name whose removal version has been reached fails.
"""

from __future__ import annotations

import ast
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import git
import griffe
from packaging.version import InvalidVersion, Version

from nova_split_tools.api_diff import Finding, Reach, compare
from nova_split_tools.api_surface import CORE_ROOT, PACKAGE, Surface, load_package
from nova_split_tools.api_usage import alias_map, holders, read_tree
from nova_split_tools.api_usage_members import is_test_file, scan_file_uses, who_uses
from nova_split_tools.errors import ToolError
from nova_split_tools.metadata import parse_metadata
from nova_split_tools.repo import Repository, tree_files
from nova_split_tools.subprojects import load_subprojects

__all__ = ["BREAK_KINDS", "GateReport", "core_version", "export_tree", "last_release", "run_gate"]

METADATA = f"{CORE_ROOT}/subproject.toml"
LEDGER = f"{CORE_ROOT}/api-breaks.toml"
TAG_PREFIX = "nova-common-"
#: Every kind the gate can report as breaking (what a ledger entry may name).
BREAK_KINDS = frozenset(
    """removed renamed kind-changed parameter-removed parameter-renamed parameter-moved parameter-added
    parameter-added-required parameter-kind-changed parameter-made-required parameter-made-optional
    parameter-default-changed parameter-type-changed return-type-changed field-removed field-renamed
    field-retyped field-made-required field-added-required field-default-changed field-moved object-version-lowered
    enum-member-removed enum-value-changed exception-base-changed base-removed abstract-method-added
    method-made-abstract required-attribute-added attribute-made-required attribute-retyped""".split()
)


@dataclass
class GateReport:
    """Everything the gate found, and why it fails (``problems``; empty: it passes)."""

    against: str
    old_version: Version
    new_version: Version
    findings: list[Finding]
    deprecations: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)
    consumers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "against": self.against,
            "version_at_ref": str(self.old_version),
            "version": str(self.new_version),
            "changes": [f.as_json() for f in self.findings],
            "deprecations": self.deprecations,
            "consumers": self.consumers,
            "problems": self.problems,
            "ok": self.ok,
        }


def core_version(text: str, where: str) -> Version:
    """nova-common's version from the text of its ``subproject.toml``, through the one metadata reader."""
    return parse_metadata(text, where).version


def last_release(repo: Repository, prefix: str = TAG_PREFIX) -> str | None:
    """The highest ``<prefix>X.Y.Z`` tag, or None."""
    tags = []
    for tag in repo.git.tags:
        if tag.name.startswith(prefix):
            try:
                tags.append((Version(tag.name[len(prefix) :]), tag.name))
            except InvalidVersion:
                continue
    return max(tags)[1] if tags else None


def export_tree(repo: Repository, commit: str, prefix: str, dest: Path) -> None:
    """Write every file under ``prefix`` at ``commit`` below ``dest`` (same relative paths)."""
    try:
        tree = repo.git.commit(commit).tree / prefix
    except KeyError:
        raise ToolError(f"{prefix} does not exist at {commit[:12]}; compare with a revision that has it") from None
    for blob in tree.traverse():
        if not isinstance(blob, git.Blob):
            continue
        path = dest / str(blob.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob.data_stream.read())


def _blob_text(repo: Repository, commit: str, path: str) -> str:
    try:
        return str((repo.git.commit(commit).tree / path).data_stream.read().decode())
    except KeyError:
        raise ToolError(
            f"{path} does not exist at {commit[:12]}; compare with a revision that has nova-common"
        ) from None


def run_gate(repo: Repository, against: str | None = None) -> GateReport:
    """Compare the work tree's driver API with ``against`` (default: the last release tag)."""
    ref = against or last_release(repo)
    if ref is None:
        raise ToolError(
            f"no release tag {TAG_PREFIX}X.Y.Z in this clone (fetch tags: git fetch --tags); or pass --against REF"
        )
    commit = repo.resolve(ref)
    old_version = core_version(_blob_text(repo, commit, METADATA), f"{METADATA} at {ref}")
    try:
        new_text = (repo.root / METADATA).read_text()
    except OSError as e:
        raise ToolError(f"cannot read {METADATA}: {e.strerror}") from None
    new_version = core_version(new_text, METADATA)
    with tempfile.TemporaryDirectory(prefix="nova-split-api-") as tmp:
        export_tree(repo, commit, f"{CORE_ROOT}/{PACKAGE}", Path(tmp))
        old = Surface.of(load_package(Path(tmp) / CORE_ROOT, f"{CORE_ROOT} at {ref}"))
        new = Surface.of(load_package(repo.root / CORE_ROOT, "the work tree"))
        findings = compare(old, new)
    old_sources = _tree_texts(repo, commit)
    new_sources = read_tree(repo.root, f"{CORE_ROOT}/{PACKAGE}")
    _attribute(repo, findings, old_sources, new_sources)
    deprecations = _deprecations(new_sources)
    _attribute_deprecations(repo, deprecations, new_sources)
    report = GateReport(ref, old_version, new_version, findings, deprecations)
    _apply_ledger(repo.root, report, old, new)
    _verdict(report, new)
    return report


def _tree_texts(repo: Repository, commit: str) -> dict[str, str]:
    return tree_files(repo, commit, f"{CORE_ROOT}/{PACKAGE}")


def _driver_files(repo: Repository) -> tuple[dict[str, str], list[tuple[str, str]]]:
    files: dict[str, str] = {}
    owners: list[tuple[str, str]] = []
    for sub in load_subprojects(repo.root):
        if sub.is_driver:
            files.update(read_tree(repo.root, sub.path))
            owners.append((sub.path, sub.name))
    return files, owners


def _owner(path: str, owners: list[tuple[str, str]]) -> str | None:
    return next((name for prefix, name in owners if path.startswith(prefix + "/")), None)


def _attribute(repo: Repository, findings: list[Finding], old: dict[str, str], new: dict[str, str]) -> None:
    files, owners = _driver_files(repo)
    uses = scan_file_uses(files)
    aliases = (alias_map(old, CORE_ROOT), alias_map(new, CORE_ROOT))
    for f in findings:
        if not f.breaking:
            continue
        held_by: list[str] = []
        if f.reach.how == "use":
            for name in sorted(f.reach.names):
                held_by += holders(name, old, aliases[0], CORE_ROOT)
        shipped: set[str] = set()
        test: set[str] = set()
        for path in who_uses(f.reach, uses, aliases, held_by):
            driver = _owner(path, owners)
            if driver:
                (test if is_test_file(path) else shipped).add(driver)
        f.users = {"shipped": sorted(shipped), "test": sorted(test)}


def _apply_ledger(root: Path, report: GateReport, old: Surface, new: Surface) -> None:
    path = root / LEDGER
    if not path.exists():
        return
    try:
        entries = tomllib.loads(path.read_text()).get("break", [])
    except tomllib.TOMLDecodeError as e:
        raise ToolError(f"{LEDGER}: {e}; fix the TOML") from None
    breaks = {(f.symbol, f.kind): f for f in report.findings if f.breaking}
    known = set(old.names) | set(new.names) | {s for s, _ in breaks}
    for i, entry in enumerate(entries):
        need = ("symbol", "kind", "reason", "version")
        missing = [k for k in need if not isinstance(entry.get(k), str) or not entry[k]]
        if missing:
            raise ToolError(f"{LEDGER}: break #{i + 1} lacks {', '.join(missing)}; every entry needs all four")
        try:
            version = Version(entry["version"])
        except InvalidVersion:
            raise ToolError(f"{LEDGER}: break #{i + 1} has an invalid version {entry['version']!r}") from None
        if version != report.new_version:
            continue  # an earlier release's accepted break
        label = f"{LEDGER}: [[break]] {entry['symbol']} ({entry['kind']})"
        if entry["kind"] not in BREAK_KINDS:
            report.problems.append(f"{label} names an unknown kind; use one of the kinds the gate reports")
        elif entry["symbol"] not in known and not any(entry["symbol"].startswith(k + ".") for k in known):
            report.problems.append(f"{label} names an unknown symbol; use the symbol the gate reports")
        elif (entry["symbol"], entry["kind"]) not in breaks:
            report.problems.append(f"{label} is stale: the gate finds no such break; delete the entry")
        else:
            breaks[(entry["symbol"], entry["kind"])].accepted = entry["reason"]


def _bump(old: Version, new: Version) -> str | None:
    if new.major > old.major:
        return "major"
    if new.major == old.major and new.minor > old.minor:
        return "minor"
    return None


def driver_api_version(surface: Surface) -> tuple[int, int] | None:
    """``DRIVER_API_VERSION``'s ``(major, minor)`` as written (``APIVersion(1, 2)``), if readable."""
    try:
        obj = surface.package.modules_collection.get_member(f"{PACKAGE}.api_version")
    except KeyError:  # no api_version module: nothing to read (a traceback before)
        return None
    attr = obj.members.get("DRIVER_API_VERSION") if isinstance(obj, griffe.Module) else None
    if not isinstance(attr, griffe.Attribute) or attr.value is None:
        return None
    try:
        call = ast.parse(str(attr.value), mode="eval").body
    except SyntaxError:
        return None
    if isinstance(call, ast.Call):
        nums = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, int)]
        if len(nums) == 2:
            return nums[0], nums[1]
        if len(call.args) == 1 and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
            major, _, minor = call.args[0].value.partition(".")
            if major.isdigit() and minor.isdigit():
                return int(major), int(minor)
    return None


def _verdict(report: GateReport, new: Surface) -> None:
    old_v, new_v = report.old_version, report.new_version
    breaks = [f for f in report.findings if f.breaking and f.accepted is None]
    additions = [f for f in report.findings if not f.breaking]
    bump = _bump(old_v, new_v)
    if breaks and bump != "major":
        report.problems.append(
            f"{len(breaks)} breaking change(s) need a major version bump of nova-common "
            f"({old_v} at {report.against} -> {old_v.major + 1}.0.0 in {METADATA}, and DRIVER_API_VERSION) "
            f"or an accepted entry in {LEDGER}"
        )
    elif (additions or [f for f in report.findings if f.breaking]) and bump is None:
        report.problems.append(
            f"the driver API changed without a version bump: raise nova-common's version in {METADATA} "
            f"to at least {old_v.major}.{old_v.minor + 1}.0 (and DRIVER_API_VERSION's minor)"
        )
    api = driver_api_version(new)
    if api is not None and api[0] != new_v.major:
        report.problems.append(
            f"DRIVER_API_VERSION is {api[0]}.{api[1]} but nova-common's version is {new_v}: the majors must agree "
            f"(set DRIVER_API_VERSION in nova_common/api_version.py to APIVersion({new_v.major}, {new_v.minor}), "
            f"or nova-common's version in {METADATA} to {api[0]}.{api[1]}.0)"
        )
    for dep in report.deprecations:
        if new_v.major >= Version(dep["removal"]).major:
            users = sorted({*dep["users"]["shipped"], *dep["users"]["test"]})
            used = f" (still used by {', '.join(users)})" if users else ""
            report.problems.append(f"{dep['name']} is past its removal version {dep['removal']}{used}: delete it")


# -- deprecations ------------------------------------------------------------------------------


def _deprecations(sources: dict[str, str]) -> list[dict[str, Any]]:
    """Every ``@deprecated(removal=...)`` function or method and ``deprecated_alias(...)`` name."""
    found: list[dict[str, Any]] = []
    for path, text in sources.items():
        if path.endswith("_test.py"):
            continue
        module = path.removeprefix(f"{CORE_ROOT}/").removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        _walk_deprecations(tree.body, module, found)
    return sorted(found, key=lambda d: d["name"])


def _walk_deprecations(body: list[ast.stmt], scope: str, found: list[dict[str, Any]]) -> None:
    for node in body:
        if isinstance(node, ast.ClassDef):
            _walk_deprecations(node.body, f"{scope}.{node.name}", found)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                kw = _call_keywords(dec, "deprecated")
                if kw and "removal" in kw:
                    found.append({"name": f"{scope}.{node.name}", "removal": kw["removal"], "member": node.name})
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            kw = _call_keywords(node.value, "deprecated_alias")
            if kw and "removal" in kw:
                name = f"{scope}.{node.targets[0].id}"
                found.append({"name": name, "removal": kw["removal"], "member": node.targets[0].id})


def _call_keywords(node: ast.expr, func: str) -> dict[str, str] | None:
    if not isinstance(node, ast.Call):
        return None
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
    if name != func:
        return None
    return {k.arg: str(k.value.value) for k in node.keywords if k.arg and isinstance(k.value, ast.Constant)}


def _attribute_deprecations(repo: Repository, deprecations: list[dict[str, Any]], sources: dict[str, str]) -> None:
    files, owners = _driver_files(repo)
    uses = scan_file_uses(files)
    aliases = (alias_map(sources, CORE_ROOT),)
    for dep in deprecations:
        dep.pop("member")
        owner, _, member = dep["name"].rpartition(".")
        is_method = owner.rpartition(".")[2][:1].isupper()
        reach = Reach(frozenset({owner}), member) if is_method else Reach(frozenset({dep["name"]}))
        shipped: set[str] = set()
        test: set[str] = set()
        for path in who_uses(reach, uses, aliases):
            driver = _owner(path, owners)
            if driver:
                (test if is_test_file(path) else shipped).add(driver)
        dep["users"] = {"shipped": sorted(shipped), "test": sorted(test)}
