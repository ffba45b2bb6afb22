import os
import subprocess
import sys
from pathlib import Path

import pytest

from nova_split_tools import wheel_metadata
from nova_split_tools.errors import ToolError
from nova_split_tools.metadata import MetadataError, nova_common_requirement, parse_metadata, read_metadata

DRIVER = """
[project]
name = "nova-xen"
version = "1.4.0"
description = "xen"

[driver]
api-major = 2

[ci]
core-changes = "advisory"

[owners]
team = "xen-core"
members = ["bob@example.org", "ann@example.org"]
"""


def test_every_key_of_a_driver() -> None:
    meta = parse_metadata(DRIVER, "drivers/xen/subproject.toml")
    assert (meta.name, meta.version_text, str(meta.version), meta.description) == ("nova-xen", "1.4.0", "1.4.0", "xen")
    assert meta.api_major == 2 and meta.nova_common_requirement == "nova-common>=2.0,<3"
    assert meta.core_changes == "advisory" and meta.owners == ("xen-core", ("bob@example.org", "ann@example.org"))
    assert meta.extras == {}


def test_nova_common_has_no_driver_range_and_defaults() -> None:
    meta = parse_metadata('[project]\nname = "nova-common"\n[project.extras]\ntesting = ["pytest>=7"]\n', "nc")
    assert meta.api_major is None and meta.nova_common_requirement is None
    assert meta.core_changes == "skip" and meta.api_changes == "vote" and meta.extras == {"testing": ["pytest>=7"]}


def test_classifiers_add_to_the_shared_ones_and_an_os_replaces_linux() -> None:
    meta = parse_metadata('[project]\nclassifiers = ["Operating System :: Microsoft :: Windows"]\n', "w")
    assert meta.classifiers == ["Operating System :: Microsoft :: Windows"]
    merged = wheel_metadata.classifiers(meta.classifiers)
    assert "Operating System :: Microsoft :: Windows" in merged and "Operating System :: POSIX :: Linux" not in merged
    assert "Environment :: OpenStack" in merged and merged == sorted(merged)
    assert wheel_metadata.classifiers(["Topic :: System :: Emulators"]) == sorted(
        [*wheel_metadata.CLASSIFIERS, "Topic :: System :: Emulators"]
    )
    assert parse_metadata("[project]\n", "w").classifiers == []


def test_the_range_formula() -> None:
    assert nova_common_requirement(1) == "nova-common>=1.0,<2"


