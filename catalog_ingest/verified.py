"""The store of what users teach: feedback on answers and verified question->SQL pairs, searched by question.

One SQLite file in the data directory (``verified.sqlite``, WAL mode), apart from the record store: what
people taught outlives any ingest generation. Every write is one transaction, so a crash leaves each row
whole or absent. A verified pair keeps, per table it reads, the snapshot id and schema id it was validated
against; it is served only while those schema ids are the ones the served generation's records carry. An
ingest that publishes a table with another schema id (a column renamed, dropped, retyped) or without the
table marks the pairs reading it ``drifted`` (``mark_drifted``): never served until re-validated, which the
agent side does with the SQL gate (``agent.verified_view.settle_drifted``), leaving them ``verified`` (with
the new ids) or ``stale`` with the validator's reason and suggestion.

Questions are embedded with the lake's embedder at write time; search is exact cosine over the verified
rows, held in memory and reloaded whenever another writer (the CLI, another replica) changed the file.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from catalog_ingest.embeddings import Embedder
from catalog_ingest.records import TableRecord
from catalog_ingest.store import RecordStore

Status = Literal["pending", "verified", "drifted", "stale"]
Rating = Literal["up", "down"]
STORE_FILE = "verified.sqlite"
UPDATABLE = frozenset({"status", "tables", "approved_by", "approved_at", "stale_reason", "suggestion"})

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, message_id TEXT NOT NULL, rating TEXT NOT NULL,
    question TEXT, sql TEXT, corrected_sql TEXT, note TEXT, author TEXT, created_at TEXT NOT NULL,
    verified_id TEXT
);
CREATE TABLE IF NOT EXISTS verified (
    id TEXT PRIMARY KEY, question TEXT NOT NULL, sql TEXT NOT NULL, author TEXT, created_at TEXT NOT NULL,
    status TEXT NOT NULL, approved_by TEXT, approved_at TEXT, tables TEXT NOT NULL, stale_reason TEXT,
    suggestion TEXT, checked_generation INTEGER, feedback_id TEXT, embedder TEXT, vector BLOB
);
CREATE TABLE IF NOT EXISTS version (n INTEGER NOT NULL);
INSERT INTO version SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM version);
"""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def current_schema_id(record: TableRecord) -> int | None:
    """The table's newest schema version (Iceberg appends one per schema change)."""
    return max((v.schema_id for v in record.schema_history), default=None)


def identifiers(text: str) -> set[str]:
    """The names SQL or a reference uses, lower-cased; dotted ones also by part (``r.amount`` -> ``amount``)."""
    return {name.lower() for token in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", text) for name in (token, *token.split("."))}


def column_change_since(record: TableRecord, schema_id: int | None, named: set[str]) -> str | None:
    """The renames and drops of columns in ``named`` (lower-case names) in the table's schema versions after
    ``schema_id``, as the fix to make: ``column amount of finance.refunds was renamed to refund_amount: use
    refund_amount``; None when none of them changed."""
    fixes = []
    for version in (v for v in record.schema_history if v.schema_id > (schema_id if schema_id is not None else -1)):
        for change in version.changes:
            words = change.split()
            if change.startswith("renamed ") and words[1].lower() in named:
                fixes.append(f"column {words[1]} of {record.full_name} was renamed to {words[3]}: use {words[3]}")
            elif change.startswith("dropped column ") and words[2].lower() in named:
                fixes.append(f"column {words[2]} was dropped from {record.full_name}")
    return "; ".join(fixes) or None


class TableVersion(BaseModel):
    table: str = Field(description="namespace.table", examples=["finance.refunds"])
    key: str = Field(description="catalog.namespace.table", examples=["demo.finance.refunds"])
    snapshot_id: int | None = Field(description="The table's current snapshot when the pair was validated.")
    schema_id: int | None = Field(description="The table's schema version when the pair was validated.")

    @classmethod
    def of(cls, record: TableRecord) -> TableVersion:
        return cls(table=record.full_name, key=record.key, snapshot_id=record.current_snapshot_id,
                   schema_id=current_schema_id(record))  # fmt: skip


class VerifiedQuery(BaseModel):
    id: str = Field(examples=["vq_3f9a1c2b7d"])
    question: str = Field(examples=["how many refunds were issued per region last month?"])
    sql: str = Field(examples=["SELECT region, COUNT(*) AS refunds FROM finance.refunds GROUP BY region"])
    author: str | None = Field(description="The key that taught it (posted the pair or the feedback).")
    created_at: str
    status: Status = Field(
        description="pending (waits for an admin), verified (served), drifted (a table's schema changed; "
        "re-validated on next read), stale (broken by a schema change; never served)."
    )
    approved_by: str | None = Field(default=None, description="The admin key that approved it.")
    approved_at: str | None = None
    tables: list[TableVersion] = Field(default_factory=list)
    stale_reason: str | None = Field(default=None, description="Why it no longer validates (the validator's error).")
    suggestion: str | None = Field(default=None, description="What to change: a renamed column's new name, the closest names.")
    feedback_id: str | None = Field(default=None, description="The feedback it came from, if any.")

    @property
    def verified_on(self) -> str:
        """The day it was approved (or taught), as answers cite it."""
        return (self.approved_at or self.created_at)[:10]


class Feedback(BaseModel):
    id: str = Field(examples=["fb_8c41d09e2a"])
    thread_id: str
    message_id: str
    rating: Rating
    question: str | None = Field(default=None, description="The question the rated answer answered.")
    sql: str | None = Field(default=None, description="The SQL the rated answer drafted.")
    corrected_sql: str | None = None
    note: str | None = None
    author: str | None = None
    created_at: str
    verified_id: str | None = Field(default=None, description="The verified query this feedback proposed or made.")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(5)}"


