"""The record store: each table's full record in SQLite or Postgres, read exactly by the agent's tools, by generation.

One row per table version holds the record as zlib-compressed JSON (a seventh of the text: a wide table's
JSON repeats the same column keys hundreds of times); partition statistics get their own rows so a tool can
filter and page them without loading a whole table's record. Rows are versioned by ingest generation
(``born``: the generation that wrote it, ``died``: the one that replaced or removed it), so an ingest writes
its generation beside the one being served and publishes it with one update of the ``generation`` row: a
reader sees a whole generation or the previous one, never a mix, and a killed ingest leaves the previous
generation intact (its unpublished rows are resumed by the next run). A pinned store (the API's) keeps
reading the generation it opened on and registers it in ``readers``; a publish collects only rows that
neither the previous generation nor any live reader's generation can see (readers of processes that died
are dropped), so a server that misses several ingests still reads its generation whole. A SQLite file's
readers are processes on this machine; a Postgres store's (``store_url``, shared by API replicas on several
hosts) hold leases their processes renew (``catalog_ingest.store_readers``). One implementation serves both:
the backend (``catalog_ingest.store_backends``) opens connections and supplies what differs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog_ingest.records import PartitionStat, TableRecord
from catalog_ingest.store_backends import READER_LEASE_SECONDS, backend_for
from catalog_ingest.store_encoding import UPGRADES, decode_record, encode_record
from catalog_ingest.store_families import FAMILY_SCHEMA, FamilyRows, StoredVersion, visible

SCHEMA_VERSION = 3
"""3: the record is zlib-compressed JSON (``record``; 2 kept its text in ``record_json``)."""
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS tables (
    key TEXT NOT NULL,
    born INTEGER NOT NULL,
    died INTEGER,
    catalog TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    comment TEXT,
    source_version TEXT,
    fingerprint TEXT NOT NULL,
    record BLOB NOT NULL,
    ingested_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (key, born)
);
CREATE INDEX IF NOT EXISTS tables_by_name ON tables (namespace, name);
CREATE TABLE IF NOT EXISTS partitions (
    key TEXT NOT NULL,
    born INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    spec_id INTEGER NOT NULL,
    label TEXT NOT NULL,
    stat_json TEXT NOT NULL,
    PRIMARY KEY (key, born, ordinal),
    FOREIGN KEY (key, born) REFERENCES tables(key, born) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    published INTEGER NOT NULL
);
INSERT INTO generation VALUES (1, 0) ON CONFLICT DO NOTHING;
{FAMILY_SCHEMA}
"""
LEGACY_SCHEMA = "DROP TABLE IF EXISTS partitions; DROP TABLE IF EXISTS tables;"
"""A store from before generations: derived data, so it is dropped and the next ingest rebuilds it."""


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


def partition_label(stat: PartitionStat) -> str:
    """``day=2026-11-01/country=DE``: the text a partition filter matches against."""
    return "/".join(f"{k}={v}" for k, v in stat.values.items())


