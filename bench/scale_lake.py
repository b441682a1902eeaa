"""A real-size lake for scale benchmarks: thousands of wide Iceberg tables shaped like a public catalog.

The shape follows a public catalog of real schemas (8,255 tables, see the field notes): columns per table,
nested struct paths counted, drawn from a quantile function fitted through p50 21, p75 181, p90 252,
p99 338 and a maximum near 2,000; column names drawn Zipf-like from a small shared vocabulary (ids,
timestamps and shared dimensions repeat, so ~28,000 distinct names across ~700,000 columns); 72% of
columns described; date-sharded families ``name_YYYYMMDD`` with one schema per family; namespace sizes
log-normal (median 18, at most 785 tables); some datasets duplicated under a second name; a small
fraction of tables with rows in day partitions, so partition statistics and snapshots are real.

Empty tables are written on a fast path: their metadata files straight through pyiceberg's own writer, and
the catalog rows in one SQL transaction (``create_table`` commits one row and re-reads the table each time).
Tables with data go through ``create_table`` and ``append``. Everything drawn comes from one seed.

    python -m bench.scale_lake DIR --tables 2500 [--seed 14]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyiceberg.catalog.sql import IcebergTables, SqlCatalog
from pyiceberg.io import load_file_io
from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC, PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.serializers import ToOutputFile
from pyiceberg.table.metadata import new_table_metadata
from pyiceberg.table.sorting import UNSORTED_SORT_ORDER
from pyiceberg.transforms import DayTransform
from pyiceberg.types import (BooleanType, DateType, DoubleType, IcebergType, LongType, NestedField, StringType,
                             StructType, TimestampType)
from sqlalchemy import insert
from sqlalchemy.orm import Session

CATALOG_NAME = "scale"
WIDTH_QUANTILES = ((0.0, 2), (0.5, 21), (0.75, 181), (0.9, 252), (0.99, 338), (1.0, 2000))
"""(probability, columns incl. nested paths): the fitted quantile function, interpolated in log space."""

ENTITIES = ("user", "order", "session", "event", "product", "customer", "account", "device", "campaign",
            "invoice", "payment", "shipment", "ticket", "store", "item", "visit", "page", "ad", "trip", "station",
            "patient", "claim", "loan", "vehicle", "sensor", "repo", "commit", "post", "comment", "video")
TIMESTAMPS = ("created_at", "updated_at", "event_timestamp", "event_date", "ingested_at", "_loaded_at",
              "deleted_at", "start_time", "end_time", "processed_at", "date", "timestamp")
DIMENSIONS = ("country", "country_code", "region", "city", "currency", "channel", "device_type", "platform",
              "os", "browser", "language", "status", "plan", "tier", "segment", "source", "medium", "category",
              "name", "type", "value", "description", "version", "is_active", "amount", "quantity", "price")
QUALIFIERS = ("total", "avg", "max", "min", "first", "last", "net", "gross", "daily", "weekly", "monthly", "is",
              "has", "num", "pct", "prev", "next", "raw", "local", "utc", "billing", "shipping", "home", "primary",
              "secondary", "original", "current", "expected", "actual", "estimated", "reported", "internal")
NOUNS = ("revenue", "cost", "margin", "discount", "tax", "fee", "refund", "balance", "score", "rating", "rank",
         "duration", "distance", "latitude", "longitude", "weight", "height", "width", "age", "temperature",
         "speed", "clicks", "impressions", "views", "likes", "shares", "sessions", "visits", "purchases",
         "items", "units", "orders", "returns", "errors", "retries", "attempts", "bytes", "rows", "files",
         "pages", "tokens", "minutes", "hours", "days", "address", "email", "phone", "zip", "state", "title",
         "label", "tag", "reason", "note", "url", "path", "query", "term", "keyword", "model", "brand", "color",
         "size", "sku", "batch", "step", "stage", "level", "grade", "count", "ratio", "rate", "share", "index")
SUFFIXES = ("", "_amount", "_count", "_id", "_name", "_code", "_type", "_ts", "_date", "_flag", "_pct", "_usd")
STRUCT_NAMES = ("device", "geo", "traffic_source", "user_properties", "event_params", "address", "payload",
                "metadata", "ecommerce", "app_info", "privacy_info", "attributes")
TABLE_WORDS = ("daily", "events", "facts", "dim", "snapshot", "history", "agg", "raw", "staging", "summary",
               "log", "stats", "metrics", "report", "lookup", "mapping", "export", "sessions", "ga", "v2")
DESCRIPTION_FORMS = ("{x}.", "The {x} of the record.", "{x}, as reported by the source system.",
                     "{x} in the reporting currency.", "Identifier or label: {x}.", "{x} (nullable).")


@dataclass(frozen=True)
class LakeShape:
    """What the generator draws; the defaults are the public catalog's shape."""

    tables: int = 2500
    seed: int = 14
    vocabulary: int = 28_000
    described_share: float = 0.72
    shard_share: float = 0.21
    """Share of tables that are members of date-sharded families (8,255 tables -> ~6,550 families)."""
    shard_family_size: tuple[int, int] = (7, 60)
    namespace_median: int = 18
    namespace_sigma: float = 1.5
    namespace_max: int = 785
    duplicated_share: float = 0.03
    """Share of namespaces that appear a second time under another name."""
    struct_share: float = 0.05
    data_share: float = 0.01
    """Share of tables written with rows in day partitions (the others stay empty)."""
    partitioned_share: float = 0.4


