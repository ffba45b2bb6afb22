"""What build-support/bindep.txt asks for, profile by profile, as bindep's own parser reads it.

build-support/bin/ensure-system-deps installs the unqualified lines and profile ``test`` (what
./pants does on every machine), ``ci`` besides in .ci/run and the GitHub checks job, ``npm`` only
where no npm is on PATH. build-support's own tests need ``sudo`` (the GitHub workflow self-test's
non-root user) and ``bubblewrap`` (Zuul's loader in the Zuul self-test runs ``bwrap --version``):
they belong to ``test``, not only to ``ci``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bindep.depends import Depends

BINDEP = Path("build-support/bindep.txt")


def packages(*profiles: str) -> list[str]:
    """The Debian packages bindep resolves ``BINDEP`` to on a dpkg platform with ``profiles``, sorted."""
    rules = Depends(BINDEP.read_text()).active_rules(["platform:dpkg", *profiles])
    return sorted({name for name, _selectors, _versions in rules})


@pytest.mark.parametrize(
    ("profiles", "expected"),
    [
        ((), []),
        (("test",), ["bash-completion", "bubblewrap", "sudo"]),
        (("ci",), ["nodejs", "shellcheck"]),
        (("npm",), ["npm"]),
        (("test", "ci"), ["bash-completion", "bubblewrap", "nodejs", "shellcheck", "sudo"]),
    ],
)
def test_each_profile_resolves_to_its_packages(profiles: tuple[str, ...], expected: list[str]) -> None:
    assert packages(*profiles) == expected


def test_the_profiles_are_the_documented_ones() -> None:
    assert Depends(BINDEP.read_text()).profiles() == ["ci", "npm", "test"]
