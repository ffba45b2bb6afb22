"""The one reader of ``subproject.toml``: each key's type and meaning is checked here and only here.

A subproject's ``subproject.toml`` is the single source of its wheel metadata (``[project]``),
its driver API range (``[driver] api-major``), its CI policies (``[ci] api-changes`` and
``core-changes``) and its team
(``[owners]``). The tooling reads it through :func:`read_metadata`; so does the Pants plugin
(``build-support/pants-plugins/nova_split_pants``), which runs on Pants' own Python 3.9: this
module therefore stays 3.9-compatible, imports nothing of the tooling but ``errors``, and parses
with ``tomllib`` where it exists and with the ``toml`` package Pants ships where it does not.

Keys are checked when asked for, so a command fails only on the keys it needs, always with the
same one-line message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from nova_split_tools.errors import ToolError

try:
    import tomllib as _toml

    _DECODE_ERRORS: tuple[type[Exception], ...] = (_toml.TOMLDecodeError,)
except ImportError:  # Pants' Python 3.9 has no tomllib; the toml package is one of Pants' own dependencies
    import toml as _toml  # type: ignore  # pants: no-infer-dep

    _DECODE_ERRORS = (_toml.TomlDecodeError,)  # type: ignore[attr-defined]

__all__ = [
    "CI_POLICIES",
    "CORE_CHANGES",
    "EMAIL",
    "FILE",
    "GITHUB_HANDLE",
    "Metadata",
    "MetadataError",
    "NAME",
    "check_email",
    "nova_common_requirement",
    "parse_metadata",
    "read_metadata",
]

FILE = "subproject.toml"
#: a distribution or extra name (PEP 508's identifier: letters, digits, ``-_.``, alphanumeric at both ends)
NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
#: The values of ``[ci] api-changes`` and ``[ci] core-changes`` (see ``nova_split_tools.subprojects.CorePolicy``).
CI_POLICIES = ("vote", "advisory", "skip")
CORE_CHANGES = CI_POLICIES  # the former name


class MetadataError(ToolError, ValueError):
    """A ``subproject.toml`` that is missing, malformed or lacks a key; the message names the fix."""


def nova_common_requirement(api_major: int) -> str:
    """The requirement of a driver built for driver API ``api_major``: any nova-common of that major."""
    return f"nova-common>={api_major}.0,<{api_major + 1}"


def _requirement(text: str) -> object:
    """``packaging.requirements.Requirement(text)``, imported when first needed and without the
    deprecation warnings that the older pyparsing under Pants' own ``packaging`` prints on import
    (this module also runs in the Pants plugin)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from packaging.requirements import Requirement

        return Requirement(text)


