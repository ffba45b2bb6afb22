"""The find-owners OWNERS grammar and GitHub's CODEOWNERS syntax, line by line, valid and invalid."""

import pytest

from nova_split_tools.owners_grammar import check_codeowners, check_owners, codeowners_line_error, owners_line_error

VALID_OWNERS = [
    "",
    "   ",
    "# a comment",
    "  # an indented comment, with @ and = signs",
    "set noparent",
    "set  \tnoparent  ",
    "jane.roe@example.com",
    "  jane.roe@example.com\t",
    "*",
    "per-file *.py = jane.roe@example.com",
    "per-file *.py,BUILD=jane.roe@example.com , john.doe@example.com",
    "per-file test_?.py = *",
    "per-file *.java = set noparent",
    "per-file *.md = file: docs/OWNERS",
    "per-file *.md = file:other/project:/docs/OWNERS",
    "include /drivers/xen/OWNERS",
    "include other-project:/OWNERS",
    "file: ../OWNERS",
    "file:common/OWNERS",
]

INVALID_OWNERS = [
    "bobball",  # a bare user name: the defect this grammar check exists for
    "@bobball",
    "bob@",
    "@example.com",
    "jane.roe@example.com # the lead",  # no trailing comments after an e-mail
    "jane.roe@example.com, john.doe@example.com",  # lists only in per-file
    "jane.roe@example.com,john.doe@example.com",  # Gerrit ignores it: no ',' in an e-mail
    "<jane.roe@example.com>",  # Gerrit ignores it: no '<' or '>' in an e-mail
    "jane@roe@example.com",
    "per-file *.py = <jane.roe@example.com>",
    "jane roe@example.com",
    "set parent",
    "setnoparent",
    "noparent",
    "per-file = jane.roe@example.com",
    "per-file *.py jane.roe@example.com",
    "per-file dir/*.py = jane.roe@example.com",  # globs hold no directory
    "per-file *.py = bob",
    "per-file *.py = ",
    "per-file*.py = jane.roe@example.com",
    "include",
    "include a b",
    "file: a b",
    "* jane.roe@example.com",
]


@pytest.mark.parametrize("line", VALID_OWNERS)
def test_valid_owners_lines(line: str) -> None:
    assert owners_line_error(line) is None


@pytest.mark.parametrize("line", INVALID_OWNERS)
def test_invalid_owners_lines(line: str) -> None:
    error = owners_line_error(line)
    assert error is not None and line.strip() in error


def test_bare_names_are_told_owners_are_emails() -> None:
    assert (
        owners_line_error("bobball")
        == "'bobball' is neither an e-mail address, '*', a comment nor a directive (owners are e-mails)"
    )


def test_check_owners_names_file_and_line() -> None:
    text = "# team\nset noparent\nann@example.org\nbob\n\ncarol\n"
    assert check_owners(text, "drivers/x/OWNERS") == [
        "drivers/x/OWNERS:4: 'bob' is neither an e-mail address, '*', a comment nor a directive (owners are e-mails)",
        "drivers/x/OWNERS:6: 'carol' is neither an e-mail address, '*', a comment nor a directive (owners are e-mails)",
    ]


@pytest.mark.parametrize(
    "line",
    [
        "",
        "# routing only",
        "* @nova-split/nova-core",
        "/drivers/xen/ @nova-split/xen-core @bobball",
        "*.py jane.roe@example.com @octo-cat",
        "docs/** @org/docs-team",
    ],
)
def test_valid_codeowners_lines(line: str) -> None:
    assert codeowners_line_error(line) is None


@pytest.mark.parametrize(
    "line, why",
    [
        ("/drivers/xen/", "names no owner"),
        ("/drivers/xen/ bobball", "owners are @user, @org/team or e-mail addresses"),
        ("/drivers/xen/ @-bob", "owners are @user"),
        ("/drivers/xen/ @org/team/sub", "owners are @user"),
        ("!/drivers/xen/ @org/team", "no '!' negation"),
        ("/drivers/[xy]en/ @org/team", "'[ ]' ranges"),
    ],
)
def test_invalid_codeowners_lines(line: str, why: str) -> None:
    error = codeowners_line_error(line)
    assert error is not None and why in error


def test_check_codeowners_names_file_and_line() -> None:
    assert check_codeowners("# x\n* @org/core\n/a/ bob\n", "CODEOWNERS") == [
        "CODEOWNERS:3: bob: owners are @user, @org/team or e-mail addresses"
    ]
