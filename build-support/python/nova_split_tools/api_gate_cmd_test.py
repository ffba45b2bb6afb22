"""`nova-split api-gate` end to end on real git repositories: verdicts, exit codes, the ledger,
DRIVER_API_VERSION, deprecations, the JSON report and the strict-mypy second opinion."""

import json
from pathlib import Path

import pytest

from nova_split_tools.cli import main
from nova_split_tools.testing.api_corpus import II, LIBVIRT, NC, POWER, bump, gate, make_base
from nova_split_tools.testing.repos import commit, git

FIELD = "nova_common.objects.instance_info.InstanceInfo.cpu_time_ns"
DROP_FIELD = {II: None}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_base(tmp_path / "repo")


def drop_cpu_time(repo: Path) -> dict[str, str | None]:
    return {II: (repo / II).read_text().replace("    cpu_time_ns: Optional[int] = None\n", "")}


def test_no_change_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--repo", str(repo), "api-gate", "--no-typecheck"]) == 0
    assert "no API changes" in capsys.readouterr().out


def test_json_carries_symbol_kind_old_new_breaking_and_users(repo: Path) -> None:
    commit(repo, "retype", {II: (repo / II).read_text().replace("Optional[int]", "Optional[float]")})
    code, report, err = gate(repo)
    assert code == 1 and err.count("\n") == 1 and "need a major version bump" in err
    (change,) = report["changes"]
    assert change == {
        "symbol": FIELD,
        "kind": "field-retyped",
        "old": "Optional[int]",
        "new": "Optional[float]",
        "breaking": True,
        "message": f"field {FIELD} changed type: Optional[int] -> Optional[float]",
        "users": {"shipped": ["libvirt"], "test": []},
        "accepted": None,
    }


def test_table_names_the_break_and_its_users(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, "drop", drop_cpu_time(repo))
    assert main(["--repo", str(repo), "api-gate", "--no-typecheck"]) == 1
    out = capsys.readouterr().out
    assert f"BREAKING [field-removed] field {FIELD}: Optional[int] was removed; used by libvirt (shipped)" in out


def test_test_code_is_reported_apart_from_shipped_code(repo: Path) -> None:
    power = (repo / f"{NC}/power.py").read_text().replace("force_off: Callable[[], None]", "force: Callable[[], None]")
    commit(repo, "rename", {f"{NC}/power.py": power})
    _, report, _ = gate(repo)
    (change,) = report["changes"]
    assert change["kind"] == "parameter-renamed" and change["old"] == "force_off" and change["new"] == "force"
    assert change["users"] == {"shipped": [], "test": ["vmware"]}