@dataclass(frozen=True)
class Metadata:
    """The parsed ``subproject.toml`` of one subproject; ``where`` names it in messages."""

    where: str
    data: Mapping[str, Any]

    def _section(self, name: str) -> Mapping[str, Any]:
        section = self.data.get(name, {})
        if not isinstance(section, dict):
            raise MetadataError(f"{self.where}: [{name}] must be a table")
        return section

    def _project_str(self, key: str) -> str:
        value = self._section("project").get(key)
        if not isinstance(value, str) or not value:
            raise MetadataError(f"{self.where}: [project] needs a {key!r} key (a non-empty string)")
        return value

    @property
    def name(self) -> str:
        """The distribution name (``nova-xen``): a PEP 508 name."""
        value = self._project_str("name")
        if not NAME.match(value):
            raise MetadataError(
                f"{self.where}: [project] name {value!r} is not a distribution name "
                "(letters, digits, '-', '_', '.'; a letter or digit at both ends)"
            )
        return value

    @property
    def version_text(self) -> str:
        """``[project] version`` as written, once PEP 440 accepts it (else a one-line MetadataError)."""
        text = self._project_str("version")
        try:
            parsed = Version(text)
        except InvalidVersion:
            raise MetadataError(f"{self.where}: [project] version {text!r} is not a valid version") from None
        if parsed.local is not None:  # a package index refuses local versions (1.0.0+build) on upload
            raise MetadataError(f"{self.where}: [project] version {text!r} has a local part; a release is X.Y.Z")
        return text

    @property
    def version(self) -> Version:
        return Version(self.version_text)

    @property
    def description(self) -> str:
        """The one-line summary (``Summary:``): setuptools deprecates a newline in it."""
        value = self._project_str("description")
        if len(value.splitlines()) != 1 or "\n" in value:  # splitlines: also \r, \f, \x85, \u2028, ...
            raise MetadataError(f"{self.where}: [project] description must be one line (it is the wheel's Summary)")
        if any(unicodedata.category(c) in ("Cc", "Cs") and c != "\t" for c in value):
            raise MetadataError(f"{self.where}: [project] description has a control character; remove it")
        if len(value) > SUMMARY_LIMIT:  # the package index refuses a longer Summary on upload
            raise MetadataError(
                f"{self.where}: [project] description is {len(value)} characters; the limit is {SUMMARY_LIMIT}"
            )
        return value

    @property
    def extras(self) -> dict[str, list[str]]:
        """``[project.extras]``: extra name -> requirements."""
        extras = self._section("project").get("extras", {})
        if not isinstance(extras, dict) or not all(
            isinstance(v, list) and all(isinstance(r, str) for r in v) for v in extras.values()
        ):
            raise MetadataError(f"{self.where}: [project.extras] must map each extra to a list of requirements")
        for extra, requirements in extras.items():
            if not NAME.match(extra):
                raise MetadataError(
                    f"{self.where}: [project.extras] {extra!r} is not an extra name (letters, digits, '-', '_', '.')"
                )
            for r in requirements:
                try:
                    _requirement(r)
                except ValueError:  # packaging's InvalidRequirement
                    raise MetadataError(
                        f"{self.where}: [project.extras] {extra}: {r!r} is not a requirement (e.g. 'pytest>=7')"
                    ) from None
                if r != r.strip():
                    raise MetadataError(
                        f"{self.where}: [project.extras] {extra}: {r!r} has surrounding spaces; remove them"
                    )
        return {str(k): list(v) for k, v in extras.items()}

    @property
    def classifiers(self) -> list[str]:
        """``[project] classifiers``: trove classifiers this subproject adds to the shared ones
        (``wheel_metadata.classifiers``); an ``Operating System ::`` one replaces the default."""
        value = self._section("project").get("classifiers", [])
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise MetadataError(f"{self.where}: [project] classifiers must be a list of trove classifiers")
        for c in value:
            parts = c.split(" :: ")
            if len(parts) < 2 or any(not p or p != p.strip() or ":" in p or not p.isprintable() for p in parts):
                raise MetadataError(
                    f"{self.where}: [project] classifiers: {c!r} is not a trove classifier ('Topic :: Sub :: ...')"
                )
            if c.startswith("License ::"):
                raise MetadataError(
                    f"{self.where}: [project] classifiers: {c!r}: the license is the SPDX expression "
                    "(PEP 639), which setuptools refuses beside a License classifier; remove it"
                )
        return list(value)

    @property
    def api_major(self) -> int | None:
        """``[driver] api-major``; None for a subproject that is not a driver (no ``[driver]``)."""
        if "driver" not in self.data:
            return None
        major = self._section("driver").get("api-major")
        if not isinstance(major, int) or isinstance(major, bool) or major < 0:
            raise MetadataError(f"{self.where}: [driver] api-major must be an integer (the driver API major version)")
        return major

    @property
    def nova_common_requirement(self) -> str | None:
        """What the driver's wheel requires of nova-common; None for nova-common itself."""
        major = self.api_major
        return None if major is None else nova_common_requirement(major)

    def _ci_policy(self, key: str, default: str) -> str:
        raw = self._section("ci").get(key, default)
        if raw not in CI_POLICIES:
            choices = ", ".join(CI_POLICIES)
            raise MetadataError(f"{self.where}: [ci] {key} must be one of {choices}, not {raw!r}")
        return str(raw)

    @property
    def api_changes(self) -> str:
        """``[ci] api-changes`` (default ``vote``): what a nova-common change that reaches this driver
        through the driver API (a member its code or tests use) does; one of :data:`CI_POLICIES`."""
        return self._ci_policy("api-changes", "vote")

    @property
    def core_changes(self) -> str:
        """``[ci] core-changes`` (default ``skip``): what a nova-common change that reaches this driver
        only through its end-to-end tests (the compute service) does; one of :data:`CI_POLICIES`."""
        return self._ci_policy("core-changes", "skip")

    @property
    def owners(self) -> tuple[str, tuple[str, ...]]:
        """``[owners]``: the team's name and its members' e-mail addresses."""
        fix = f'add an [owners] section to {self.where} with team = "<name>" and members = ["<e-mail>", ...]'
        owners = self.data.get("owners")
        if not isinstance(owners, dict):
            raise MetadataError(f"{self.where} declares no owners; {fix}")
        team, members = owners.get("team"), owners.get("members")
        if not isinstance(team, str) or not team:
            raise MetadataError(f"{self.where}: [owners] team must be a non-empty string; {fix}")
        if not isinstance(members, list) or not members or not all(isinstance(m, str) and m for m in members):
            raise MetadataError(f"{self.where}: [owners] members must be a non-empty list of e-mail addresses; {fix}")
        seen: dict[str, str] = {}
        for member in members:
            check_email(member, f"{self.where}: [owners] members")
            # one person once: mail (and Gerrit, and review's --approved-by) compares addresses case-blind
            if (earlier := seen.get(member.lower())) is not None:
                raise MetadataError(
                    f"{self.where}: [owners] members lists {earlier!r} and {member!r}, the same address; keep one"
                )
            seen[member.lower()] = member
        return team, tuple(members)

    @property
    def github_handles(self) -> dict[str, str]:
        """``[owners] github``: member e-mail -> GitHub handle (optional; ``nova-split review`` takes either)."""
        members = self.owners[1]
        handles = self._section("owners").get("github", {})
        if not isinstance(handles, dict) or not all(isinstance(v, str) for v in handles.values()):
            raise MetadataError(
                f'{self.where}: [owners] github must map member e-mails to handles, e.g. {{ "a@b.org" = "ab" }}'
            )
        owner_of: dict[str, str] = {}
        for email, handle in handles.items():
            if email not in members:
                raise MetadataError(f"{self.where}: [owners] github names {email!r}, which is not in members")
            if not GITHUB_HANDLE.fullmatch(handle):
                raise MetadataError(f"{self.where}: [owners] github: {handle!r} is not a GitHub user name (no '@')")
            # GitHub user names are case-blind: one handle for two members would let one approve as both
            if (other := owner_of.setdefault(handle.lower(), email)) != email:
                raise MetadataError(
                    f"{self.where}: [owners] github gives {other!r} and {email!r} the same handle {handle!r}; fix one"
                )
        return {str(k): v for k, v in handles.items()}