class VerifiedStore:
    """Feedback and verified pairs in one SQLite file; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(SCHEMA)
        self._loaded: tuple[int, str] | None = None
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._rows: list[VerifiedQuery] = []

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction that also bumps the version readers reload on."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("UPDATE version SET n = n + 1")
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # an error SQLite rolled back itself must surface, not this
                    self._conn.execute("ROLLBACK")
                raise

    def version(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT n FROM version").fetchone()[0]

    # Feedback -------------------------------------------------------------------------------------------

    def record_feedback(self, feedback: Feedback, proposal: VerifiedQuery | None = None,
                        embedder: Embedder | None = None) -> Feedback:  # fmt: skip
        """The feedback and the pair it proposes (if any), together or not at all."""
        with self._write() as conn:
            if proposal is not None:
                feedback.verified_id = proposal.id
                proposal.feedback_id = feedback.id
                self._insert(conn, proposal, embedder)
            row = feedback.model_dump()
            conn.execute(f"INSERT INTO feedback ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
        return feedback

    def feedback(self, feedback_id: str | None = None) -> list[Feedback]:
        with self._lock:
            rows = self._conn.execute("SELECT * FROM feedback WHERE ? IS NULL OR id = ? ORDER BY created_at, id",
                                      (feedback_id, feedback_id)).fetchall()  # fmt: skip
        return [Feedback(**dict(row)) for row in rows]

    # Verified pairs -------------------------------------------------------------------------------------

    def add(self, query: VerifiedQuery, embedder: Embedder | None = None) -> VerifiedQuery:
        with self._write() as conn:
            self._insert(conn, query, embedder)
        return query

    def _insert(self, conn: sqlite3.Connection, query: VerifiedQuery, embedder: Embedder | None) -> None:
        vector = embedder.embed_query(query.question).astype(np.float32).tobytes() if embedder else None
        row = {**query.model_dump(exclude={"tables"}), "tables": json.dumps([t.model_dump() for t in query.tables]),
               "embedder": embedder.name if embedder else None, "vector": vector}  # fmt: skip
        conn.execute(f"INSERT INTO verified ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))

    def get(self, query_id: str) -> VerifiedQuery | None:
        found = self.list(query_id=query_id)
        return found[0] if found else None

    def list(
        self,
        *,
        query_id: str | None = None,
        table: str | None = None,
        author: str | None = None,
        status: Status | None = None,
        text: str | None = None,
    ) -> list[VerifiedQuery]:
        """Newest first; ``table`` matches ``namespace.table`` or the catalog key, ``text`` the question or SQL."""
        sql = ("SELECT * FROM verified WHERE (:id IS NULL OR id = :id) AND (:author IS NULL OR author = :author)"
               " AND (:status IS NULL OR status = :status) ORDER BY created_at DESC, id")  # fmt: skip
        with self._lock:
            rows = self._conn.execute(sql, {"id": query_id, "author": author, "status": status}).fetchall()
        needle, table = (text or "").lower(), (table or "").lower()
        return [q for q in map(self._query, rows)
                if (not table or any(table in (t.table.lower(), t.key.lower()) for t in q.tables))
                and (not needle or needle in q.question.lower() or needle in q.sql.lower())]  # fmt: skip

    @staticmethod
    def _query(row: sqlite3.Row) -> VerifiedQuery:
        fields = {k: row[k] for k in row.keys() if k not in ("embedder", "vector", "checked_generation")}
        return VerifiedQuery(**{**fields, "tables": json.loads(row["tables"])})

    def update(self, query_id: str, **changes: object) -> VerifiedQuery | None:
        """Set some of ``UPDATABLE``; None when there is no such pair."""
        if unknown := set(changes) - UPDATABLE:
            raise ValueError(f"not updatable: {', '.join(sorted(unknown))}")
        if "tables" in changes:
            tables = [TableVersion.model_validate(t).model_dump() for t in changes["tables"]]  # type: ignore[attr-defined]
            changes["tables"] = json.dumps(tables)
        with self._write() as conn:
            assignments = ", ".join(f"{name} = ?" for name in changes)
            done = conn.execute(f"UPDATE verified SET {assignments} WHERE id = ?", (*changes.values(), query_id))
        return self.get(query_id) if done.rowcount else None

    def delete(self, query_id: str) -> bool:
        with self._write() as conn:
            conn.execute("UPDATE feedback SET verified_id = NULL WHERE verified_id = ?", (query_id,))
            return conn.execute("DELETE FROM verified WHERE id = ?", (query_id,)).rowcount > 0

    # Drift ----------------------------------------------------------------------------------------------

    def mark_drifted(self, records: Mapping[str, TableRecord], generation: int) -> list[str]:
        """After an ingest publishes ``generation`` (its records by key): pairs reading a table whose schema id
        changed, or that is gone, become ``drifted``. Returns the tables that changed under some pair."""
        changed: set[str] = set()
        with self._write() as conn:
            for row in conn.execute("SELECT id, tables FROM verified WHERE status IN ('verified', 'pending')").fetchall():
                moved = [t["table"] for t in json.loads(row["tables"])
                         if (r := records.get(t["key"])) is None or current_schema_id(r) != t["schema_id"]]  # fmt: skip
                if moved:
                    changed.update(moved)
                    conn.execute("UPDATE verified SET status = CASE status WHEN 'pending' THEN 'pending' ELSE 'drifted' END,"
                                 " checked_generation = ? WHERE id = ?", (generation, row["id"]))  # fmt: skip
        return sorted(changed)

    # Search ---------------------------------------------------------------------------------------------

    def search(self, vector: np.ndarray, embedder_name: str, k: int = 3) -> list[tuple[VerifiedQuery, float]]:
        """The verified pairs whose questions are closest to ``vector`` (exact cosine), best first."""
        with self._lock:
            version = self.version()
            if self._loaded != (version, embedder_name):
                rows = self._conn.execute("SELECT * FROM verified WHERE status = 'verified' AND embedder = ?",
                                          (embedder_name,)).fetchall()  # fmt: skip
                self._rows = [self._query(row) for row in rows]
                vectors = [np.frombuffer(row["vector"], dtype=np.float32) for row in rows]
                self._matrix = np.vstack(vectors) if vectors else np.zeros((0, len(vector)), dtype=np.float32)
                self._loaded = (version, embedder_name)
            if not self._rows:
                return []
            query = vector / max(float(np.linalg.norm(vector)), 1e-12)
            norms = np.maximum(np.linalg.norm(self._matrix, axis=1), 1e-12)
            scores = self._matrix @ query / norms
            best = np.argsort(-scores)[:k]
            return [(self._rows[i], float(scores[i])) for i in best]


def verified_path(data_dir: Path) -> Path:
    return data_dir / STORE_FILE


def mark_drifted_after_publish(data_dir: Path, records: RecordStore) -> list[str]:
    """The ingest hook: pairs over tables whose schema changed in the published generation stop being served.

    Semantic-layer entries are re-validated beside it, by ``catalog_ingest.semantic_drift.revalidate_after_publish``.
    """
    path = verified_path(data_dir)
    if not path.exists():
        return []
    store = VerifiedStore(path)
    try:
        return store.mark_drifted(StoredRecords(records), records.generation)
    finally:
        store.close()


class StoredRecords(Mapping[str, TableRecord]):
    """The store's records by key, each read when asked for: the pairs name a few tables, and reading every
    record of a 10,000-table lake took 2.3 CPU-s."""

    def __init__(self, store: RecordStore) -> None:
        self._store = store
        self._keys = frozenset(store.versions())
        self._read: dict[str, TableRecord | None] = {}

    def __getitem__(self, key: str) -> TableRecord:
        if key not in self._read:
            self._read[key] = self._store.get(key, with_partitions=False) if key in self._keys else None
        if (record := self._read[key]) is None:
            raise KeyError(key)
        return record

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._keys))

    def __len__(self) -> int:
        return len(self._keys)
