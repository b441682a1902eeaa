"""The table-spec language: a sample table declared once, turned into its Iceberg schema, spec and properties.

Column types are short names (``long``, ``ts``, ``decimal``, ...) or ``StructOf``/``ListOf``; partitions are
Iceberg transform expressions (``day(event_time)``, ``bucket[16](order_id)``, ``region``) whose transform
part pyiceberg's own parser reads. Metadata conventions the crawler reads back:

- table property ``comment``: the table description (missing on a few tables on purpose);
- column ``doc``: the column description (missing on some raw/ops tables on purpose);
- table property ``owner``: the owning team's e-mail; ``tags``: comma-separated labels (``finance,gold``);
- table property ``lakescout.pii`` (``PII_PROPERTY``): comma-separated column paths holding personal data,
  nested fields dotted (``email,phone,address.street``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import pyarrow as pa
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema, assign_fresh_schema_ids
from pyiceberg.table import Table
from pyiceberg.table.sorting import SortField, SortOrder
from pyiceberg.transforms import IdentityTransform, Transform, UnknownTransform, parse_transform
from pyiceberg.types import (
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    NestedField,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
)

from catalog_ingest.crawlers.common import PII_PROPERTY
from sample.generate import Columns, TableSource, World


@dataclass(frozen=True)
class StructOf:
    fields: tuple[Col, ...]


@dataclass(frozen=True)
class ListOf:
    element: str


@dataclass(frozen=True)
class Col:
    name: str
    type: str | StructOf | ListOf
    """A key of ``SCALAR_TYPES`` or a nested type."""
    doc: str | None = None
    required: bool = False


SCALAR_TYPES: dict[str, IcebergType] = {
    "long": LongType(), "int": IntegerType(), "string": StringType(), "double": DoubleType(),
    "bool": BooleanType(), "date": DateType(), "ts": TimestampType(), "tstz": TimestamptzType(),
    "decimal": DecimalType(12, 2),
}


@dataclass(frozen=True)
class TableSpec:
    name: str
    """``namespace.table``."""
    columns: tuple[Col, ...]
    comment: str | None
    owner: str
    tags: str = ""
    pii: str = ""
    partition: tuple[str, ...] = ()
    """Iceberg transform expressions: ``day(event_time)``, ``bucket[16](order_id)``, ``region``."""
    identifier: tuple[str, ...] = ()
    sort: tuple[str, ...] = ()
    source: TableSource | None = None
    """Rows of a dimension or aggregate table; None for fact tables written in batches."""
    load: Callable[[Table, Columns, World], None] | None = None
    """How the rows are committed when one plain append is not the story the table tells."""
    after_facts: bool = False
    """Its rows summarise or point into the fact batches, so it is written after them."""

    @cached_property
    def schema(self) -> Schema:
        ids = itertools.count(1)

        def to_field(col: Col) -> NestedField:
            return NestedField(next(ids), col.name, to_type(col.type), required=col.required, doc=col.doc)

        def to_type(kind: str | StructOf | ListOf) -> IcebergType:
            if isinstance(kind, StructOf):
                return StructType(*[to_field(f) for f in kind.fields])
            if isinstance(kind, ListOf):
                return ListType(next(ids), to_type(kind.element), element_required=False)
            return SCALAR_TYPES[kind]

        fields = [to_field(c) for c in self.columns]
        schema = Schema(*fields)
        schema = Schema(*fields, identifier_field_ids=[schema.find_field(n).field_id for n in self.identifier])
        return assign_fresh_schema_ids(schema)  # the ids the catalog will store, so written files match

    @property
    def partition_spec(self) -> PartitionSpec:
        """Fields named ``column`` (identity) or ``column_transform`` without brackets: ``order_id_bucket16``."""
        fields = []
        for i, expression in enumerate(self.partition):
            transform, column = parse_partition_expression(expression)
            name = column if isinstance(transform, IdentityTransform) else f"{column}_{transform}"
            name = name.replace("[", "").replace("]", "")
            fields.append(PartitionField(self.schema.find_field(column).field_id, 1000 + i, transform, name))
        return PartitionSpec(*fields)

    @property
    def sort_order(self) -> SortOrder:
        fields = [SortField(source_id=self.schema.find_field(c).field_id) for c in self.sort]
        return SortOrder(*fields) if fields else SortOrder()

    @property
    def properties(self) -> dict[str, str]:
        values = {"comment": self.comment, "owner": self.owner, "tags": self.tags, PII_PROPERTY: self.pii}
        return {k: v for k, v in values.items() if v}


def parse_partition_expression(expression: str) -> tuple[Transform, str]:
    """``bucket[16](order_id)`` -> (BucketTransform(16), "order_id"); a bare column is identity."""
    transform_text, _, column = expression.rstrip(")").rpartition("(")
    transform = parse_transform(transform_text or "identity")
    if isinstance(transform, UnknownTransform):
        raise ValueError(f"unknown partition transform {transform_text!r} in {expression!r}")
    return transform, column


def to_arrow(schema: Schema, columns: Columns) -> pa.Table:
    """The columns as an Arrow table typed by ``schema``: its fields, in its order, cast to its types."""
    target = schema.as_arrow()
    return pa.table({f.name: columns[f.name] for f in target}).cast(target)
