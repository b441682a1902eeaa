"""Charts of the record store's facts: a table's history and partitions, the lake's namespaces and freshness.

Each chart is built once from records, as rows of plain values plus which fields label them and which are
measured; the Vega-Lite spec (data inline, for the API and the VS Code webview) and the terminal's bars
(``lakescout.charts``) are both drawn from those rows, so every picture shows the same numbers. Catalog text
(table names, partition values) only ever appears as data values or plain titles, never as markup, and
comments are left out altogether.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from catalog_ingest.records import SnapshotInfo, TableRecord
from catalog_ingest.sizes import human_bytes
from catalog_ingest.store import partition_label

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
MAX_PARTITION_BARS = 60
"""Partitions drawn one by one; past this the largest are kept and the rest summed into one bar."""
SECONDS_PER_DAY = 86_400

Unit = Literal["count", "bytes", "days"]


@dataclass(frozen=True)
class Measure:
    """One measured field of a chart's rows and how to read it."""

    field: str
    title: str
    unit: Unit

    def text(self, value: float | None) -> str:
        """The value as a reader wants it: bytes in binary units, counts with separators, days to 0.1."""
        if value is None:
            return "-"
        if self.unit == "bytes":
            return human_bytes(int(value)) or "-"
        if self.unit == "days":
            return f"{value:.1f}"
        return f"{int(value):,}"


@dataclass(frozen=True)
class Chart:
    """A chart's rows and its Vega-Lite spec (``spec`` inlines ``rows``)."""

    id: str
    title: str
    labels: tuple[str, ...]
    """The fields that say what each row is (a snapshot's time and id, a partition, a namespace)."""
    measures: tuple[Measure, ...]
    rows: list[dict[str, Any]]
    spec: dict[str, Any] = field(repr=False)


def vega_lite(title: str, rows: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    """A complete Vega-Lite document: schema, plain-text title, the rows inline, then the chart's body."""
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": {"text": title, "anchor": "start"},
        "data": {"values": rows},
        **body,
    }


def quantitative(measure: Measure) -> dict[str, Any]:
    """A measure as a positional encoding; bytes read as SI-prefixed numbers on the axis."""
    encoding: dict[str, Any] = {"field": measure.field, "type": "quantitative", "title": measure.title}
    if measure.unit == "bytes":
        encoding["axis"] = {"format": "~s"}
    return encoding


def tooltip(fields: Iterable[tuple[str, str, str]]) -> list[dict[str, str]]:
    """Tooltip entries (field, type, title): vega-embed's tooltip shows them as escaped text."""
    return [{"field": name, "type": kind, "title": title} for name, kind, title in fields]


def horizontal_bars(
    chart_id: str, title: str, label: str, label_title: str, measures: tuple[Measure, ...],
    rows: list[dict[str, Any]], *, extra_tooltip: tuple[tuple[str, str, str], ...] = (), color: str | None = None,
) -> Chart:
    """One bar per row in the rows' order, labels on the y axis; several measures become side-by-side panels,
    ``color`` a field that colours the bars."""
    y = {"field": label, "type": "nominal", "title": label_title, "sort": None}
    tips = tooltip([(label, "nominal", label_title), *((m.field, "quantitative", m.title) for m in measures),
                    *extra_tooltip])
    if len(measures) == 1:
        body: dict[str, Any] = {"mark": "bar", "encoding": {"y": y, "x": quantitative(measures[0]), "tooltip": tips}}
        if color:
            body["encoding"]["color"] = {"field": color, "type": "nominal", "title": color}
    else:
        body = {"hconcat": [
            {"mark": "bar", "encoding": {"y": y, "x": quantitative(m), "tooltip": tips}} for m in measures
        ]}
    return Chart(chart_id, title, (label,), measures, rows, vega_lite(title, rows, body))


# A table -------------------------------------------------------------------------------------------------

HISTORY_MEASURES = (
    Measure("records", "rows", "count"),
    Measure("bytes", "bytes", "bytes"),
    Measure("files", "data files", "count"),
)
PARTITION_MEASURE = Measure("bytes", "bytes", "bytes")


def summary_number(snapshot: SnapshotInfo, key: str) -> int | None:
    """An Iceberg snapshot-summary total (``total-records``...) as a number; None when the catalog omits it."""
    value = snapshot.summary.get(key)
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


def history_chart(record: TableRecord) -> Chart:
    """Rows, bytes and data files after each snapshot, oldest first, as three panels over one time axis."""
    snapshots = sorted(record.snapshots, key=lambda s: s.timestamp)
    rows = [
        {
            "time": s.timestamp.isoformat(timespec="seconds"),
            "snapshot_id": str(s.snapshot_id),  # 64-bit ids lose digits as JavaScript numbers
            "operation": s.operation,
            "records": summary_number(s, "total-records"),
            "bytes": summary_number(s, "total-files-size"),
            "files": summary_number(s, "total-data-files"),
        }
        for s in snapshots
    ]
    title = f"{record.full_name}: rows, bytes and files per snapshot"
    tips = tooltip([("time", "temporal", "committed"), ("snapshot_id", "nominal", "snapshot"),
                    ("operation", "nominal", "operation"),
                    *((m.field, "quantitative", m.title) for m in HISTORY_MEASURES)])
    panels = [
        {
            "height": 110,
            "mark": {"type": "line", "point": True, "interpolate": "step-after"},
            "encoding": {
                "x": {"field": "time", "type": "temporal", "title": "snapshot committed"},
                "y": quantitative(m),
                "tooltip": tips,
            },
        }
        for m in HISTORY_MEASURES
    ]
    spec = vega_lite(title, rows, {"vconcat": panels})
    return Chart("history", title, ("time", "snapshot_id", "operation"), HISTORY_MEASURES, rows, spec)


