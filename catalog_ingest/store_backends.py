"""Where the record store's rows live: a SQLite file in the data directory, or a Postgres database.

The store (``catalog_ingest.store``) has one implementation and writes one set of SQL: DB-API calls with
``?`` placeholders and DDL in SQLite's spelling. A backend supplies what differs: how a connection opens
and how a snapshot transaction begins, the schema's set-up (translated for Postgres), how readers are known
to be alive (``catalog_ingest.store_readers``: processes on this machine, or leases on the server), and the
writer's lock (one ingest at a time per store: the data directory's lock covers a SQLite file, a Postgres
advisory lock covers a store that ingests on several hosts could reach).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from catalog_ingest.store_readers import LeaseReaders, ProcessReaders, Readers

POSTGRES_SCHEMA = "lakescout"
"""The Postgres schema the store's tables live in (so they never meet other tables of the same database)."""
WRITER_LOCK = 0x6C616B65  # "lake": the advisory lock key of the store's writer
READER_LEASE_SECONDS = 60.0
POSTGRES_VERSION_SCHEMA = "CREATE TABLE IF NOT EXISTS store_version (version INTEGER NOT NULL);"
"""The schema version of a Postgres store (a SQLite file keeps it in ``PRAGMA user_version``)."""
Upgrades = dict[int, Callable[[Any, Callable[[str], str]], None]]
"""Schema version -> the step upgrading a store of it to the next: ``step(connection, ddl)``, where ``ddl``
spells a statement written for SQLite for the backend."""


class IngestBusy(RuntimeError):
    """Another ingest holds the data directory's lock, or writes the same record store."""


def without_password(url: str) -> str:
    """The URL for messages: a password in it shown as ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class SqliteBackend:
    """A SQLite file (WAL, so readers never wait for an ingest); its readers are processes on this machine."""

    begin_snapshot = "BEGIN"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.readers: Readers = ProcessReaders()

    def connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def set_up(self, conn: sqlite3.Connection, schema: str, legacy: str, version: int, upgrades: Upgrades) -> None:
        """Create the tables. A store of an older ``user_version`` is upgraded in place, one transaction,
        where ``upgrades`` has steps from its version on; one older still is derived data, dropped first. The
        file is vacuumed after an upgrade (the old form's pages would stay in it as free space)."""
        if conn.execute("PRAGMA user_version").fetchone()[0] < version:
            conn.execute("BEGIN IMMEDIATE")  # one process upgrades; the others then find it done
            upgraded = False
            try:
                (found,) = conn.execute("PRAGMA user_version").fetchone()
                if 0 < found < version and all(step in upgrades for step in range(found, version)):
                    for step in range(found, version):
                        upgrades[step](conn, lambda sql: sql)
                    upgraded = True
                elif found < version:
                    for statement in filter(str.strip, legacy.split(";")):
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version}")
            except BaseException:
                if conn.in_transaction:  # an error SQLite rolled back itself must surface, not this
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            if upgraded:
                conn.execute("VACUUM")
        conn.executescript(f"{schema}\n{self.readers.schema}")

    def lock_writer(self) -> None:
        """Nothing to take: a SQLite store lives in the data directory, whose ingest lock one ingest holds."""

    def unlock_writer(self) -> None:
        """Nothing was taken (see ``lock_writer``)."""

    def published_at(self) -> int | None:
        """The published generation, read without creating the file; None if there is none."""
        if not self.path.is_file():
            return None
        conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            row = conn.execute("SELECT published FROM generation").fetchone()
        except sqlite3.OperationalError:
            return None  # created but not set up yet
        finally:
            conn.close()
        return row[0] if row else None


