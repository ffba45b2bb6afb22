"""Strict checkers for the two owners formats the repository generates.

``OWNERS``: the grammar of Gerrit's find-owners plugin (``src/main/resources/Documentation/
syntax.md``, also the code-owners plugin's find-owners backend)::

    lines       := (SPACE* line? SPACE* EOL)*
    line        := comment | noparent | ownerEmail
                |  "per-file" SPACE+ globs SPACE* "=" SPACE* owners
                |  include projectFile
    include     := "include" SPACE+ | "file:" SPACE*
    projectFile := (project SPACE* ":" SPACE*)? filePath
    comment     := "#" ANYCHAR*
    noparent    := "set" SPACE+ "noparent"
    ownerEmail  := email | "*"
    owners      := noparent | "file:" SPACE* projectFile
                |  ownerEmail (SPACE* "," SPACE* ownerEmail)*
    globs       := glob (SPACE* "," SPACE* glob)*
    glob        := [a-zA-Z0-9_-*?.]+
    email       := [^ @]+@[^ #]+

(``project`` and ``filePath``: no space or colon.) ``email`` is as strict as the two parsers that
read these files (find-owners' ``Parser.java``, code-owners' find-owners backend): no white space,
``<``, ``>``, ``,`` or second ``@`` in it, so ``a@x.org,b@x.org`` outside ``per-file``,
``<a@x.org>`` and ``a@b@x.org``, which the spec's looser ``email`` admits, are refused: Gerrit
ignores such lines. No PyPI package parses this grammar, so this module does, one regular
expression per production. ``CODEOWNERS``: GitHub's syntax, a path
pattern then owners, each ``@user``, ``@org/team`` or an e-mail address.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["check_codeowners", "check_owners", "codeowners_line_error", "owners_line_error"]

_S = r"[ \t]"
_EMAIL = r"[^\s<>@,]+@[^\s<>@#,]+"
_OWNER_EMAIL = rf"(?:{_EMAIL}|\*)"
_NOPARENT = rf"set{_S}+noparent"
_PATH = r"[^\s:]+"
_PROJECT_FILE = rf"(?:{_PATH}{_S}*:{_S}*)?{_PATH}"
_GLOB = r"[a-zA-Z0-9_\-*?.]+"
_GLOBS = rf"{_GLOB}(?:{_S}*,{_S}*{_GLOB})*"
_OWNERS = rf"(?:{_NOPARENT}|file:{_S}*{_PROJECT_FILE}|{_OWNER_EMAIL}(?:{_S}*,{_S}*{_OWNER_EMAIL})*)"
_LINE = re.compile(
    rf"{_S}*(?:"
    rf"#.*"
    rf"|{_NOPARENT}"
    rf"|{_OWNER_EMAIL}"
    rf"|per-file{_S}+{_GLOBS}{_S}*={_S}*{_OWNERS}"
    rf"|(?:include{_S}+|file:{_S}*){_PROJECT_FILE}"
    rf")?{_S}*"
)

_CODEOWNER = re.compile(r"@[A-Za-z0-9](?:-?[A-Za-z0-9])*(?:/[A-Za-z0-9._-]+)?|[^\s@]+@[^\s@]+\.[^\s@]+")


def owners_line_error(line: str) -> str | None:
    """Why ``line`` (without its EOL) is not a find-owners OWNERS line; None if it is one."""
    if _LINE.fullmatch(line):
        return None
    bare = line.strip()
    if bare and "@" not in bare and not bare.startswith(("per-file", "include", "file:", "set")):
        return f"{bare!r} is neither an e-mail address, '*', a comment nor a directive (owners are e-mails)"
    return f"{bare!r} does not follow the find-owners grammar"


def codeowners_line_error(line: str) -> str | None:
    """Why ``line`` is not a GitHub CODEOWNERS line (pattern, then owners); None if it is one."""
    bare = line.strip()
    if not bare or bare.startswith("#"):
        return None
    pattern, *owners = bare.split()
    if pattern.startswith("!") or "[" in pattern or pattern.startswith("\\#"):
        return f"{pattern!r}: CODEOWNERS patterns take no '!' negation or '[ ]' ranges"
    if not owners:
        return f"{pattern!r} names no owner"
    bad = [o for o in owners if not _CODEOWNER.fullmatch(o)]
    return f"{', '.join(bad)}: owners are @user, @org/team or e-mail addresses" if bad else None


def _check(text: str, where: str, line_error: Callable[[str], str | None]) -> list[str]:
    errors = []
    for number, line in enumerate(text.splitlines(), 1):
        error = line_error(line)
        if error:
            errors.append(f"{where}:{number}: {error}")
    return errors


def check_owners(text: str, where: str) -> list[str]:
    """One ``path:line: why`` message per line of ``text`` that breaks the find-owners grammar."""
    return _check(text, where, owners_line_error)


def check_codeowners(text: str, where: str) -> list[str]:
    """One ``path:line: why`` message per line of ``text`` that breaks GitHub's CODEOWNERS syntax."""
    return _check(text, where, codeowners_line_error)
