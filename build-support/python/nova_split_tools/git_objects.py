"""Raw git objects, read and built without a checkout: commits, trees, trailers and their hashes.

What the export rewrite and the import need to rebuild commits byte for byte: read many objects with
one ``git cat-file --batch``, split a commit into the headers a rewrite keeps and its message, add or
remove a trailer, and hash a tree or commit exactly as git does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from nova_split_tools.errors import ToolError
from nova_split_tools.proc import git_bytes

__all__ = [
    "EXPORT_TRAILER",
    "KEPT_HEADERS",
    "MONOREPO_TRAILER",
    "TREE_MODE",
    "add_trailer",
    "commit_object",
    "hash_object",
    "read_objects",
    "split_commit",
    "strip_export_trailer",
    "tree_bytes",
    "tree_entries",
]


MONOREPO_TRAILER = "Monorepo-Commit"
"""The trailer naming the monorepo commit an exported commit stands for."""
EXPORT_TRAILER = "Export-Commit"
"""The trailer naming the export commit an imported commit came from."""


KEPT_HEADERS = (b"author ", b"committer ", b"encoding ")
"""The headers of a monorepo commit its export keeps, byte for byte."""


_TRAILER_LINE = re.compile(rb"^[A-Za-z0-9][A-Za-z0-9-]*: ")


TREE_MODE = b"40000"


def hash_object(kind: bytes, data: bytes) -> str:
    """The id git gives an object of type ``kind`` with content ``data``."""
    return hashlib.sha1(kind + b" %d\0" % len(data) + data).hexdigest()


def add_trailer(message: bytes, key: str, value: str) -> bytes:
    """``message`` with ``key: value`` appended to its trailer block (started if it has none)."""
    body = message.rstrip(b"\n")
    line = f"{key}: {value}\n".encode()
    if not body:
        return line
    paragraphs = body.split(b"\n\n")
    in_block = len(paragraphs) > 1 and all(_TRAILER_LINE.match(x) for x in paragraphs[-1].split(b"\n"))
    return body + (b"\n" if in_block else b"\n\n") + line


def strip_export_trailer(message: bytes) -> tuple[bytes, str] | None:
    """The message before :func:`add_trailer` added ``Export-Commit: E``, and E (None: no such trailer)."""
    match = re.search(rb"(?:^|\n)" + EXPORT_TRAILER.encode() + rb": ([0-9a-f]{40})\n$", message)
    if not match:
        return None
    rest = message[: match.start() + 1] if match.start() else b""
    if rest.endswith(b"\n\n"):
        rest = rest[:-1]
    return rest, match.group(1).decode()


def read_objects(root: Path, oids: Iterable[str]) -> dict[str, bytes]:
    """The contents of ``oids``, with one ``git cat-file --batch``."""
    wanted = list(dict.fromkeys(oids))
    if not wanted:
        return {}
    out = git_bytes(root, "cat-file", "--batch", stdin="".join(f"{o}\n" for o in wanted).encode())
    found: dict[str, bytes] = {}
    pos = 0
    for oid in wanted:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        if len(header) != 3:
            raise ToolError(f"object {oid} is missing from {root}; fetch it (a partial clone needs the network)")
        size = int(header[2])
        found[oid] = out[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
    return found


def tree_entries(data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """(mode, name, binary id) of each entry of a raw tree object."""
    entries = []
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        entries.append((data[pos:space], data[space + 1 : nul], data[nul + 1 : nul + 21]))
        pos = nul + 21
    return entries


def tree_bytes(entries: Sequence[tuple[bytes, bytes, bytes]]) -> bytes:
    """A raw tree object, entries in git's order (a directory sorts as its name plus '/')."""
    ordered = sorted(entries, key=lambda e: e[1] + (b"/" if e[0] == TREE_MODE else b""))
    return b"".join(mode + b" " + name + b"\0" + oid for mode, name, oid in ordered)


def split_commit(raw: bytes) -> tuple[list[bytes], bytes]:
    """A raw commit's headers that a rewritten commit keeps (author, committer, encoding), and its message.

    Signatures and merge tags are dropped: they would not verify on a rewritten commit.
    """
    headers, _, message = raw.partition(b"\n\n")
    return [h for h in headers.split(b"\n") if h.startswith(KEPT_HEADERS)], message


def commit_object(tree: str, parents: list[str], headers: list[bytes], message: bytes) -> tuple[str, bytes]:
    """A commit object's id and content from its parts."""
    lines = [f"tree {tree}".encode(), *(f"parent {p}".encode() for p in parents), *headers]
    data = b"\n".join(lines) + b"\n\n" + message
    return hash_object(b"commit", data), data
