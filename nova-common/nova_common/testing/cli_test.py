"""installed_wheel's parts: finding the subproject's wheel in the sandbox, installing its dist-info."""

import zipfile
from importlib.metadata import distributions
from pathlib import Path

import pytest

from nova_common.testing.cli import built_wheel, install_dist_info, register_wheel


def _wheel(path: Path, *infos: str, entry_points: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("nova_demo/__init__.py", "")
        for info in infos:
            version = info.removesuffix(".dist-info").rsplit("-", 1)[1]
            archive.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: nova-demo\nVersion: {version}\n")
            archive.writestr(f"{info}/entry_points.txt", entry_points)
    return path


def test_finds_the_one_wheel_of_the_distribution_anywhere_under_the_sandbox(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "drivers.demo" / "nova_demo-1.2.0-py3-none-any.whl", "nova_demo-1.2.0.dist-info")
    _wheel(tmp_path / "nova_common-1.0.0-py3-none-any.whl", "nova_common-1.0.0.dist-info")
    assert built_wheel("nova-demo", tmp_path) == wheel


@pytest.mark.parametrize("count", [0, 2])
def test_no_wheel_or_several_is_a_one_line_failure_naming_the_fix(tmp_path: Path, count: int) -> None:
    for v in range(count):
        _wheel(tmp_path / str(v) / f"nova_demo-1.{v}.0-py3-none-any.whl", f"nova_demo-1.{v}.0.dist-info")
    with pytest.raises(pytest.fail.Exception) as failed:
        built_wheel("nova-demo", tmp_path)
    message = str(failed.value)
    assert "\n" not in message
    assert message.startswith("no wheel of nova-demo" if count == 0 else "2 wheels (nova_demo-1.0.0-py3-none-any.whl, ")
    assert message.endswith("needs runtime_package_dependencies=[':dist'] (the BUILD macros give it)")


def test_installs_only_the_dist_info_and_its_entry_points_are_seen(tmp_path: Path) -> None:
    entry_points = "[nova.compute.drivers]\ndemo = nova_demo.driver:DemoDriver\n"
    wheel = _wheel(
        tmp_path / "nova_demo-1.2.0-py3-none-any.whl", "nova_demo-1.2.0.dist-info", entry_points=entry_points
    )
    site = tmp_path / "site"
    info = install_dist_info(wheel, site)
    assert info == site / "nova_demo-1.2.0.dist-info"
    assert sorted(p.name for p in site.iterdir()) == ["nova_demo-1.2.0.dist-info"]  # no code
    [found] = distributions(path=[str(site)])
    assert found.version == "1.2.0"
    assert [(e.name, e.value) for e in found.entry_points] == [("demo", "nova_demo.driver:DemoDriver")]


def test_a_wheel_with_two_dist_infos_is_refused(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "nova_demo-1.2.0-py3-none-any.whl", "nova_demo-1.2.0.dist-info", "other-1.0.dist-info")
    with pytest.raises(pytest.fail.Exception, match=r"has 2 \.dist-info directories, not one"):
        install_dist_info(wheel, tmp_path / "site")


def test_the_sandbox_wheel_is_registered_unless_the_distribution_is_installed(tmp_path: Path) -> None:
    _wheel(tmp_path / "sandbox" / "nova_demo-1.2.0-py3-none-any.whl", "nova_demo-1.2.0.dist-info")
    register_wheel("nova-demo", tmp_path / "sandbox", tmp_path / "site")  # a Pants sandbox
    assert [p.name for p in (tmp_path / "site").iterdir()] == ["nova_demo-1.2.0.dist-info"]
    # installed (tox installs the package it builds in a standalone repository): used as it is,
    # whatever wheel files lie around (a stale dist/ of an earlier build)
    _wheel(tmp_path / "sandbox" / "dist" / "pytest-0.1-py3-none-any.whl", "pytest-0.1.dist-info")
    register_wheel("pytest", tmp_path / "sandbox", tmp_path / "other")
    assert list((tmp_path / "other").iterdir()) == []
