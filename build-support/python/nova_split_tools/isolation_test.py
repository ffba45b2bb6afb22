"""The resolve isolation check, on lockfiles in the shape Pants writes them."""

import json
from pathlib import Path

import pytest

from nova_split_tools.errors import ToolError
from nova_split_tools.isolation import check_isolation, load_drivers, locked_projects


def _lock(path: Path, *projects: str) -> None:
    body = {"locked_resolves": [{"locked_requirements": [{"project_name": p} for p in projects]}]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("// header\n// --- END PANTS LOCKFILE METADATA ---\n" + json.dumps(body))


def _repo(tmp_path: Path, drivers: dict[str, tuple[list[str], list[str] | None, list[str]]]) -> Path:
    """drivers: name -> (requirements, declared client-packages or None, locked projects)."""
    resolves = ['common = "nova-common/common.lock"']
    (tmp_path / "nova-common").mkdir()
    (tmp_path / "nova-common/requirements.txt").write_text("packaging>=23\npytest==7.4.4\n")
    for name, (reqs, client, locked) in drivers.items():
        d = tmp_path / "drivers" / name
        _lock(d / f"{name}.lock", "packaging", "pytest", *locked)
        (d / "requirements.txt").write_text("# own\n" + "".join(r + "\n" for r in reqs))
        meta = "[driver]\napi-major = 1\n"
        if client is not None:
            meta += f"client-packages = {json.dumps(client)}\n"
        (d / "subproject.toml").write_text(meta)
        resolves.append(f'{name} = "drivers/{name}/{name}.lock"')
    (tmp_path / "pants.toml").write_text("[python.resolves]\n" + "\n".join(resolves) + "\n")
    return tmp_path


def test_isolated_drivers_pass(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"a": (["os-win==5.9"], ["os_win"], ["os-win", "six"]), "b": (["XenAPI"], None, ["xenapi"])})
    drivers = load_drivers(repo)
    assert [(d.name, sorted(d.client)) for d in drivers] == [("a", ["os-win"]), ("b", ["xenapi"])]
    assert check_isolation(drivers) == []


def test_two_drivers_sharing_a_client_library_is_not_a_leak(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {
            "a": (["openstacksdk>=4", "six"], ["openstacksdk"], ["openstacksdk", "six"]),
            "b": (["openstacksdk>=4", "six"], ["openstacksdk"], ["openstacksdk", "six"]),
            "c": (["pyvmomi"], None, ["pyvmomi", "six"]),  # six: a dependency of both, nobody's client
        },
    )
    assert check_isolation(load_drivers(repo)) == []


def test_another_drivers_client_package_in_a_lockfile_is_a_leak(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"a": (["os-win"], ["os-win"], ["os-win"]), "b": (["xenapi"], None, ["xenapi", "os-win"])})
    assert check_isolation(load_drivers(repo)) == [
        "drivers/b/b.lock contains a's client package(s) os-win; if b uses them too, list them in its"
        " requirements.txt, else find what pulls them in"
    ]


def test_declared_client_package_must_be_required_and_locked(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"a": (["os-win"], ["os-win", "wmi"], ["wmi"])})
    assert check_isolation(load_drivers(repo)) == [
        "a declares client package wmi but its requirements.txt does not require it",
        "drivers/a/a.lock lacks a's own client package os-win: regenerate the lockfile",
    ]


def test_without_a_declaration_the_direct_requirements_less_nova_commons_are_the_client(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"a": (["packaging>=23", "pyvbox"], None, ["pyvbox"])})
    assert load_drivers(repo)[0].client == {"pyvbox"}


def test_a_lockfile_that_is_not_one_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "x.lock").write_text("{}")
    with pytest.raises(ToolError, match=r"x.lock is not a Pants lockfile \(.*\); regenerate it with ./pants"):
        locked_projects(tmp_path / "x.lock")
