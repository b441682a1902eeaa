"""Semantic-layer entries broken by a schema change: found after each ingest publishes, listed as stale.

Opening the index validates the whole layer and leaves broken entries out, so a broken entry is never used
and the valid ones stay in use. What this module adds is the drift view issue 11 asks for: after an ingest
publishes, every entry touching a table whose schema changed since the last ingest (``entries_touching``) is
validated again (``check``); the broken ones are kept as stale in ``semantic_drift.json`` in the data
directory, with the validator's reason and a suggestion (a renamed or dropped column from the table's schema
history, else the closest names), beside the verified queries a schema change broke. The file also holds
the schema id of every table at the last ingest: the baseline the next ingest compares with. Only an ingest
writes it (under the ingest lock, atomically); readers list the stale entries that are still in the layer
file as it is now, so an entry the owner fixed or removed is no longer listed.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from catalog_ingest.records import TableRecord
from catalog_ingest.semantic import (
    CatalogNames, Entry, Metric, SemanticLayer, SemanticLayerError, Term, load_layer, referenced_tables,
)
from catalog_ingest.settings import Settings
from catalog_ingest.store import RecordStore
from catalog_ingest.verified import column_change_since, current_schema_id, identifiers

DRIFT_FILE = "semantic_drift.json"


class StaleSemanticEntry(BaseModel):
    kind: Literal["term", "metric", "relationship"]
    entry: str = Field(description="How validation names the entry.", examples=["metric 'refunded amount'"])
    tables: list[str] = Field(description="The tables it names (namespace.table).", examples=[["finance.refunds"]])
    status: Literal["stale"] = "stale"
    stale_reason: str = Field(description="The validator's errors against the new schema.",
                              examples=["dimension finance.refunds.currency does not exist"])  # fmt: skip
    suggestion: str | None = Field(default=None, description="What to change in the layer file: a renamed "
                                   "column's new name, a dropped column, else the closest names.")  # fmt: skip
    detected_at: str = Field(description="When the ingest that found it broken published (UTC).")
    schema_ids: dict[str, int | None] = Field(default_factory=dict, description="The schema id of each of its "
                                              "tables (by catalog key) when it last validated.")  # fmt: skip


class DriftState(BaseModel):
    schema_ids: dict[str, int | None] = Field(default_factory=dict)
    """Every table's schema id (by catalog key) at the last ingest."""
    stale: dict[str, StaleSemanticEntry] = Field(default_factory=dict)
    """Stale entries by fingerprint (an entry edited in the file is another entry)."""


def drift_path(data_dir: Path) -> Path:
    return data_dir / DRIFT_FILE


def fingerprint(entry: Entry) -> str:
    body = f"{type(entry).__name__}:{entry.model_dump_json(by_alias=True)}"
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def kind_of(entry: Entry) -> Literal["term", "metric", "relationship"]:
    return "term" if isinstance(entry, Term) else "metric" if isinstance(entry, Metric) else "relationship"


def read_state(data_dir: Path) -> DriftState | None:
    path = drift_path(data_dir)
    return DriftState.model_validate_json(path.read_text(encoding="utf-8")) if path.is_file() else None


def write_state(data_dir: Path, state: DriftState) -> None:
    """Whole or not at all: a crash leaves the previous file."""
    path = drift_path(data_dir)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(state.model_dump_json(indent=1), encoding="utf-8")
    os.replace(partial, path)


def current_layer(settings: Settings) -> SemanticLayer | None:
    """The layer file as it is now; None when there is none, it is off, or it cannot be read (doctor says why)."""
    if not settings.use_semantic_layer:
        return None
    try:
        return load_layer(settings)
    except SemanticLayerError:
        return None