#: The longest ``Summary`` (``[project] description``) the package index accepts on upload.
SUMMARY_LIMIT = 512

#: An e-mail address as the find-owners OWNERS grammar takes it (``email := [^ @]+@[^ #]+``),
#: narrowed to what mail accepts unquoted: the local part in RFC 5322's dot-atom characters (no
#: ``#``, the grammar's comment; no ``:``, so no ``mailto:``), no commas (the grammar's list
#: separator), angle brackets (Gerrit's parsers ignore such a line), ``:`` or ``/`` in the domain,
#: which needs a dot.
EMAIL = re.compile(r"[A-Za-z0-9!$%&'*+/=?^_`{|}~.-]+@[^\s@,#<>:/]+\.[^\s@,#<>:/]+")
#: A GitHub user name: alphanumerics and single hyphens, at most 39 characters.
GITHUB_HANDLE = re.compile(r"(?!-)(?!.*--)[A-Za-z0-9-]{1,39}(?<!-)")


def check_email(value: str, where: str) -> str:
    """``value`` if it is an e-mail address an OWNERS file can hold; else a one-line MetadataError."""
    if value.lower().startswith("mailto:"):
        raise MetadataError(f"{where}: {value!r} is a link, not an e-mail address; drop the 'mailto:'")
    if not EMAIL.fullmatch(value):
        raise MetadataError(f"{where}: {value!r} is not an e-mail address (OWNERS files list owners by e-mail)")
    return value


def parse_metadata(text: str, where: str) -> Metadata:
    """``text`` parsed as a ``subproject.toml`` (``where``: how messages name it)."""
    try:
        return Metadata(where, dict(_toml.loads(text)))
    except _DECODE_ERRORS as e:
        raise MetadataError(f"{where}: {e}") from None


def read_metadata(path: Path | str, where: str | None = None) -> Metadata:
    """The ``subproject.toml`` at ``path`` (a file, or the subproject directory holding it)."""
    path = Path(path)
    if path.name != FILE:
        path = path / FILE
    where = where or str(path)
    try:
        text = path.read_text(encoding="utf-8")  # TOML is UTF-8 whatever the locale says
    except UnicodeDecodeError as e:
        raise MetadataError(f"{where} is not UTF-8 text (TOML must be): {e.reason} at byte {e.start}") from None
    except FileNotFoundError:
        if not path.parent.exists() and _in_closure_clone(path):
            raise MetadataError(
                f"{where}: its subproject is not checked out in this closure clone (nova-split clone);"
                " run this in a full clone"
            ) from None
        raise MetadataError(f"{where} is missing; every subproject needs one") from None
    except OSError as e:
        raise MetadataError(f"cannot read {where}: {e.strerror}") from None
    return parse_metadata(text, where)


def _in_closure_clone(path: Path) -> bool:
    """Whether ``path`` is in a work tree that ``nova-split clone`` made (``.git/nova-split-sparse``)."""
    return any((d / ".git" / "nova-split-sparse").is_file() for d in path.absolute().parents)
