"""What every agent tool shares: the error the model can fix, the size-budgeted JSON response, sources.

Each tool returns ``(content, artifact)``: the content is what the model reads (trimmed to a character
budget, saying what was cut), the artifact is the full payload the graph tracks and the API returns.
Every payload names its ``sources`` (table, snapshot id, as-of time) so answers can cite them.
Problems the model can fix raise ``ToolError``, whose text names the problem and the closest real names.
Catalog-written text (comments, properties, owners, tags) is set apart under ``metadata_untrusted``.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
from datetime import datetime
from typing import Any

from langchain.tools import ToolRuntime

from agent.context import AgentContext
from catalog_ingest.records import TableRecord
from catalog_ingest.sizes import human_bytes
from catalog_ingest.store import AmbiguousTable

log = logging.getLogger(__name__)

BUDGET = 4000
"""Characters of one tool result the model reads; wide tables and long lists are cut to fit."""
TEXT_CLIP = 300
"""Characters kept of any one catalog-written text (a comment, a property value)."""
Runtime = ToolRuntime[Any, Any]
"""Injected by ToolNode; ``runtime.context`` is the AgentContext (typed Any here: pydantic would otherwise
build a validator for the context's fields)."""


class ToolError(Exception):
    """A problem the model can fix; the message is JSON with the problem and what to try instead."""

    def __init__(self, error: str, **details: Any) -> None:
        self.payload = {"error": error, **{k: v for k, v in details.items() if v not in (None, [], {})}}
        super().__init__(dumps(self.payload))


def tool_error_text(error: Exception) -> str:
    """ToolNode's error handler: a ToolError speaks for itself; anything else is reported, not raised."""
    if isinstance(error, ToolError):
        return str(error)
    log.exception("tool failed", exc_info=error)
    return dumps({"error": f"{type(error).__name__}: {error}"})


# Formatting -------------------------------------------------------------------------------------------


def dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)


def clip(text: str | None) -> str | None:
    if text is None or len(text) <= TEXT_CLIP:
        return text
    return text[:TEXT_CLIP] + "…"


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def respond(payload: dict[str, Any], *trimmable: str) -> tuple[str, dict[str, Any]]:
    """Content within BUDGET and the artifact: the largest of the named lists (or dicts) is halved in turn, down
    to none, noting how many were shown; only when none is left is the text cut."""
    shown = dict(payload)
    text = dumps(shown)
    while len(text) > BUDGET:
        present = [k for k in trimmable if shown.get(k)]
        if not present:
            text = text[:BUDGET] + "…(cut)"
            break
        key = max(present, key=lambda k: len(dumps(shown[k])))
        items = shown[key]
        keep = len(items) // 2
        shown[key] = dict(list(items.items())[:keep]) if isinstance(items, dict) else items[:keep]
        shown[f"{key}_shown"] = f"{keep} of {len(payload[key])}"
        text = dumps(shown)
    return text, payload


def as_dict(value: Any) -> dict[str, Any]:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json.loads(dumps(dataclasses.asdict(value)))
    return dict(value)


# Records ------------------------------------------------------------------------------------------------


def source(record: TableRecord) -> dict[str, Any]:
    snapshot = next((s for s in record.snapshots if s.snapshot_id == record.current_snapshot_id), None)
    as_of = snapshot.timestamp if snapshot else record.last_updated
    return {"table": record.full_name, "catalog": record.catalog, "snapshot_id": record.current_snapshot_id,
            "as_of": iso(as_of)}  # fmt: skip


def closest_tables(ctx: AgentContext, name: str, n: int = 3) -> list[str]:
    """Real table names nearest to a wrong one: by spelling first, then by search."""
    tables = ctx.store.list()
    by_name: dict[str, str] = {}
    for t in tables:
        by_name.setdefault(t.full_name.lower(), t.full_name)
        by_name.setdefault(t.name.lower(), t.full_name)
    wanted = name.lower().strip("`\" ")
    close = difflib.get_close_matches(wanted, by_name, n=n, cutoff=0.6)
    close = close or difflib.get_close_matches(wanted.rpartition(".")[2], by_name, n=n, cutoff=0.6)
    found = list(dict.fromkeys(by_name[c] for c in close))
    if not found:
        found = [hit.full_name for hit in ctx.retriever.search(wanted.replace(".", " "), k=n)]
    return found[:n]


def get_record(ctx: AgentContext, table: str) -> TableRecord:
    try:
        record = ctx.store.get(table, with_partitions=False)
    except AmbiguousTable as exc:
        raise ToolError(str(exc)) from None
    if record is None:
        raise ToolError(f"no table named '{table}' in the catalog", did_you_mean=closest_tables(ctx, table))
    return record


def untrusted(record: TableRecord, columns: set[str] | None = None) -> dict[str, Any]:
    column_comments = {
        c.path: clip(c.comment) for c in record.columns if c.comment and (columns is None or c.path in columns)
    }
    values = {
        "comment": clip(record.comment),
        "owner": record.owner,
        "tags": record.tags,
        "column_comments": column_comments,
        "properties": {k: clip(v) for k, v in record.properties.items()},
        "view_sql": clip(record.view_sql),
    }
    return {k: v for k, v in values.items() if v}


def size_facts(record: TableRecord) -> dict[str, Any]:
    totals = record.totals
    return {
        "rows": totals.record_count,
        "files": totals.file_count,
        "bytes": totals.total_bytes,
        "size": human_bytes(totals.total_bytes),
        "partitions": totals.partition_count,
        "last_updated": iso(record.last_updated),
    }
