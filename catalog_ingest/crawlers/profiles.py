"""Column profiles of an Iceberg table's current snapshot: what each column holds, at little cost.

Counts and bounds are summed over the data files' manifest entries (pyiceberg's ``inspect.files()``), so no
data is read. The values of low-cardinality string columns are counted with pyarrow from the data files
themselves, reading only those columns and only as many files as a per-table byte budget allows (the cost of
a file is its candidate columns' compressed sizes, which the manifests state); a profile says when its values
are a sample. PII columns get counts only: no bounds and no values, ever. A table whose snapshot did not
change keeps the profiles it had.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from catalog_ingest.records import Column, ColumnProfile, ProfileValue, TableRecord, ValueCount

if TYPE_CHECKING:  # pyiceberg.table and pyarrow load when a table is profiled, not with the crawlers (/readyz's probe)
    from pyiceberg.table import Table

STRING_BOUND_CHARS = 16
"""Iceberg writers cut string bounds to this many characters unless the table says otherwise
(``write.metadata.metrics.default = truncate(16)``): a bound this long may be a cut prefix."""
DATA_CONTENT = 0
"""``content`` of a data file in ``inspect.files()``; 1 and 2 are position and equality deletes."""


@dataclass(frozen=True)
class ProfileLimits:
    """How much a profile may read: ``max_bytes`` of column data per table, values of columns with at most
    ``max_distinct`` distinct values (settings ``ingest.profile_bytes`` and ``ingest.profile_max_distinct``)."""

    max_bytes: int = 8 * 1024 * 1024
    max_distinct: int = 50


def profiled_columns(
    table: Table, columns: list[Column], limits: ProfileLimits, previous: TableRecord | None = None
) -> list[Column]:
    """``columns`` with their profiles: kept from ``previous`` when it profiled the same snapshot, else computed."""
    snapshot = table.current_snapshot()
    if snapshot is None:
        return columns
    kept = previous_profiles(previous, snapshot.snapshot_id)
    profiles = kept if kept is not None else compute_profiles(table, columns, limits, snapshot.snapshot_id)
    return [
        column.model_copy(update={"profile": without_pii_facts(column, profiles[column.path])})
        if column.path in profiles
        else column
        for column in columns
    ]


def previous_profiles(previous: TableRecord | None, snapshot_id: int) -> dict[str, ColumnProfile] | None:
    """The stored profiles by column path when they are of ``snapshot_id``; None when they must be computed."""
    if previous is None or previous.current_snapshot_id != snapshot_id:
        return None
    profiles = {c.path: c.profile for c in previous.columns if c.profile is not None}
    if not profiles or any(p.snapshot_id != snapshot_id for p in profiles.values()):
        return None
    return profiles


def without_pii_facts(column: Column, profile: ColumnProfile) -> ColumnProfile:
    """A PII column's profile keeps its counts only (a kept profile may predate the column's PII tag)."""
    if not column.pii:
        return profile
    return ColumnProfile(snapshot_id=profile.snapshot_id, value_count=profile.value_count, null_count=profile.null_count)


def compute_profiles(
    table: Table, columns: list[Column], limits: ProfileLimits, snapshot_id: int
) -> dict[str, ColumnProfile]:
    if not table.snapshot_by_id(snapshot_id).manifests(table.io):
        return {}  # an empty append's snapshot lists no manifests (pyiceberg's files() cannot inspect it)
    files = table.inspect.files().to_pylist()
    data_files = [f for f in files if f["content"] == DATA_CONTENT]
    has_deletes = len(data_files) < len(files)
    profiles = {
        column.path: manifest_profile(column, data_files, snapshot_id)
        for column in columns
        if is_primitive(column) and data_files and column.path in data_files[0]["readable_metrics"]
    }
    candidates = [
        column
        for column in columns
        if column.type == "string" and not column.pii and "." not in column.path and column.path in profiles
        and (profiles[column.path].value_count or 0) > (profiles[column.path].null_count or 0)
    ]  # fmt: skip
    if candidates and limits.max_bytes > 0 and limits.max_distinct > 0:
        for path, found in sampled_values(table, data_files, candidates, limits, has_deletes).items():
            profiles[path] = profiles[path].model_copy(update=found)
    return profiles


def is_primitive(column: Column) -> bool:
    """Structs, lists and maps have no metrics of their own; pyiceberg's ``readable_metrics`` covers
    top-level primitive columns only, so nested fields go unprofiled."""
    return column.field_id is not None and column.type != "struct" and not column.type.startswith(("list<", "map<"))


def manifest_profile(column: Column, data_files: list[dict[str, Any]], snapshot_id: int) -> ColumnProfile:
    """Counts summed and bounds taken over every data file's manifest entry for ``column``."""
    metrics = [f["readable_metrics"][column.path] for f in data_files]
    value_counts = [m["value_count"] for m in metrics]
    null_counts = [m["null_value_count"] for m in metrics]
    profile = ColumnProfile(
        snapshot_id=snapshot_id,
        value_count=sum(value_counts) if None not in value_counts else None,
        null_count=sum(null_counts) if None not in null_counts else None,
    )
    if column.pii:
        return profile
    lowers = [m["lower_bound"] for m in metrics]
    uppers = [m["upper_bound"] for m in metrics]
    if any(not has_bounds(m, low, up) for m, low, up in zip(metrics, lowers, uppers, strict=True)):
        return profile  # a file with values but no bounds: the table-wide bounds are unknown
    low = bound_value(min((v for v in lowers if v is not None), default=None))
    high = bound_value(max((v for v in uppers if v is not None), default=None))
    truncated = column.type == "string" and any(isinstance(v, str) and len(v) >= STRING_BOUND_CHARS for v in (low, high))
    return profile.model_copy(update={"min": low, "max": high, "bounds_truncated": truncated})


