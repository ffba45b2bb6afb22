"""InstanceStore: instance records in an embedded SQLite database, so state survives restarts.

Records are the ``Instance`` object's versioned wire form, so the database is also a consumer of
the object versioning: an older record is read with ``obj_from_primitive`` like any message.
A store belongs to one driver: using it with another is refused rather than mixing guests.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nova_common.compute.errors import InstanceNameInUse, StateDirInUse, UnknownInstance
from nova_common.objects import Instance

__all__ = ["InstanceStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS instances (
    uuid TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL
);
"""


class InstanceStore:
    """Instance records of one compute host and one driver."""

    def __init__(self, path: Path, driver: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.executescript(_SCHEMA)
        with self._transaction():
            row = self._db.execute("SELECT value FROM meta WHERE key = 'driver'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('driver', ?)", (driver,))
            elif row[0] != driver:
                raise StateDirInUse(path=path.parent, owner=row[0], driver=driver)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def add(self, instance: Instance) -> None:
        """Insert a new record; raises ``InstanceNameInUse`` if the name is taken."""
        with self._transaction():
            row = self._db.execute("SELECT uuid FROM instances WHERE name = ?", (instance.name,)).fetchone()
            if row is not None:
                raise InstanceNameInUse(name=instance.name, uuid=row[0])
            self._db.execute(
                "INSERT INTO instances VALUES (?, ?, ?)", (instance.uuid, instance.name, _encode(instance))
            )

    def save(self, instance: Instance) -> None:
        """Overwrite an existing record."""
        with self._transaction():
            cur = self._db.execute("UPDATE instances SET data = ? WHERE uuid = ?", (_encode(instance), instance.uuid))
            if cur.rowcount != 1:
                raise UnknownInstance(ref=instance.uuid)

    def delete(self, uuid: str) -> None:
        """Remove a record; missing records are ignored."""
        with self._transaction():
            self._db.execute("DELETE FROM instances WHERE uuid = ?", (uuid,))

    def get(self, ref: str) -> Instance:
        """Find a record by uuid or name; raises ``UnknownInstance``."""
        row = self._db.execute("SELECT data FROM instances WHERE uuid = ? OR name = ?", (ref, ref)).fetchone()
        if row is None:
            raise UnknownInstance(ref=ref)
        return _decode(row[0])

    def list(self) -> list[Instance]:
        """Every record, by name."""
        return [_decode(r[0]) for r in self._db.execute("SELECT data FROM instances ORDER BY name")]


def _encode(instance: Instance) -> str:
    return json.dumps(instance.obj_to_primitive(), sort_keys=True)


def _decode(data: str) -> Instance:
    return Instance.obj_from_primitive(json.loads(data))
