"""The record store: each table's full record in SQLite, read exactly by the agent's tools.

One row per table holds the record as JSON; partition statistics get their own rows so a tool can filter
and page them without loading a whole table's record. Every write for a table happens in one transaction,
so a killed ingest leaves each table either fully old or fully new.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from catalog_ingest.records import PartitionStat, TableRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS tables (
    key TEXT PRIMARY KEY,
    catalog TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    comment TEXT,
    source_version TEXT,
    fingerprint TEXT NOT NULL,
    record_json TEXT NOT NULL,
    ingested_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX IF NOT EXISTS tables_by_name ON tables (namespace, name);
CREATE TABLE IF NOT EXISTS partitions (
    key TEXT NOT NULL REFERENCES tables(key) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    spec_id INTEGER NOT NULL,
    label TEXT NOT NULL,
    stat_json TEXT NOT NULL,
    PRIMARY KEY (key, ordinal)
);
"""


class AmbiguousTable(LookupError):
    """A short name matches tables in several catalogs; the message lists them."""


@dataclass(frozen=True)
class TableSummary:
    key: str
    catalog: str
    namespace: str
    name: str
    kind: str
    comment: str | None

    @property
    def full_name(self) -> str:
        return f"{self.namespace}.{self.name}"


@dataclass(frozen=True)
class StoredVersion:
    source_version: str | None
    fingerprint: str


def partition_label(stat: PartitionStat) -> str:
    """``day=2026-11-01/country=DE``: the text a partition filter matches against."""
    return "/".join(f"{k}={v}" for k, v in stat.values.items())


class RecordStore:
    """Thread-safe: one connection per thread, WAL so readers never wait for an ingest."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connect() as conn:
            conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # Writes -----------------------------------------------------------------------------------------

    def put(self, record: TableRecord, fingerprint: str | None = None) -> None:
        """Store one table and its partitions atomically (replacing what was there)."""
        fingerprint = fingerprint or record.fingerprint()
        partitions = [
            (record.key, i, stat.spec_id, partition_label(stat), stat.model_dump_json())
            for i, stat in enumerate(record.partitions)
        ]
        body = record.model_copy(update={"partitions": []}).model_dump_json()
        conn = self._connect()
        with conn:
            conn.execute("DELETE FROM partitions WHERE key = ?", (record.key,))
            conn.execute(
                "INSERT OR REPLACE INTO tables (key, catalog, namespace, name, kind, comment, source_version,"
                " fingerprint, record_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.key,
                    record.catalog,
                    record.namespace,
                    record.name,
                    record.kind,
                    record.comment,
                    record.source_version,
                    fingerprint,
                    body,
                ),
            )
            conn.executemany("INSERT INTO partitions VALUES (?, ?, ?, ?, ?)", partitions)

    def delete(self, key: str) -> None:
        conn = self._connect()
        with conn:
            conn.execute("DELETE FROM partitions WHERE key = ?", (key,))
            conn.execute("DELETE FROM tables WHERE key = ?", (key,))

    # Reads ------------------------------------------------------------------------------------------

    def versions(self, catalog: str | None = None) -> dict[str, StoredVersion]:
        """Table key -> what the ingester compares against to skip unchanged tables (all catalogs by default)."""
        sql = "SELECT key, source_version, fingerprint FROM tables"
        rows = self._connect().execute(sql + " WHERE catalog = ?", (catalog,)) if catalog else self._connect().execute(sql)
        return {key: StoredVersion(version, fp) for key, version, fp in rows}

    def catalogs(self) -> set[str]:
        return {row[0] for row in self._connect().execute("SELECT DISTINCT catalog FROM tables")}

    def list(self, *, catalog: str | None = None, namespace: str | None = None) -> list[TableSummary]:
        sql = "SELECT key, catalog, namespace, name, kind, comment FROM tables WHERE 1=1"
        args: list[str] = []
        if catalog:
            sql += " AND catalog = ?"
            args.append(catalog)
        if namespace:
            sql += " AND namespace = ?"
            args.append(namespace)
        rows = self._connect().execute(sql + " ORDER BY namespace, name, catalog", args)
        return [TableSummary(*row) for row in rows]

    def count(self) -> int:
        return self._connect().execute("SELECT count(*) FROM tables").fetchone()[0]

    def resolve(self, name: str) -> str | None:
        """Key for ``catalog.namespace.table`` or ``namespace.table`` (or a bare table name when unique).

        Raises AmbiguousTable when the name fits tables in several catalogs or namespaces.
        """
        name = name.strip().strip("`\"")
        conn = self._connect()
        if conn.execute("SELECT 1 FROM tables WHERE key = ?", (name,)).fetchone():
            return name
        namespace, _, table = name.rpartition(".")
        if namespace:
            rows = conn.execute(
                "SELECT key FROM tables WHERE lower(namespace) = lower(?) AND lower(name) = lower(?)",
                (namespace, table),
            ).fetchall()
        else:
            rows = conn.execute("SELECT key FROM tables WHERE lower(name) = lower(?)", (table,)).fetchall()
        keys = sorted(r[0] for r in rows)
        if len(keys) > 1:
            raise AmbiguousTable(f"'{name}' matches several tables: {', '.join(keys)}; use the full name")
        return keys[0] if keys else None

    def get(self, name: str, *, with_partitions: bool = True) -> TableRecord | None:
        key = self.resolve(name)
        if key is None:
            return None
        row = self._connect().execute("SELECT record_json FROM tables WHERE key = ?", (key,)).fetchone()
        record = TableRecord.model_validate_json(row[0])
        if with_partitions:
            record.partitions = self.partitions(key)
        return record

    def records(self, *, with_partitions: bool = False) -> Iterator[TableRecord]:
        rows = self._connect().execute("SELECT key, record_json FROM tables ORDER BY key").fetchall()
        for key, body in rows:
            record = TableRecord.model_validate_json(body)
            if with_partitions:
                record.partitions = self.partitions(key)
            yield record

    def partitions(self, key: str, *, contains: str | None = None, limit: int | None = None) -> list[PartitionStat]:
        """Partition stats of one table in stored order; ``contains`` filters on the ``field=value`` label."""
        sql = "SELECT stat_json FROM partitions WHERE key = ?"
        args: list[object] = [key]
        if contains:
            sql += " AND label LIKE ? ESCAPE '\\'"
            escaped = contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(f"%{escaped}%")
        sql += " ORDER BY ordinal"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [PartitionStat.model_validate(json.loads(r[0])) for r in self._connect().execute(sql, args)]
