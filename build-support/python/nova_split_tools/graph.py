"""The build graph, as Pants infers it, file by file.

One ``pants peek ::`` gives every target with its sources and (inferred) dependencies; this
module turns that into file-level edges: for each file, the files whose targets depend on it.
Requirements files and lockfiles are in the graph too (a ``python_requirement`` depends on its
``requirements.txt`` and on its resolve's lockfile), so :meth:`Graph.resolves_reached` says which
resolves a change to them alters; :meth:`Graph.declared_in` says which files a BUILD file's
targets own.

It also holds what the tooling reads from other Pants runs: the graph of another revision
(:func:`graph_at`) and the test files a ``pants test`` run reports failed (:func:`failed_tests`).

The graph of a commit is cached per repository, in ``<git common dir>/nova-split/graphs/``: one
JSON file per commit, written atomically (a temporary file renamed into place), checked when
read (format version, commit, shape) and rebuilt when it does not check out. A work tree whose
imports do not resolve is read once per commit (the lenient read is slow, without the daemon).
Within one process, a tree read once is not read again (a release cut reads it several times).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import sys
import tempfile
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nova_split_tools.errors import ToolError
from nova_split_tools.proc import git, git_probe, run
from nova_split_tools.repo import Repository, worktree

__all__ = ["CACHE_FORMAT", "Graph", "cache_dir", "failed_tests", "graph_at", "load_graph", "run_pants"]

#: The cache file format; a file of another format is rebuilt.
CACHE_FORMAT = 3

_FAILED = re.compile(r"^✕ (\S+?)(?::\S*)? failed")


def run_pants(root: Path, args: Sequence[str], *, pantsd: bool = True) -> str:
    """Run ``./pants`` in ``root`` and return its stdout; a failure is a one-line ToolError."""
    if not (root / "pants").exists():
        raise ToolError(f"no ./pants in {root}; run the tooling inside a nova-split checkout")
    return run(
        [str(root / "pants"), *([] if pantsd else ["--no-pantsd"]), *args], root, what=f"./pants {' '.join(args)}"
    )


@dataclass
class Graph:
    """File-level dependency graph of one revision of the repository."""

    #: file -> the targets that own it
    owners: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: target -> its source files
    sources: dict[str, list[str]] = field(default_factory=dict)
    #: target -> targets that depend on it
    dependents: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: target -> its target type
    types: dict[str, str] = field(default_factory=dict)
    #: target -> the targets it depends on
    dependencies: dict[str, list[str]] = field(default_factory=dict)
    #: target -> its resolve (targets that have the field)
    resolves: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_peek(cls, targets: Iterable[Mapping[str, Any]]) -> Graph:
        graph = cls()
        for t in targets:
            address = t["address"]
            graph.types[address] = t["target_type"]
            graph.sources[address] = list(t.get("sources", []))
            for src in graph.sources[address]:
                graph.owners[src].add(address)
            graph.dependencies[address] = list(t.get("dependencies", []))
            for dep in graph.dependencies[address]:
                graph.dependents[dep].add(address)
            if isinstance(t.get("resolve"), str):
                graph.resolves[address] = t["resolve"]
        return graph

    def to_peek(self) -> list[dict[str, Any]]:
        """The graph in ``pants peek``'s shape (what :meth:`from_peek` reads), for caching."""
        return [
            {
                "address": a,
                "target_type": t,
                "sources": self.sources.get(a, []),
                "dependencies": self.dependencies.get(a, []),
                **({"resolve": self.resolves[a]} if a in self.resolves else {}),
            }
            for a, t in self.types.items()
        ]

    def reach(
        self, files: Iterable[str], avoid: Set[str] = frozenset(), *, through_packages: bool = True
    ) -> dict[str, tuple[str, ...]]:
        """Every file that transitively depends on ``files``, with the shortest chain to it.

        A chain is the sequence of files from a changed file to the dependent file, so a plan
        can say why (``objects/network.py -> nova_libvirt/guest_xml.py -> nova_libvirt/driver.py``).
        Files in ``avoid`` are neither reached nor passed through; without ``through_packages``
        neither is a ``python_distribution`` (a test that builds a wheel, through the wheel).
        """
        starts = list(files)
        chains: dict[str, tuple[str, ...]] = {f: (f,) for f in starts}
        queue: deque[tuple[str, tuple[str, ...]]] = deque(
            (owner, (f,)) for f in starts for owner in sorted(self.owners.get(f, ()))
        )
        seen: set[str] = set()
        while queue:
            target, chain = queue.popleft()
            if target in seen:
                continue
            seen.add(target)
            if not through_packages and self.types.get(target) == "python_distribution":
                continue
            own = self.sources.get(target, [])
            if len(own) == 1 and own[0] in avoid and own[0] not in chains:
                continue
            if len(own) == 1:  # a file's own target: the chain now reaches that file
                if chain[-1] != own[0]:
                    chain = (*chain, own[0])
                chains.setdefault(own[0], chain)
            queue.extend((dependent, chain) for dependent in sorted(self.dependents.get(target, ())))
        return chains

    def dependent_files(self, path: str) -> set[str]:
        """The files that depend on ``path`` directly (through targets owning several files, if any)."""
        out: set[str] = set()
        seen: set[str] = set()
        stack = [d for owner in self.owners.get(path, ()) for d in self.dependents.get(owner, ())]
        while stack:
            target = stack.pop()
            if target in seen:
                continue
            seen.add(target)
            own = self.sources.get(target, [])
            if len(own) == 1:
                if own[0] != path:
                    out.add(own[0])
                continue
            stack.extend(self.dependents.get(target, ()))
        return out

    def resolves_reached(self, files: Iterable[str]) -> dict[str, str]:
        """Resolve -> the file through which ``files`` change its requirements or its lockfile.

        A resolve is reached when a ``python_requirement`` of it depends, transitively, on one of
        ``files`` (its ``requirements.txt``, its lockfile, or a BUILD-declared source).
        """
        out: dict[str, str] = {}
        for f in files:
            seen: set[str] = set()
            stack = list(self.owners.get(f, ()))
            while stack:
                target = stack.pop()
                if target in seen:
                    continue
                seen.add(target)
                if self.types.get(target) == "python_requirement" and target in self.resolves:
                    out.setdefault(self.resolves[target], f)
                stack.extend(self.dependents.get(target, ()))
        return out

    def declared_in(self, directory: str) -> set[str]:
        """The files owned by targets that the BUILD file in ``directory`` declares ("" is the root)."""
        return {
            src
            for address, srcs in self.sources.items()
            if _build_dir(address, srcs) == directory and self.types.get(address) != "_lockfile"  # Pants' own
            for src in srcs
        }

    def build_dir(self, address: str) -> str:
        """The directory of the BUILD file that declares ``address``."""
        return _build_dir(address, self.sources.get(address, []))

    def closure(self, prefix: str) -> set[str]:
        """Every file that the targets under directory ``prefix`` depend on, transitively.

        A target elsewhere counts only if all its sources are under ``prefix``: the root's
        ``//:readmes`` owns every subproject's README, and must not pull all of them into one closure.
        """
        start = [t for t, srcs in self.sources.items() if srcs and all(s.startswith(prefix + "/") for s in srcs)]
        start += [t for t in self.types if t.startswith(prefix + ":") or t.startswith(prefix + "/")]
        seen: set[str] = set()
        stack = list(start)
        while stack:
            target = stack.pop()
            if target in seen:
                continue
            seen.add(target)
            stack.extend(self.dependencies.get(target, ()))
        return {path for t in seen for path in self.sources.get(t, ())}

    def is_test(self, path: str) -> bool:
        return any(self.types.get(t) == "python_test" for t in self.owners.get(path, ()))


