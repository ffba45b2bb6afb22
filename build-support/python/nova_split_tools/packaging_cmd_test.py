"""packaging: generated pyproject.toml / tox.ini follow subproject.toml, and --check catches drift."""

import tomllib
from pathlib import Path

import pytest

from nova_split_tools.cli import main
from nova_split_tools.standalone import render
from nova_split_tools.testing.repos import commit, new_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = new_repo(tmp_path / "repo")
    commit(
        root,
        "base",
        {
            "pants.toml": '[python.resolves]\ncommon = "nova-common/common.lock"\nxen = "drivers/xen/xen.lock"\n',
            "nova-common/subproject.toml": '[project]\nversion = "2.1.0"\n[project.extras]\ntesting = ["pytest>=7"]\n',
            "drivers/xen/subproject.toml": (
                '[project]\nname = "nova-xen"\nversion = "1.4.0"\ndescription = "xen"\n[driver]\napi-major = 2\n'
            ),
            "drivers/xen/requirements.txt": "# the client\nXenAPI>=22.19  # pure Python\n",
            "drivers/xen/BUILD": 'nova_driver(\n    name="xen",\n    driver_class="XenDriver",\n)\n',
        },
    )
    return root


def test_pyproject_is_single_sourced_from_subproject_toml(repo: Path) -> None:
    files = render(repo)
    assert set(files) == {"drivers/xen/pyproject.toml", "drivers/xen/tox.ini"}
    project = tomllib.loads(files["drivers/xen/pyproject.toml"])["project"]
    assert (project["name"], project["version"], project["description"]) == ("nova-xen", "1.4.0", "xen")
    assert project["dependencies"] == ["XenAPI>=22.19", "nova-common>=2.0,<3"]
    assert project["entry-points"]["nova.compute.drivers"] == {"xen": "nova_xen.driver:XenDriver"}
    tox = files["drivers/xen/tox.ini"]
    assert "{env:NOVA_COMMON_WHEEL:nova-common>=2.0,<3}" in tox and "    pytest>=7\n" in tox
    assert "commands = pytest -p no:cacheprovider {posargs:nova_xen}" in tox


def test_check_fails_with_the_diff_and_the_fix_until_regenerated(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--repo", str(repo), "packaging", "--check"]) == 1
    out, err = capsys.readouterr()
    assert "+++ b/drivers/xen/pyproject.toml" in out
    assert err.count("\n") == 1 and "regenerate them with: build-support/bin/nova-split packaging" in err
    assert main(["--repo", str(repo), "packaging"]) == 0
    assert main(["--repo", str(repo), "packaging", "--check"]) == 0
    meta = repo / "drivers/xen/subproject.toml"
    meta.write_text(meta.read_text().replace('version = "1.4.0"', 'version = "1.5.0"'))
    capsys.readouterr()
    assert main(["--repo", str(repo), "packaging", "--check"]) == 1
    assert '+version = "1.5.0"' in capsys.readouterr().out


def test_missing_driver_class_is_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "drivers/xen/BUILD").write_text('nova_driver(name="xen")\n')
    assert main(["--repo", str(repo), "packaging"]) == 2
    assert "drivers/xen/BUILD has no nova_driver(driver_class=...) call" in capsys.readouterr().err


def test_tox_ini_names_the_system_packages_from_system_deps(repo: Path) -> None:
    assert "Install first" not in render(repo)["drivers/xen/tox.ini"]
    (repo / "drivers/xen/system-deps").write_text(
        "# the client compiles\npkg-config --exists xen | libxen-dev pkg-config\ncommand -v gcc | gcc pkg-config\n"
    )
    tox = render(repo)["drivers/xen/tox.ini"]
    assert "# Install first (Debian packages, from system-deps): libxen-dev pkg-config gcc\n" in tox


def test_malformed_system_deps_line_is_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "drivers/xen/system-deps").write_text("command -v gcc\n")
    assert main(["--repo", str(repo), "packaging"]) == 2
    assert "drivers/xen/system-deps: expected '<probe command> | <debian package>...'" in capsys.readouterr().err
