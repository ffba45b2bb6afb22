"""review routing, against real git repositories built here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nova_split_tools.cli import main
from nova_split_tools.testing.api_repos import NC, WIDGET, make_repo
from nova_split_tools.testing.repos import commit


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def review(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["--repo", str(repo), "review", "HEAD~1..HEAD", "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_a_xen_only_change_needs_xen_and_core_alone_does_not_pass(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, "xen", {"drivers/xen/nova_xen/driver.py": "import nova_common.driver\n\nX = 1\n"})
    code, report, _ = review(repo, capsys)
    assert code == 0 and report["missing"] == ["xen-core"]
    code, report, err = review(repo, capsys, "--check", "--approved-by", "carol,dave")
    assert code == 1 and "missing approval from 1 team(s): xen-core (any of xena@example.org)" in err
    code, report, _ = review(repo, capsys, "--check", "--approved-by", "xena")
    assert code == 0 and report["missing"] == [] and report["required"][0]["approved_by"] == ["xena@example.org"]
    # By e-mail (any case) as well as by GitHub handle; a stranger's address approves nothing.
    code, report, _ = review(repo, capsys, "--check", "--approved-by", "XENA@example.org,carol@example.org")
    assert code == 0 and report["missing"] == []
    code, report, _ = review(repo, capsys, "--check", "--approved-by", "carol,xena@example.com")
    assert code == 1 and report["missing"] == ["xen-core"]
    code, report, _ = review(repo, capsys, "--check", "--approved-by", "carol,@,@XENA")
    assert code == 0 and report["required"][0]["approved_by"] == ["xena@example.org"]


def test_xen_and_vmware_need_both_teams(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, "two", {"drivers/xen/nova_xen/x.py": "x = 1\n", "drivers/vmware/nova_vmware/x.py": "x = 1\n"})
    code, report, err = review(repo, capsys, "--check", "--approved-by", "xena")
    assert code == 1 and "vmware-core" in err and "xen-core" not in err
    assert main(["--repo", str(repo), "review", "HEAD~1..HEAD", "--check", "--approved-by", "xena,vic"]) == 0


def test_an_object_change_needs_the_teams_of_the_drivers_using_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, "widget", {f"{NC}/objects/widget.py": WIDGET.replace("    size: int\n", "")})
    _, report, _ = review(repo, capsys)
    required = {r["team"]: r for r in report["required"]}
    assert set(required) == {"nova-core", "libvirt-core"}
    assert (
        "drivers/libvirt/nova_libvirt/driver.py uses nova_common.objects.Widget" in required["libvirt-core"]["why"][0]
    )
    # carol is in both teams: one approval covers both.
    assert main(["--repo", str(repo), "review", "HEAD~1..HEAD", "--check", "--approved-by", "carol"]) == 0


def test_a_driver_contract_change_reaches_attribute_users_and_comments_reach_none(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(
        repo,
        "contract",
        {f"{NC}/driver.py": "class ComputeDriver:\n    def spawn(self, name: str, n: int) -> None:\n        pass\n"},
    )
    _, report, _ = review(repo, capsys)
    assert [r["team"] for r in report["required"]] == ["nova-core", "vmware-core", "xen-core"]
    commit(repo, "comment", {f"{NC}/objects/widget.py": WIDGET + "# a comment\n"})
    _, report, _ = review(repo, capsys)
    assert [r["team"] for r in report["required"]] == ["nova-core"]


def test_paths_from_reads_the_work_tree(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / f"{NC}/objects/widget.py").write_text(WIDGET.replace("size: int", "size: float"))
    (repo / "changed.txt").write_text(f"{NC}/objects/widget.py\n")
    assert main(["--repo", str(repo), "review", "--paths-from", str(repo / "changed.txt"), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["missing"] == ["nova-core", "libvirt-core"]


def test_a_change_reaches_drivers_through_objects_that_hold_it(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gadget = (
        "from nova_common.objects.base import VersionedObject\nfrom nova_common.objects.widget import Widget\n\n\n"
        "class Gadget(VersionedObject):\n    parts: list[Widget]\n"
    )
    commit(
        repo,
        "gadget",
        {
            f"{NC}/objects/gadget.py": gadget,
            "drivers/xen/nova_xen/g.py": "from nova_common.objects.gadget import Gadget\n",
        },
    )
    commit(repo, "widget", {f"{NC}/objects/widget.py": WIDGET.replace("size: int", "size: float")})
    _, report, _ = review(repo, capsys)
    required = {r["team"]: r for r in report["required"]}
    assert set(required) == {"nova-core", "libvirt-core", "xen-core"}
    assert "which holds nova_common.objects.widget.Widget" in required["xen-core"]["why"][0]