def _build_dir(address: str, sources: list[str]) -> str:
    """The directory of the BUILD file that declares ``address``.

    ``nova-common:lib@resolve=xen`` is declared in ``nova-common/``; a file's own target
    ``nova-common/nova_common/compute/manager.py:../../lib`` in ``nova-common/`` too.
    """
    spec, _, name = address.lstrip("/").partition(":")
    if spec in sources or (not name and "." in posixpath.basename(spec)):
        directory = posixpath.dirname(spec)
        for _ in range(name.split("@")[0].split("#")[0].count("../")):
            directory = posixpath.dirname(directory)
        return directory
    return spec


def load_graph(root: Path, *, pantsd: bool = True, repo: Repository | None = None) -> Graph:
    """The graph of the work tree at ``root`` (one ``pants peek ::``).

    A tree whose imports do not resolve (a change deleted a module its importers still use) makes
    strict inference fail; then the graph is read again with unresolved imports ignored, so the
    plan still sees every edge that exists (the deleted side comes from the base revision). That
    read runs without the daemon and is slow: given ``repo`` and a clean work tree, its result
    is cached for the commit, so it costs one read per commit, not one per plan.
    """
    key = _tree_key(root)
    if key is not None and key in _LOADED:
        return _LOADED[key]
    graph = _load_graph(root, pantsd=pantsd, repo=repo)
    if key is not None:
        _LOADED[key] = graph
    return graph


#: Graphs this process has read, by :func:`_tree_key`: a command that reads the graph several
#: times (a release cut: its plan, then each generator before and after the version bump) runs
#: ``pants peek`` once per state of the tree.
_LOADED: dict[tuple[str, str, str], Graph] = {}


