"""install_distribution: what an installed wheel's metadata gives importlib.metadata, nothing more."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest

from nova_common.testing.distributions import install_distribution

GROUP = "nova.compute.drivers"


@pytest.fixture
def own_sys_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a test does to ``sys.path``, the next test sees it as it was."""
    monkeypatch.setattr(sys, "path", list(sys.path))


@pytest.mark.usefixtures("own_sys_path")
def test_a_site_not_on_sys_path_is_prepended_and_its_entry_points_are_found(tmp_path: Path) -> None:
    site = tmp_path / "site"
    info = install_distribution(site, "nova-selftest-driver", "2.3.4", {GROUP: {"selftest": "somewhere:Driver"}})
    assert info == site / "nova_selftest_driver-2.3.4.dist-info"
    assert sys.path[0] == str(site), "the site was not put on sys.path, so nothing would find the driver"
    assert metadata.version("nova-selftest-driver") == "2.3.4"
    [found] = [ep for ep in metadata.entry_points(group=GROUP) if ep.name == "selftest"]
    assert found.value == "somewhere:Driver"
    assert found.dist is not None and found.dist.name == "nova-selftest-driver"


@pytest.mark.usefixtures("own_sys_path")
def test_a_site_already_on_sys_path_is_not_added_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))  # the protocol the docstring asks of pytest callers
    install_distribution(site, "nova-selftest-twice", "1.0.0", {GROUP: {"twice": "somewhere:Driver"}})
    assert sys.path.count(str(site)) == 1
    assert [ep.value for ep in metadata.entry_points(group=GROUP) if ep.name == "twice"] == ["somewhere:Driver"]


@pytest.mark.usefixtures("own_sys_path")
def test_every_group_and_entry_is_written_as_a_wheel_would(tmp_path: Path) -> None:
    info = install_distribution(
        tmp_path,
        "nova-selftest-groups",
        "0.1.0",
        {GROUP: {"a": "pkg.mod:A", "b": "pkg.mod:B"}, "console_scripts": {"tool": "pkg.cli:main"}},
    )
    assert (info / "METADATA").read_text() == "Metadata-Version: 2.1\nName: nova-selftest-groups\nVersion: 0.1.0\n"
    assert (info / "entry_points.txt").read_text() == (
        "[nova.compute.drivers]\na = pkg.mod:A\nb = pkg.mod:B\n[console_scripts]\ntool = pkg.cli:main\n"
    )
    eps = metadata.distribution("nova-selftest-groups").entry_points
    assert sorted((ep.group, ep.name, ep.value) for ep in eps) == [
        ("console_scripts", "tool", "pkg.cli:main"),
        (GROUP, "a", "pkg.mod:A"),
        (GROUP, "b", "pkg.mod:B"),
    ]
