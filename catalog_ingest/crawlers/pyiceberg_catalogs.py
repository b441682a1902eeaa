"""pyiceberg catalog objects for crawlers: opened safely, lent to one thread at a time, closed when done."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.table import StaticTable, Table

from catalog_ingest.crawlers.base import CatalogUnreachable
from catalog_ingest.settings import CatalogConfig

CATALOG_NAME_PROPERTY = "catalog-name"
"""The name pyiceberg knows the catalog by, when it differs from lakescout's (SqlCatalog rows are keyed by it)."""


class CatalogPool:
    """pyiceberg promises no thread safety for catalog objects (a REST session, an SQLAlchemy engine), so each
    one is lent to one thread at a time and reused after."""

    def __init__(self, config: CatalogConfig) -> None:
        self.config = config
        self._idle: list[Catalog] = []
        self._idle_lock = threading.Lock()

    @contextmanager
    def lend(self) -> Iterator[Catalog]:
        """An idle catalog object or a new one; one that saw an error is closed rather than reused."""
        with self._idle_lock:
            catalog = self._idle.pop() if self._idle else None
        if catalog is None:
            catalog = open_catalog(self.config)
        try:
            yield catalog
        except BaseException:
            close_catalog(catalog)
            raise
        with self._idle_lock:
            self._idle.append(catalog)

    def load_table(self, identifier: tuple[str, ...]) -> Table:
        with self.lend() as catalog:
            return catalog.load_table(identifier)

    def read_table(self, metadata_location: str) -> Table:
        """The table whose metadata file this is, read with the catalog's file IO settings without asking the
        catalog again: for locations an SQL catalog just listed (``listed_metadata_locations``), where
        ``load_table`` would query the catalog's table once more per table (a tenth of a full ingest's CPU)."""
        properties = {k: v for k, v in self.config.properties.items() if k != CATALOG_NAME_PROPERTY}
        return StaticTable.from_metadata(metadata_location, properties)

    def close(self) -> None:
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for catalog in idle:
            close_catalog(catalog)


def open_catalog(config: CatalogConfig) -> Catalog:
    """``load_catalog``, except that a SQLite catalog file that does not exist is an error: pyiceberg would
    create an empty catalog there and every table would look deleted."""
    missing = missing_sqlite_file(config.properties.get("uri", ""))
    if missing is not None:
        raise CatalogUnreachable(f"catalog {config.name!r}: SQLite catalog file {missing} does not exist")
    properties = dict(config.properties)
    return load_catalog(properties.pop(CATALOG_NAME_PROPERTY, config.name), **properties)


def listed_metadata_locations(catalog: Catalog) -> dict[tuple[str, ...], str | None] | None:
    """Every table's current metadata location, read from an SQL catalog's own table in one query (loading
    each table to learn it reads one metadata file per table: 40 s at 10,000 tables); None for other kinds."""
    if type(catalog).__module__ != "pyiceberg.catalog.sql":
        return None
    from pyiceberg.catalog.sql import IcebergTables
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    query = select(IcebergTables.table_namespace, IcebergTables.table_name, IcebergTables.metadata_location)
    with Session(catalog.engine) as session:  # type: ignore[attr-defined]
        rows = session.execute(query.where(IcebergTables.catalog_name == catalog.name))
        return {(*Catalog.identifier_to_tuple(namespace), name): location for namespace, name, location in rows}


def close_catalog(catalog: Catalog) -> None:
    """Catalogs holding connections (SQL engines) have ``close``; others hold nothing to release."""
    close = getattr(catalog, "close", None)
    if close is not None:
        close()


def missing_sqlite_file(uri: str) -> Path | None:
    if not uri.startswith("sqlite:///"):
        return None
    path = uri.removeprefix("sqlite:///").split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return None if Path(path).exists() else Path(path)