def _tree_key(root: Path) -> tuple[str, str, str] | None:
    """The work tree's state as Pants sees it: HEAD, and every changed or untracked (not ignored)
    file with a hash of its content; None outside a git work tree (no memo)."""
    head = git_probe(root, "rev-parse", "-q", "--verify", "HEAD")
    if head is None:
        return None
    try:  # not git_probe: it strips the listing's leading status column
        listing = git(root, "status", "--porcelain", "-z", "--untracked-files=all")
    except ToolError:
        return None
    digest = hashlib.sha256(listing.encode())
    for entry in listing.split("\0"):
        path = root / entry[3:] if len(entry) > 3 else None
        if path is not None and path.is_file():
            digest.update(path.read_bytes())
    return str(root.resolve()), head, digest.hexdigest()


def _load_graph(root: Path, *, pantsd: bool, repo: Repository | None) -> Graph:
    peek = ["peek", "--exclude-defaults", "::"]
    try:
        out = run_pants(root, peek, pantsd=pantsd)
    except ToolError:
        commit = repo.resolve("HEAD") if repo is not None and not repo.dirty_paths() else None
        cached = _read_cache(repo, commit) if repo is not None and commit else None
        if cached is not None:
            return cached
        out = run_pants(root, ["--python-infer-unowned-dependency-behavior=ignore", *peek], pantsd=False)
        graph = _parse_peek(out)
        if repo is not None and commit:
            _write_cache(repo, commit, graph)
        return graph
    return _parse_peek(out)


def _parse_peek(out: str) -> Graph:
    try:
        return Graph.from_peek(json.loads(out))
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise ToolError(f"could not read the build graph from 'pants peek': {e}") from None


def cache_dir(repo: Repository) -> Path:
    """Where the repository's graph cache lives: inside its git directory (shared by its worktrees)."""
    common = Path(repo.git.git.rev_parse("--git-common-dir"))
    if not common.is_absolute():
        common = repo.root / common
    return common / "nova-split" / "graphs"


def _read_cache(repo: Repository, commit: str) -> Graph | None:
    """The cached graph of ``commit``; None (with a note on stderr) if absent or not valid."""
    path = cache_dir(repo) / f"{commit}.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as e:  # ValueError: JSON, UTF-8, a 5000-digit number
        print(f"note: rebuilding the graph cache {path.name}: unreadable ({str(e)[:100]})", file=sys.stderr)
        return None
    ok = (
        isinstance(data, dict)
        and data.get("format") == CACHE_FORMAT
        and data.get("commit") == commit
        and isinstance(data.get("targets"), list)
        and data.get("digest") == _digest(data["targets"])  # not cut short or edited, even as valid JSON
        and all(
            isinstance(t, dict)
            and isinstance(t.get("address"), str)
            and isinstance(t.get("target_type"), str)
            and all(_paths(t.get(key, [])) for key in ("sources", "dependencies"))
            and isinstance(t.get("resolve", ""), str)
            for t in data["targets"]
        )
    )
    if not ok:
        print(f"note: rebuilding the graph cache {path.name}: not a graph of this commit", file=sys.stderr)
        return None
    return Graph.from_peek(data["targets"])


def _digest(targets: Sequence[object]) -> str:
    """The cache's check of its own targets (a file cut short or edited by hand still parses)."""
    return hashlib.sha256(json.dumps(targets, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _paths(value: object) -> bool:
    """Whether ``value`` is a list of strings (a target's sources or dependencies)."""
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def _write_cache(repo: Repository, commit: str, graph: Graph) -> None:
    """Write atomically: readers see the old file or the new one, never a partial one."""
    directory = cache_dir(repo)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{commit}.", suffix=".tmp", dir=directory)
        try:
            os.fchmod(fd, 0o644)  # as git writes its own files (mkstemp's are private)
            targets = graph.to_peek()
            with os.fdopen(fd, "w") as f:
                json.dump({"format": CACHE_FORMAT, "commit": commit, "digest": _digest(targets), "targets": targets}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, directory / f"{commit}.json")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:  # a read-only git directory: the plan is still right, only slower next time
        print(f"note: cannot write the graph cache in {directory}: {e.strerror}", file=sys.stderr)


def graph_at(repo: Repository, rev: str) -> Graph:
    """The graph of another revision, from a temporary worktree (cached per commit, per repository)."""
    commit = repo.resolve(rev)
    cached = _read_cache(repo, commit)
    if cached is not None:
        return cached
    with (
        tempfile.TemporaryDirectory(prefix="nova-split-graph-") as tmp,
        worktree(repo.root, commit, Path(tmp) / "tree") as tree,
    ):
        graph = load_graph(tree, pantsd=False)
    _write_cache(repo, commit, graph)
    return graph


def failed_tests(pants_output: str) -> set[str]:
    """The test files a ``pants test`` run reports as failed (its ``✕ <file>:<target> failed`` lines)."""
    return {m.group(1) for line in pants_output.splitlines() if (m := _FAILED.match(line.strip()))}