@dataclass
class TablePlan:
    namespace: str
    name: str
    fields: list[NestedField]
    comment: str | None
    partition_source: int | None
    with_data: bool = False


@dataclass
class GeneratedLake:
    properties: dict[str, str]
    tables: list[str]
    namespaces: int
    columns: int
    distinct_column_names: int
    families: int
    seconds: float
    with_data: int
    widths: list[int] = field(repr=False, default_factory=list)


def catalog_properties(root: Path) -> dict[str, str]:
    return {"type": "sql", "uri": f"sqlite:///{root / 'catalog.db'}", "warehouse": f"file://{root / 'warehouse'}"}


def properties_argument(text: str) -> dict[str, str]:
    """A command-line argument of catalog properties: a JSON object, or the path of a file holding one (an
    ``argparse`` type: a bad one is a one-line usage error naming what was wrong)."""
    source = text
    if not text.lstrip().startswith("{"):
        try:
            source = Path(text).read_text(encoding="utf-8")
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"not a JSON object and no such file: {text!r} ({exc.strerror})") from None
    try:
        properties = json.loads(source)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"catalog properties are not valid JSON: {exc}") from None
    if not isinstance(properties, dict):
        raise argparse.ArgumentTypeError("catalog properties must be a JSON object, such as '{\"type\": \"sql\", ...}'")
    return {str(key): str(value) for key, value in properties.items()}


def column_vocabulary(shape: LakeShape) -> list[str]:
    """Shared names first (ids, timestamps, dimensions), then qualifier/noun/suffix names in a seeded order."""
    rng = random.Random(shape.seed)
    core = [f"{e}_id" for e in ENTITIES] + ["id", *TIMESTAMPS, *DIMENSIONS]
    tail = [f"{q}_{n}{s}" for q, n, s in itertools.product(QUALIFIERS, NOUNS, SUFFIXES)]
    tail += [f"{n}{s}" for n, s in itertools.product(NOUNS, SUFFIXES)]
    rng.shuffle(tail)
    names = list(dict.fromkeys(core + tail))
    return names[: shape.vocabulary]


def column_type(name: str) -> IcebergType:
    if name.endswith(("_at", "_ts", "timestamp", "_time")):
        return TimestampType()
    if name.endswith("date"):
        return DateType()
    if name.startswith(("is_", "has_")) or name.endswith("_flag"):
        return BooleanType()
    if name.endswith(("_id", "_count")) or name.startswith("num_") or name == "id":
        return LongType()
    if name.endswith(("_amount", "_usd", "_pct", "ratio", "rate", "price", "score")) or name.startswith("avg_"):
        return DoubleType()
    return StringType()


