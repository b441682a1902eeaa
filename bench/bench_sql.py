"""Benchmark: a partition-filtered aggregate in DuckDB against loading the table with pyiceberg into pandas.

Also checks the scan estimate from stored partition statistics against what the query really reads (the files
pyiceberg's own scan planning keeps for the filter, and the files DuckDB opens), and
what the PII-masking views cost: full scans of each PII table through its masked view against the plain
view of the same table (an engine built with ``allow_pii``), in the same process.

    python bench/bench_sql.py LAKE_DIR [--table sales.events] [--column ts] [--start 2024-01-02] [--end ...]

LAKE_DIR holds the sample lake (``catalog.db`` and ``warehouse/``). Without ``--table`` the first table
partitioned by day of a column is used; without dates, its most recent day partition.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from agent.sql.engines.duckdb_engine import DuckDBEngine
from agent.sql.estimate import estimate_scan
from catalog_ingest.crawlers.iceberg_record import iceberg_record
from catalog_ingest.crawlers.pyiceberg_catalogs import open_catalog
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import CatalogConfig, SqlSettings, sample_catalog_properties


def lake_catalog(lake_dir: Path, name: str) -> CatalogConfig:
    """The sample lake's layout under another catalog name; a SQL catalog's tables belong to its name."""
    return CatalogConfig(name=name, properties=sample_catalog_properties(lake_dir))


def day_partitioned(record: TableRecord) -> str | None:
    """The source column of the table's day partitioning, if it has one."""
    return next((f.source_column for f in record.partition_spec.fields if f.transform == "day"), None)


def latest_day(record: TableRecord) -> date:
    field = next(f for f in record.partition_spec.fields if f.transform == "day")
    return max(date.fromisoformat(s.values[field.name]) for s in record.partitions if s.values.get(field.name))


def planned_files(table, column: str, column_type: str, start: date, end: date) -> tuple[int, int]:
    """Files and bytes (delete files included) pyiceberg's scan planning keeps for ``start <= column < end``."""
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan

    def bound(day: date) -> str:  # a timestamptz bound needs its zone, a date column a plain date
        if column_type == "date":
            return day.isoformat()
        zone = timezone.utc if column_type.startswith("timestamptz") else None
        return datetime(day.year, day.month, day.day, tzinfo=zone).isoformat()

    row_filter = And(GreaterThanOrEqual(column, bound(start)), LessThan(column, bound(end)))
    tasks = list(table.scan(row_filter=row_filter).plan_files())
    size = sum(task.file.file_size_in_bytes + sum(d.file_size_in_bytes for d in task.delete_files) for task in tasks)
    return len(tasks), size


def timed(action):
    started = time.perf_counter()
    value = action()
    return value, time.perf_counter() - started


def best_of(runs: int, action) -> float:
    return min(timed(action)[1] for _ in range(runs))


