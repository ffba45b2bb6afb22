"""owners: generated CODEOWNERS and OWNERS files, and --check."""

from pathlib import Path

import pytest

from nova_split_tools.cli import main
from nova_split_tools.owners_grammar import check_codeowners, check_owners
from nova_split_tools.testing.api_repos import make_repo


def test_generated_files_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "repo")
    assert main(["--repo", str(repo), "owners", "--check"]) == 1
    assert "regenerate them with: build-support/bin/nova-split owners" in capsys.readouterr().err
    assert main(["--repo", str(repo), "owners"]) == 0
    assert main(["--repo", str(repo), "owners", "--check"]) == 0
    codeowners = (repo / ".github/CODEOWNERS").read_text()
    assert "* @nova-split/nova-core\n" in codeowners and "/drivers/xen/ @nova-split/xen-core\n" in codeowners
    assert "cannot require the approval of several teams" in codeowners
    assert (repo / "drivers/libvirt/OWNERS").read_text().endswith("set noparent\ncarol@example.org\nlee@example.org\n")
    (repo / "drivers/xen/subproject.toml").write_text(
        (repo / "drivers/xen/subproject.toml").read_text().replace('"xena@example.org"', '"xavier@example.org"')
    )
    capsys.readouterr()
    assert main(["--repo", str(repo), "owners", "--check"]) == 1
    out = capsys.readouterr().out
    assert "-xena@example.org" in out and "+xavier@example.org" in out


def test_missing_owners_is_one_line_with_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "drivers/xen/subproject.toml").write_text('[project]\nversion = "1.0.0"\n')
    assert main(["--repo", str(repo), "owners"]) == 2
    assert "declares no owners; add an [owners] section" in capsys.readouterr().err


def test_every_generated_file_passes_its_grammar(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    assert main(["--repo", str(repo), "owners"]) == 0
    for path in [*repo.glob("**/OWNERS")]:
        assert check_owners(path.read_text(), str(path)) == []
    assert check_codeowners((repo / ".github/CODEOWNERS").read_text(), "CODEOWNERS") == []


@pytest.mark.parametrize(
    "members, message",
    [
        ('["xena"]', "'xena' is not an e-mail address (OWNERS files list owners by e-mail)"),
        ('["xena@example.org # lead"]', "is not an e-mail address"),
        ('["a@example.org,b@example.org"]', "is not an e-mail address"),
        ('["<xena@example.org>"]', "is not an e-mail address"),
        ('["mailto:xena@example.org"]', "is a link, not an e-mail address; drop the 'mailto:'"),
        ('["xe:na@example.org"]', "is not an e-mail address"),
        ('["xena@example.org/team"]', "is not an e-mail address"),
        ('["xena@example.org"]\ngithub = { "x@example.org" = "x" }', "'x@example.org', which is not in members"),
        ('["xena@example.org"]\ngithub = { "xena@example.org" = "@xena" }', "'@xena' is not a GitHub user name"),
    ],
)
def test_owners_that_no_owners_file_can_hold_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], members: str, message: str
) -> None:
    repo = make_repo(tmp_path / "repo")
    meta = repo / "drivers/xen/subproject.toml"
    meta.write_text(meta.read_text().split("members = ")[0] + f"members = {members}\n")
    assert main(["--repo", str(repo), "owners"]) == 2  # bad input: the tool could not run
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (repo / "drivers/xen/OWNERS").exists()


def test_check_refuses_a_hand_edited_owners_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "repo")
    assert main(["--repo", str(repo), "owners"]) == 0
    owners = repo / "drivers/xen/OWNERS"
    owners.write_text(owners.read_text() + "xena\n")
    assert main(["--repo", str(repo), "owners", "--check"]) == 1
    assert "\n-xena\n" in capsys.readouterr().out  # the diff removes the bare name