def description_of(name: str, entity: str, rng: random.Random) -> str:
    """One canonical sentence per name (described alike in every table), sometimes a table-specific one."""
    words = name.strip("_").replace("_", " ")
    if rng.random() < 0.1:
        return f"{words.capitalize()} of the {entity}."
    form = DESCRIPTION_FORMS[sum(map(ord, name)) % len(DESCRIPTION_FORMS)]
    return form.format(x=words).capitalize() if form.startswith("{x}") else form.format(x=words)


class Planner:
    """Draws table plans (names, schemas, comments) from the shape, in a fixed order from one seed."""

    def __init__(self, shape: LakeShape) -> None:
        self.shape = shape
        self.rng = random.Random(shape.seed)
        self.np_rng = np.random.default_rng(shape.seed)
        self.vocabulary = column_vocabulary(shape)
        weights = 1.0 / np.power(np.arange(len(self.vocabulary)) + 3.0, 1.05)
        self.cumulative = np.cumsum(weights) / weights.sum()
        probabilities, widths = zip(*WIDTH_QUANTILES)
        self.width_p, self.width_log = np.array(probabilities), np.log(np.array(widths, dtype=float))
        low, high = shape.shard_family_size
        share = min(shape.shard_share, 0.95)
        self.shard_chance = share / (1 - share) / ((low + high) / 2)
        """Chance that a new table family is date-sharded, for ``shard_share`` of all tables to be members."""

    def width(self) -> int:
        return max(2, int(round(float(np.exp(np.interp(self.rng.random(), self.width_p, self.width_log))))))

    def names(self, count: int, exclude: set[str]) -> list[str]:
        """``count`` distinct names, Zipf-like: shared names come first and often."""
        chosen: dict[str, None] = {}
        while len(chosen) < count:
            ranks = np.searchsorted(self.cumulative, self.np_rng.random(count * 2 + 8))
            for rank in ranks:
                name = self.vocabulary[min(int(rank), len(self.vocabulary) - 1)]
                if name not in exclude and name not in chosen:
                    chosen[name] = None
                    if len(chosen) == count:
                        break
        return list(chosen)

    def schema_fields(self, width: int, entity: str, *, nested: bool) -> list[NestedField]:
        """Top-level fields (some structs) whose paths, parents and children counted, add up to ``width``."""
        ids = itertools.count(1)
        fields: list[NestedField] = []
        paths = 0
        used: set[str] = set()
        first = [f"{entity}_id"] + [t for t in ("event_date", "created_at") if self.rng.random() < 0.6]
        plain = first + self.names(width, exclude=set(first) | set(STRUCT_NAMES))
        struct_names = [s for s in STRUCT_NAMES if nested]
        for name in plain:
            if paths >= width:
                break
            if struct_names and width - paths > 4 and self.rng.random() < self.shape.struct_share:
                struct = struct_names.pop(self.rng.randrange(len(struct_names)))
                children = self.names(min(width - paths - 1, self.rng.randint(2, 12)), exclude=set())
                child_fields = [self._field(next(ids), child, entity) for child in children]
                fields.append(NestedField(next(ids), struct, StructType(*child_fields), required=False))
                used.add(struct)
                paths += 1 + len(child_fields)
            elif name not in used:
                used.add(name)
                fields.append(self._field(next(ids), name, entity))
                paths += 1
        return fields

    def _field(self, field_id: int, name: str, entity: str) -> NestedField:
        described = self.rng.random() < self.shape.described_share
        doc = description_of(name, entity, self.rng) if described else None
        return NestedField(field_id, name, column_type(name), required=False, doc=doc)

    def namespace_sizes(self) -> list[int]:
        sizes: list[int] = []
        while sum(sizes) < self.shape.tables:
            drawn = self.rng.lognormvariate(np.log(self.shape.namespace_median), self.shape.namespace_sigma)
            sizes.append(int(min(self.shape.namespace_max, max(1, round(drawn)))))
        sizes[-1] -= sum(sizes) - self.shape.tables
        return [size for size in sizes if size > 0]

    def plans(self) -> tuple[list[TablePlan], int]:
        """Every table of the lake, and how many date-shard families it holds."""
        plans: list[TablePlan] = []
        families = 0
        sizes = self.namespace_sizes()
        duplicated = set(self.rng.sample(range(len(sizes)), max(1, round(len(sizes) * self.shape.duplicated_share))))
        for index, size in enumerate(sizes):
            namespace = f"{self.rng.choice(ENTITIES)}_{self.rng.choice(TABLE_WORDS)}_{index}"
            if index in duplicated and size >= 2:
                block, block_families = self._namespace_tables(namespace, (size + 1) // 2)
                mirror = [TablePlan(f"{namespace}_mirror", p.name, p.fields, p.comment, p.partition_source) for p in block]
                plans += block + mirror[: size - len(block)]
            else:
                block, block_families = self._namespace_tables(namespace, size)
                plans += block
            families += block_families
        for plan in self.rng.sample(plans, round(len(plans) * self.shape.data_share)):
            plan.with_data = True
        return plans[: self.shape.tables], families

    def _namespace_tables(self, namespace: str, size: int) -> tuple[list[TablePlan], int]:
        tables: list[TablePlan] = []
        families = 0
        table_ids = itertools.count()
        while len(tables) < size:
            entity = self.rng.choice(ENTITIES)
            name = f"{entity}_{self.rng.choice(TABLE_WORDS)}_{next(table_ids)}"
            fields = self.schema_fields(self.width(), entity, nested=True)
            comment = f"{name.replace('_', ' ')} for the {namespace.split('_')[0]} team" if self.rng.random() < 0.6 else None
            source = next((f.field_id for f in fields if isinstance(f.field_type, (DateType, TimestampType))), None)
            source = source if self.rng.random() < self.shape.partitioned_share else None
            families += 1
            members = 1
            if self.rng.random() < self.shard_chance and size - len(tables) > 2:
                members = min(size - len(tables), self.rng.randint(*self.shape.shard_family_size))
            start = dt.date(2024, 1, 1) + dt.timedelta(days=self.rng.randrange(300))
            for day in range(members):
                member = f"{name}_{(start + dt.timedelta(days=day)):%Y%m%d}" if members > 1 else name
                tables.append(TablePlan(namespace, member, fields, comment, source))
        return tables, families


def partition_spec_for(plan: TablePlan) -> PartitionSpec:
    if plan.partition_source is None:
        return UNPARTITIONED_PARTITION_SPEC
    source = next(f for f in plan.fields if f.field_id == plan.partition_source)
    return PartitionSpec(PartitionField(plan.partition_source, 1000, DayTransform(), f"{source.name}_day"))


def write_empty_tables(catalog: SqlCatalog, plans: list[TablePlan], rng: random.Random, warehouse: str) -> None:
    """The fast path: metadata files through pyiceberg's writer, then every catalog row in one transaction."""
    rows = []
    for plan in plans:
        location = f"{warehouse}/{plan.namespace}.db/{plan.name}"
        table_uuid = uuid.UUID(int=rng.getrandbits(128), version=4)
        properties = {"owner": f"{plan.namespace.split('_')[0]}-team@example.com"}
        if plan.comment:
            properties["comment"] = plan.comment
        metadata = new_table_metadata(Schema(*plan.fields), partition_spec_for(plan), UNSORTED_SORT_ORDER, location,
                                      properties, table_uuid=table_uuid)
        metadata_location = f"{location}/metadata/00000-{table_uuid}.metadata.json"
        ToOutputFile.table_metadata(metadata, load_file_io(catalog.properties, metadata_location).new_output(metadata_location))
        rows.append(catalog._create_table_row(plan.namespace, plan.name, metadata_location))
    with Session(catalog.engine) as session:
        session.execute(insert(IcebergTables), rows)
        session.commit()


def sample_rows(schema: pa.Schema, rows: int, rng: np.random.Generator) -> pa.Table:
    """Rows for a struct-free table over ten days (the partition source covers them)."""
    start = np.datetime64("2024-03-01")
    columns = []
    for column in schema:
        kind = column.type
        if pa.types.is_timestamp(kind):
            values = pa.array(start + rng.integers(0, 10 * 86_400_000_000, rows).astype("timedelta64[us]"), kind)
        elif pa.types.is_date(kind):
            values = pa.array(start + rng.integers(0, 10, rows).astype("timedelta64[D]"), kind)
        elif pa.types.is_integer(kind):
            values = pa.array(rng.integers(0, 1_000_000, rows), kind)
        elif pa.types.is_floating(kind):
            values = pa.array(rng.random(rows) * 100, kind)
        elif pa.types.is_boolean(kind):
            values = pa.array(rng.random(rows) < 0.5, kind)
        else:
            values = pa.array([f"v{n}" for n in rng.integers(0, 50, rows)], kind)
        columns.append(values)
    return pa.Table.from_arrays(columns, schema=schema)


def write_tables_with_data(catalog: SqlCatalog, plans: list[TablePlan], rng: np.random.Generator) -> None:
    for plan in plans:
        flat = [f for f in plan.fields if not isinstance(f.field_type, StructType)][:60]
        dated = next((f for f in flat if isinstance(f.field_type, (DateType, TimestampType))), None)
        plan.fields, plan.partition_source = flat, dated.field_id if dated else None
        table = catalog.create_table(f"{plan.namespace}.{plan.name}", Schema(*flat), partition_spec=partition_spec_for(plan),
                                     properties={"comment": plan.comment or plan.name})
        for _ in range(2):
            table.append(sample_rows(table.schema().as_arrow(), 500, rng))


def generate_lake(root: Path, shape: LakeShape = LakeShape()) -> GeneratedLake:
    """Write the lake under ``root`` (``catalog.db`` + ``warehouse/``); same shape and seed, same lake."""
    started = time.monotonic()
    root.mkdir(parents=True, exist_ok=True)
    properties = catalog_properties(root)
    catalog = SqlCatalog(CATALOG_NAME, **properties)
    plans, families = Planner(shape).plans()
    for namespace in dict.fromkeys(plan.namespace for plan in plans):
        catalog.create_namespace(namespace)
    rng = random.Random(shape.seed + 1)
    write_empty_tables(catalog, [p for p in plans if not p.with_data], rng, properties["warehouse"])
    write_tables_with_data(catalog, [p for p in plans if p.with_data], np.random.default_rng(shape.seed))
    widths = [sum(1 + len(getattr(f.field_type, "fields", ())) for f in p.fields) for p in plans]
    names = {f.name for p in plans for f in p.fields} | {c.name for p in plans for f in p.fields
                                                          for c in getattr(f.field_type, "fields", ())}
    catalog.engine.dispose()
    return GeneratedLake(
        properties=properties,
        tables=[f"{p.namespace}.{p.name}" for p in plans],
        namespaces=len({p.namespace for p in plans}),
        columns=sum(widths),
        distinct_column_names=len(names),
        families=families,
        seconds=time.monotonic() - started,
        with_data=sum(p.with_data for p in plans),
        widths=widths,
    )


def change_tables(properties: dict[str, str], tables: list[str], share: float, seed: int = 14) -> list[str]:
    """Add one column to ``share`` of the tables through ordinary pyiceberg commits (a new metadata version).
    The tables are drawn from ``tables`` sorted, so the same seed changes the same tables whatever order the
    caller lists them in (the generator's plan order, or a catalog listing)."""
    chosen = random.Random(seed).sample(sorted(tables), max(1, round(len(tables) * share)))
    catalog = SqlCatalog(CATALOG_NAME, **properties)
    for name in chosen:
        table = catalog.load_table(name)
        with table.update_schema() as update:
            update.add_column(f"added_{len(table.schema().fields)}", StringType(), doc="A column added by a change.")
    catalog.engine.dispose()
    return chosen


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_lake", description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--tables", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    lake = generate_lake(args.root, LakeShape(tables=args.tables, seed=args.seed))
    widths = np.array(lake.widths)
    print(f"{len(lake.tables)} tables in {lake.namespaces} namespaces, {lake.families} families, {lake.columns} columns "
          f"({lake.distinct_column_names} distinct names), {lake.with_data} with data, in {lake.seconds:.1f}s")
    print("width p50/p75/p90/p99/max:", [int(np.percentile(widths, q)) for q in (50, 75, 90, 99)], int(widths.max()))


if __name__ == "__main__":
    main()
