"""The audit's journal: every finished mutation as one JSON line, so a long audit can stop and go on.

The full audit takes hours (``docs/audit.md``). With ``--journal FILE`` each mutation's outcome is
appended to FILE as soon as it is classified (written and synced before the next one starts). A
later run of the same commit and seed, with the same FILE, takes the recorded outcomes as they are
and runs only the mutations still missing; its summary counts both. Runs may differ in ``--kind``,
``--path`` and ``--sample``, so one journal can gather an audit done in parts.

The first line names the commit and the seed; a journal of another commit or seed is refused
(its results would not be this tree's). A line cut short by a kill (SIGKILL, a full disk) is
dropped when the journal is opened again. One audit at a time may use a journal (a lock on it).
``nova-split audit --report FILE`` reads one (:func:`read_journal`) without running anything, also
while an audit appends to it: the figures of a committed journal can be had again at any commit.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from nova_split_tools.errors import ToolError

__all__ = ["Journal", "MutationKey", "open_journal", "read_journal"]

#: A mutation's identity within one commit and seed: kind, path, operator, description (which
#: names the line and the edit).
MutationKey = tuple[str, str, str, str]

_FORMAT = 1


@dataclass
class Journal:
    """An open journal: what it recorded, and where to append (locked until :meth:`close`)."""

    path: Path
    commit: str
    seed: int
    recorded: dict[MutationKey, dict[str, Any]] = field(default_factory=dict)
    _file: IO[str] | None = None

    def record(self, key: MutationKey, outcome: Any) -> None:
        """Append one finished mutation (``outcome``: a dataclass) and sync it to disk."""
        assert self._file is not None, "the journal is closed"
        data = asdict(outcome)
        self._file.write(json.dumps({"mutation": list(key), "outcome": data}, sort_keys=True) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self.recorded[key] = data

    def close(self) -> None:
        if self._file is not None:
            self._file.close()  # releases the lock
            self._file = None


def open_journal(path: Path, commit: str, seed: int) -> Journal:
    """Open (creating if new) the journal at ``path`` for ``commit`` and ``seed``; locked for this run.

    Raises :class:`ToolError` (one line saying how to go on) when another audit holds it, when it
    belongs to another commit or seed, or when a line other than the last is damaged.
    """
    try:
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115  (kept open, and locked, until close)
    except OSError as e:
        raise ToolError(f"--journal {path}: {e.strerror or e}; give a file in a writable directory") from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ToolError(f"--journal {path} is in use by another audit; wait for it, or give another file") from None
    try:
        journal = _read(handle, path, commit, seed)
    except BaseException:
        handle.close()
        raise
    journal._file = handle
    return journal


def _read(handle: IO[str], path: Path, commit: str, seed: int) -> Journal:
    handle.seek(0)
    text = handle.read()
    if text and not text.endswith("\n"):  # the last line was cut short by a kill: drop it
        text = text[: text.rfind("\n") + 1]
        handle.truncate(len(text.encode("utf-8")))
    journal = Journal(path, commit, seed)
    lines = text.splitlines()
    if not lines:
        handle.write(json.dumps({"journal": _FORMAT, "commit": commit, "seed": seed}) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
        return journal
    fix = "give another --journal, or remove it to start over"
    head = _parse(lines, journal.recorded, f"--journal {path}", fix)
    if (head.get("commit"), head.get("seed")) != (commit, seed):
        raise ToolError(
            f"--journal {path} records the audit of commit {str(head.get('commit'))[:12]} with seed "
            f"{head.get('seed')}, not {commit[:12]} with seed {seed}; {fix}"
        )
    return journal


def read_journal(path: Path) -> Journal:
    """The journal at ``path`` as it stands, read only (an audit may be appending to it).

    Its commit and seed are the ones it names; a last line still being written is left out.
    Raises :class:`ToolError` (one line) when it cannot be read or is not a journal.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ToolError(f"--report {path}: {getattr(e, 'strerror', None) or e}; give an audit journal") from None
    lines = text[: text.rfind("\n") + 1].splitlines()
    if not lines:
        raise ToolError(f"--report {path} is empty: no audit has recorded a mutation there yet")
    recorded: dict[MutationKey, dict[str, Any]] = {}
    head = _parse(lines, recorded, f"--report {path}", "give a journal written by 'nova-split audit --journal'")
    commit, seed = head.get("commit"), head.get("seed")
    if not isinstance(commit, str) or not isinstance(seed, int):
        raise ToolError(f"--report {path}: its first line names no commit and seed; give an audit journal")
    return Journal(path, commit, seed, recorded)