def has_bounds(metrics: dict[str, Any], lower: Any, upper: Any) -> bool:
    """A file whose column is all null (or empty) has no bounds and needs none."""
    non_null = (metrics["value_count"] or 0) - (metrics["null_value_count"] or 0)
    return non_null <= 0 or (lower is not None and upper is not None)


def bound_value(value: Any) -> ProfileValue | None:
    """A decoded manifest bound as records keep it; binary bounds are not kept."""
    if value is None or isinstance(value, (bytes, bytearray)):
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    return str(value)  # decimals and UUIDs exactly, as text


def sampled_values(
    table: Table, data_files: list[dict[str, Any]], candidates: list[Column], limits: ProfileLimits, has_deletes: bool
) -> dict[str, dict[str, Any]]:
    """Value counts of the candidate columns, file by file while the byte budget lasts; a column is dropped
    (``many_values``) once it shows more than ``limits.max_distinct`` distinct values."""
    counts: dict[int, Counter[str]] = {}
    reading = {column.field_id: column for column in candidates}
    many: set[int] = set()
    spent = 0
    files_read = 0
    for data_file in data_files:
        if not reading:
            break
        sizes = dict(data_file["column_sizes"] or [])
        cost = sum(sizes.get(field_id, 0) for field_id in reading)
        if data_file["file_format"] != "PARQUET" or spent + cost > limits.max_bytes:
            break
        spent += cost
        files_read += 1
        for field_id, values in read_value_counts(table, data_file["file_path"], list(reading)).items():
            counts.setdefault(field_id, Counter()).update(values)
            if len(counts[field_id]) > limits.max_distinct:
                many.add(field_id)
                del reading[field_id]
    sampled = has_deletes or files_read < len(data_files)
    found: dict[str, dict[str, Any]] = {}
    for column in candidates:
        if column.field_id in many:
            found[column.path] = {"many_values": True}
        elif column.field_id in counts:
            ordered = sorted(counts[column.field_id].items(), key=lambda item: (-item[1], item[0]))
            found[column.path] = {"values": [ValueCount(value=v, count=n) for v, n in ordered], "values_sampled": sampled}
    return found


def read_value_counts(table: Table, path: str, field_ids: list[int]) -> dict[int, Counter[str]]:
    """Non-null value counts of the columns with ``field_ids`` in one Parquet file, found by field id (a
    renamed column keeps its old name in older files)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    with table.io.new_input(path).open() as stream:
        parquet = pq.ParquetFile(stream)
        names = {
            int(field.metadata[b"PARQUET:field_id"]): field.name
            for field in parquet.schema_arrow
            if field.metadata and b"PARQUET:field_id" in field.metadata
        }
        wanted = {field_id: names[field_id] for field_id in field_ids if field_id in names}
        data = parquet.read(columns=list(wanted.values()))
    result = {}
    for field_id, name in wanted.items():
        pairs = pc.value_counts(data.column(name)).to_pylist()
        result[field_id] = Counter({pair["values"]: pair["counts"] for pair in pairs if pair["values"] is not None})
    return result
