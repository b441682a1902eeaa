"""`lakescout catalog list|show` and `lakescout lake`: what was indexed, one table, the lake at a glance."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from lakescout.command_context import console, require_index, settings_of
from lakescout.errors import UserError, reports_errors

catalog_app = typer.Typer(help="See what was indexed.", no_args_is_help=True, rich_markup_mode=None)


@catalog_app.command("list")
@reports_errors
def catalog_list(
    ctx: typer.Context,
    namespace: Annotated[str | None, typer.Option(help="Only this namespace.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Every indexed table."""
    from catalog_ingest.store import RecordStore

    settings = settings_of(ctx)
    require_index(settings)
    rows = RecordStore(settings.store_location).list(namespace=namespace)
    if as_json:
        print(json.dumps([{**row.__dict__, "name": row.full_name} for row in rows], indent=2))
        return
    table = Table(title=f"{len(rows)} tables")
    for column in ("table", "catalog", "kind", "comment"):
        table.add_column(column)
    for row in rows:
        table.add_row(Text(row.full_name), Text(row.catalog), row.kind, Text((row.comment or "")[:80]))
    console.print(table)


@catalog_app.command("show")
@reports_errors
def catalog_show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="NAMESPACE.TABLE (or CATALOG.NAMESPACE.TABLE)")],
    as_json: Annotated[bool, typer.Option("--json", help="The whole stored record as JSON.")] = False,
    chart: Annotated[bool, typer.Option("--chart", help="Draw rows, bytes and files per snapshot and partitions by size.")] = False,
) -> None:
    """One table: columns, partitioning, sizes, freshness, recent snapshots and schema changes."""
    from catalog_ingest.store import RecordStore

    settings = settings_of(ctx)
    require_index(settings)
    record = RecordStore(settings.store_location).get(name)
    if record is None:
        raise UserError(f"no table '{name}' in the index; `lakescout catalog list` shows what there is", "no_table")
    if as_json:
        print(record.model_dump_json(indent=2))
        return
    if chart:
        from catalog_ingest.charts import table_charts
        from lakescout.charts import render_charts

        console.print(render_charts(table_charts(record), console.width))
        return
    from lakescout.table_view import print_record

    print_record(record, console)


@reports_errors
def lake(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="The charts as Vega-Lite specs.")] = False,
) -> None:
    """The lake at a glance: bytes and tables per namespace, days since each table's last write."""
    from catalog_ingest.charts import lake_charts
    from catalog_ingest.store import RecordStore
    from lakescout.charts import render_charts

    settings = settings_of(ctx)
    require_index(settings)
    charts = lake_charts(RecordStore(settings.store_location).records())
    if as_json:
        print(json.dumps({"charts": [{"id": c.id, "title": c.title, "spec": c.spec} for c in charts]}, indent=2))
        return
    console.print(render_charts(charts, console.width))