class RecordStore(FamilyRows):
    """Thread-safe: one connection per thread; readers never wait for an ingest (SQLite's WAL, Postgres' MVCC).

    Reads see the published generation as of each call, or, with ``pinned``, the one published when the
    store opened. ``begin`` makes this store the writer of the next generation (its reads then see that
    generation as written so far) and ``publish`` makes it the served one. A write outside ``begin`` is
    published on its own.

    ``location`` is a SQLite file's path or a ``postgresql://`` URL; ``lease_seconds`` is how long a pinned
    reader of a Postgres store stays registered without renewing (its process renews it while it lives).
    """

    def __init__(self, location: Path | str, *, pinned: bool = False, lease_seconds: float = READER_LEASE_SECONDS) -> None:
        self._backend = backend_for(location, lease_seconds=lease_seconds)
        self._local = threading.local()
        conn = self._connect()
        self._backend.set_up(conn, SCHEMA, LEGACY_SCHEMA, SCHEMA_VERSION, UPGRADES)
        self._writing: int | None = None
        self._pinned: int | None = None
        self._reader: str | None = None
        self._stop_lease = lambda: None
        if pinned:
            self._reader, self._pinned = self._backend.readers.register(conn)
            self._stop_lease = self._backend.readers.keep_alive(self._reader, lambda: self._pinned)

    def _connect(self) -> Any:
        """This thread's connection (a ``sqlite3.Connection``, or one with the same calls on Postgres)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._backend.connect()
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection; a pinned store also ends its reader registration and a writer
        its writer's lock (idempotent)."""
        if self._reader is not None:
            self._stop_lease()
            with self._transaction() as conn:
                self._backend.readers.end(conn, self._reader)
            self._reader = None
        self._backend.unlock_writer()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """One transaction: reads inside it see one snapshot, writes land together or not at all."""
        conn = self._connect()
        if conn.in_transaction:  # nested: part of the caller's transaction
            yield conn
            return
        conn.execute(self._backend.begin_snapshot)
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:  # an error SQLite rolled back itself must surface, not this
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # Generations ------------------------------------------------------------------------------------

    @staticmethod
    def published_at(location: Path | str) -> int | None:
        """The generation published in the store at ``location`` (a path or a URL), read without creating it;
        None if there is none."""
        return backend_for(location).published_at()

    def published_generation(self) -> int:
        return self._connect().execute("SELECT published FROM generation").fetchone()[0]

    @property
    def generation(self) -> int:
        """The generation this store reads: the one it writes, else its pinned one, else the published one."""
        if self._writing is not None:
            return self._writing
        return self._pinned if self._pinned is not None else self.published_generation()

    def begin(self) -> int:
        """Write the next generation (resuming what a killed run left of it); idempotent until ``publish``.
        IngestBusy while another ingest writes this store (checked on Postgres, which hosts share)."""
        if self._writing is None:
            self._backend.lock_writer()
            self._writing = self.published_generation() + 1
        return self._writing

    def pending(self) -> bool:
        """Whether the generation being written differs from the published one."""
        if self._writing is None:
            return False
        g = self._writing
        conn = self._connect()
        return any(
            conn.execute(f"SELECT 1 FROM {table} WHERE born = ? OR died = ? LIMIT 1", (g, g)).fetchone()
            for table in ("tables", "families")
        )

    def publish(self, *, force: bool = False) -> bool:
        """Serve the generation being written, in one update, and collect rows no generation from the
        previous one on can see (the previous one stays whole for readers still pinned to it). Without
        changes (and without ``force``) writing just ends. True when a new generation was published."""
        if self._writing is None:
            return False
        g = self._writing
        changed = force or self.pending()
        if changed:
            with self._transaction() as conn:
                conn.execute("UPDATE generation SET published = ?", (g,))
                oldest = min([g - 1, *self._backend.readers.live_generations(conn)])
                conn.execute("DELETE FROM tables WHERE died IS NOT NULL AND died <= ?", (oldest,))
                conn.execute("DELETE FROM families WHERE died IS NOT NULL AND died <= ?", (oldest,))
        self._writing = None
        self._backend.unlock_writer()
        if self._pinned is not None:
            self._pinned = self.published_generation()
            with self._transaction() as conn:
                self._backend.readers.move(conn, self._reader, self._pinned)
        return changed

    def retained_versions(self) -> set[tuple[str, int]]:
        """(key, generation) of every table and family version the served generation or a live reader reads:
        the versions whose vectors must stay."""
        with self._transaction() as conn:
            published = conn.execute("SELECT published FROM generation").fetchone()[0]
            generations = sorted({published, *self._backend.readers.live_generations(conn)})
            sql = " UNION ".join(
                f"SELECT key, born FROM {rows} WHERE {visible(g, rows)}" for g in generations for rows in ("tables", "families")
            )
            return {(key, born) for key, born in conn.execute(sql)}

    @contextmanager
    def _writing_generation(self) -> Iterator[tuple[Any, int]]:
        """The connection and generation a write goes to; a write outside ``begin`` is published at once."""
        own = self._writing is None
        g = self.begin()
        with self._transaction() as conn:
            yield conn, g
        if own:
            self.publish()

    # Writes -----------------------------------------------------------------------------------------

    def put(self, record: TableRecord, fingerprint: str | None = None) -> None:
        """Store one table and its partitions atomically, as the generation's version of that table."""
        fingerprint = fingerprint or record.fingerprint()
        body = encode_record(record)
        with self._writing_generation() as (conn, g):
            self._retire(conn, record.key, g)
            conn.execute(
                "INSERT INTO tables (key, born, catalog, namespace, name, kind, comment, source_version,"
                " fingerprint, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.key,
                    g,
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
            conn.executemany(
                "INSERT INTO partitions VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (record.key, g, i, stat.spec_id, partition_label(stat), stat.model_dump_json())
                    for i, stat in enumerate(record.partitions)
                ],
            )

    def delete(self, key: str) -> None:
        """Take the table out of the generation being written (the served one keeps it)."""
        with self._writing_generation() as (conn, g):
            self._retire(conn, key, g)

    @staticmethod
    def _retire(conn: Any, key: str, g: int, table: str = "tables") -> None:
        """End the table's (or family's) current version at generation ``g``: older ones die, one written in
        ``g`` goes."""
        conn.execute(f"DELETE FROM {table} WHERE key = ? AND born = ?", (key, g))
        conn.execute(f"UPDATE {table} SET died = ? WHERE key = ? AND died IS NULL", (g, key))

    # Reads ------------------------------------------------------------------------------------------

    def versions(self, catalog: str | None = None) -> dict[str, StoredVersion]:
        """Table key -> what the ingester compares against to skip unchanged tables (all catalogs by default)."""
        sql = f"SELECT key, source_version, fingerprint, born FROM tables WHERE {visible(self.generation)}"
        conn = self._connect()
        rows = conn.execute(sql + " AND catalog = ?", (catalog,)) if catalog else conn.execute(sql)
        return {key: StoredVersion(version, fp, born) for key, version, fp, born in rows}

    def catalogs(self) -> set[str]:
        sql = f"SELECT DISTINCT catalog FROM tables WHERE {visible(self.generation)}"
        return {row[0] for row in self._connect().execute(sql)}

    def list(self, *, catalog: str | None = None, namespace: str | None = None) -> list[TableSummary]:
        sql = f"SELECT key, catalog, namespace, name, kind, comment FROM tables WHERE {visible(self.generation)}"
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
        return self._connect().execute(f"SELECT count(*) FROM tables WHERE {visible(self.generation)}").fetchone()[0]

    def resolve(self, name: str) -> str | None:
        """Key for ``catalog.namespace.table`` or ``namespace.table`` (or a bare table name when unique).

        Raises AmbiguousTable when the name fits tables in several catalogs or namespaces.
        """
        name = name.strip().strip("`\"")
        seen = visible(self.generation)
        conn = self._connect()
        if conn.execute(f"SELECT 1 FROM tables WHERE key = ? AND {seen}", (name,)).fetchone():
            return name
        namespace, _, table = name.rpartition(".")
        if namespace:
            rows = conn.execute(
                f"SELECT key FROM tables WHERE lower(namespace) = lower(?) AND lower(name) = lower(?) AND {seen}",
                (namespace, table),
            ).fetchall()
        else:
            rows = conn.execute(f"SELECT key FROM tables WHERE lower(name) = lower(?) AND {seen}", (table,)).fetchall()
        keys = sorted(r[0] for r in rows)
        if len(keys) > 1:
            raise AmbiguousTable(f"'{name}' matches several tables: {', '.join(keys)}; use the full name")
        return keys[0] if keys else None

    def get(self, name: str, *, with_partitions: bool = True) -> TableRecord | None:
        with self._transaction() as conn:  # the name, the record and its partitions from one snapshot
            key = self.resolve(name)
            if key is None:
                return None
            row = conn.execute(
                f"SELECT record FROM tables WHERE key = ? AND {visible(self.generation)}", (key,)
            ).fetchone()
            record = decode_record(row[0])
            if with_partitions:
                record.partitions = self.partitions(key)
        return record

    def records(self, *, with_partitions: bool = False) -> Iterator[TableRecord]:
        sql = f"SELECT key, record FROM tables WHERE {visible(self.generation)} ORDER BY key"
        rows = self._connect().execute(sql).fetchall()
        for key, body in rows:
            record = decode_record(body)
            if with_partitions:
                record.partitions = self.partitions(key)
            yield record

    def partitions(self, key: str, *, contains: str | None = None, limit: int | None = None) -> list[PartitionStat]:
        """Partition stats of one table in stored order; ``contains`` filters on the ``field=value`` label."""
        sql = (
            "SELECT p.stat_json FROM partitions p JOIN tables ON tables.key = p.key AND tables.born = p.born"
            f" WHERE p.key = ? AND {visible(self.generation)}"
        )
        args: list[object] = [key]
        if contains:
            sql += " AND p.label LIKE ? ESCAPE '\\'"
            escaped = contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(f"%{escaped}%")
        sql += " ORDER BY p.ordinal"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [PartitionStat.model_validate(json.loads(r[0])) for r in self._connect().execute(sql, args)]
