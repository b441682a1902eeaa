"""Tools that find and describe tables: search by topic, and one table's columns, size and metadata."""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.tools import tool
from pydantic import Field

from agent.context import AgentContext
from agent.profiles_view import with_profiles
from agent.semantic_view import fitted, query_matches, search_view, semantic_part, table_view, with_layer_tables
from agent.tools import families
from agent.verified_view import VERIFIED_KEY, VERIFIED_NOTE, examples_for, question_of
from agent.tools.common import BUDGET, Runtime, clip, dumps, get_record, respond, size_facts, source, untrusted
from catalog_ingest.records import FamilyRecord
from catalog_ingest.text import stem, words

MATCHED_COLUMNS = 8
"""Matched columns listed per search hit; describe_table has them all."""


def matched_values(record: Any, query: str) -> dict[str, list[str]]:
    """Values of the table's profiled columns (never PII ones) that the query says as words: "paypal payments"
    finds the payments table whose provider column holds 'paypal'."""
    said = {form for w in words(query.lower()) for form in (w, stem(w))}  # "logins": 'login'
    found: dict[str, list[str]] = {}
    for col in getattr(record, "columns", []):
        values = getattr(col.profile, "values", None) if col.profile and not col.pii else None
        if hit := [str(v.value) for v in values or [] if str(v.value).lower() in said]:
            found[col.path] = hit[:3]
    return found


@tool(response_format="content_and_artifact")
def search_tables(
    query: Annotated[str, Field(description="What the data is about, in words: 'refunds by region'.")],
    runtime: Runtime,
    namespace: Annotated[str | None, Field(description="Only tables in this namespace.")] = None,
    k: Annotated[int, Field(ge=1, le=20, description="How many tables to return.")] = 5,
) -> tuple[str, dict[str, Any]]:
    """Find the tables whose names, columns or descriptions match a topic; returns them best first."""
    ctx: AgentContext = runtime.context
    hits, candidates = [], []
    matches = query_matches(ctx.semantic.layer, query)
    found = ctx.retriever.search(query, k=k, namespace=namespace)
    for hit, record in with_layer_tables(ctx.store, found, matches, k, namespace):
        if isinstance(record, FamilyRecord):
            if representative := families.representative_of(ctx.store, record):
                candidates.append(families.family_source(record, representative))
                hits.append(families.search_hit(record, representative, hit.score, hit.matched_columns[:MATCHED_COLUMNS]))
            continue
        candidates.append(source(record))
        hits.append(
            {
                "table": record.full_name,
                "score": round(hit.score, 4),
                "matched_columns": hit.matched_columns[:MATCHED_COLUMNS],
                "partitioning": record.partition_spec.describe(),
                **size_facts(record),
                "snapshot_id": record.current_snapshot_id,
                "metadata_untrusted": {"comment": clip(record.comment)} if record.comment else {},
            }
            | ({"same_table_also_in": hit.copies} if hit.copies else {})
            | ({"matched_values": values} if (values := matched_values(record, query)) else {})
        )
    payload: dict[str, Any] = {"query": query, "tables": hits, "candidates": candidates} | semantic_part(search_view(matches))
    if not hits:
        payload["note"] = "no table matched; try other words" + (" or drop the namespace filter" if namespace else "")
    if examples := examples_for(question_of((runtime.state or {}).get("messages", [])) or query, ctx):
        payload.update({VERIFIED_KEY: examples, "verified_note": VERIFIED_NOTE})  # approved pairs close to the question
    return respond(payload, "tables", "semantic")


@tool(response_format="content_and_artifact")
def describe_table(
    table: Annotated[str, Field(description="namespace.table (or catalog.namespace.table)")],
    runtime: Runtime,
    columns: Annotated[str | None, Field(description="Only columns whose name contains this text.")] = None,
) -> tuple[str, dict[str, Any]]:
    """Columns and types, partitioning, size, freshness, current snapshot, PII flags and metadata of a table (or
    of a family of date-sharded tables such as events_YYYYMMDD)."""
    ctx: AgentContext = runtime.context
    family = ctx.store.family(table)
    record = families.representative_of(ctx.store, family) if family else get_record(ctx, table)
    shown = [c for c in record.columns if not columns or columns.lower() in c.path.lower()]
    paths = {c.path for c in shown}
    column_rows = [
        {"name": c.path, "type": c.type} | ({"pii": True} if c.pii else {}) | ({"partition_key": True} if c.is_partition_key else {})
        for c in shown
    ]
    if family:  # the representative member's columns; its data profile is one member's, so none is shown
        payload = families.family_description(family, record, ctx.settings.sql.engine) | {
            "columns": column_rows, "metadata_untrusted": untrusted(record, columns=paths)
        }
        return respond({k: v for k, v in payload.items() if v not in (None, [], {})}, "columns", "newest_members")
    payload = {
        "table": record.full_name,
        "catalog": record.catalog,
        "kind": record.kind,
        "format": record.format,
        "snapshot_id": record.current_snapshot_id,
        "as_of": source(record)["as_of"],
        "partitioning": record.partition_spec.describe(),
        "partition_fields": [f.model_dump() for f in record.partition_spec.fields],
        "sort_order": record.sort_order,
        **size_facts(record),
        "identifier_fields": record.identifier_fields,
        "pii_columns": record.pii_columns,
        "columns": column_rows,
        "column_stats": {k: v for k, v in record.column_stats.items() if k in paths},
        "metadata_untrusted": untrusted(record, columns=paths),
        "sources": [source(record)],
        "family": families.membership(ctx.store, record),
    }
    room = BUDGET - len(dumps(payload)) - len('"semantic":{},')  # the layer's entries, whole, in what is left
    payload |= semantic_part(fitted(table_view(ctx.semantic.layer, record), room, lambda v: len(dumps(v))))
    payload = {k: v for k, v in payload.items() if v not in (None, [], {})}
    if shown:
        payload["columns"] = with_profiles(payload["columns"], shown, BUDGET - len(dumps(payload)))
    return respond(payload, "columns", "column_stats", "semantic")
