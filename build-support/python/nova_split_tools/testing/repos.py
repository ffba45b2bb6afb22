"""Real git repositories for tests: create, identify, commit."""

import os
import subprocess
from pathlib import Path


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def identify(repo: Path) -> None:
    """A committer identity (the test sandbox has no global git config)."""
    git(repo, "config", "user.email", "t@example.invalid")
    git(repo, "config", "user.name", "t")


def new_repo(path: Path) -> Path:
    """An empty repository on branch main with a committer identity."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    identify(path)
    return path


def commit(repo: Path, message: str, files: dict[str, str | None], env: dict[str, str] | None = None) -> str:
    """Write (or, for None, delete) ``files`` and commit them; ``env`` sets e.g. GIT_AUTHOR_NAME."""
    for name, content in files.items():
        path = repo / name
        if content is None:
            git(repo, "rm", "-q", name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        git(repo, "add", name)
    subprocess.run(["git", "commit", "-qm", message], cwd=repo, check=True, env={**os.environ, **(env or {})})
    return git(repo, "rev-parse", "HEAD")
