"""The API gate against real git repositories: breaks, additions, the ledger, deprecations."""

import json
from pathlib import Path
from typing import Any

import pytest

from nova_split_tools.cli import main
from nova_split_tools.testing.repos import commit
from nova_split_tools.testing.api_repos import NC, WIDGET, make_repo, metadata


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def gate(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["--repo", str(repo), "api-gate", "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def bump(version: str) -> dict[str, str | None]:
    return {"nova-common/subproject.toml": metadata("nova-common", version)}


def test_no_change_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--repo", str(repo), "api-gate", "--against", "HEAD"]) == 0
    assert "no API changes" in capsys.readouterr().out


def test_removing_a_field_only_libvirt_uses_fails_naming_libvirt_until_a_major_bump(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, "drop size", {f"{NC}/objects/widget.py": WIDGET.replace("    size: int\n", "")})
    code, report, err = gate(repo, capsys)
    assert code == 1 and "1 breaking change(s) need a major version bump" in err
    (change,) = report["changes"]
    assert change["symbol"] == "nova_common.objects.widget.Widget.size" and change["kind"] == "field-removed"
    assert change["users"] == ["libvirt"]
    commit(repo, "bump", bump("1.1.0"))
    assert gate(repo, capsys)[0] == 1  # a minor bump is not enough
    commit(repo, "bump", bump("2.0.0"))
    assert gate(repo, capsys)[0] == 0


def test_retyping_a_field_is_a_break(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, "retype", {f"{NC}/objects/widget.py": WIDGET.replace("size: int", "size: float")})
    code, report, _ = gate(repo, capsys)
    assert code == 1 and report["changes"][0]["kind"] == "field-retyped"


def test_an_optional_field_needs_a_minor_bump(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, "add", {f"{NC}/objects/widget.py": WIDGET + "    shape: str | None = None\n"})
    code, report, err = gate(repo, capsys)
    assert code == 1 and "without a version bump" in err and "at least 1.1.0" in err
    assert report["changes"][0]["kind"] == "added"
    commit(repo, "bump", bump("1.1.0"))
    assert gate(repo, capsys)[0] == 0


def test_a_required_field_breaks(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, "add", {f"{NC}/objects/widget.py": WIDGET + "    shape: str\n", **bump("1.1.0")})
    code, report, _ = gate(repo, capsys)
    assert code == 1 and report["changes"][0]["kind"] == "field-added-required"


def test_the_ledger_accepts_a_recorded_break_and_prints_its_reason(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = (
        '[[break]]\nsymbol = "nova_common.objects.widget.Widget.size"\nkind = "field-removed"\n'
        'version = "1.1.0"\nreason = "size was never set"\n'
    )
    commit(repo, "drop", {f"{NC}/objects/widget.py": WIDGET.replace("    size: int\n", ""), **bump("1.1.0")})
    assert gate(repo, capsys)[0] == 1
    commit(repo, "accept", {"nova-common/api-breaks.toml": ledger})
    assert main(["--repo", str(repo), "api-gate"]) == 0
    assert "accepted in nova-common/api-breaks.toml: size was never set" in capsys.readouterr().out
    commit(repo, "later", bump("1.2.0"))  # the entry was for 1.1.0 only: it silences nothing else
    assert gate(repo, capsys)[0] == 1


def test_a_removed_driver_method_names_its_users(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, "drop spawn", {f"{NC}/driver.py": "class ComputeDriver:\n    pass\n", **bump("1.1.0")})
    code, report, _ = gate(repo, capsys)
    assert code == 1
    assert report["changes"][0]["symbol"] == "nova_common.driver.ComputeDriver.spawn"
    assert report["changes"][0]["users"] == ["vmware", "xen"]


def test_deprecated_names_list_users_and_fail_past_their_removal(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    helpers = (
        "from nova_common.deprecation import deprecated\n\n\n"
        '@deprecated(removal="2.0", replacement="nova_common.helpers.new")\ndef old() -> None:\n    pass\n'
    )
    commit(
        repo,
        "deprecate",
        {
            f"{NC}/helpers.py": helpers,
            "drivers/xen/nova_xen/uses.py": "from nova_common.helpers import old\n\nold()\n",
            **bump("1.1.0"),
        },
    )
    code, report, _ = gate(repo, capsys)
    assert code == 0
    assert report["deprecations"] == [{"name": "nova_common.helpers.old", "removal": "2.0", "users": ["xen"]}]
    commit(repo, "major", bump("2.0.0"))
    code, report, err = gate(repo, capsys)
    assert code == 1 and "nova_common.helpers.old is past its removal version 2.0 (still used by xen)" in err


def test_missing_reference_is_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--repo", str(repo), "api-gate", "--against", "nova-common-9.9.9"]) == 1
    assert capsys.readouterr().err.strip() == "nova-split api-gate: error: unknown revision 'nova-common-9.9.9'"
