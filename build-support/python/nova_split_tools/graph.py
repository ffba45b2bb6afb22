"""The build graph, as Pants infers it, file by file.

One ``pants peek ::`` gives every target with its sources and (inferred) dependencies; this
module turns that into file-level edges: for each file, the files whose targets depend on it.
It also holds what the tooling reads from other Pants runs: the graph of another revision
(:func:`graph_at`) and the test files a ``pants test`` run reports failed (:func:`failed_tests`).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nova_split_tools.errors import ToolError
from nova_split_tools.proc import run
from nova_split_tools.repo import Repository, worktree

__all__ = ["Graph", "failed_tests", "graph_at", "load_graph", "run_pants"]

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
        return graph

    def to_peek(self) -> list[dict[str, Any]]:
        """The graph in ``pants peek``'s shape (what :meth:`from_peek` reads), for caching."""
        return [
            {
                "address": a,
                "target_type": t,
                "sources": self.sources.get(a, []),
                "dependencies": self.dependencies.get(a, []),
            }
            for a, t in self.types.items()
        ]

    def reach(self, files: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Every file that transitively depends on ``files``, with the shortest chain to it.

        A chain is the sequence of files from a changed file to the dependent file, so a plan
        can say why (``objects/network.py -> nova_libvirt/guest_xml.py -> nova_libvirt/driver.py``).
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
            own = self.sources.get(target, [])
            if len(own) == 1:  # a file's own target: the chain now reaches that file
                if chain[-1] != own[0]:
                    chain = (*chain, own[0])
                chains.setdefault(own[0], chain)
            queue.extend((dependent, chain) for dependent in sorted(self.dependents.get(target, ())))
        return chains

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


def load_graph(root: Path, *, pantsd: bool = True) -> Graph:
    """The graph of the work tree at ``root`` (one ``pants peek ::``).

    A tree whose imports do not resolve (a change deleted a module its importers still use) makes
    strict inference fail; then the graph is read again with unresolved imports ignored, so the
    plan still sees every edge that exists (the deleted side comes from the base revision).
    """
    peek = ["peek", "--exclude-defaults", "::"]
    try:
        out = run_pants(root, peek, pantsd=pantsd)
    except ToolError:
        out = run_pants(root, ["--python-infer-unowned-dependency-behavior=ignore", *peek], pantsd=False)
    try:
        return Graph.from_peek(json.loads(out))
    except (json.JSONDecodeError, KeyError) as e:
        raise ToolError(f"could not read the build graph from 'pants peek': {e}") from None


def graph_at(repo: Repository, rev: str) -> Graph:
    """The graph of another revision, from a temporary worktree (cached per commit)."""
    commit = repo.resolve(rev)
    cache = Path.home() / ".cache" / "nova-split" / "graphs" / f"{commit}.json"
    if cache.exists():
        return Graph.from_peek(json.loads(cache.read_text()))
    with (
        tempfile.TemporaryDirectory(prefix="nova-split-graph-") as tmp,
        worktree(repo.root, commit, Path(tmp) / "tree") as tree,
    ):
        graph = load_graph(tree, pantsd=False)
        out = json.dumps(graph.to_peek())
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(out)
    return graph


def failed_tests(pants_output: str) -> set[str]:
    """The test files a ``pants test`` run reports as failed (its ``✕ <file>:<target> failed`` lines)."""
    return {m.group(1) for line in pants_output.splitlines() if (m := _FAILED.match(line.strip()))}
