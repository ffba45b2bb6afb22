"""The export's history rewrite: a subproject's history in the standalone layout, as a pure function of history.

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
- A commit brought back from an export (:mod:`nova_split_tools.import_commits`) ends with an
  ``Export-Commit: <E>`` trailer; when the commit rebuilt without that trailer hashes to ``E``
  its image is ``E`` itself, so a round trip keeps the export's commit ids.

An image depends only on the commit's own history, so the same history always gives the same ids
and exporting again after new commits only appends. Everything is read with three batched git
calls (``rev-list --parents``, ``cat-file --batch-check`` for every commit's subtree and
``cat-file --batch`` for the commits and trees rewritten); objects are hashed here and written
only on request, through GitPython's loose object database. A :class:`Snapshot` of a run, kept
beside the export, lets the next run read only the commits since (same result, less reading).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import ClassVar

# GitPython re-exports gitdb's object database here without listing it in an __all__.
from git.db import IStream, LooseObjectDB  # type: ignore[attr-defined]

from nova_split_tools.errors import ToolError
from nova_split_tools.git_objects import (
    MONOREPO_TRAILER,
    add_trailer,
    commit_object,
    hash_object,
    read_objects,
    split_commit,
    strip_export_trailer,
    tree_bytes,
    tree_entries,
)
from nova_split_tools.proc import git, git_bytes, git_probe

__all__ = ["ROOT_FILES", "ExportCommit", "History", "Snapshot", "rewrite"]

ROOT_FILES: tuple[str, ...] = ("LICENSE",)
"""Files of the monorepo root that the standalone repository carries (when the subproject has none)."""


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
    """The commits and trees this run built: id -> (type, content)."""
    snapshot: Snapshot | None = field(default=None, repr=False)
    """This run's state, for :meth:`Snapshot.save`: the next run walks only newer commits."""
    walked: int = 0
    """How many monorepo commits this run read (all of history, or those since the snapshot)."""

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


Key = tuple[str, tuple[str | None, ...]]
"""A commit's export content: the subproject's tree id and each root file's blob id (or None)."""


def _walk(
    root: Path, rev: str, path: str, since: str | None
) -> tuple[list[tuple[str, list[str]]], dict[str, Key | None]]:
    """The commits of ``rev`` not in ``since`` (parents first) and their export content, in two git calls."""
    lines = git(
        root, "rev-list", "--topo-order", "--reverse", "--parents", rev, *([f"^{since}"] if since else [])
    ).split("\n")
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


def rewrite(root: Path, path: str, rev: str = "HEAD", since: Snapshot | None = None) -> History:
    """The export of ``path`` at ``rev`` of the repository at ``root`` (nothing is written).

    ``since``, a snapshot of an earlier run, spares reading the history it covered when its
    revision is an ancestor of ``rev``; the result is the same either way.
    """
    if git(root, "rev-parse", "--is-shallow-repository").strip() == "true":
        # A truncated history would give other commit ids, not a shorter export.
        raise ToolError(f"{root} is a shallow clone; the export needs the whole history: git fetch --unshallow")
    tip = git(root, "rev-parse", f"{rev}^{{commit}}").strip()
    if since is not None and (since.path != path or not _is_ancestor(root, since.rev, tip)):
        since = None
    commits, keys = _walk(root, tip, path, since.rev if since else None)
    graph = since.graph if since else _Graph()
    image: dict[str, str | None] = dict(since.images) if since else {}
    built = set(graph.parents)
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
    ids = dict(since.ids) if since else {}
    earlier = list(since.commits) if since else []
    history = _materialize(root, graph, [n for n in graph.parents if n not in built], ids)
    history.commits[:0] = earlier
    head = image.get(tip)
    history.head = ids[head] if head else None
    history.snapshot = Snapshot(path, tip, image, graph, history.commits, ids)
    history.walked = len(commits)
    return history


def _is_ancestor(root: Path, a: str, b: str) -> bool:
    return git_probe(root, "merge-base", "--is-ancestor", a, b) is not None


