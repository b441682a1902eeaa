"""Building the sample lake: a local pyiceberg SQL catalog filled from the table specs, history included.

Everything is seeded, so two builds with the same seed and scale hold the same rows; only snapshot ids and
commit times differ. Fact tables are written batch by batch, so ``scale`` (GB of Parquet) grows the lake,
not the memory. ``sample_tables`` gives other catalogs (Glue) the same rows without building a lake.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.table import Table
from sqlalchemy import event

from catalog_ingest.settings import SAMPLE_CATALOG_NAME, sample_catalog_properties
from sample.facts import event_batch, order_batch
from sample.generate import Columns, World
from sample.history import reprocess_emea_refunds
from sample.spec import to_arrow
from sample.tables import NAMESPACE_COMMENTS, SPECS_BY_NAME, TABLE_SOURCES, TABLE_SPECS

# Default (scale=0) sizes: about 11 MB, built in seconds. Scaled builds use bigger batches until the GB target.
BASE_ORDERS_PER_BATCH = 10_000
BASE_SESSIONS_PER_BATCH = 10_000
BASE_BATCHES = 2
SCALED_ORDERS_PER_BATCH = 400_000  # with its sessions, about 120 MB of Parquet and 1.6 GB peak RSS
SCALED_MIN_BATCHES = 4
FACT_BYTES_PER_ORDER = 300
"""Parquet bytes written per order with its share of items, payments, refunds, events and sessions."""
FIRST_ORDER_ID = 100_001


@dataclass(frozen=True)
class SampleLake:
    lake_dir: Path
    catalog_properties: dict[str, str]
    """Pass to ``SqlCatalog(SAMPLE_CATALOG_NAME, **catalog_properties)`` or a lakescout catalog config."""
    tables: list[str]
    """``namespace.table`` names."""
    total_bytes: int
    """Parquet bytes on disk, including files that later snapshots replaced."""
    catalog_name: str = SAMPLE_CATALOG_NAME


def open_sample_catalog(lake_dir: Path) -> SqlCatalog:
    properties = sample_catalog_properties(lake_dir)
    return SqlCatalog(SAMPLE_CATALOG_NAME, uri=properties["uri"], warehouse=properties["warehouse"])


def sample_tables(names: Iterable[str], *, seed: int = 7) -> dict[str, pa.Table]:
    """Default-scale rows of some tables (the first batch for fact tables), typed by their declared schemas.

    Lets other catalogs (Glue, Hive-style folders) carry the same data without a second generator.
    """
    world = World(seed, sources=TABLE_SOURCES)
    facts = _fact_batches(world, BASE_ORDERS_PER_BATCH, BASE_SESSIONS_PER_BATCH, batch=0)
    specs = [SPECS_BY_NAME[name] for name in names]
    return {s.name: to_arrow(s.schema, world.table(s.name) if s.source else facts[s.name]) for s in specs}


def build_sample_lake(
    lake_dir: Path,
    *,
    scale: float = 0.0,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> SampleLake:
    """Build (or rebuild) the sample lake in ``lake_dir``; ``scale`` is the Parquet size target in GB.

    Iceberg metadata stores absolute file paths, so the lake cannot be built elsewhere and moved. Instead the
    catalog database is written under a temporary name and renamed into place last: a killed build leaves
    no ``catalog.db``, so nothing can open a half lake, and the next build clears the leftovers.
    """
    say = progress or (lambda message: None)
    lake_dir = Path(lake_dir).resolve()
    _clear_lake_dir(lake_dir)
    building_db = lake_dir / "catalog.db.building"
    warehouse = sample_catalog_properties(lake_dir)["warehouse"]
    catalog = SqlCatalog(SAMPLE_CATALOG_NAME, uri=f"sqlite:///{building_db}", warehouse=warehouse)
    # A crashed build is discarded whole, so its commits need no fsync (about a third of the default build time).
    event.listen(catalog.engine, "connect", lambda connection, _: connection.execute("PRAGMA synchronous=OFF"))
    catalog.engine.dispose()
    try:
        _populate(catalog, World(seed, scale, sources=TABLE_SOURCES), scale, say)
    finally:
        catalog.engine.dispose()
    building_db.rename(lake_dir / "catalog.db")
    total_bytes = sum(p.stat().st_size for p in (lake_dir / "warehouse").rglob("*.parquet"))
    say(f"sample lake ready: {len(TABLE_SPECS)} tables, {total_bytes / 1e6:.1f} MB of Parquet in {lake_dir}")
    return SampleLake(lake_dir, sample_catalog_properties(lake_dir), [s.name for s in TABLE_SPECS], total_bytes)


LAKE_ENTRIES = {"catalog.db", "catalog.db.building", "warehouse"}


def _clear_lake_dir(lake_dir: Path) -> None:
    """Remove a previous lake, refusing to delete a folder that holds anything else."""
    if lake_dir.exists():
        foreign = {p.name for p in lake_dir.iterdir()} - LAKE_ENTRIES
        if foreign:
            raise ValueError(f"{lake_dir} holds files that are not a sample lake: {sorted(foreign)[:5]}")
        shutil.rmtree(lake_dir)
    lake_dir.mkdir(parents=True)


def _populate(catalog: SqlCatalog, world: World, scale: float, say: Callable[[str], None]) -> None:
    for namespace, comment in NAMESPACE_COMMENTS.items():
        catalog.create_namespace(namespace, {"comment": comment})
    tables = {
        spec.name: catalog.create_table(spec.name, spec.schema, partition_spec=spec.partition_spec,
                                        sort_order=spec.sort_order, properties=spec.properties)
        for spec in TABLE_SPECS
    }
    _load_sources(tables, world, after_facts=False)
    say("dimensions written")
    _write_facts(tables, world, scale, say)
    _load_sources(tables, world, after_facts=True)
    reprocess_emea_refunds(tables["finance.refunds"])
    say("aggregates written, history applied")


def _load_sources(tables: dict[str, Table], world: World, *, after_facts: bool) -> None:
    for spec in TABLE_SPECS:
        if spec.source is None or spec.after_facts != after_facts:
            continue
        rows = world.table(spec.name)
        if spec.load:
            spec.load(tables[spec.name], rows, world)
        else:
            tables[spec.name].append(to_arrow(tables[spec.name].schema(), rows))


def _fact_batches(world: World, orders: int, sessions: int, *, batch: int) -> dict[str, Columns]:
    return {**order_batch(world, batch, FIRST_ORDER_ID + batch * orders, orders),
            **event_batch(world, batch, 1 + batch * sessions, sessions)}


def _write_facts(tables: dict[str, Table], world: World, scale: float, say: Callable[[str], None]) -> None:
    """Fixed batches by default; for ``scale`` > 0, batches sized to reach the GB target in about
    ``SCALED_MIN_BATCHES`` steps (capped for memory), written until the Parquet bytes reach it."""
    target_bytes = scale * 1e9
    orders = BASE_ORDERS_PER_BATCH
    if scale > 0:
        wanted = int(target_bytes / FACT_BYTES_PER_ORDER / SCALED_MIN_BATCHES)
        orders = min(max(wanted, BASE_ORDERS_PER_BATCH), SCALED_ORDERS_PER_BATCH)
    sessions = orders * BASE_SESSIONS_PER_BATCH // BASE_ORDERS_PER_BATCH
    written = 0
    for batch in itertools.count():
        for name, rows in _fact_batches(world, orders, sessions, batch=batch).items():
            table = tables[name]
            table.append(to_arrow(table.schema(), rows))
            written += int(table.current_snapshot().summary.get("added-files-size", 0))
        say(f"fact batch {batch + 1}: {written / 1e6:.0f} MB")
        if (written >= target_bytes) if scale > 0 else batch + 1 >= BASE_BATCHES:
            return