def suggestion(entry: Entry, records: dict[str, TableRecord], since: dict[str, int | None], closest: list[str]) -> str | None:
    """A renamed or dropped column the entry names, from the schema history after the ids it validated
    against; else the validator's closest names."""
    named = identifiers(" ".join(str(v) for v in entry.model_dump(by_alias=True).values() if v is not None))
    for key, schema_id in since.items():
        if (record := records.get(key)) is not None and (change := column_change_since(record, schema_id, named)):
            return change
    return f"closest: {', '.join(closest)}" if closest else None


def revalidate_after_publish(settings: Settings, store: RecordStore, *, generation_published: bool = True) -> list[str]:
    """The ingest hook: entries touching a table whose schema changed since the last ingest are validated
    again, and so are the entries stale before; returns those stale now (as validation names them). An entry
    the file had broken all along is listed too once a change of its table re-validates it. An ingest that
    wrote no table, after one that left nothing stale, has nothing to check: no record is read (reading
    them all took 18 s at 10,000 tables)."""
    known = read_state(settings.data_dir)
    if known is not None and not known.stale and not generation_published:
        return []
    layer = current_layer(settings)
    if layer is None:  # only the schema ids to keep: records read one at a time, never all held
        write_state(settings.data_dir, DriftState(schema_ids={r.key: current_schema_id(r) for r in store.records()}))
        return []
    records = list(store.records(with_partitions=False))
    by_key = {r.key: r for r in records}
    ids = {r.key: current_schema_id(r) for r in records}
    state = known or DriftState(schema_ids=ids)
    entries = {fingerprint(e): e for e in layer.entries()}
    changed = [key for key, was in state.schema_ids.items() if ids.get(key, -1) != was]
    recheck = {fingerprint(e): e for key in changed for e in layer.entries_touching(key, records)}
    recheck.update({fp: entries[fp] for fp in state.stale if fp in entries})  # fixed by a schema change back?
    stale: dict[str, StaleSemanticEntry] = {}
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    for fp, entry in recheck.items():
        errors = [p for p in layer.check(records, [entry]) if p.severity == "error"]
        if not errors:
            continue
        keys = tables_of(entry, records, state.schema_ids)
        since = state.stale[fp].schema_ids if fp in state.stale else {k: state.schema_ids.get(k) for k in keys}
        stale[fp] = StaleSemanticEntry(
            kind=kind_of(entry), entry=entry.label(), tables=sorted({k.split(".", 1)[1] for k in keys}),
            stale_reason="; ".join(p.message for p in errors),
            suggestion=suggestion(entry, by_key, since, [s for p in errors for s in p.suggestions]),
            detected_at=state.stale[fp].detected_at if fp in state.stale else stamp, schema_ids=since,
        )  # fmt: skip
    write_state(settings.data_dir, DriftState(schema_ids=ids, stale=stale))
    return sorted(s.entry for s in stale.values())


def tables_of(entry: Entry, records: list[TableRecord], known: dict[str, int | None]) -> list[str]:
    """The catalog keys of the tables the entry names, including tables gone since the last ingest."""
    lake = CatalogNames(records)
    keys = []
    for name in referenced_tables(entry, lake):
        record = lake.table(name)
        wanted = name.lower()
        keys += [record.key] if record else [k for k in known if k.lower() == wanted or k.lower().endswith("." + wanted)]
    return sorted(set(keys))


def stale_entries(settings: Settings, table: str | None = None, text: str | None = None) -> list[StaleSemanticEntry]:
    """The stale entries still in the layer file, oldest first; ``table`` matches ``namespace.table``,
    ``text`` the entry's name."""
    state, layer = read_state(settings.data_dir), current_layer(settings)
    if state is None or layer is None:
        return []
    present = {fingerprint(e) for e in layer.entries()}
    needle, table = (text or "").lower(), (table or "").lower()
    return sorted((s for fp, s in state.stale.items() if fp in present
                   and (not table or table in {t.lower() for t in s.tables} or any(table == k.lower() for k in s.schema_ids))
                   and needle in s.entry.lower()), key=lambda s: (s.detected_at, s.entry))  # fmt: skip
