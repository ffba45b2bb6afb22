"""Every subproject's wheel and sdist pass the ecosystem's validators, and each driver's standalone
``pyproject.toml`` builds the same wheel as Pants (docs/packaging.md).

One scratch clone and one ``./pants package`` of all six distributions (nova-common and every
driver: the list comes from the repository, not from this file); the validators (twine,
check-wheel-contents, validate-pyproject, build) from build-support/wheel-check-requirements.txt
in a throwaway venv.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import ssl
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_split_tools.subprojects import CORE, registered
from nova_split_tools.testing.scratch import pants, run, scratch_clone
from nova_split_tools.wheel_compare import compare_wheels, metadata_fields


class Built:
    def __init__(self, repo: Path, dists: Path, tools: Path) -> None:
        self.repo, self.dists, self.tools = repo, dists, tools


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    tmp = tmp_path_factory.mktemp("wheels")
    repo = scratch_clone(tmp)
    subprojects = [s for s in registered(repo) if s.is_driver or s.name == CORE]
    assert len(subprojects) >= 6, [s.name for s in subprojects]
    # xen's README gets the tail that broke Pants' generated setup.py (which escapes only its own
    # quotes): a backslash line continuation, a CRLF line, and a closing quote with no final
    # newline. The standalone build of the same README must give the same METADATA (below).
    readme = repo / "drivers/xen/README.md"
    readme.write_bytes(readme.read_bytes() + b'\nRun `a \\\n  b`.\r\n\nSay "hi"')
    targets = [f"{s.path}:dist" for s in subprojects]
    result = pants(repo, "package", *targets)
    assert result.returncode == 0, f"./pants package failed:\n{result.stderr[-3000:]}"
    dists = tmp / "dists"
    dists.mkdir()
    for rel in re.findall(r"Wrote (dist/\S+\.(?:whl|tar\.gz))", result.stderr):
        shutil.copy2(repo / rel, dists)
    tools = tmp / "tools"
    python = os.environ.get("NOVA_PYTHON311", sys.executable)
    run([python, "-m", "venv", tools], tmp, check=True)
    cafile = ssl.get_default_verify_paths().cafile
    cert = ["--cert", cafile] if cafile and Path(cafile).exists() else []
    env = {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    reqs = repo / "build-support/wheel-check-requirements.txt"
    run([tools / "bin/pip", "install", "--quiet", *cert, "-r", reqs], tmp, env=env, check=True)
    yield Built(repo, dists, tools)


def test_every_subproject_has_a_wheel_and_an_sdist(built: Built) -> None:
    names = {s.name for s in registered(built.repo) if s.is_driver or s.name == CORE}
    wheels = {p.name.split("-")[0].replace("_", "-") for p in built.dists.glob("*.whl")}
    sdists = {p.name.rsplit("-", 1)[0].replace("_", "-") for p in built.dists.glob("*.tar.gz")}
    expected = {"nova-common" if n == CORE else f"nova-{n}" for n in names}
    assert wheels == expected and sdists == expected, (wheels, sdists)


def test_twine_check_strict_and_check_wheel_contents_pass(built: Built) -> None:
    artifacts = sorted(built.dists.iterdir())
    twine = run([built.tools / "bin/twine", "check", "--strict", *artifacts], built.dists)
    assert twine.returncode == 0, twine.stdout + twine.stderr
    assert twine.stdout.count("PASSED") == len(artifacts), twine.stdout
    # Each wheel holds exactly the packages of its source root, e.g. nova-common's nova_common and
    # nova_common_cli, a driver's one nova_<name>: --toplevel names them (W201/W202: one missing
    # or one more; it also switches off W009, which warns of more than one).
    for sub in (s for s in registered(built.repo) if s.is_driver or s.name == CORE):
        root = built.repo / sub.path
        packages = sorted(d.name for d in root.iterdir() if (d / "__init__.py").is_file())
        wheels = list(built.dists.glob(("nova_common" if sub.name == CORE else f"nova_{sub.name}") + "-*.whl"))
        assert len(wheels) == 1 and packages, (sub.name, wheels, packages)
        toplevel = ["--toplevel", ",".join(packages)]
        contents = run([built.tools / "bin/check-wheel-contents", *toplevel, *wheels], built.dists)
        assert contents.returncode == 0, contents.stdout + contents.stderr


def test_the_metadata_issue_16_asks_for(built: Built) -> None:
    for wheel in built.dists.glob("*.whl"):
        fields, body = metadata_fields(wheel)
        assert fields["Description-Content-Type"] == ["text/markdown"], wheel.name
        assert fields["License-Expression"] == ["Apache-2.0"] and fields["License-File"] == ["LICENSE"], wheel.name
        assert {"Programming Language :: Python :: 3.11", "Environment :: OpenStack"} <= set(fields["Classifier"])
        assert fields["Requires-Python"] == [">=3.11"] and len(fields["Project-URL"]) >= 3, wheel.name
        names = [re.split(r"[<>=!~; \[(]", r, maxsplit=1)[0].lower() for r in fields.get("Requires-Dist", [])]
        assert len(names) == len(set(names)), f"{wheel.name}: a requirement listed twice: {fields['Requires-Dist']}"
        assert body.startswith("# "), f"{wheel.name}: the long description is not the README"
        with zipfile.ZipFile(wheel) as z:
            assert any(n.endswith(".dist-info/licenses/LICENSE") for n in z.namelist()), wheel.name
            assert not [n for n in z.namelist() if n.endswith("_test.py")], wheel.name


def test_every_classifier_is_on_the_trove_list(built: Built) -> None:
    """The package index refuses an unknown classifier at upload; twine and setuptools do not check."""
    fields = {w.name: metadata_fields(w)[0].get("Classifier", []) for w in built.dists.glob("*.whl")}
    check = (
        "import json, sys, trove_classifiers as t; print(json.dumps(sorted(set(json.load(sys.stdin)) - t.classifiers)))"
    )
    every = sorted({c for cs in fields.values() for c in cs})
    result = run([built.tools / "bin/python", "-c", check], built.dists, stdin=json.dumps(every), check=True)
    assert json.loads(result.stdout) == [], f"not trove classifiers: {result.stdout} (in {fields})"


def test_standalone_pyproject_is_valid_and_builds_the_pants_wheel(built: Built, tmp_path: Path) -> None:
    drivers = [s for s in registered(built.repo) if s.is_driver]
    for driver in drivers:
        source = built.repo / driver.path
        checked = run([built.tools / "bin/validate-pyproject", source / "pyproject.toml"], tmp_path)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert tomllib.loads((source / "pyproject.toml").read_text())["project"]["license"] == "Apache-2.0"
        # The driver's directory alone, as an export or an sdist would have it: no monorepo around it.
        alone = tmp_path / driver.name
        shutil.copytree(source, alone, ignore=shutil.ignore_patterns("__pycache__"))
        out = tmp_path / f"{driver.name}-out"
        result = run(
            [built.tools / "bin/python", "-m", "build", "--wheel", "--no-isolation", "--outdir", out, alone], alone
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        [standalone] = out.glob("*.whl")
        [ours] = built.dists.glob(standalone.name)
        assert compare_wheels(ours, standalone) == [], f"{driver.name}: {compare_wheels(ours, standalone)}"