def test_the_ledger_accepts_exactly_its_break_and_prints_its_reason(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = f'[[break]]\nsymbol = "{FIELD}"\nkind = "field-removed"\nversion = "1.1.0"\nreason = "never set"\n'
    commit(repo, "drop", {**drop_cpu_time(repo), **bump("1.1.0", "1, 1")})
    assert gate(repo)[0] == 1
    commit(repo, "accept", {"nova-common/api-breaks.toml": entry})
    assert main(["--repo", str(repo), "api-gate", "--no-typecheck"]) == 0
    assert "accepted in nova-common/api-breaks.toml: never set" in capsys.readouterr().out
    commit(repo, "later", bump("1.2.0", "1, 2"))  # the entry was for 1.1.0 only: it silences nothing else
    assert gate(repo)[0] == 1


@pytest.mark.parametrize(
    "symbol, kind, problem",
    [
        ("nova_common.nothing.Here", "field-removed", "names an unknown symbol"),
        (FIELD, "field-vanished", "names an unknown kind"),
        ("nova_common.objects.instance_info.InstanceInfo.memory_mb", "field-removed", "is stale"),
    ],
)
def test_stale_or_unknown_ledger_entries_are_errors_naming_them(
    repo: Path, symbol: str, kind: str, problem: str
) -> None:
    entry = f'[[break]]\nsymbol = "{symbol}"\nkind = "{kind}"\nversion = "1.1.0"\nreason = "r"\n'
    commit(repo, "entry", {"nova-common/api-breaks.toml": entry, **bump("1.1.0", "1, 1")})
    code, _, err = gate(repo)
    assert code == 1 and f"[[break]] {symbol} ({kind}) {problem}" in err


def test_driver_api_version_major_must_agree_with_the_package_either_way(repo: Path) -> None:
    commit(repo, "api only", bump("1.0.0", "2, 0"))
    code, _, err = gate(repo)
    assert code == 1 and "DRIVER_API_VERSION is 2.0 but nova-common's version is 1.0.0" in err
    commit(repo, "package only", bump("2.0.0", "1, 0"))
    code, _, err = gate(repo)
    assert code == 1 and "DRIVER_API_VERSION is 1.0 but nova-common's version is 2.0.0" in err
    commit(repo, "both", bump("2.0.0", "2, 0"))
    assert gate(repo)[0] == 0


def test_deprecated_methods_are_named_with_their_class_and_fail_past_removal(repo: Path) -> None:
    deprecation = "def deprecated(*, removal: str, replacement: str) -> object:\n    return lambda f: f\n"
    driver = (
        (repo / f"{NC}/driver.py")
        .read_text()
        .replace(
            "    def reboot(",
            '    @deprecated(removal="2.0", replacement="power_cycle")\n'
            "    def hard_reset(self) -> None:\n        pass\n\n"
            "    def reboot(",
        )
    )
    driver = driver.replace("import abc\n", "import abc\n\nfrom nova_common.deprecation import deprecated\n", 1)
    xen = (
        repo / "drivers/xen/nova_xen/driver.py"
    ).read_text() + "\n\ndef reset(d: XenDriver) -> None:\n    d.hard_reset()\n"
    commit(
        repo,
        "deprecate",
        {
            f"{NC}/deprecation.py": deprecation,
            f"{NC}/driver.py": driver,
            "drivers/xen/nova_xen/driver.py": xen,
            **bump("1.1.0", "1, 1"),
        },
    )
    code, report, _ = gate(repo)
    assert code == 0
    assert report["deprecations"] == [
        {
            "name": "nova_common.driver.ComputeDriver.hard_reset",
            "removal": "2.0",
            "users": {"shipped": ["xen"], "test": []},
        }
    ]
    commit(repo, "major", bump("2.0.0", "2, 0"))
    code, _, err = gate(repo)
    assert code == 1 and "nova_common.driver.ComputeDriver.hard_reset is past its removal version 2.0" in err
    assert "(still used by xen)" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--against", "nova-common-9.9.9"], "unknown revision 'nova-common-9.9.9'"),
        (["--against", "HEAD~1"], "unknown revision 'HEAD~1'"),
    ],
)
def test_a_bad_reference_is_one_line_and_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["--repo", str(repo), "api-gate", "--no-typecheck", *args]) == 2
    assert capsys.readouterr().err == f"nova-split api-gate: error: {message}\n"


def test_no_release_tag_is_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "tag", "-d", "nova-common-1.0.0")
    assert main(["--repo", str(repo), "api-gate", "--no-typecheck"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no release tag nova-common-X.Y.Z" in err


def test_an_unreadable_tree_is_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, "broken", {f"{NC}/power.py": "def broken(:\n"})
    assert main(["--repo", str(repo), "api-gate", "--no-typecheck"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(
        "nova-split api-gate: error: cannot read nova_common from the work tree"
    )


def test_a_missing_metadata_file_at_the_ref_is_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = git(repo, "rev-list", "--max-parents=0", "HEAD")
    commit(repo, "later", {"README.md": "x\n"})
    git(repo, "tag", "old", first)
    commit(repo, "drop metadata", {"nova-common/subproject.toml": None})
    assert main(["--repo", str(repo), "api-gate", "--no-typecheck"]) == 2
    assert "cannot read nova-common/subproject.toml" in capsys.readouterr().err


def test_mypy_second_opinion_names_driver_file_and_line_of_the_release(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """libvirt's release reads the field; a later libvirt commit stops reading it: the release counts."""
    git(repo, "tag", "nova-libvirt-1.0.0")
    commit(repo, "libvirt moves on", {"drivers/libvirt/nova_libvirt/driver.py": LIBVIRT.replace("cpu_time_ns=5", "")})
    power = POWER.replace("condition: Callable[[], bool]", "condition: Callable[[float], bool]")
    commit(repo, "callback", {**drop_cpu_time(repo), f"{NC}/power.py": power, **bump("2.0.0", "2, 0")})
    code = main(["--repo", str(repo), "api-gate", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    found = {(c["driver"], c["release"], c["file"], c["line"], c["code"]) for c in report["consumers"]}
    lines = LIBVIRT.splitlines()
    spawn_call = next(i for i, line in enumerate(lines, 1) if "wait_until(lambda" in line)
    construct = next(i for i, line in enumerate(lines, 1) if "cpu_time_ns=5" in line)
    read = next(i for i, line in enumerate(lines, 1) if "info.cpu_time_ns" in line)
    path = "drivers/libvirt/nova_libvirt/driver.py"
    assert found == {
        ("libvirt", "nova-libvirt-1.0.0", path, spawn_call, "shipped"),
        ("libvirt", "nova-libvirt-1.0.0", path, construct, "shipped"),
        ("libvirt", "nova-libvirt-1.0.0", path, read, "shipped"),
    }
    assert any(
        "the changed nova-common fails strict mypy for the released code of libvirt" in p for p in report["problems"]
    )
