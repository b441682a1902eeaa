"""Verified queries on the agent's side: pairs checked by the SQL gate, re-checked after drift, shown to models.

A pair is taught only when the one SQL gate and the validator pass it against the served records; it keeps
the snapshot and schema id of each table it reads. After an ingest marked pairs ``drifted`` (a table's schema
changed), ``settle_drifted`` validates them again: still valid -> verified with the new ids; broken -> stale,
with the validator's error and a suggestion (a renamed column's new name from the schema history, else the
closest names). ``examples_for`` gives the verified pairs closest to a question, only those validated
against the schema ids being served, as ``search_tables`` shows them to every model.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.context import AgentContext
from catalog_ingest.records import TableRecord
from catalog_ingest.verified import (
    TableVersion, VerifiedQuery, VerifiedStore, column_change_since, current_schema_id, identifiers, new_id, now, verified_path,
)

if TYPE_CHECKING:
    from langchain_core.messages import AnyMessage

    from agent.state import TurnFacts

VERIFIED_KEY = "verified_queries"
"""Where a tool result lists the verified pairs close to the question."""
VERIFIED_NOTE = ("question->SQL pairs an admin verified: when the question asks exactly what one asked (same "
                 "filters, tables, measures and period), use its SQL and say 'based on a verified query from "
                 "<verified_on>'; otherwise treat them as examples of this lake's SQL")  # fmt: skip
EXAMPLES = 3
MIN_SIMILARITY = 0.55
"""Cosine of the question embeddings below which a verified pair is not shown as an example."""

_stores: dict[Path, VerifiedStore] = {}
_stores_lock = threading.Lock()


def verified_store(data_dir: Path) -> VerifiedStore:
    """The process's one store on ``data_dir`` (opened on first use; it reloads what other writers changed)."""
    path = verified_path(data_dir)
    with _stores_lock:
        if path not in _stores:
            _stores[path] = VerifiedStore(path)
        return _stores[path]


class PairRefused(ValueError):
    """The SQL of a pair does not pass the gate or the validator against the served catalog."""


def checked_tables(sql: str, records: Mapping[str, TableRecord], context: AgentContext) -> list[TableVersion]:
    """The tables ``sql`` reads, with their snapshot and schema ids; raises PairRefused with the validator's errors."""
    from agent.sql.validate import validate_sql  # the SQL gate loads DuckDB: only when a pair is checked

    result = validate_sql(sql, records, context.settings.sql)
    if not result.ok:
        raise PairRefused("; ".join(dict.fromkeys(result.errors)))
    if not result.tables:
        raise PairRefused("the SQL reads no catalog table, so there is nothing to verify it against")
    return [TableVersion.of(records[name]) for name in result.tables]


def lake_embedder(context: AgentContext) -> Any:
    """The embedder the lake's search uses (None for a retriever without one, as in some tests)."""
    return getattr(context.retriever, "embedder", None)


def new_pair(context: AgentContext, question: str, sql: str, author: str | None, *, verified: bool) -> VerifiedQuery:
    """A pair to store (verified at once, or pending an admin), after the gate; raises PairRefused."""
    tables = checked_tables(sql.strip(), context.records(), context)
    stamp = now()
    return VerifiedQuery(
        id=new_id("vq"), question=question.strip(), sql=sql.strip(), author=author, created_at=stamp,
        status="verified" if verified else "pending", approved_by=author if verified else None,
        approved_at=stamp if verified else None, tables=tables,
    )  # fmt: skip


def approve(context: AgentContext, store: VerifiedStore, query_id: str, approver: str) -> VerifiedQuery | None:
    """Verify a pending (or stale, since fixed) pair after checking it again against the served catalog."""
    query = store.get(query_id)
    if query is None:
        return None
    tables = checked_tables(query.sql, context.records(), context)
    return store.update(query_id, status="verified", approved_by=approver, approved_at=now(), tables=tables,
                        stale_reason=None, suggestion=None)  # fmt: skip


def settle_drifted(context: AgentContext, store: VerifiedStore) -> list[VerifiedQuery]:
    """Validate again every pair an ingest marked drifted: verified again, or stale with a suggestion."""
    drifted = store.list(status="drifted")
    if not drifted:
        return []
    records = context.records()
    settled = []
    for query in drifted:
        try:
            tables = checked_tables(query.sql, records, context)
        except PairRefused as refused:
            reason = str(refused)
            changed = store.update(query.id, status="stale", stale_reason=reason, suggestion=suggest(query, records, reason))
        else:
            changed = store.update(query.id, status="verified", tables=tables, stale_reason=None, suggestion=None)
        settled.extend([changed] if changed else [])
    return settled


def suggest(query: VerifiedQuery, records: Mapping[str, TableRecord], reason: str) -> str | None:
    """The renamed or dropped columns of the pair's first changed table that the SQL names (schema history), else
    the validator's own "did you mean"."""
    named = identifiers(query.sql)
    for table in query.tables:
        if (record := records.get(table.table)) and (change := column_change_since(record, table.schema_id, named)):
            return change
    if "did you mean" in reason:
        return reason.split("did you mean", 1)[1].split(";")[0].strip(" ?")
    return None


# What models see -----------------------------------------------------------------------------------------


def question_of(messages: list[AnyMessage]) -> str:
    """The question of the current turn: the last human message."""
    from langchain_core.messages import HumanMessage

    return next((m.text for m in reversed(messages) if isinstance(m, HumanMessage)), "")


def served(query: VerifiedQuery, context: AgentContext) -> bool:
    """Validated against the schema every one of its tables has in the generation being served."""
    for table in query.tables:
        record = context.store.get(table.key, with_partitions=False)
        if record is None or current_schema_id(record) != table.schema_id:
            return False
    return True


def examples_for(question: str, context: AgentContext) -> list[dict[str, Any]]:
    """The verified pairs closest to ``question`` that are served, as a tool result lists them."""
    embedder = lake_embedder(context)
    if not question or embedder is None or not verified_path(context.settings.data_dir).exists():
        return []
    store = verified_store(context.settings.data_dir)
    settle_drifted(context, store)
    hits = store.search(embedder.embed_query(question), embedder.name, k=EXAMPLES)
    return [{"id": q.id, "question": q.question, "sql": q.sql, "verified_on": q.verified_on,
             "tables": [t.table for t in q.tables], "similarity": round(score, 3)}
            for q, score in hits if score >= MIN_SIMILARITY and served(q, context)]  # fmt: skip


def verified_evidence(facts: TurnFacts) -> str:
    """The verified question whose SQL the turn drafted: its words count as the answer's evidence too."""
    for result in facts.results:
        for example in result.data.get(VERIFIED_KEY, []) if result.ok else []:
            if facts.sql and example.get("sql", "").strip() == facts.sql.strip():
                return str(example.get("question", ""))
    return ""


def answered_turn(messages: list[AnyMessage], message_id: str) -> tuple[str, str | None] | None:
    """The question and drafted SQL of the answer with ``message_id`` in a thread's messages; None if absent.
    (LangChain's messages and ``agent.state``, which imports LangGraph, load here: the feedback route is
    registered at the server's start, long before any feedback comes.)"""
    from langchain_core.messages import AIMessage

    from agent.state import turn_facts

    for i, message in enumerate(messages):
        if isinstance(message, AIMessage) and message.id == message_id and not message.tool_calls:
            upto = messages[: i + 1]
            return question_of(upto), turn_facts(upto).sql
    return None
