"""Test helpers that change a copy of the ingested sample lake: a copied data directory, new tables, a drop."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog

from catalog_ingest.settings import Settings, load_settings

NEW_NAMESPACE = "zebra"


def copy_lake(settings: Settings, target: Path) -> Settings:
    """A copy of an ingested data directory (lake, record store and indexes) that a test may change."""
    shutil.copytree(settings.data_dir, target)
    return load_settings(data_dir=target)


def change_lake(settings: Settings, new_tables: int) -> str:
    """Add ``zebra.ledger_0..n`` (with rows) to the copy's catalog and drop one existing table; returns the
    dropped table's name. Only the copy's catalog database and warehouse are written."""
    config = settings.effective_catalogs()[0]
    catalog = SqlCatalog(config.name, **config.properties)
    dropped = sorted(f"{ns[0]}.{name}" for ns in catalog.list_namespaces() for _, name in catalog.list_tables(ns))[0]
    catalog.drop_table(dropped)
    catalog.create_namespace(NEW_NAMESPACE)
    for i in range(new_tables):
        table = catalog.create_table(
            f"{NEW_NAMESPACE}.ledger_{i}",
            schema=pa.schema([pa.field("zebra_id", pa.int64()), pa.field("stripes", pa.int64())]),
            properties={"comment": "zebra ledger entries"},
        )
        table.append(pa.table({"zebra_id": [1, 2, 3], "stripes": [40, 41, 42]}))
    return dropped
