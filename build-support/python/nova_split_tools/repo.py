"""Git facts the tooling needs: revision ranges and what they changed (GitPython), trees at a revision."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import git

from nova_split_tools.errors import ToolError
from nova_split_tools.proc import git as run_git

__all__ = ["Change", "Repository", "tree_files", "worktree"]


@dataclass(frozen=True)
class Change:
    """One changed path. ``status`` is git's letter: A, M, D, R (``old_path`` set), T."""

    path: str
    status: str
    old_path: str | None = None


class Repository:
    """A git work tree, opened at its root."""

    def __init__(self, path: Path) -> None:
        try:
            self.git = git.Repo(path, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise ToolError(
                f"{path} is not inside a git repository; run from a nova-split clone or pass --repo"
            ) from None
        if self.git.working_tree_dir is None:
            raise ToolError(f"{path} is a bare repository; the tooling needs a work tree")
        self.root = Path(self.git.working_tree_dir)

    def resolve(self, rev: str) -> str:
        """The commit id of ``rev``, as git itself resolves it; an unknown ref is a one-line error.

        git's own ``rev-parse`` (not GitPython's reimplementation): it knows a shallow clone's
        boundary and every revision syntax (``HEAD@{1}``, ``:/message``, ``@{upstream}``); a tag is
        peeled to its commit, and a name for a tree or a blob (``main:``, ``HEAD:docs``) is refused.
        """
        if not rev or rev.startswith("-"):
            raise ToolError(f"unknown revision {rev!r}")
        oid = self._rev_parse(rev)
        if oid is None:
            hint = " (a shallow clone may lack it: git fetch --deepen=100, or --unshallow)" if self.is_shallow else ""
            raise ToolError(f"unknown revision {rev!r}{hint}")
        commit = self._rev_parse(f"{oid}^{{commit}}")
        if commit is None:  # a tree or a blob, or a tag of one
            peeled = self._rev_parse(f"{oid}^{{}}") or oid
            kind = str(self.git.git.cat_file("-t", peeled)).strip()
            raise ToolError(f"{rev!r} names a {kind}, not a commit; give a branch, a tag or a commit id")
        return commit

    def _rev_parse(self, rev: str) -> str | None:
        try:
            return str(self.git.git.rev_parse("--verify", "--quiet", "--end-of-options", rev)).strip() or None
        except git.GitCommandError:
            return None

    @property
    def is_shallow(self) -> bool:
        return (Path(self.git.git_dir) / "shallow").exists()

    def default_base(self, candidates: tuple[str, ...] = ("origin/main", "main")) -> str:
        """The merge base of HEAD with the main branch: what a branch's CI should compare against."""
        for ref in candidates:
            try:
                self.git.rev_parse(f"{ref}^{{commit}}")
            except (git.BadName, ValueError):
                continue
            return self.merge_base(ref, "HEAD")
        raise ToolError("no main branch found (tried origin/main, main); pass the base revision explicitly")

    def merge_base(self, a: str, b: str) -> str:
        bases = self.git.merge_base(self.resolve(a), self.resolve(b))
        if not bases:
            if self.is_shallow:
                raise ToolError(
                    f"{a} and {b} have no common ancestor in this shallow clone; "
                    "fetch more history (git fetch --deepen=200, or git fetch --unshallow) and retry"
                )
            raise ToolError(f"{a} and {b} have no common ancestor; pass an explicit base revision")
        return str(bases[0].hexsha)

    def dirty_paths(self) -> list[str]:
        """Tracked files with uncommitted changes, and untracked files not ignored."""
        changed = {d.a_path for d in self.git.index.diff(None)} | {d.a_path for d in self.git.index.diff("HEAD")}
        return sorted(p for p in changed | set(self.git.untracked_files) if p)

    def changes(self, base: str, head: str) -> list[Change]:
        """What ``base..head`` changed, with renames detected as git does."""
        diffs = self.git.commit(self.resolve(base)).diff(self.resolve(head), R=False, find_renames=True)
        out: list[Change] = []
        for d in diffs:
            status = (d.change_type or "M")[0]
            if status == "R":
                out.append(Change(path=str(d.b_path), status="R", old_path=str(d.a_path)))
            elif status == "D":
                out.append(Change(path=str(d.a_path), status="D"))
            else:
                out.append(Change(path=str(d.b_path or d.a_path), status=status))
        return sorted(out, key=lambda c: c.path)


def tree_files(repo: Repository, rev: str, prefix: str) -> dict[str, str]:
    """Every ``*.py`` under ``prefix`` at revision ``rev``, by path."""
    commit = repo.git.commit(repo.resolve(rev))
    try:
        tree = commit.tree / prefix
    except KeyError:
        return {}
    return {
        str(b.path): b.data_stream.read().decode("utf-8", "replace")
        for b in tree.traverse()
        if isinstance(b, git.Blob) and str(b.path).endswith(".py")
    }


@contextmanager
def worktree(root: Path, rev: str, tree: Path, *, force: bool = False) -> Iterator[Path]:
    """A detached work tree of ``rev`` at ``tree`` for the duration of the block, then removed.

    Removing it also ends a pantsd started in it (pantsd exits when its buildroot goes).
    """
    run_git(root, "worktree", "add", "--detach", *(["-f"] if force else []), str(tree), rev)
    try:
        yield tree
    finally:
        run_git(root, "worktree", "remove", "--force", str(tree))