def partition_rows(record: TableRecord, limit: int = MAX_PARTITION_BARS) -> list[dict[str, Any]]:
    """One row per partition in partition order; past ``limit`` the largest ``limit - 1`` and one row
    summing the others, so the bars always add up to the table's partition bytes."""
    stats = [
        {
            "partition": partition_label(p) or "(unpartitioned)",
            "bytes": p.total_bytes or 0,
            "records": p.record_count or 0,
            "files": p.file_count or 0,
        }
        for p in record.partitions
    ]
    if len(stats) > limit:
        largest = sorted(stats, key=lambda r: r["bytes"], reverse=True)
        kept, rest = largest[: limit - 1], largest[limit - 1 :]
        other = {"partition": f"(other {len(rest)} partitions)"}
        other.update({name: sum(r[name] for r in rest) for name in ("bytes", "records", "files")})
        stats = [*sorted(kept, key=lambda r: r["partition"]), other]
    else:
        stats.sort(key=lambda r: r["partition"])
    return stats


def partitions_chart(record: TableRecord) -> Chart:
    """Bytes per partition, in partition order (by time for day, month and hour partitions)."""
    rows = partition_rows(record)
    return horizontal_bars(
        "partitions", f"{record.full_name}: partitions by size", "partition", "partition", (PARTITION_MEASURE,),
        rows, extra_tooltip=(("records", "quantitative", "rows"), ("files", "quantitative", "data files")),
    )


def table_charts(record: TableRecord) -> list[Chart]:
    """The charts a table has data for: its snapshot history, and its partitions when it is partitioned."""
    charts = []
    if record.snapshots:
        charts.append(history_chart(record))
    if record.partitions:
        charts.append(partitions_chart(record))
    return charts


# The lake ------------------------------------------------------------------------------------------------

NAMESPACE_MEASURES = (Measure("bytes", "bytes", "bytes"), Measure("tables", "tables", "count"))
FRESHNESS_MEASURE = Measure("days", "days since the last write", "days")


def last_write(record: TableRecord) -> datetime | None:
    """When the table last changed: the catalog's own time, else its newest snapshot's."""
    if record.last_updated is not None:
        return record.last_updated
    return max((s.timestamp for s in record.snapshots), default=None)


def namespaces_chart(records: list[TableRecord], label: dict[str, str]) -> Chart:
    """Bytes and tables per namespace, largest first."""
    totals: dict[str, dict[str, Any]] = defaultdict(lambda: {"bytes": 0, "tables": 0, "records": 0})
    for record in records:
        row = totals[label[record.key]]
        row["tables"] += 1
        row["bytes"] += record.totals.total_bytes or 0
        row["records"] += record.totals.record_count or 0
    rows = sorted(({"namespace": name, **row} for name, row in totals.items()), key=lambda r: -r["bytes"])
    return horizontal_bars(
        "namespaces", "bytes and tables per namespace", "namespace", "namespace", NAMESPACE_MEASURES, rows,
        extra_tooltip=(("records", "quantitative", "rows"),),
    )


def freshness_chart(records: list[TableRecord], label: dict[str, str], now: datetime) -> Chart:
    """Days since each table's last write, stalest first; tables whose catalog gives no time are left out."""
    rows = []
    for record in records:
        written = last_write(record)
        if written is None:
            continue
        written = written if written.tzinfo else written.replace(tzinfo=UTC)
        rows.append({
            "table": label[record.key] + "." + record.name,
            "namespace": label[record.key],
            "days": round(max((now - written).total_seconds(), 0.0) / SECONDS_PER_DAY, 2),
            "last_write": written.isoformat(timespec="seconds"),
        })
    rows.sort(key=lambda r: (-r["days"], r["table"]))
    return horizontal_bars(
        "freshness", "days since the last write, per table", "table", "table", (FRESHNESS_MEASURE,), rows,
        extra_tooltip=(("last_write", "temporal", "last write"),), color="namespace",
    )


def lake_charts(records: Iterable[TableRecord], now: datetime | None = None) -> list[Chart]:
    """The lake overview: bytes and tables per namespace, and freshness (days since last write per table,
    counted to ``now``, default the current time). Namespaces are named with their catalog when the lake
    spans several catalogs."""
    tables = list(records)
    several_catalogs = len({r.catalog for r in tables}) > 1
    label = {r.key: f"{r.catalog}.{r.namespace}" if several_catalogs else r.namespace for r in tables}
    return [namespaces_chart(tables, label), freshness_chart(tables, label, now or datetime.now(UTC))]
