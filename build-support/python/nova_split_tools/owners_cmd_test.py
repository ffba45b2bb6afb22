"""owners: generated CODEOWNERS and OWNERS files, and --check."""

from pathlib import Path

import pytest

from nova_split_tools.cli import main
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
    assert (repo / "drivers/libvirt/OWNERS").read_text().endswith("set noparent\nlee\ncarol\n")
    (repo / "drivers/xen/subproject.toml").write_text(
        (repo / "drivers/xen/subproject.toml").read_text().replace("xena", "xavier")
    )
    capsys.readouterr()
    assert main(["--repo", str(repo), "owners", "--check"]) == 1
    out = capsys.readouterr().out
    assert "-xena" in out and "+xavier" in out


def test_missing_owners_is_one_line_with_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "drivers/xen/subproject.toml").write_text('[project]\nversion = "1.0.0"\n')
    assert main(["--repo", str(repo), "owners"]) == 2
    assert "declares no owners; add an [owners] section" in capsys.readouterr().err
