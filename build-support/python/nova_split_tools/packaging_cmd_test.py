"""packaging: generated pyproject.toml / tox.ini follow subproject.toml, and --check catches drift."""

import configparser
import tomllib
from pathlib import Path

import pytest
import tomli_w

from nova_split_tools.cli import main
from nova_split_tools.standalone import ini, render
from nova_split_tools.testing.repos import commit, new_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = new_repo(tmp_path / "repo")
    commit(
        root,
        "base",
        {
            "LICENSE": "Apache License\nVersion 2.0\n",
            "drivers/xen/nova_xen/__init__.py": "",
            "drivers/xen/nova_xen/driver.py": "X = 1\n",
            "drivers/xen/nova_xen/driver_test.py": "",
            "drivers/xen/nova_xen/xenapi_fake.py": "",
            "pants.toml": '[python.resolves]\ncommon = "nova-common/common.lock"\nxen = "drivers/xen/xen.lock"\n',
            "nova-common/subproject.toml": '[project]\nversion = "2.1.0"\n[project.extras]\ntesting = ["pytest>=7"]\n',
            "drivers/xen/subproject.toml": (
                '[project]\nname = "nova-xen"\nversion = "1.4.0"\ndescription = "xen"\n[driver]\napi-major = 2\n'
            ),
            "drivers/xen/requirements.txt": "# the client\nXenAPI>=22.19  # pure Python\n",
            "drivers/xen/BUILD": (
                'nova_driver(\n    name="xen",\n    driver_class="XenDriver",\n'
                '    test_utils=["nova_xen/xenapi_fake.py"],\n)\n'
            ),
        },
    )
    return root


def test_pyproject_is_single_sourced_from_subproject_toml(repo: Path) -> None:
    files = render(repo)
    assert set(files) == {
        "drivers/xen/pyproject.toml",
        "drivers/xen/tox.ini",
        "drivers/xen/LICENSE",
        "nova-common/LICENSE",
    }
    assert files["drivers/xen/LICENSE"] == "Apache License\nVersion 2.0\n"
    data = tomllib.loads(files["drivers/xen/pyproject.toml"])
    project = data["project"]
    # PEP 639: an SPDX expression and the license file; the README as Markdown.
    assert (project["license"], project["license-files"]) == ("Apache-2.0", ["LICENSE"])
    assert project["readme"] == {"file": "README.md", "content-type": "text/markdown"}
    # The wheel's modules exactly: no tests, no peer fakes.
    assert data["tool"]["setuptools"] == {"py-modules": ["nova_xen.__init__", "nova_xen.driver"], "packages": []}
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


def test_tox_ini_names_the_system_packages_from_bindep(repo: Path) -> None:
    assert "Install first" not in render(repo)["drivers/xen/tox.ini"]
    (repo / "drivers/xen/bindep.txt").write_text(
        "# the client compiles\nlibxen-dev [platform:dpkg]\npkg-config [platform:dpkg]\n"
        "xen-utils [platform:dpkg test]\nxen-devel [platform:rpm]\npkg-config [platform:dpkg test]\n"
    )
    tox = render(repo)["drivers/xen/tox.ini"]
    assert "# Install first (Debian packages, from bindep.txt): libxen-dev pkg-config xen-utils\n" in tox


def test_malformed_bindep_line_is_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "drivers/xen/bindep.txt").write_text("gcc [platform:dpkg\n")
    assert main(["--repo", str(repo), "packaging"]) == 2
    err = capsys.readouterr().err
    assert "drivers/xen/bindep.txt: not in bindep's format (" in err and len(err.strip().splitlines()) == 1


def test_a_non_ascii_description_round_trips(repo: Path) -> None:
    description = 'Xen 🚀 driver — “quoted”, \\back\\slash, tab\there, 日本語 and a "double quote"'
    meta = repo / "drivers/xen/subproject.toml"
    meta.write_text(meta.read_text().replace('description = "xen"\n', tomli_w.dumps({"description": description})))
    text = render(repo)["drivers/xen/pyproject.toml"]
    assert tomllib.loads(text)["project"]["description"] == description
    assert "\\ud83d" not in text  # no surrogate escapes (what json.dumps wrote)


def test_tox_ini_reads_back_with_configparser(repo: Path) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(render(repo)["drivers/xen/tox.ini"])
    assert dict(parser["tox"]) == {"env_list": "py3", "min_version": "4"}
    assert parser["testenv"]["deps"].split() == ["{env:NOVA_COMMON_WHEEL:nova-common>=2.0,<3}", "pytest>=7"]
    assert parser["testenv"]["commands"] == "pytest -p no:cacheprovider {posargs:nova_xen}"


@pytest.mark.parametrize("bad", ["two\nlines", " padded", ""])
def test_ini_refuses_values_that_would_not_read_back(bad: str) -> None:
    with pytest.raises(ValueError, match="cannot be an INI value line"):
        ini({"testenv": {"deps": ["ok", bad]}})


def test_test_utils_and_tests_stay_out_of_the_modules(repo: Path) -> None:
    (repo / "drivers/xen/nova_xen/sub").mkdir()
    (repo / "drivers/xen/nova_xen/sub/__init__.py").write_text("")
    (repo / "drivers/xen/nova_xen/sub/vm_test.py").write_text("")
    (repo / "drivers/xen/nova_xen/sub/vm.py").write_text("")
    modules = tomllib.loads(render(repo)["drivers/xen/pyproject.toml"])["tool"]["setuptools"]["py-modules"]
    assert modules == ["nova_xen.__init__", "nova_xen.driver", "nova_xen.sub.__init__", "nova_xen.sub.vm"]


@pytest.mark.parametrize(
    "path, old, new, message",
    [
        (
            "subproject.toml",
            'version = "1.4.0"',
            'version = "banana"',
            "[project] version 'banana' is not a valid version",
        ),
        ("requirements.txt", "XenAPI>=22.19", "XenAPI>=22.19!!", "'XenAPI>=22.19!!' is not a PEP 508 requirement ("),
    ],
)
def test_what_no_build_would_accept_is_refused_in_one_line(
    repo: Path, capsys: pytest.CaptureFixture[str], path: str, old: str, new: str, message: str
) -> None:
    source = repo / "drivers/xen" / path
    source.write_text(source.read_text().replace(old, new))
    assert main(["--repo", str(repo), "packaging"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (repo / "drivers/xen/pyproject.toml").exists()