def _parse(lines: list[str], recorded: dict[MutationKey, dict[str, Any]], what: str, fix: str) -> dict[str, Any]:
    """The header of a journal's ``lines``; its mutations go into ``recorded``."""
    try:
        head = json.loads(lines[0])
        if not isinstance(head, dict) or head.get("journal") != _FORMAT:
            raise ValueError("not an audit journal")
        for n, line in enumerate(lines[1:], 2):
            entry = json.loads(line)
            if not isinstance(entry, dict) or not isinstance(entry.get("outcome"), dict):
                raise ValueError(f"line {n} is not a recorded mutation")
            key = entry["mutation"]
            if not (isinstance(key, list) and len(key) == 4 and all(isinstance(k, str) for k in key)):
                raise ValueError(f"line {n} does not name its mutation")
            _check_outcome(entry["outcome"], n)
            recorded[(key[0], key[1], key[2], key[3])] = entry["outcome"]
    except (ValueError, KeyError) as e:  # json.JSONDecodeError is a ValueError
        raise ToolError(f"{what} is not a journal this audit can read ({e}); {fix}") from None
    if not isinstance(head.get("seed"), int) or isinstance(head.get("seed"), bool):
        raise ToolError(f"{what} is not a journal this audit can read (its seed is not a number); {fix}")
    return head


#: An outcome's fields (``audit.Outcome``) and their JSON types.
_STRINGS = ("path", "kind", "operator", "description", "outcome")
_LISTS = ("failed", "misses", "uncaught_skips", "unplanned_reruns")
_OUTCOMES = {"caught", "survived", "MISS", "UNCAUGHT-SKIP", "pants-error"}


def _check_outcome(o: dict[str, Any], n: int) -> None:
    """Refuse (ValueError naming line ``n``) an outcome that is not one the audit writes."""
    expected = {*_STRINGS, *_LISTS, "planned", "error", "seconds"}
    if set(o) != expected:
        odd = sorted(set(o) ^ expected)
        raise ValueError(f"line {n}: its outcome has other fields than an audit writes ({', '.join(odd)})")
    bad = [k for k in _STRINGS if not isinstance(o[k], str)]
    bad += [k for k in _LISTS if not (isinstance(o[k], list) and all(isinstance(x, str) for x in o[k]))]
    if not isinstance(o["planned"], int) or isinstance(o["planned"], bool) or o["planned"] < 0:
        bad.append("planned")
    if o["error"] is not None and not isinstance(o["error"], str):
        bad.append("error")
    if not isinstance(o["seconds"], (int, float)) or isinstance(o["seconds"], bool) or not 0 <= o["seconds"] < 1e9:
        bad.append("seconds")
    if bad:
        raise ValueError(f"line {n}: {', '.join(bad)} of its outcome are not of the types an audit writes")
    if o["outcome"] not in _OUTCOMES:
        raise ValueError(f"line {n}: {o['outcome']!r} is not an outcome")
    if (o["outcome"] == "MISS") != bool(o["misses"]) or (o["outcome"] == "UNCAUGHT-SKIP") != (
        bool(o["uncaught_skips"]) and not o["misses"]
    ):
        raise ValueError(f"line {n}: its outcome {o['outcome']} disagrees with its misses and uncaught skips")
