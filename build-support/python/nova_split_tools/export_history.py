"""The export engine: a subproject's history in the standalone layout, as a pure function of history.

The *export tree* of a monorepo commit is the subproject's directory at the root, plus the files
the standalone repository takes from the monorepo root (:data:`ROOT_FILES`, the LICENSE) when the
subproject has none of its own. The *image* of a monorepo commit ``C`` is the export commit that
stands for it:

- the subproject does not exist at ``C``: no image;
- ``P`` = the images of ``C``'s parents, without repeats and without any that is an ancestor of
  another (a side branch that never touched the subproject adds nothing);
- ``P`` is one commit with ``C``'s export tree: ``C`` did not touch the export, its image is ``P``;
- otherwise a new commit: the export tree, parents ``P`` (merges stay merges), the ``author``,
  ``committer`` and ``encoding`` headers byte for byte, and the message with a
  ``Monorepo-Commit: <C>`` trailer. Signatures are dropped (they would not verify).
- A commit brought back from an export (:mod:`nova_split_tools.import_cmd`) ends with an
  ``Export-Commit: <E>`` trailer; when the commit rebuilt without that trailer hashes to ``E``
  its image is ``E`` itself, so a round trip keeps the export's commit ids.

An image depends only on the commit's own history, so the same history always gives the same ids
and exporting again after new commits only appends. Everything is read with three batched git
calls (``rev-list --parents``, ``cat-file --batch-check`` for every commit's subtree and
``cat-file --batch`` for the commits and trees rewritten); objects are hashed here and written
only on request, through GitPython's loose object database.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

# GitPython re-exports gitdb's object database here without listing it in an __all__.
from git.db import IStream, LooseObjectDB  # type: ignore[attr-defined]

from nova_split_tools.errors import ToolError
from nova_split_tools.proc import git, git_bytes

__all__ = [
    "EXPORT_TRAILER",
    "MONOREPO_TRAILER",
    "ROOT_FILES",
    "ExportCommit",
    "History",
    "add_trailer",
    "read_objects",
    "rewrite",
    "strip_export_trailer",
]

MONOREPO_TRAILER = "Monorepo-Commit"
EXPORT_TRAILER = "Export-Commit"
ROOT_FILES: tuple[str, ...] = ("LICENSE",)
"""Files of the monorepo root that the standalone repository carries (when the subproject has none)."""

_TRAILER_LINE = re.compile(rb"^[A-Za-z0-9][A-Za-z0-9-]*: ")
_KEPT_HEADERS = (b"author ", b"committer ", b"encoding ")
_TREE_MODE = b"40000"


@dataclass(frozen=True)
class ExportCommit:
    """One commit of the export and the monorepo commit it stands for."""

    commit: str
    monorepo_commit: str
    parents: tuple[str, ...]
    tree: str
    subject: str


@dataclass
class History:
    """The export of one subproject at one monorepo revision, oldest first."""

    commits: list[ExportCommit]
    head: str | None
    """The image of the monorepo revision itself (None: the subproject does not exist there)."""
    objects: dict[str, tuple[bytes, bytes]] = field(default_factory=dict, repr=False)
    """Every commit and tree the export adds to git's objects: id -> (type, content)."""

    def ids(self) -> set[str]:
        return {c.commit for c in self.commits}

    def ancestry(self, tip: str) -> set[str]:
        """``tip`` and its ancestors among the export's commits."""
        parents = {c.commit: c.parents for c in self.commits}
        seen: set[str] = set()
        todo = [tip]
        while todo:
            node = todo.pop()
            if node not in seen and node in parents:
                seen.add(node)
                todo.extend(parents[node])
        return seen

    def write(self, objects_dir: Path, only: set[str] | None = None) -> None:
        """Store the export's commits (or just the ``only`` ones) and their trees as loose objects."""
        db = LooseObjectDB(str(objects_dir))
        wanted = set(self.objects)
        if only is not None:
            wanted = only | {c.tree for c in self.commits if c.commit in only}
        for oid, (kind, data) in self.objects.items():
            if oid not in wanted:
                continue
            stored = db.store(IStream(kind, len(data), BytesIO(data))).hexsha
            stored = stored.decode() if isinstance(stored, bytes) else stored
            if stored != oid:  # pragma: no cover - hashing here and in gitdb must agree
                raise ToolError(f"object {oid} was stored as {stored}; please report this")


def _hash(kind: bytes, data: bytes) -> str:
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


