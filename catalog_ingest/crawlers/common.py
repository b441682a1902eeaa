"""What every crawler backend builds records with: the PII property, list text, schema changes, recency."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from catalog_ingest.records import Column, PartitionStat, SchemaVersion

PII_PROPERTY = "lakescout.pii"
"""Table property listing PII column paths, comma separated; a parent path marks all its children."""


def split_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def is_pii(path: str, pii_paths: Iterable[str]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in pii_paths)


def schema_history(versions: list[tuple[int, list[Column]]]) -> list[SchemaVersion]:
    """Each schema version with its changes in words against the one before."""
    history = []
    previous: list[Column] | None = None
    for schema_id, columns in sorted(versions, key=lambda v: v[0]):
        changes = describe_schema_changes(previous, columns) if previous is not None else []
        history.append(SchemaVersion(schema_id=schema_id, columns=[c.path for c in columns], changes=changes))
        previous = columns
    return history


def describe_schema_changes(before: list[Column], after: list[Column]) -> list[str]:
    """Columns are matched by field id where there is one (so renames show), else by path (Hive)."""

    def key(column: Column) -> int | str:
        return column.field_id if column.field_id is not None else column.path

    old = {key(c): c for c in before}
    new = {key(c): c for c in after}
    changes = []
    for k, column in new.items():
        if k not in old:
            changes.append(f"added column {column.path}")
            continue
        was = old[k]
        if leaf_name(was.path) != leaf_name(column.path):  # a renamed parent moves children, not renames them
            changes.append(f"renamed {was.path} to {column.path}")
        if was.type != column.type:
            changes.append(f"changed type of {column.path} from {was.type} to {column.type}")
        if was.required != column.required:
            changes.append(f"made {column.path} {'required' if column.required else 'optional'}")
    changes.extend(f"dropped column {column.path}" for k, column in old.items() if k not in new)
    return changes


def leaf_name(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def most_recent(stats: list[PartitionStat], limit: int) -> list[PartitionStat]:
    """Newest update first; ties (one commit writes many partitions) broken by the highest values."""
    oldest = datetime.min.replace(tzinfo=timezone.utc)

    def recency(stat: PartitionStat) -> tuple[datetime, list[str]]:
        return stat.last_updated or oldest, [value or "" for value in stat.values.values()]

    return sorted(stats, key=recency, reverse=True)[:limit]
