"""Graph queries over targets in the shape `pants peek` gives."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nova_split_tools.graph import CACHE_FORMAT, Graph, _digest, cache_dir, graph_at, load_graph
from nova_split_tools.repo import Repository
from nova_split_tools.testing.graphs import LV, NC, XN, graph
from nova_split_tools.testing.repos import commit, git, new_repo


def test_closure_is_what_the_subprojects_targets_depend_on() -> None:
    closure = graph().closure("drivers/libvirt")
    assert {f"{LV}/driver.py", f"{LV}/guest_xml.py", f"{NC}/objects/network.py", f"{NC}/driver.py"} <= closure
    assert not any(p.startswith(XN) for p in closure)


def test_a_root_target_owning_every_readme_does_not_join_the_subprojects_closures() -> None:
    docs = {
        "address": "//:readmes",
        "target_type": "files",
        "sources": ["README.md", "drivers/libvirt/README.md", "drivers/xen/README.md"],
        "dependencies": [],
    }
    g = Graph.from_peek([*graph().to_peek(), docs])
    assert "drivers/xen/README.md" not in g.closure("drivers/libvirt")
    assert "README.md" not in g.closure("drivers/libvirt")


# The graph cache and the lenient read, in real git repositories whose ./pants is a script that
# prints a peek (it records each call; with STRICT_FAILS it fails the strict read, as Pants does on
# a dangling import).
PEEK = [{"address": "a.py:lib", "target_type": "python_source", "sources": ["a.py"], "dependencies": []}]
FAKE_PANTS = f"""#!/bin/sh
echo "$@" >> "LOG"
case "$*" in *unowned-dependency-behavior=ignore*) ;; *) [ -f "$(dirname "$0")/STRICT_FAILS" ] && exit 1;; esac
echo '{json.dumps(PEEK)}'
"""


@pytest.fixture
def fake(tmp_path: Path) -> Repository:
    root = new_repo(tmp_path / "repo")
    log = str(tmp_path / "calls.log")
    commit(root, "init", {"pants": FAKE_PANTS.replace("LOG", log), "a.py": "x = 1\n", ".gitignore": "STRICT_FAILS\n"})
    (root / "pants").chmod(0o755)
    git(root, "add", "pants")
    git(root, "commit", "-qm", "x", "--allow-empty")
    return Repository(root)


def calls(repo: Repository) -> list[str]:
    log = repo.root.parent / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_graph_at_is_cached_per_repository_inside_its_git_dir(fake: Repository) -> None:
    g = graph_at(fake, "HEAD")
    assert g.owners["a.py"] == {"a.py:lib"}
    cached = cache_dir(fake) / f"{fake.resolve('HEAD')}.json"
    assert cached.is_file() and cached.is_relative_to(fake.root / ".git")
    assert json.loads(cached.read_text())["format"] == CACHE_FORMAT
    assert cached.stat().st_mode & 0o777 == 0o644  # readable as git's own files are
    assert len(calls(fake)) == 1
    graph_at(fake, "HEAD")
    assert len(calls(fake)) == 1, "a second read of the same commit used Pants again"
    assert not [p for p in cached.parent.iterdir() if p.name.endswith(".tmp")]


def _edited(text: str, edit: Callable[[list[dict[str, Any]]], object]) -> str:
    data = json.loads(text)
    edit(data["targets"])
    return json.dumps(data)


def _redigested(text: str, edit: Callable[[list[dict[str, Any]]], object]) -> str:
    """Edited, with a digest that matches: only the check of each field's type can refuse it."""
    data = json.loads(text)
    edit(data["targets"])
    return json.dumps({**data, "digest": _digest(data["targets"])})


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: "\xff\xfe",  # not UTF-8 JSON
        lambda text: "1" * 5000,  # an integer past the interpreter's digit limit: ValueError
        lambda text: "[" * 200_000,  # nested past the recursion limit: RecursionError
        lambda text: json.dumps({"format": CACHE_FORMAT, "commit": "0" * 40, "targets": []}),  # another commit's
        lambda text: json.dumps({"format": 1, "targets": []}),  # an old format
        lambda text: json.dumps({"format": CACHE_FORMAT, "commit": "%s", "targets": [{"address": 1}]}),  # bad shape
        lambda text: _redigested(text, lambda t: t[0]["dependencies"].append(["x"])),  # a list, not an address
        lambda text: _redigested(text, lambda t: t[0]["sources"].append(None)),  # not a path
        lambda text: _redigested(text, lambda t: t[0].update(sources="a.py")),  # a string, not a list
        lambda text: _redigested(text, lambda t: t[0].update(resolve=["common"])),
        lambda text: _edited(text, lambda t: t.clear()),  # cut short, still valid JSON: the digest differs
        lambda text: _edited(text, lambda t: t[0].update(sources=["b.py"])),  # edited by hand
    ],
)
def test_an_unreadable_cache_is_rebuilt_with_a_note(
    fake: Repository, damage: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    graph_at(fake, "HEAD")
    cached = cache_dir(fake) / f"{fake.resolve('HEAD')}.json"
    cached.write_text(damage(cached.read_text()).replace("%s", fake.resolve("HEAD")))
    g = graph_at(fake, "HEAD")
    assert g.owners["a.py"] == {"a.py:lib"}
    assert "rebuilding the graph cache" in capsys.readouterr().err
    assert len(calls(fake)) == 2
    assert json.loads(cached.read_text())["commit"] == fake.resolve("HEAD")


def test_two_clones_do_not_share_a_cache(fake: Repository, tmp_path: Path) -> None:
    other_root = tmp_path / "other"
    git(fake.root, "clone", "-q", str(fake.root), str(other_root))
    other = Repository(other_root)
    assert cache_dir(other) != cache_dir(fake)
    graph_at(fake, "HEAD")
    assert not cache_dir(other).exists()


def test_a_dangling_import_costs_one_lenient_read_per_commit(fake: Repository) -> None:
    (fake.root / "STRICT_FAILS").write_text("")
    for _ in range(3):
        g = load_graph(fake.root, repo=fake)
        assert g.owners["a.py"] == {"a.py:lib"}
    lenient = [c for c in calls(fake) if "ignore" in c]
    assert len(lenient) == 1, calls(fake)
    commit(fake.root, "next", {"a.py": "x = 2\n"})
    load_graph(fake.root, repo=fake)
    assert len([c for c in calls(fake) if "ignore" in c]) == 2  # a new commit: one more


def test_a_dirty_tree_is_never_served_from_the_cache(fake: Repository) -> None:
    (fake.root / "STRICT_FAILS").write_text("")
    load_graph(fake.root, repo=fake)
    (fake.root / "a.py").write_text("x = 3\n")
    load_graph(fake.root, repo=fake)
    assert len([c for c in calls(fake) if "ignore" in c]) == 2


def test_a_read_only_cache_directory_still_plans(fake: Repository, capsys: pytest.CaptureFixture[str]) -> None:
    directory = cache_dir(fake)
    directory.parent.mkdir(parents=True)
    directory.write_text("not a directory")
    assert graph_at(fake, "HEAD").owners["a.py"] == {"a.py:lib"}
    assert "cannot write the graph cache" in capsys.readouterr().err


def test_one_process_reads_each_state_of_the_tree_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A release cut loads the graph for its plan and each generator: one Pants read per tree state."""
    from nova_split_tools import graph as graph_module

    root = new_repo(tmp_path / "repo")
    commit(root, "base", {"a.py": "A = 1\n"})
    reads: list[str] = []

    def fake_load(r: Path, **_: object) -> Graph:
        reads.append((r / "a.py").read_text())
        return Graph()

    monkeypatch.setattr(graph_module, "_load_graph", fake_load)
    first = load_graph(root)
    assert load_graph(root) is first and len(reads) == 1, "the same tree was read twice"
    (root / "a.py").write_text("A = 2\n")  # a changed file
    changed = load_graph(root)
    assert changed is not first and reads == ["A = 1\n", "A = 2\n"]
    (root / "a.py").write_text("A = 3\n")  # the same file, changed again: a new state
    load_graph(root)
    (root / "b.py").write_text("B = 1\n")  # an untracked file Pants would see
    load_graph(root)
    commit(root, "more", {"a.py": "A = 3\n", "b.py": "B = 1\n"})  # a new HEAD, clean tree
    load_graph(root)
    assert len(reads) == 5, reads