def masking_cost(records: dict[str, TableRecord], runs: int = 5) -> None:
    """Every column of every row read (cast to text) through masked and through plain views; best of ``runs``."""
    tables = [r for r in records.values() if r.pii_columns]
    masked = DuckDBEngine(records.values(), SqlSettings(timeout_seconds=600))
    plain = DuckDBEngine(records.values(), SqlSettings(timeout_seconds=600, allow_pii=True))
    try:
        for record in tables:
            sql = f"SELECT count(*), sum(length(CAST(COLUMNS(*) AS VARCHAR))) FROM {record.full_name}"
            masked.run(sql, 10), plain.run(sql, 10)  # warm the file cache for both
            masked_seconds, plain_seconds = best_of(runs, lambda: masked.run(sql, 10)), best_of(runs, lambda: plain.run(sql, 10))
            print(f"masking {record.full_name:28} {record.totals.record_count or 0:>10,} rows  "
                  f"masked {masked_seconds * 1000:8.1f} ms  plain {plain_seconds * 1000:8.1f} ms  "
                  f"ratio {masked_seconds / plain_seconds:5.2f}  ({len(record.pii_columns)} PII columns)")  # fmt: skip
    finally:
        masked.close()
        plain.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lake_dir", type=Path)
    parser.add_argument("--catalog-name", default="demo", help="the pyiceberg SQL catalog's name (default: demo)")
    parser.add_argument("--table", help="namespace.table; default: the first table partitioned by day")
    parser.add_argument("--column", help="the filtered timestamp/date column; default: the day partition's source")
    parser.add_argument("--start", type=date.fromisoformat, help="first day kept; default: the latest partition's day")
    parser.add_argument("--end", type=date.fromisoformat, help="first day excluded; default: start + 1 day")
    args = parser.parse_args(argv)

    config = lake_catalog(args.lake_dir, args.catalog_name)
    catalog = open_catalog(config)
    identifiers = [t for ns in catalog.list_namespaces() for t in catalog.list_tables(ns)]
    records = {}
    for identifier in identifiers:
        namespace, name = ".".join(identifier[:-1]), identifier[-1]
        records[f"{namespace}.{name}"] = iceberg_record(config.name, namespace, name, catalog.load_table(identifier), 100_000)
    table_name = args.table or next(
        (n for n in sorted(records, key=lambda n: "events" not in n) if day_partitioned(records[n])), None
    )
    if table_name not in records:
        parser.error(f"no table {table_name!r}; tables: {', '.join(sorted(records))}")
    record = records[table_name]
    column = args.column or day_partitioned(record)
    if column is None:
        parser.error(f"{table_name} is not partitioned by day; pass --column, --start and --end")
    start = args.start or latest_day(record)
    end = args.end or start + timedelta(days=1)
    predicate = f"{column} >= '{start.isoformat()}' AND {column} < '{end.isoformat()}'"
    sql = f"SELECT count(*) AS row_count FROM {table_name} WHERE {predicate}"

    engine = DuckDBEngine(records.values(), SqlSettings(timeout_seconds=600))
    try:
        duck_result, duck_seconds = timed(lambda: engine.run(sql, 10))
        profile = engine.profile(sql)
    finally:
        engine.close()

    table = catalog.load_table(table_name)

    def pandas_count() -> int:
        import pandas as pd

        frame = table.scan().to_arrow().to_pandas()
        values = pd.to_datetime(frame[column])
        if values.dt.tz is not None:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        kept = (values >= pd.Timestamp(start)) & (values < pd.Timestamp(end))
        return int(kept.sum())

    pandas_rows, pandas_seconds = timed(pandas_count)
    estimate = estimate_scan(sql, records).tables[table_name]
    column_type = next((c.type for c in record.columns if c.path == column), "timestamp")
    planned_count, planned_bytes = planned_files(table, column, column_type, start, end)

    duck_rows = duck_result.rows[0][0]
    print(f"table {table_name} ({(record.totals.total_bytes or 0) / 2**20:,.1f} MiB, {record.totals.file_count} files)")
    print(f"filter {predicate}")
    print(f"duckdb  {duck_seconds:8.3f} s  rows {duck_rows:,}  files read {profile.files_read}")
    print(f"pandas  {pandas_seconds:8.3f} s  rows {pandas_rows:,}  (pyiceberg scan of the whole table, then filter)")
    print(f"speedup {pandas_seconds / duck_seconds:8.1f} x  (target >= 10x)")
    print(
        f"estimate from partition stats: {estimate.files} files, {estimate.bytes:,} bytes; "
        f"pyiceberg plan (files actually in the filtered partitions): {planned_count} files, {planned_bytes:,} bytes; "
        f"ratio {estimate.bytes / planned_bytes if planned_bytes else float('nan'):.3f} (target within 0.9-1.1)"
    )
    print(f"files: estimated {estimate.files}, DuckDB opened {profile.files_read}")
    masking_cost(records)
    if duck_rows != pandas_rows:
        print("MISMATCH: DuckDB and pandas counted different rows", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
