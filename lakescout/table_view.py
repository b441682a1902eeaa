"""`lakescout catalog show`: one stored table record as rich tables a person can read in a terminal.

Everything a catalog says (comments, column names, properties, snapshot summaries) is untrusted text: it is
put into ``rich.text.Text`` objects, never into markup strings, so ``[bold]`` or ``<script>`` in a comment
prints as written.
"""

from __future__ import annotations

from datetime import datetime, timezone

import humanize
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from catalog_ingest.records import TableRecord
from catalog_ingest.sizes import human_bytes

RECENT_SNAPSHOTS = 5
LARGEST_PARTITIONS = 5


def plain(value: object) -> Text:
    """Catalog text as it is: no markup, no highlighting."""
    return Text("" if value is None else str(value))


def count(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"


def freshness(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return "unknown"
    now = now or datetime.now(timezone.utc)
    moment = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return f"{moment.isoformat(timespec='seconds')} ({humanize.naturaltime(now - moment)})"


def overview(record: TableRecord) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    totals = record.totals
    rows: list[tuple[str, object]] = [
        ("table", record.full_name),
        ("catalog", f"{record.catalog} ({record.kind}{', ' + record.format if record.format else ''})"),
        ("comment", record.comment),
        ("owner", record.owner),
        ("location", record.location),
        ("partitioning", record.partition_spec.describe()),
        ("sort order", record.sort_order),
        ("rows", count(totals.record_count)),
        ("files", count(totals.file_count)),
        ("size", human_bytes(totals.total_bytes) or "unknown"),
        ("partitions", count(totals.partition_count)),
        ("last written", freshness(record.last_updated)),
        ("current snapshot", record.current_snapshot_id),
        ("tags", ", ".join(record.tags)),
    ]
    for label, value in rows:
        if value not in (None, ""):
            grid.add_row(label, plain(value))
    return grid


def columns_table(record: TableRecord) -> Table:
    table = Table(title=f"{len(record.columns)} columns", title_justify="left")
    profiled = any(column.profile for column in record.columns)
    for heading in ("column", "type", "flags", "comment") + (("profile",) if profiled else ()):
        table.add_column(heading)
    for column in record.columns:
        flags = [name for name, on in (("required", column.required), ("partition", column.is_partition_key),
                                        ("pii", column.pii)) if on]
        cells = [plain(column.path), plain(column.type), plain(", ".join(flags)), plain(column.comment)]
        if profiled:
            cells.append(plain(column.profile.describe() if column.profile else ""))
        table.add_row(*cells)
    return table


def partitions_table(record: TableRecord) -> Table | None:
    if not record.partitions:
        return None
    largest = sorted(record.partitions, key=lambda p: -(p.total_bytes or 0))[:LARGEST_PARTITIONS]
    table = Table(title=f"largest partitions ({len(largest)} of {len(record.partitions)})", title_justify="left")
    for heading in ("partition", "rows", "files", "size", "last written"):
        table.add_column(heading, justify="left" if heading in ("partition", "last written") else "right")
    for stat in largest:
        values = ", ".join(f"{key}={value}" for key, value in stat.values.items())
        last = stat.last_updated.isoformat(timespec="seconds") if stat.last_updated else ""
        table.add_row(plain(values), count(stat.record_count), count(stat.file_count),
                      human_bytes(stat.total_bytes) or "", last)
    return table


def snapshots_table(record: TableRecord) -> Table | None:
    if not record.snapshots:
        return None
    recent = sorted(record.snapshots, key=lambda s: s.timestamp, reverse=True)[:RECENT_SNAPSHOTS]
    table = Table(title=f"recent snapshots ({len(recent)} of {len(record.snapshots)})", title_justify="left")
    for heading in ("snapshot", "time", "operation", "added rows", "total rows"):
        table.add_column(heading)
    for snapshot in recent:
        summary = snapshot.summary
        table.add_row(str(snapshot.snapshot_id), snapshot.timestamp.isoformat(timespec="seconds"),
                      plain(snapshot.operation), plain(summary.get("added-records")), plain(summary.get("total-records")))
    return table


def schema_changes_table(record: TableRecord) -> Table | None:
    changed = [version for version in record.schema_history if version.changes]
    if not changed:
        return None
    table = Table(title="schema changes", title_justify="left")
    table.add_column("schema id")
    table.add_column("changes")
    for version in changed:
        table.add_row(str(version.schema_id), plain("; ".join(version.changes)))
    return table


def view_sql(record: TableRecord) -> Text | None:
    return Text.assemble(("view SQL: ", "bold"), record.view_sql) if record.view_sql else None


def render_record(record: TableRecord) -> RenderableType:
    parts = [overview(record), columns_table(record), partitions_table(record), snapshots_table(record),
             schema_changes_table(record), view_sql(record)]
    return Group(*(part for part in parts if part is not None))


def print_record(record: TableRecord, console: Console) -> None:
    console.print(render_record(record), highlight=False)