class PostgresConnection:
    """A psycopg connection (autocommit, so transactions begin explicitly, as on SQLite) with the calls the
    store makes on a ``sqlite3.Connection``; ``?`` placeholders become psycopg's ``%s``."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    @staticmethod
    def _query(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Any = None) -> Any:
        if params is None:
            return self._conn.execute(sql)
        return self._conn.execute(self._query(sql), params)

    def executemany(self, sql: str, rows: Any) -> None:
        rows = list(rows)
        if rows:
            with self._conn.cursor() as cursor:
                cursor.executemany(self._query(sql), rows)

    def executescript(self, script: str) -> None:
        self._conn.execute(script)  # several statements in one call: allowed without parameters

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self._conn.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        self._conn.close()


class PostgresBackend:
    """A Postgres database (``store_url``), shared by API replicas on several hosts; its readers are leases
    that live processes renew, and its writer holds an advisory lock.

    The store's SQLite-spelled DDL is translated: text compares bytewise (``COLLATE "C"``, SQLite's order),
    bytes are ``BYTEA`` and the ingest time is formatted by Postgres. Reads of one call see one snapshot (repeatable read).
    """

    begin_snapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ"
    DDL = {
        r"\bTEXT\b": 'TEXT COLLATE "C"',
        r"\bBLOB\b": "BYTEA",
        r"\(strftime\('%Y-%m-%dT%H:%M:%SZ', 'now'\)\)": "(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))",
    }

    def __init__(self, url: str, lease_seconds: float = READER_LEASE_SECONDS) -> None:
        self.url = url
        self.readers: Readers = LeaseReaders(lease_seconds, self.connect)
        self._writer: PostgresConnection | None = None
        self._writer_lock = threading.Lock()

    def __str__(self) -> str:
        return without_password(self.url)

    def connect(self) -> PostgresConnection:
        import psycopg

        conn = psycopg.connect(self.url, autocommit=True, options=f"-c search_path={POSTGRES_SCHEMA}")
        return PostgresConnection(conn)

    def ddl(self, sql: str) -> str:
        """A statement in SQLite's spelling, spelled for Postgres."""
        for pattern, replacement in self.DDL.items():
            sql = re.sub(pattern, replacement, sql)
        return sql

    def set_up(self, conn: PostgresConnection, schema: str, legacy: str, version: int, upgrades: Upgrades) -> None:
        """Create the schema and its tables, or upgrade an older store's in place with ``upgrades``, once even
        when several replicas start together. The version is kept in ``store_version``; a store without it
        is of version 2 (no Postgres store predates generations, so ``legacy`` is never needed)."""
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITER_LOCK + 1,))
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {POSTGRES_SCHEMA}")
            found = self._version(conn, version)
            for step in range(found, version):
                upgrades[step](conn, self.ddl)
            conn.executescript(self.ddl(f"{schema}\n{self.readers.schema}\n{POSTGRES_VERSION_SCHEMA}"))
            conn.execute("DELETE FROM store_version")
            conn.execute("INSERT INTO store_version VALUES (?)", (version,))
        except BaseException:
            if conn.in_transaction:  # an error SQLite rolled back itself must surface, not this
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @staticmethod
    def _version(conn: PostgresConnection, current: int) -> int:
        """The schema version of the store's tables: ``current`` for a store not created yet."""
        def exists(table: str) -> bool:
            return conn.execute("SELECT to_regclass(?)", (f"{POSTGRES_SCHEMA}.{table}",)).fetchone()[0] is not None

        if exists("store_version"):
            row = conn.execute("SELECT version FROM store_version").fetchone()
            if row:
                return row[0]
        return 2 if exists("tables") else current

    def lock_writer(self) -> None:
        """Become the store's one writer, on a connection of its own (Postgres frees the lock if the process
        dies); IngestBusy while another ingest, on any host, writes it."""
        with self._writer_lock:
            if self._writer is not None:
                return
            conn = self.connect()
            (locked,) = conn.execute("SELECT pg_try_advisory_lock(?)", (WRITER_LOCK,)).fetchone()
            if not locked:
                conn.close()
                raise IngestBusy(f"another ingest is writing the record store at {self}; wait for it to finish")
            self._writer = conn

    def unlock_writer(self) -> None:
        with self._writer_lock:
            if self._writer is not None:
                self._writer.close()  # ends the session, and with it the lock
                self._writer = None

    def published_at(self) -> int | None:
        """The published generation, read without creating the tables; None if there are none yet."""
        import psycopg

        conn = self.connect()
        try:
            return conn.execute("SELECT published FROM generation").fetchone()[0]
        except psycopg.errors.UndefinedTable:
            return None
        finally:
            conn.close()


def backend_for(location: Path | str, *, lease_seconds: float = READER_LEASE_SECONDS) -> SqliteBackend | PostgresBackend:
    """``postgresql://...`` (or ``postgres://``) is a Postgres store; anything else is a SQLite file's path."""
    text = os.fspath(location)
    if re.match(r"^postgres(ql)?://", text):
        return PostgresBackend(text, lease_seconds)
    return SqliteBackend(Path(location))
