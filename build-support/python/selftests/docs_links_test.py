"""Every relative link in the Markdown documentation resolves: to a file of the documentation set,
and, with a ``#fragment``, to one of that file's headings (GitHub's anchor rule)."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import pytest

# The documentation set: the files of ``//:readmes`` and ``docs:docs``.
DOC_GLOBS = ("README.md", "docs/*.md", "nova-common/README.md", "drivers/*/README.md")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_CODE = re.compile(r"`[^`]*`")


def _doc_files(root: Path) -> list[Path]:
    return sorted({p for g in DOC_GLOBS for p in root.glob(g)})


def _lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) outside fenced code blocks."""
    out, fenced = [], False
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced:
            out.append((n, line))
    return out


def _anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def broken_links(root: Path) -> list[str]:
    docs = _doc_files(root)
    known = {p.relative_to(root).as_posix() for p in docs}
    problems = []
    for doc in docs:
        rel = doc.relative_to(root).as_posix()
        for n, line in _lines(doc):
            for m in _LINK.finditer(_CODE.sub("", line)):
                target = m.group(1)
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                    continue  # an absolute URL
                path, _, fragment = target.partition("#")
                dest = posixpath.normpath(posixpath.join(posixpath.dirname(rel), path)) if path else rel
                if dest not in known:
                    problems.append(f"{rel}:{n}: {target}: not a file of the documentation set {DOC_GLOBS}")
                    continue
                headings = {_anchor(t.lstrip("#")) for _, t in _lines(root / dest) if t.startswith("#")}
                if fragment and fragment not in headings:
                    problems.append(f"{rel}:{n}: {target}: {dest} has no heading #{fragment}")
    return problems


def test_documentation_set_is_present() -> None:
    names = {p.relative_to(Path.cwd()).as_posix() for p in _doc_files(Path.cwd())}
    assert {"README.md", "docs/architecture.md"} <= names, "the files(name='docs') target lost a file"


def test_every_relative_link_resolves() -> None:
    assert broken_links(Path.cwd()) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[x](docs/missing.md)", "not a file of the documentation set"),
        ("[x](docs/a.md#nowhere)", "has no heading #nowhere"),
    ],
)
def test_a_broken_link_is_reported(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/a.md").write_text("# A heading\n")
    (tmp_path / "README.md").write_text(f"{text} [ok](docs/a.md#a-heading) `[code](nowhere.md)`\n")
    (found,) = broken_links(tmp_path)
    assert problem in found
