"""What a command is told changed: a revision range or a list of paths, as :class:`~nova_split_tools.repo.Change` s.

Shared by the commands that act on a change (``plan``, ``review``): the same arguments, the same
default (the merge base with the main branch to HEAD) and the same one-line refusals.

A range means what ``git diff A...B`` means: the changes on ``B`` since it left ``A``, from their
merge base, so a branch behind main is not charged with main's newer commits. ``A..B`` and
``A...B`` are the same range; ``A`` alone is ``A..HEAD`` (with the work tree checked clean).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path, PurePosixPath

from git import GitCommandError

from nova_split_tools.errors import ToolError
from nova_split_tools.plan import Texts
from nova_split_tools.repo import Change, Repository

__all__ = ["add_change_arguments", "parse_range", "read_paths", "texts_between", "unquote_git_path"]


def add_change_arguments(parser: argparse.ArgumentParser) -> None:
    """How a command is told what changed: a revision range, or paths (``--paths-from``)."""
    parser.add_argument(
        "revisions",
        nargs="?",
        metavar="BASE[..HEAD]",
        help="the changes on HEAD since it left BASE (their merge base, as git diff BASE...HEAD; default: main)",
    )
    parser.add_argument("--paths-from", metavar="FILE", help="read changed paths from FILE, one per line ('-': stdin)")


def parse_range(repo: Repository, text: str | None) -> tuple[str, str | None]:
    """(base, head) for ``text``: base is the merge base of the two ends; head None means HEAD's work tree."""
    if not text:
        return repo.default_base(), None
    base, sep, head = text.partition("...") if "..." in text else text.partition("..")
    if not base:
        raise ToolError(f"{text!r} has no base revision; write BASE..HEAD (e.g. main..HEAD)")
    head = head or "HEAD"
    head_id = repo.resolve(head)
    base_id = repo.merge_base(repo.resolve(base), head_id)
    return base_id, (None if head_id == repo.resolve("HEAD") else head_id)


def texts_between(repo: Repository, base: str, head: str | None) -> Texts:
    """A file's text at ``base`` and at ``head`` (the work tree when None); None where it is absent."""
    cache: dict[str, tuple[str | None, str | None]] = {}

    def blob(rev: str, path: str) -> str | None:
        try:
            # the text as stored (GitPython strips a final newline unless told not to)
            return str(repo.git.git.show(f"{rev}:{path}", stdout_as_string=True, strip_newline_in_stdout=False))
        except (GitCommandError, UnicodeDecodeError, ValueError):  # absent, or not text: the whole file
            return None

    def texts(path: str) -> tuple[str | None, str | None]:
        if path not in cache:
            if head is None:
                try:
                    new: str | None = (repo.root / path).read_text()
                except (OSError, UnicodeDecodeError):
                    new = None
            else:
                new = blob(head, path)
            cache[path] = (blob(base, path), new)
        return cache[path]

    return texts


#: git's C-style escapes of a quoted path (``core.quotePath``), besides octal bytes.
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
#: one path as git prints it: quoted (``"..."`` with escapes) or as it is
_QUOTED = r'"(?:[^"\\]|\\.)*"'
#: a rename as ``git status --porcelain`` prints it after its status column (``old -> new``)
_RENAME = re.compile(rf"^({_QUOTED}|.+?) -> ({_QUOTED}|.+)$")


def unquote_git_path(line: str) -> str:
    """A path as git lists it (``diff --name-only``), unquoted.

    git quotes a path with non-ASCII bytes or control characters (``"caf\\303\\251.py"``);
    this gives back the path itself. A line that is not quoted is returned as it is.
    """
    if len(line) < 2 or not (line.startswith('"') and line.endswith('"')):
        return line
    body, out, i = line[1:-1], bytearray(), 0
    while i < len(body):
        c = body[i]
        if c == '"':
            raise ToolError(f"{line}: not a path git quoted (a quote inside it is not escaped); list it unquoted")
        if c != "\\":
            out += c.encode()
            i += 1
        elif re.fullmatch("[0-3][0-7]{2}", body[i + 1 : i + 4]):
            out.append(int(body[i + 1 : i + 4], 8))
            i += 4
        elif i + 1 < len(body) and body[i + 1] in _ESCAPES:
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        else:
            raise ToolError(f"{line}: not a path git quoted (a stray backslash); list it unquoted")
    try:
        return out.decode()
    except UnicodeDecodeError:
        raise ToolError(f"{line}: quotes a path that is not UTF-8; list it unquoted") from None


def _listed(root: Path, line: str) -> list[str]:
    """The path(s) one ``--paths-from`` line names: itself if it exists, else as git quotes it,
    and both sides of a rename (``old -> new``, as ``git status --porcelain`` prints it)."""
    if (root / line).exists():  # a file whose name has quotes or an arrow in it is taken as it is
        return [line]
    rename = _RENAME.match(line)
    if rename and not (line.startswith('"') and line.endswith('"') and re.fullmatch(_QUOTED, line)):
        return [unquote_git_path(side) for side in rename.groups()]
    return [unquote_git_path(line)]


def read_paths(root: Path, source: str) -> list[Change]:
    """The changes ``--paths-from`` lists: one path per line, as given or as git prints it."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text()
    except OSError as e:
        raise ToolError(f"cannot read --paths-from {source}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise ToolError(
            f"--paths-from {source} is not UTF-8 text; list the paths as git prints them (git diff --name-only)"
        ) from None
    changes = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        for listed in _listed(root, line):
            if "\0" in listed:
                raise ToolError(f"{line}: a path cannot hold a NUL byte")
            path = Path(listed)
            full = Path(os.path.normpath(path if path.is_absolute() else root / path))
            # a symlink is the changed file itself (git stores it as one), not what it points to
            real = full.parent.resolve() / full.name if full.name not in ("", ".", "..") else full.resolve()
            try:
                rel = real.relative_to(root.resolve())
            except ValueError:
                raise ToolError(f"{listed} is outside the repository at {root}; list paths relative to it") from None
            if rel == Path("."):
                raise ToolError(f"{line}: names the repository itself; list the files that changed")
            if real.is_dir() and not real.is_symlink():  # git lists files; a directory would plan as a file
                raise ToolError(f"{line}: a directory; list the files that changed in it (git diff --name-only)")
            full = real
            rel_posix = PurePosixPath(rel).as_posix()
            changes.append(Change(path=rel_posix, status="M" if full.exists() or full.is_symlink() else "D"))
    if not changes:
        raise ToolError(f"--paths-from {source} listed no paths")
    return changes
