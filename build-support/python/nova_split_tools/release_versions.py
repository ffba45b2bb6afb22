"""A subproject's versions: its metadata, its release tags, and the checks of the wheel a cut builds.

The version lives in ``subproject.toml`` (``[project] version``) and only there; tags are
``<distribution>-<version>``, so two subprojects never share a tag. A driver's wheel must require the
nova-common range of its driver API major version, and is install-checked against the oldest and
newest released nova-common in that range.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from nova_split_tools.errors import ToolError
from nova_split_tools.metadata import nova_common_requirement
from nova_split_tools.proc import git
from nova_split_tools.repo import Repository
from nova_split_tools.subprojects import CORE, Subproject, find_subproject, metadata, registered

__all__ = [
    "Meta",
    "check_wheel",
    "nova_common_range",
    "read_meta",
    "smoke_targets",
    "tag_exists",
    "tagged_versions",
    "wheel_metadata",
    "write_version",
]


@dataclass(frozen=True)
class Meta:
    """A subproject's release metadata, from its ``subproject.toml``."""

    subproject: Subproject
    distribution: str
    version: Version
    api_major: int | None

    @property
    def path(self) -> str:
        return self.subproject.path

    def tag(self, version: Version | None = None) -> str:
        return f"{self.distribution}-{version or self.version}"


def read_meta(root: Path, sub: Subproject) -> Meta:
    meta = metadata(root, sub)
    return Meta(sub, meta.name, meta.version, meta.api_major)


_VERSION_LINE = re.compile(r'^(version\s*=\s*)"[^"]*"', re.M)


def write_version(root: Path, sub: Subproject, version: Version) -> None:
    """Set ``[project] version`` in place, keeping every comment and the rest of the file."""
    path = root / sub.path / "subproject.toml"
    text = path.read_text()
    start = text.index("[project]")
    end = text.find("\n[", start + 1)
    end = len(text) if end == -1 else end
    section, count = _VERSION_LINE.subn(rf'\g<1>"{version}"', text[start:end], count=1)
    if count != 1:
        raise ToolError(f"{sub.path}/subproject.toml has no [project] version line to update")
    path.write_text(text[:start] + section + text[end:])


def nova_common_range(api_major: int) -> SpecifierSet:
    """The nova-common versions a driver built for driver API ``api_major`` accepts."""
    return SpecifierSet(nova_common_requirement(api_major).removeprefix("nova-common"))


def tagged_versions(repo: Repository, distribution: str, merged: bool = False) -> dict[Version, str]:
    """Released versions of ``distribution`` -> tag (only tags reachable from HEAD if ``merged``)."""
    args = ["--list", f"{distribution}-*"] + (["--merged", "HEAD"] if merged else [])
    out: dict[Version, str] = {}
    for tag in git(repo.root, "tag", *args).split():
        try:
            out[Version(tag[len(distribution) + 1 :])] = tag
        except InvalidVersion:
            continue  # another distribution whose name starts with this one
    return out


def tag_exists(repo: Repository, tag: str) -> bool:
    return bool(git(repo.root, "tag", "--list", tag).strip())


def wheel_metadata(wheel: Path) -> tuple[str, list[str]]:
    """(Version, Requires-Dist lines) of a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        text = z.read(name).decode()
    headers = [line.split(": ", 1) for line in text.split("\n\n", 1)[0].splitlines() if ": " in line]
    version = next((v for k, v in headers if k == "Version"), "")
    return version, [v for k, v in headers if k == "Requires-Dist"]


def check_wheel(wheel: Path, meta: Meta, version: Version) -> str:
    got, requires = wheel_metadata(wheel)
    if Version(got) != version:
        raise ToolError(f"{wheel.name} has version {got}, not {version}; is subproject.toml the only version source?")
    if meta.api_major is None:
        return f"{wheel.name}: Version {got}"
    want = nova_common_range(meta.api_major)
    for line in requires:
        m = re.fullmatch(r"nova-common\s*\(?([^);]*)\)?", line.strip())
        if m and m.group(1) and SpecifierSet(m.group(1)) == want:
            return f"{wheel.name}: Version {got}, Requires-Dist nova-common{want}"
    raise ToolError(f"{wheel.name} lacks 'Requires-Dist: nova-common{want}' (has {requires}); check the Pants plugin")


def smoke_targets(repo: Repository, meta: Meta) -> list[tuple[Version, str | None]]:
    """The nova-common versions a driver is checked with: the oldest and newest tagged ones in
    its range; the work tree's (``None`` tag) when no release in the range exists yet."""
    assert meta.api_major is not None
    allowed = nova_common_range(meta.api_major)
    core = read_meta(repo.root, find_subproject(registered(repo.root), CORE))
    if core.version not in allowed:
        raise ToolError(
            f"{meta.distribution} requires nova-common{allowed} but the tree has nova-common {core.version}; "
            f"update [driver] api-major in {meta.path}/subproject.toml"
        )
    tagged = sorted(v for v in tagged_versions(repo, core.distribution) if v in allowed)
    if not tagged:
        return [(core.version, None)]
    picks = sorted({tagged[0], tagged[-1]})
    return [(v, core.tag(v)) for v in picks]