@pytest.mark.parametrize(
    "text,key,message",
    [
        ("[project", "name", r"^w: "),
        ("", "name", r"^w: \[project\] needs a 'name' key"),
        ('[project]\nversion = "one"', "version", r"^w: \[project\] version 'one' is not a valid version$"),
        ("[project]\nversion = 1", "version", r"^w: \[project\] needs a 'version' key"),
        ("project = 1", "description", r"^w: \[project\] must be a table$"),
        ('[project]\ndescription = "one\\ntwo"', "description", r"^w: \[project\] description must be one line"),
        ("[driver]", "api_major", r"^w: \[driver\] api-major must be an integer"),
        ('[driver]\napi-major = "1"', "api_major", r"^w: \[driver\] api-major must be an integer"),
        ("[driver]\napi-major = true", "api_major", r"^w: \[driver\] api-major must be an integer"),
        ('[ci]\ncore-changes = "maybe"', "core_changes", r"must be one of vote, advisory, skip, not 'maybe'$"),
        ("[ci]\napi-changes = 1", "api_changes", r"^w: \[ci\] api-changes must be one of vote, advisory, skip, not 1$"),
        ("ci = 1", "api_changes", r"^w: \[ci\] must be a table$"),
        ("", "owners", r"^w declares no owners; add an \[owners\] section"),
        ('[owners]\nteam = ""\nmembers = ["a@b.org"]', "owners", r"^w: \[owners\] team must be a non-empty string"),
        ('[owners]\nteam = "t"\nmembers = []', "owners", r"^w: \[owners\] members must be a non-empty list"),
        (
            '[owners]\nteam = "t"\nmembers = ["ann@b.org", "Ann@B.org"]',
            "owners",
            r"^w: \[owners\] members lists 'ann@b.org' and 'Ann@B.org', the same address; keep one$",
        ),
        ('[owners]\nteam = "t"\nmembers = ["a@b.org", "a@b.org"]', "owners", r"lists 'a@b.org' and 'a@b.org'"),
        (
            '[owners]\nteam = "t"\nmembers = ["a@b.org", "c@d.org"]\ngithub = { "a@b.org" = "ann", "c@d.org" = "ANN" }',
            "github_handles",
            r"^w: \[owners\] github gives 'a@b.org' and 'c@d.org' the same handle 'ANN'; fix one$",
        ),
        ('[project.extras]\ntesting = "pytest"', "extras", r"^w: \[project.extras\] must map each extra"),
        ('[project]\nclassifiers = "Topic :: A"', "classifiers", r"^w: \[project\] classifiers must be a list"),
        ('[project]\nclassifiers = ["Windows"]', "classifiers", r"^w: .*'Windows' is not a trove classifier"),
        ('[project]\nclassifiers = ["A ::  B"]', "classifiers", r"is not a trove classifier"),
        ('[project]\nclassifiers = ["A :: B ::"]', "classifiers", r"is not a trove classifier"),
        ('[project]\nclassifiers = ["License :: OSI Approved"]', "classifiers", r"PEP 639.*; remove it$"),
        ('[project]\nname = "nova xen"', "name", r"^w: \[project\] name 'nova xen' is not a distribution name"),
        ('[project]\nname = "nova-xen!"', "name", r"is not a distribution name"),
        ('[project]\nname = "-xen"', "name", r"is not a distribution name"),
        ('[project]\nversion = "1.0.0+local.1"', "version_text", r"version '1.0.0\+local.1' has a local part"),
        ('[project]\ndescription = "' + "x" * 513 + '"', "description", r"is 513 characters; the limit is 512$"),
        ('[project]\ndescription = "a\\u2028b"', "description", r"description must be one line"),
        ('[project]\ndescription = "a\\u000cb"', "description", r"description must be one line"),
        ('[project]\ndescription = "a\\u0085b"', "description", r"description must be one line"),
        ('[project]\ndescription = "a\\u0000b"', "description", r"description has a control character"),
        ('[project]\ndescription = "a\\u001bb"', "description", r"description has a control character"),
        ('[project.extras]\n"bad extra!" = ["pytest"]', "extras", r"'bad extra!' is not an extra name"),
        (
            '[project.extras]\ntesting = ["pytest>=7", "not a req!!"]',
            "extras",
            r"testing: 'not a req!!' is not a requirement",
        ),
        ('[project.extras]\ntesting = [""]', "extras", r"testing: '' is not a requirement"),
        (
            '[project.extras]\ntesting = [" pytest-timeout"]',
            "extras",
            r"testing: ' pytest-timeout' has surrounding spaces",
        ),
    ],
)
def test_each_bad_key_is_one_line_naming_the_file(text: str, key: str, message: str) -> None:
    with pytest.raises(MetadataError, match=message) as caught:
        getattr(parse_metadata(text, "w"), key)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ToolError) and isinstance(caught.value, ValueError)


def test_read_from_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "subproject.toml").write_text(DRIVER)
    assert read_metadata(tmp_path).name == "nova-xen"
    assert read_metadata(tmp_path / "subproject.toml").where == str(tmp_path / "subproject.toml")
    with pytest.raises(MetadataError, match=r"subproject.toml is missing; every subproject needs one$"):
        read_metadata(tmp_path / "nope")
    # in a closure clone (nova-split clone) the other drivers are absent by design: say so
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "nova-split-sparse").write_text("drivers/xen\n")
    with pytest.raises(MetadataError, match=r"not checked out in this closure clone \(nova-split clone\); run"):
        read_metadata(tmp_path / "drivers" / "hyperv")


def test_utf8_is_read_whatever_the_locale(tmp_path: Path) -> None:
    """An emoji in a description is read in an ASCII locale too (TOML is UTF-8); bad bytes are one line."""
    (tmp_path / "subproject.toml").write_text('[project]\ndescription = "xen \U0001f680"\n', encoding="utf-8")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad/subproject.toml").write_bytes(b'[project]\ndescription = "\xff"\n')
    code = (
        "import sys; from nova_split_tools.metadata import read_metadata, MetadataError\n"
        "print(ascii(read_metadata(sys.argv[1]).description))\n"
        "try: read_metadata(sys.argv[2], 'b')\nexcept MetadataError as e: print(e)"
    )
    ascii_locale = {"LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    env = {**os.environ, **ascii_locale, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path), str(tmp_path / "bad")], env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "'xen \\U0001f680'\nb is not UTF-8 text (TOML must be): invalid start byte at byte 25\n"
