"""The bindep coverage check against this machine's dpkg and apt, with Debian's essential packages
(present on every Debian system): dpkg depends on tar, gzip owns gzip."""

from pathlib import Path

import pytest

from nova_common.testing.system_packages import brought_by, listed_packages, owners, unprovided


def _bindep(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bindep.txt"
    path.write_text(text)
    return path


def test_the_list_is_read_as_bindep_does_for_tests_on_dpkg(tmp_path: Path) -> None:
    bindep = _bindep(
        tmp_path,
        "# comment\n\ngzip\n"
        "dpkg [platform:dpkg test]\n"
        "shellcheck [platform:dpkg ci]\n"  # another profile: not installed for tests
        "rpm-only [platform:rpm]\n"
        "always-built [platform:dpkg]  # a comment\n",
    )
    assert listed_packages(bindep) == {"gzip", "dpkg", "always-built"}
    with pytest.raises(ValueError, match=r"bindep.txt:1: not a bindep line: 'Not A Package!'"):
        listed_packages(_bindep(tmp_path, "Not A Package!\n"))


def test_owners_are_dpkg_s_also_across_merged_usr() -> None:
    assert owners(str(Path("/usr/bin/gzip").resolve())) == ["gzip"]
    assert owners("/usr/bin/tar") == ["tar"]  # dpkg records /bin/tar on merged-/usr systems
    assert {"dpkg", "gzip"} <= set(owners("/usr/share/doc"))  # a directory: every package with files in it
    assert owners("/nonexistent/file") == []


def test_installing_a_package_brings_its_dependencies() -> None:
    assert {"dpkg", "tar"} <= brought_by(["dpkg"])
    assert "gzip" not in brought_by(["tar"])  # only what it depends on
    assert brought_by([]) == set()


def test_of_an_or_group_only_the_first_alternative_is_brought() -> None:
    # apt Depends: gpgv | gpgv2 | gpgv1 (apt is in every Debian system)
    brought = brought_by(["apt"])
    assert "gpgv" in brought and not {"gpgv2", "gpgv1"} & brought


def test_a_need_the_list_does_not_bring_is_reported_with_its_package(tmp_path: Path) -> None:
    assert unprovided(_bindep(tmp_path, "dpkg [platform:dpkg test]\n"), ["command:tar"]) == {}
    missing = unprovided(_bindep(tmp_path, "dpkg [platform:dpkg test]\n"), ["command:gzip", "command:tar"])
    assert list(missing) == ["command:gzip"]
    assert missing["command:gzip"].endswith("is in package gzip, which bindep.txt does not bring")


def test_a_need_that_is_not_on_the_machine_is_reported(tmp_path: Path) -> None:
    missing = unprovided(_bindep(tmp_path, "gzip\n"), ["command:no-such-tool-here", "/usr/lib/*/no-such.so"])
    assert set(missing) == {"command:no-such-tool-here", "/usr/lib/*/no-such.so"}
    assert all(v.startswith("not on this machine") for v in missing.values())


def test_a_glob_need_is_its_first_match(tmp_path: Path) -> None:
    """A need may be a glob (a library's multiarch directory): its first match is looked up."""
    assert unprovided(_bindep(tmp_path, "gzip\n"), ["/usr/bin/gzi[p]"]) == {}
    missing = unprovided(_bindep(tmp_path, "dpkg [platform:dpkg test]\n"), ["/usr/bin/gzi[p]"])
    assert list(missing) == ["/usr/bin/gzi[p]"] and "is in package gzip" in missing["/usr/bin/gzi[p]"]
