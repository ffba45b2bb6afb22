"""A synthetic nova-split history, written by one ``git fast-import``: the export benchmark's input.

The tree is the monorepo's shape: root files (``pants.toml`` registering nova-common and the five
drivers in ``[python.resolves]``, ``LICENSE``, ``README.md``, tooling under ``build-support/``),
``nova-common/`` and ``drivers/<name>/``, each with its package, BUILD, ``subproject.toml`` and
lockfile. The commit mix: most commits touch one driver, some only nova-common, some several
subprojects at once (a few every subproject, like a driver API change), a few only root files;
files are added, deleted, renamed within a subproject and moved between subprojects (a helper
promoted to nova-common, a core module handed to a driver). Feature branches fork from main and
come back through non-fast-forward merges; when a feature works on the focus driver, main touches
that driver too before the merge, and a path changed on both sides gets a resolution that differs
from either parent.

Everything comes from one ``random.Random(seed)`` and fixed dates (from 2014-01-01 UTC), so a
seed always gives the same commit ids. Contents are ASCII (fast-import counts bytes).
"""

from __future__ import annotations

import posixpath
import random
from dataclasses import dataclass, field
from pathlib import Path

from nova_split_tools.proc import git, run
from nova_split_tools.synthetic_tree import (
    CORE_DIR,
    DRIVERS,
    LARGE_SUFFIX,
    NEVER_CHANGED,
    NOUNS,
    VERBS,
    WORDS,
    Change,
    Files,
    Scale,
    chunk,
    initial_chunks,
    initial_files,
    large_file,
    owner,
    package_dir,
    protected,
    scale_up,
    stem,
    subproject_dir,
)

__all__ = ["CORE_DIR", "DRIVERS", "Scale", "SyntheticHistory"]

EPOCH = 1388534400  # 2014-01-01T00:00:00Z
NULL = "0" * 40
# name, email, timezone; the first four also merge and apply others' changes (the core team).
PEOPLE = (
    ("Mira Kovac", "mira@example.invalid", "+0100"),
    ("Tomas Herrera", "tomas@example.invalid", "-0500"),
    ("Aiko Tanaka", "aiko@example.invalid", "+0900"),
    ("Owen Price", "owen@example.invalid", "+0000"),
    ("Lena Vogt", "lena@example.invalid", "+0200"),
    ("Ravi Menon", "ravi@example.invalid", "+0530"),
    ("Sam Okafor", "sam@example.invalid", "+0100"),
    ("Jo Lindgren", "jo@example.invalid", "-0800"),
)
CORE_TEAM = 4


@dataclass
class _Branch:
    ref: str
    tip: str | None  # a fast-import mark (":12") or a commit id
    files: Files
    focus: str = ""
    base: Files = field(default_factory=dict)  # main's files where the feature forked
    length: int = 0
    made: int = 0


