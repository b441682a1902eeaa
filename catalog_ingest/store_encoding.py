"""How the record store keeps a record: zlib-compressed JSON, and the in-place upgrade of stores that kept
the JSON text (schema 2), so an upgrade loses no record and needs no re-ingest."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

from catalog_ingest.records import TableRecord

RECORD_COMPRESSION_LEVEL = 6
UPGRADE_PAGE = 500
"""Rows re-encoded per statement during an upgrade."""


def encode_record(record: TableRecord) -> bytes:
    """The stored form of a record without its partitions (they have rows of their own)."""
    body = record.model_copy(update={"partitions": []}).model_dump_json()
    return zlib.compress(body.encode("utf-8"), RECORD_COMPRESSION_LEVEL)


def decode_record(body: bytes) -> TableRecord:
    return TableRecord.model_validate_json(zlib.decompress(body))


def compress_records(conn: Any, ddl: Callable[[str], str]) -> None:
    """Upgrade 2 -> 3 in place: each record's JSON text (``record_json``) becomes its compressed form
    (``record``), a page of rows at a time; ``ddl`` spells a statement for the backend."""
    conn.execute(ddl("ALTER TABLE tables ADD COLUMN record BLOB"))
    last: tuple[str, int] = ("", -1)
    while True:
        rows = conn.execute(
            "SELECT key, born, record_json FROM tables WHERE (key, born) > (?, ?) ORDER BY key, born LIMIT ?",
            (*last, UPGRADE_PAGE),
        ).fetchall()
        if not rows:
            break
        conn.executemany(
            "UPDATE tables SET record = ? WHERE key = ? AND born = ?",
            [(encode_record(TableRecord.model_validate_json(text)), key, born) for key, born, text in rows],
        )
        last = (rows[-1][0], rows[-1][1])
    conn.execute("ALTER TABLE tables DROP COLUMN record_json")


UPGRADES = {2: compress_records}
"""Schema version -> the step that upgrades a store of that version to the next, keeping its rows."""