def _tree_entries(data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """(mode, name, binary id) of each entry of a raw tree object."""
    entries = []
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        entries.append((data[pos:space], data[space + 1 : nul], data[nul + 1 : nul + 21]))
        pos = nul + 21
    return entries


def _tree_bytes(entries: Sequence[tuple[bytes, bytes, bytes]]) -> bytes:
    """A raw tree object, entries in git's order (a directory sorts as its name plus '/')."""
    ordered = sorted(entries, key=lambda e: e[1] + (b"/" if e[0] == _TREE_MODE else b""))
    return b"".join(mode + b" " + name + b"\0" + oid for mode, name, oid in ordered)


Key = tuple[str, tuple[str | None, ...]]
"""A commit's export content: the subproject's tree id and each root file's blob id (or None)."""


def _walk(root: Path, rev: str, path: str) -> tuple[list[tuple[str, list[str]]], dict[str, Key | None]]:
    """Every commit of ``rev`` (parents first) and its export content, in two batched git calls."""
    lines = git(root, "rev-list", "--topo-order", "--reverse", "--parents", rev).split("\n")
    commits = [(line[:40], line[41:].split()) for line in lines if line]
    queries = [f"{c}:{p}\n" for c, _ in commits for p in (path, *ROOT_FILES)]
    answers = git_bytes(root, "cat-file", "--batch-check=%(objectname) %(objecttype)", stdin="".join(queries).encode())
    found = [line.split()[0].decode() if line.endswith((b" tree", b" blob")) else None for line in answers.split(b"\n")]
    stride = 1 + len(ROOT_FILES)
    keys: dict[str, Key | None] = {}
    for i, (c, _) in enumerate(commits):
        subtree, *files = found[i * stride : (i + 1) * stride]
        keys[c] = None if subtree is None else (subtree, tuple(files))
    return commits, keys


@dataclass
class _Graph:
    """The images as nodes named by the monorepo commit that made them."""

    parents: dict[str, list[str]] = field(default_factory=dict)
    depth: dict[str, int] = field(default_factory=dict)
    key: dict[str, Key] = field(default_factory=dict)

    def add(self, node: str, parents: list[str], key: Key) -> None:
        self.parents[node] = parents
        self.depth[node] = 1 + max((self.depth[p] for p in parents), default=0)
        self.key[node] = key

    def is_ancestor(self, a: str, b: str) -> bool:
        """Whether node ``a`` is a proper ancestor of node ``b``."""
        floor = self.depth[a]
        todo, seen = list(self.parents[b]), set()
        while todo:
            node = todo.pop()
            if node == a:
                return True
            if node not in seen and self.depth[node] > floor:
                seen.add(node)
                todo.extend(self.parents[node])
        return False

    def reduce(self, candidates: list[str]) -> list[str]:
        unique = list(dict.fromkeys(candidates))
        return [n for n in unique if not any(self.is_ancestor(n, other) for other in unique if other != n)]


def rewrite(root: Path, path: str, rev: str = "HEAD") -> History:
    """The export of ``path`` at ``rev`` of the repository at ``root`` (nothing is written)."""
    if git(root, "rev-parse", "--is-shallow-repository").strip() == "true":
        # A truncated history would give other commit ids, not a shorter export.
        raise ToolError(f"{root} is a shallow clone; the export needs the whole history: git fetch --unshallow")
    commits, keys = _walk(root, rev, path)
    graph = _Graph()
    image: dict[str, str | None] = {}
    for c, parents in commits:
        key = keys[c]
        if key is None:
            image[c] = None
            continue
        candidates = graph.reduce([n for n in (image.get(p) for p in parents) if n is not None])
        if len(candidates) == 1 and graph.key[candidates[0]] == key:
            image[c] = candidates[0]
        else:
            graph.add(c, candidates, key)
            image[c] = c
    return _materialize(root, graph, image.get(commits[-1][0]) if commits else None)


def _materialize(root: Path, graph: _Graph, head_node: str | None) -> History:
    """Hash every image: compose its tree, rebuild its commit object."""
    nodes = list(graph.parents)  # insertion order is parents first
    subtrees = {graph.key[n][0] for n in nodes}
    raw = read_objects(root, [*nodes, *subtrees])
    objects: dict[str, tuple[bytes, bytes]] = {}
    trees: dict[Key, str] = {}
    ids: dict[str, str] = {}
    history = History([], None, objects)
    for node in nodes:
        key = graph.key[node]
        if key not in trees:
            trees[key] = _compose(raw[key[0]], key, objects)
        parents = [ids[p] for p in graph.parents[node]]
        headers, _, message = raw[node].partition(b"\n\n")
        kept = [h for h in headers.split(b"\n") if h.startswith(_KEPT_HEADERS)]
        oid, data = _commit(trees[key], parents, kept, add_trailer(message, MONOREPO_TRAILER, node))
        imported = strip_export_trailer(message)
        if imported:
            candidate, data_if_same = _commit(trees[key], parents, kept, imported[0])
            if candidate == imported[1]:
                oid, data = candidate, data_if_same
        objects[oid] = (b"commit", data)
        ids[node] = oid
        subject = message.split(b"\n", 1)[0].decode(errors="replace")
        history.commits.append(ExportCommit(oid, node, tuple(parents), trees[key], subject))
    history.head = ids[head_node] if head_node else None
    return history


def _compose(subtree: bytes, key: Key, objects: dict[str, tuple[bytes, bytes]]) -> str:
    """The export tree: the subproject's tree plus the root files it lacks."""
    entries = _tree_entries(subtree)
    names = {name for _, name, _ in entries}
    extra = [
        (b"100644", name.encode(), bytes.fromhex(blob))
        for name, blob in zip(ROOT_FILES, key[1], strict=True)
        if blob and name.encode() not in names
    ]
    if not extra:
        return key[0]
    data = _tree_bytes(entries + extra)
    oid = _hash(b"tree", data)
    objects[oid] = (b"tree", data)
    return oid


def _commit(tree: str, parents: list[str], headers: list[bytes], message: bytes) -> tuple[str, bytes]:
    lines = [f"tree {tree}".encode(), *(f"parent {p}".encode() for p in parents), *headers]
    data = b"\n".join(lines) + b"\n\n" + message
    return _hash(b"commit", data), data