def _materialize(root: Path, graph: _Graph, nodes: list[str], ids: dict[str, str]) -> History:
    """Hash the images ``nodes`` (parents first): compose each tree, rebuild each commit object."""
    subtrees = {graph.key[n][0] for n in nodes}
    raw = read_objects(root, [*nodes, *subtrees])
    objects: dict[str, tuple[bytes, bytes]] = {}
    trees: dict[Key, str] = {}
    history = History([], None, objects)
    for node in nodes:
        key = graph.key[node]
        if key not in trees:
            trees[key] = _compose(raw[key[0]], key, objects)
        parents = [ids[p] for p in graph.parents[node]]
        kept, message = split_commit(raw[node])
        oid, data = commit_object(trees[key], parents, kept, add_trailer(message, MONOREPO_TRAILER, node))
        imported = strip_export_trailer(message)
        if imported:
            candidate, data_if_same = commit_object(trees[key], parents, kept, imported[0])
            if candidate == imported[1]:
                oid, data = candidate, data_if_same
        objects[oid] = (b"commit", data)
        ids[node] = oid
        subject = message.split(b"\n", 1)[0].decode(errors="replace")
        history.commits.append(ExportCommit(oid, node, tuple(parents), trees[key], subject))
    return history


@dataclass
class Snapshot:
    """An export run's state, saved beside the export so the next run reads only newer commits.

    Only an accelerator: ``rewrite`` gives the same result with or without it, and ignores one
    that is unreadable, of another path, or of a revision that is not an ancestor of the new one.
    """

    path: str
    rev: str
    images: dict[str, str | None]
    graph: _Graph
    commits: list[ExportCommit]
    ids: dict[str, str]

    FORMAT: ClassVar[int] = 1

    def save(self, file: Path) -> None:
        """Write the snapshot to ``file`` atomically (a crash leaves the old one or none)."""
        by_id = {c.commit: c for c in self.commits}
        nodes = []
        for n, parents in self.graph.parents.items():
            subtree, files = self.graph.key[n]
            exported = by_id[self.ids[n]]
            nodes.append(
                [n, parents, subtree, [f or "" for f in files], exported.commit, exported.tree, exported.subject]
            )
        data = {
            "format": self.FORMAT,
            "path": self.path,
            "root_files": list(ROOT_FILES),
            "rev": self.rev,
            "images": {c: n or "" for c, n in self.images.items()},
            "nodes": nodes,
        }
        scratch = file.with_name(file.name + ".tmp")
        scratch.write_text(json.dumps(data, separators=(",", ":")))
        os.replace(scratch, file)

    @classmethod
    def load(cls, file: Path, path: str) -> Snapshot | None:
        """The snapshot in ``file`` if it is one for ``path`` in this format; None otherwise."""
        try:
            data = json.loads(file.read_text())
            if (data["format"], data["path"], data["root_files"]) != (cls.FORMAT, path, list(ROOT_FILES)):
                return None
            graph, ids, commits = _Graph(), {}, []
            for node, parents, subtree, files, oid, tree, subject in data["nodes"]:
                graph.add(node, parents, (subtree, tuple(f or None for f in files)))
                ids[node] = oid
                commits.append(ExportCommit(oid, node, tuple(ids[p] for p in parents), tree, subject))
            images = {c: n or None for c, n in data["images"].items()}
            return cls(path, data["rev"], images, graph, commits, ids)
        except (OSError, ValueError, KeyError, TypeError):
            return None


def _compose(subtree: bytes, key: Key, objects: dict[str, tuple[bytes, bytes]]) -> str:
    """The export tree: the subproject's tree plus the root files it lacks."""
    entries = tree_entries(subtree)
    names = {name for _, name, _ in entries}
    extra = [
        (b"100644", name.encode(), bytes.fromhex(blob))
        for name, blob in zip(ROOT_FILES, key[1], strict=True)
        if blob and name.encode() not in names
    ]
    if not extra:
        return key[0]
    data = tree_bytes(entries + extra)
    oid = hash_object(b"tree", data)
    objects[oid] = (b"tree", data)
    return oid