class SyntheticHistory:
    """Appends commits to ``main`` of a repository; call :meth:`write` repeatedly to grow it."""

    def __init__(self, seed: int, focus: str = "xen", scale: Scale | None = None) -> None:
        self.rng = random.Random(seed)
        self.focus = focus
        self.scale = scale or Scale()
        self.main = _Branch("refs/heads/main", None, {})
        self.clock = EPOCH
        self.marks = 0
        self.serial = 0
        self.features = 0
        self.touch_focus_next = False

    # -- writing --------------------------------------------------------------------------------

    def write(self, root: Path, commits: int) -> None:
        """Append ``commits`` commits to ``main`` of ``root`` (created if missing) in one fast-import.

        The work tree is then checked out at the new tip: ``registered`` reads ``pants.toml``
        from it and ``git subtree`` wants the prefix to exist there.
        """
        if not (root / ".git").exists():
            root.mkdir(parents=True, exist_ok=True)
            git(root, "init", "-q", "-b", "main")
        run(["git", "fast-import", "--quiet"], root, stdin=self.stream(commits), what="git fast-import")
        self.main.tip = git(root, "rev-parse", "refs/heads/main").strip()
        git(root, "reset", "-q", "--hard", self.main.tip)

    def stream(self, commits: int) -> str:
        """The fast-import stream for ``commits`` more commits on main (the root commit counts)."""
        out = ["feature done\n"]
        made = 0
        if self.main.tip is None:
            self._root_commit(out)
            made = 1
        open_: list[_Branch] = []
        while made < commits:
            left = commits - made
            r = self.rng.random()
            ready = [b for b in open_ if b.made >= b.length]
            if left <= len(open_) or (ready and r < 0.3):
                branch = ready[0] if ready else open_[0]
                open_.remove(branch)
                self._merge(out, branch)
            elif 0.3 <= r < 0.34 and len(open_) < 2 and left >= len(open_) + 2:
                open_.append(self._start_feature(out))
            elif 0.34 <= r < 0.6 and any(b.made < b.length for b in open_):
                branch = self.rng.choice([b for b in open_ if b.made < b.length])
                self._feature_commit(out, branch)
            else:
                self._main_commit(out)
            made += 1
        out.append("done\n")
        return "".join(out)

    # -- commit kinds ---------------------------------------------------------------------------

    def _root_commit(self, out: list[str]) -> None:
        self.main.files = initial_files(self.rng)
        if self.scale:
            scale_up(self.rng, self.main.files, self.scale)
        changes: list[Change] = [("M", path) for path in sorted(self.main.files)]
        self._emit(out, self.main, "Import nova-split: nova-common and five drivers", changes, person=0)

    def _main_commit(self, out: list[str]) -> None:
        if self.touch_focus_next:
            self.touch_focus_next = False
            subject, changes = self._one_subproject(self.main.files, self.focus)
        else:
            subject, changes = self._mixed(self.main.files)
        self._emit(out, self.main, subject, changes)

    def _start_feature(self, out: list[str]) -> _Branch:
        self.features += 1
        focus = self.rng.choice([*DRIVERS, *DRIVERS, self.focus, "common"])
        branch = _Branch(
            f"refs/heads/topic/{focus}-{self.features}",
            self.main.tip,
            dict(self.main.files),
            focus=focus,
            base=dict(self.main.files),
            length=self.rng.randint(2, 8),
        )
        if focus == self.focus:
            self.touch_focus_next = True  # main touches the focus driver before this one merges
        self._feature_commit(out, branch)
        return branch

    def _feature_commit(self, out: list[str], branch: _Branch) -> None:
        if self.rng.random() < 0.85:
            subject, changes = self._one_subproject(branch.files, branch.focus)
        else:
            subject, changes = self._mixed(branch.files)
        self._emit(out, branch, subject, changes)
        branch.made += 1

    def _merge(self, out: list[str], branch: _Branch) -> None:
        """A non-fast-forward merge into main; a path changed on both sides is resolved by hand."""
        ours, theirs, merged = self.main.files, branch.files, {}
        for path in sorted(set(branch.base) | set(ours) | set(theirs)):
            base, o, t = branch.base.get(path), ours.get(path), theirs.get(path)
            if o == t or t == base:
                result = o
            elif o == base:
                result = t
            elif o is None or t is None:
                result = o if t is None else t  # modified on one side, deleted on the other: keep it
            else:
                result = o + tuple(c for c in t if c not in o)
            if result is not None:
                merged[path] = result
        changes: list[Change] = [("M", p) for p in sorted(merged) if merged[p] != ours.get(p)]
        changes += [("D", p) for p in sorted(set(ours) - set(merged))]
        self.main.files = merged
        name = branch.ref.removeprefix("refs/heads/")
        self._emit(
            out, self.main, f"Merge branch '{name}'", changes, person=self.rng.randrange(CORE_TEAM), merge=branch
        )
        out.append(f"reset {branch.ref}\nfrom {NULL}\n\n")  # delete the merged branch

    # -- changes --------------------------------------------------------------------------------

    def _mixed(self, files: Files) -> tuple[str, list[Change]]:
        r = self.rng.random()
        if r < 0.62:
            return self._one_subproject(files, self.rng.choice(DRIVERS))
        if r < 0.80:
            return self._one_subproject(files, "common")
        if r < 0.95:
            names = ["common", *DRIVERS] if r < 0.83 else self.rng.sample(["common", *DRIVERS], self.rng.randint(2, 3))
            changes: list[Change] = []
            for name in names:
                changes += self._modify(files, [p for p in files if p.startswith(package_dir(name) + "/")], 1)
            what = "every subproject" if len(names) == 6 else " and ".join(sorted(names))
            return f"{self.rng.choice(VERBS).capitalize()} {self.rng.choice(NOUNS)} across {what}", changes
        tooling = [p for p in files if "/" not in p or p.startswith("build-support/")]
        return f"Tooling: {self.rng.choice(VERBS)} {self.rng.choice(NOUNS)}", self._modify(files, tooling, 1)

    def _one_subproject(self, files: Files, name: str) -> tuple[str, list[Change]]:
        """A commit inside one subproject: mostly edits, sometimes an add, delete, rename or move."""
        top, pkg = subproject_dir(name) + "/", package_dir(name)
        mine = [p for p in files if p.startswith(top)]
        movable = [p for p in mine if p.endswith(".py") and not protected(p)]
        prefix, r = ("nova-common" if name == "common" else name), self.rng.random()
        if self.scale.large_every and name != "common" and self.rng.randrange(self.scale.large_every) < 2:
            large = sorted(p for p in mine if p.endswith(LARGE_SUFFIX))
            if large and self.rng.random() < 0.5:
                del files[large[0]]
                return f"{prefix}: drop the {posixpath.basename(large[0])} fixture", [("D", large[0])]
            path = f"{top}tests/fixtures/{self.rng.choice(WORDS)}-{self._next()}{LARGE_SUFFIX}"
            files[path] = large_file(self.rng, self.scale)
            return f"{prefix}: add the {posixpath.basename(path)} fixture", [("M", path)]
        if r < 0.06:
            path = self._new_path(files, pkg, self.rng.choice(WORDS))
            files[path] = initial_chunks(self.rng, path, self._next())
            return f"{prefix}: add {posixpath.basename(path)}", [("M", path)]
        if r < 0.10 and len(movable) > 2:
            path = self.rng.choice(movable)
            del files[path]
            return f"{prefix}: remove unused {posixpath.basename(path)}", [("D", path)]
        if r < 0.16 and movable:
            old = self.rng.choice(movable)
            if self.rng.random() < 0.5:
                new = self._new_path(files, f"{pkg}/{self.rng.choice(WORDS)}", stem(old))  # into a subpackage
            else:
                new = self._new_path(files, posixpath.dirname(old), self.rng.choice(WORDS))
            files[new] = files.pop(old)
            return f"{prefix}: move {posixpath.basename(old)} to {posixpath.relpath(new, top)}", [("R", old, new)]
        if r < 0.18:
            other = self.rng.choice([d for d in DRIVERS if d != name]) if name == "common" else "common"
            there = [p for p in files if p.startswith(package_dir(other) + "/") and p.endswith(".py")]
            there = [p for p in there if not protected(p)]
            src, dest_pkg = (movable, package_dir(other)) if self.rng.random() < 0.5 else (there, pkg)
            if src:
                old = self.rng.choice(src)
                new = self._new_path(files, dest_pkg, stem(old))
                files[new] = files.pop(old)
                return f"Move {posixpath.basename(old)} from {owner(old)} to {owner(new)}", [("R", old, new)]
        count = self.rng.choice((1, 1, 1, 2, 2, 3))
        return f"{prefix}: {self.rng.choice(VERBS)} {self.rng.choice(NOUNS)}", self._modify(files, mine, count)

    def _modify(self, files: Files, candidates: list[str], count: int) -> list[Change]:
        candidates = sorted(p for p in candidates if p not in NEVER_CHANGED and not p.endswith(LARGE_SUFFIX))
        changes: list[Change] = []
        for path in self.rng.sample(candidates, min(count, len(candidates))):
            chunks = list(files[path])
            r, at = self.rng.random(), self.rng.randrange(1, len(chunks) + 1)
            if r < 0.45 and len(chunks) > 1:
                chunks[min(at, len(chunks) - 1)] = chunk(self.rng, path, self._next())
            elif r < 0.8 or len(chunks) < 4:
                chunks.insert(at, chunk(self.rng, path, self._next()))
            else:
                del chunks[min(at, len(chunks) - 1)]
            files[path] = tuple(chunks)
            changes.append(("M", path))
        return changes

    # -- output ---------------------------------------------------------------------------------

    def _emit(
        self,
        out: list[str],
        branch: _Branch,
        subject: str,
        changes: list[Change],
        *,
        person: int | None = None,
        merge: _Branch | None = None,
    ) -> None:
        self.marks += 1
        self.clock += self.rng.randint(600, 4 * 3600)
        author = PEOPLE[self.rng.randrange(len(PEOPLE)) if person is None else person]
        committer = author if self.rng.random() < 0.7 else PEOPLE[self.rng.randrange(CORE_TEAM)]
        authored = self.clock - self.rng.randint(0, 3 * 3600)
        message = subject + "\n"
        if merge is None and self.rng.random() < 0.5:
            message += f"\nWhy: {self.rng.choice(NOUNS)} in {self.rng.choice(WORDS)} needed attention.\n"
        if merge is None:
            message += f"\nChange-Id: I{self.rng.getrandbits(160):040x}\n"
        out.append(f"commit {branch.ref}\nmark :{self.marks}\n")
        out.append(f"author {author[0]} <{author[1]}> {authored} {author[2]}\n")
        out.append(f"committer {committer[0]} <{committer[1]}> {self.clock} {committer[2]}\n")
        out.append(f"data {len(message)}\n{message}")
        if branch.tip is not None:
            out.append(f"from {branch.tip}\n")
        if merge is not None:
            out.append(f"merge {merge.tip}\n")
        for change in changes:
            if change[0] == "M":
                text = "".join(branch.files[change[1]])
                out.append(f"M 100644 inline {change[1]}\ndata {len(text)}\n{text}\n")
            else:
                out.append(" ".join(change) + "\n")
        out.append("\n")
        branch.tip = f":{self.marks}"

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    def _new_path(self, files: Files, directory: str, stem: str) -> str:
        path = f"{directory}/{stem}.py"
        return path if path not in files else f"{directory}/{stem}_{self._next()}.py"
