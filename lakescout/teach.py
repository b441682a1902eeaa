"""`lakescout teach`: record verified question->SQL pairs, list them (``--stale``: the ones a schema change
broke, with the fix; semantic-layer entries it broke are listed beside them), approve pending ones, delete. The local user is an admin: what it teaches is verified."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from lakescout.command_context import console, require_index, settings_of
from lakescout.errors import UserError, reports_errors

if TYPE_CHECKING:
    from catalog_ingest.semantic_drift import StaleSemanticEntry
    from catalog_ingest.verified import VerifiedQuery

teach_app = typer.Typer(
    help="Teach lakescout verified question->SQL pairs; without a command, list them.",
    invoke_without_command=True,
    rich_markup_mode=None,
)


@contextmanager
def lake_context(ctx: typer.Context) -> Iterator[tuple[object, object]]:
    """The agent context (records, embedder) and the verified store of the configured data directory."""
    from agent.context import AgentContext
    from agent.verified_view import verified_store

    settings = settings_of(ctx)
    require_index(settings)
    context = AgentContext.from_settings(settings)
    try:
        yield context, verified_store(settings.data_dir)
    finally:
        context.close()


def refused(exc: Exception) -> UserError:
    return UserError(f"the SQL was refused, nothing was stored: {exc}", "sql_refused")


def show_pair(pair: VerifiedQuery, as_json: bool, line: str) -> None:
    """The pair as JSON, or one line of text (catalog names in it never read as markup)."""
    if as_json:
        print(pair.model_dump_json(indent=2))
    else:
        console.print(line, markup=False)


def unknown(query_id: str) -> UserError:
    return UserError(f"no verified query '{query_id}'; `lakescout teach` lists them", "unknown_verified_query")


@teach_app.callback()
@reports_errors
def teach_list(
    ctx: typer.Context,
    stale: Annotated[bool, typer.Option("--stale", help="Only pairs a schema change broke, with the suggested fix.")] = False,
    table: Annotated[str | None, typer.Option(help="Only pairs reading this table (namespace.table).")] = None,
    text: Annotated[str | None, typer.Option(help="Only pairs whose question or SQL contains this text.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List verified pairs (newest first; drifted ones are validated again first) and the semantic-layer
    entries a schema change broke."""
    if ctx.invoked_subcommand is not None:
        return
    from agent.verified_view import settle_drifted
    from catalog_ingest.semantic_drift import stale_entries

    with lake_context(ctx) as (context, store):
        settle_drifted(context, store)
        found = store.list(table=table, text=text, status="stale" if stale else None)
        entries = stale_entries(context.settings, table, text)
    if as_json:
        print(json.dumps({"queries": [q.model_dump() for q in found], "semantic_entries": [e.model_dump() for e in entries]},
                         indent=2))  # fmt: skip
        return
    view = Table(title=f"{len(found)} {'stale ' if stale else ''}verified queries")
    for column in ("id", "status", "question", "tables", "verified", "suggestion" if stale else "sql"):
        view.add_column(column, no_wrap=column == "id")
    for q in found:
        last = (q.suggestion or q.stale_reason or "") if stale else q.sql
        view.add_row(q.id, q.status, Text(q.question), Text(", ".join(t.table for t in q.tables)), q.verified_on, Text(last))
    console.print(view)
    if entries:
        console.print(stale_entry_table(entries))


def stale_entry_table(entries: list[StaleSemanticEntry]) -> Table:
    """The semantic-layer entries a schema change broke, with the fix to make in the layer file."""
    view = Table(title=f"{len(entries)} stale semantic-layer {'entry' if len(entries) == 1 else 'entries'} (left out until fixed)")
    for column in ("entry", "tables", "since", "problem", "suggestion"):
        view.add_column(column)
    for e in entries:
        view.add_row(Text(e.entry), Text(", ".join(e.tables)), e.detected_at[:10], Text(e.stale_reason), Text(e.suggestion or ""))
    return view


@teach_app.command("add")
@reports_errors
def teach_add(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question, as users ask it.")],
    sql: Annotated[str, typer.Option("--sql", help="The SQL that answers it (checked by the SQL gate).")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Record a verified pair; SQL that fails the gate or the validator is refused."""
    from agent.verified_view import PairRefused, lake_embedder, new_pair

    with lake_context(ctx) as (context, store):
        try:
            pair = new_pair(context, question, sql, getpass.getuser(), verified=True)
        except PairRefused as exc:
            raise refused(exc) from None
        store.add(pair, lake_embedder(context))
    show_pair(pair, as_json, f"verified {pair.id}: {', '.join(t.table for t in pair.tables)}")


@teach_app.command("approve")
@reports_errors
def teach_approve(
    ctx: typer.Context,
    query_id: Annotated[str, typer.Argument(help="The pair's id (vq_...).")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Verify a pending pair (from user feedback) after checking it again."""
    from agent.verified_view import PairRefused, approve

    with lake_context(ctx) as (context, store):
        try:
            pair = approve(context, store, query_id, getpass.getuser())
        except PairRefused as exc:
            raise refused(exc) from None
    if pair is None:
        raise unknown(query_id)
    show_pair(pair, as_json, f"verified {pair.id}")


@teach_app.command("delete")
@reports_errors
def teach_delete(
    ctx: typer.Context,
    query_id: Annotated[str, typer.Argument(help="The pair's id (vq_...).")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Forget a pair."""
    with lake_context(ctx) as (_, store):
        deleted = store.delete(query_id)
    if not deleted:
        raise unknown(query_id)
    print(json.dumps({"deleted": query_id}) if as_json else f"deleted {query_id}")
