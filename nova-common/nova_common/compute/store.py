"""InstanceStore: instance records in an embedded SQLite database, so state survives restarts.

Records are the ``Instance`` object's versioned wire form, so the database is also a consumer of
the object versioning: an older record is read with ``obj_from_primitive`` like any message.

Safe for any number of processes on one database: WAL journal (readers never block the writer),
a busy timeout, and every read-modify-write inside one ``BEGIN IMMEDIATE`` transaction. The
file's layout has a schema version (SQLite's ``user_version``) and forward migrations; a file
from a newer nova-compute, a damaged file or an unusable directory is refused with one line,
and nothing is written. Opening is serialised by ``store.lock`` beside the database, so a
database being created is never mistaken for an empty (truncated) one.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from nova_common.compute.errors import (
    BadRecord,
    DatabaseDamaged,
    DatabaseMissing,
    DatabaseTooNew,
    InstanceNameInUse,
    LockTimeout,
    StateDirInUse,
    StateDirUnusable,
    UnknownInstance,
)
from nova_common.compute.identity import redacted
from nova_common.compute.locks import file_lock
from nova_common.compute.names import is_uuid
from nova_common.objects import Instance, VMState

__all__ = ["SCHEMA_VERSION", "InstanceStore", "Row"]

#: The file beside the database naming the hypervisor the directory belongs to.
MARKER = "hypervisor"
#: Busy timeout: how long a statement waits for another process's write transaction.
BUSY_TIMEOUT_S = 60.0


def _v1(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS instances (uuid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL)"
    )


def _v2(db: sqlite3.Connection) -> None:
    # Version 2: when each record was created (listing order, and "how old is this building record").
    db.execute("ALTER TABLE instances ADD COLUMN created_at TEXT NOT NULL DEFAULT ''")
    # ... and which hypervisor (driver and connection) the records belong to; version 1 knew
    # only the driver, and had no driver options.
    db.execute("INSERT INTO meta SELECT 'hypervisor', 'driver ' || quote(value) FROM meta WHERE key = 'driver'")


#: ``MIGRATIONS[n]`` brings schema ``n`` to ``n + 1``. Version 0 is a new, empty file; databases
#: written before versioning existed (tables present, ``user_version`` 0) are version 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class Row:
    """A record as stored: ``instance`` is ``None`` when its data cannot be read (``error`` says why)."""

    uuid: str
    name: str
    instance: Instance | None
    error: str = ""

    def require(self) -> Instance:
        if self.instance is None:
            raise BadRecord(name=repr(self.name), uuid=self.uuid, reason=self.error)
        return self.instance


class InstanceStore:
    """Instance records of one compute host, bound to one hypervisor (``owner``)."""

    def __init__(
        self,
        path: Path,
        owner: str,
        *,
        rebuild: bool = False,
        writing: bool = True,
        claim: bool = True,
        previous_owner: str | None = None,
    ) -> None:
        """Open (creating if new) the records database at ``path`` for hypervisor ``owner``.

        ``owner`` names the driver and connection; the directory remembers it (``hypervisor``
        beside the database) and refuses any other. A database that has gone missing from a used
        directory is refused too, unless ``rebuild`` (``sync`` re-creating it from the guests).
        Unless ``writing`` is false, the database is proven writable now, so a command that will
        change things fails before touching the hypervisor rather than after. Unless ``claim`` is
        false, an unclaimed directory is bound to ``owner`` now; the CLI claims it with
        :meth:`claim` once the driver has connected, so a failed connection binds nothing.
        ``previous_owner`` is what an earlier version wrote for the same hypervisor (with its
        credentials, :func:`~nova_common.compute.identity.legacy_identity`): a directory holding
        it is this one's, and is rewritten to ``owner``, the credentials wiped from the files.
        """
        self.path = path
        self._owner = owner
        self._previous_owner = previous_owner
        marker = path.with_name(MARKER)
        with _translated(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            with file_lock(path.with_name("store.lock"), f"records database {path}"):
                recorded = marker.read_text().strip() if marker.exists() else None
                if recorded is not None and recorded == previous_owner:
                    _replace(marker, owner)  # the earlier version's identity, credentials and all
                    recorded = owner
                if recorded is not None and recorded != owner:
                    raise StateDirInUse(path=path.parent, owner=redacted(recorded), requested=owner)
                if recorded is not None and not path.exists() and not rebuild:
                    raise DatabaseMissing(path=path)
                if path.exists() and path.stat().st_size == 0 and not _has_wal(path):
                    raise DatabaseDamaged(path=path, reason="the file is empty (0 bytes), the records are lost")
                self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
                try:
                    self._open(owner, writing)
                    if claim:
                        self._claim(marker)
                except BaseException:
                    self._db.close()
                    raise

    def claim(self) -> None:
        """Bind the directory to this store's hypervisor if nothing has claimed it yet."""
        marker = self.path.with_name(MARKER)
        with _translated(self.path), file_lock(self.path.with_name("store.lock"), f"records database {self.path}"):
            self._claim(marker)

    def _claim(self, marker: Path) -> None:
        recorded = marker.read_text().strip() if marker.exists() else None
        if recorded is not None and recorded != self._owner:
            raise StateDirInUse(path=self.path.parent, owner=redacted(recorded), requested=self._owner)
        with self._transaction() as db:
            in_db = db.execute("SELECT value FROM meta WHERE key = 'hypervisor'").fetchone()
            if in_db is None:
                db.execute("INSERT INTO meta VALUES ('hypervisor', ?)", (self._owner,))
        if recorded is None:
            _replace(marker, self._owner)

    def _open(self, owner: str, writing: bool) -> None:
        db = self._db
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise DatabaseDamaged(path=self.path, reason=f"integrity check: {check}")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise DatabaseTooNew(path=self.path, found=version, supported=SCHEMA_VERSION)
        if version < 0:  # would index MIGRATIONS from the end
            reason = f"schema version {version} is not a version nova-compute writes"
            raise DatabaseDamaged(path=self.path, reason=reason)
        if version == 0 and _table_exists(db, "instances"):
            version = 1  # written before the schema was versioned
        db.execute("PRAGMA journal_mode=WAL")
        for step in range(version, SCHEMA_VERSION):
            with self._transaction():
                MIGRATIONS[step](db)
                db.execute(f"PRAGMA user_version = {step + 1}")
        with self._transaction():
            recorded = db.execute("SELECT value FROM meta WHERE key = 'hypervisor'").fetchone()
            if recorded is not None and recorded[0] == self._previous_owner:
                db.execute("UPDATE meta SET value = ? WHERE key = 'hypervisor'", (owner,))
            elif recorded is not None and recorded[0] != owner:
                raise StateDirInUse(path=self.path.parent, owner=redacted(recorded[0]), requested=owner)
            if writing:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('last_writer', ?)", (str(os.getpid()),))

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with _translated(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def add(self, instance: Instance, claim: Callable[[list[Instance]], None] | None = None) -> None:
        """Insert a new record; raises ``InstanceNameInUse`` if the name is taken.

        ``claim`` runs inside the same write transaction with the records still ``building``,
        so a capacity check there sees every boot that committed before it and none can slip in.
        """
        with self._transaction() as db:
            row = db.execute("SELECT uuid FROM instances WHERE name = ?", (instance.name,)).fetchone()
            if row is not None:
                raise InstanceNameInUse(name=repr(instance.name), uuid=row[0])
            if claim is not None:
                claim([r.instance for r in _rows(db) if r.instance and r.instance.vm_state is VMState.BUILDING])
            db.execute(
                "INSERT INTO instances (uuid, name, data, created_at) VALUES (?, ?, ?, datetime('now'))",
                (instance.uuid, instance.name, _encode(instance)),
            )

    def save(self, instance: Instance) -> None:
        """Overwrite an existing record; raises ``UnknownInstance`` if it was deleted meanwhile."""
        with self._transaction() as db:
            cur = db.execute("UPDATE instances SET data = ? WHERE uuid = ?", (_encode(instance), instance.uuid))
            if cur.rowcount != 1:
                raise UnknownInstance(kind="with uuid", ref=instance.uuid)

    def delete(self, uuid: str) -> bool:
        """Remove a record; returns whether there was one."""
        with self._transaction() as db:
            return db.execute("DELETE FROM instances WHERE uuid = ?", (uuid,)).rowcount == 1

    def find(self, ref: str) -> Row:
        """The record with uuid ``ref`` if it is UUID-shaped, else the one named ``ref``.

        A damaged record may carry a uuid that is not UUID-shaped; a reference that names no
        record but is exactly such a uuid finds it, so ``delete <its uuid>`` can remove it.
        """
        if is_uuid(ref):
            found = self._select("uuid", ref.lower())
        else:
            found = self._select("name", ref) or self._select("uuid", ref)
        if found is None:
            raise UnknownInstance(kind="with uuid" if is_uuid(ref) else "named", ref=repr(ref))
        return found

    def find_uuid(self, uuid: str) -> Row:
        """The record whose uuid is exactly ``uuid`` (as stored), whatever its shape."""
        found = self._select("uuid", uuid)
        if found is None:
            raise UnknownInstance(kind="with uuid", ref=repr(uuid))
        return found

    def _select(self, column: str, key: str) -> Row | None:
        with _translated(self.path):
            found = self._db.execute(f"SELECT uuid, name, data FROM instances WHERE {column} = ?", (key,)).fetchone()
        return None if found is None else _row(*found)

    def get(self, ref: str) -> Instance:
        """Like :meth:`find`, but an unreadable record raises ``BadRecord``."""
        return self.find(ref).require()

    def rows(self) -> list[Row]:
        """Every record by name, readable or not."""
        with _translated(self.path):
            return _rows(self._db)

    def list(self) -> list[Instance]:
        """Every readable record, by name."""
        return [r.instance for r in self.rows() if r.instance is not None]


def _rows(db: sqlite3.Connection) -> list[Row]:
    return [_row(*r) for r in db.execute("SELECT uuid, name, data FROM instances ORDER BY name, uuid")]


def _row(uuid: str, name: str, data: str) -> Row:
    try:
        return Row(uuid, name, _decode(data))
    except Exception as e:  # any undecodable record: keep it visible and removable
        return Row(uuid, name, None, f"{type(e).__name__}: {e}".splitlines()[0])


def _table_exists(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def _replace(marker: Path, owner: str) -> None:
    """Write the ``hypervisor`` file atomically (a crash leaves the old one or the new one)."""
    tmp = marker.with_name(MARKER + ".tmp")
    tmp.write_text(owner + "\n")
    os.replace(tmp, marker)


def _has_wal(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    return wal.exists() and wal.stat().st_size > 0


@contextmanager
def _translated(path: Path) -> Iterator[None]:
    """SQLite and OS failures as one-line compute errors."""
    try:
        yield
    except sqlite3.OperationalError as e:
        text = str(e)
        if "locked" in text or "busy" in text:
            raise LockTimeout(what="the records database", path=path, seconds=int(BUSY_TIMEOUT_S)) from None
        if "readonly" in text or "unable to open" in text or "disk I/O" in text:
            raise StateDirUnusable(path=path.parent, reason=f"SQLite says {text!r}") from None
        raise DatabaseDamaged(path=path, reason=text) from None
    except sqlite3.DatabaseError as e:
        raise DatabaseDamaged(path=path, reason=str(e)) from None
    except OSError as e:
        raise StateDirUnusable(path=path.parent, reason=f"{e.strerror or e} ({e.filename or path})") from None


def _encode(instance: Instance) -> str:
    return json.dumps(instance.obj_to_primitive(), sort_keys=True)


def _decode(data: str) -> Instance:
    return Instance.obj_from_primitive(json.loads(data))
