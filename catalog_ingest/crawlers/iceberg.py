"""Crawl any catalog pyiceberg can load (sql, rest, glue, hive, ...) into table records.

Listing retries with exponential backoff (tenacity) and then reports the catalog unreachable; each table's
record is built by ``iceberg_record`` from its own metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pyiceberg.catalog import Catalog
from tenacity import RetryError, Retrying, retry_if_not_exception_type, stop_after_attempt, wait_exponential

from catalog_ingest.crawlers.base import CatalogUnreachable, Crawler, TableRef, TableUnreadable
from catalog_ingest.crawlers.iceberg_record import iceberg_record
from catalog_ingest.crawlers.pyiceberg_catalogs import CatalogPool, listed_metadata_locations
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import CatalogConfig

LISTING_CONCURRENCY = 8
"""Tables loaded at once while listing, to read their metadata locations."""

BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0

T = TypeVar("T")


class IcebergCrawler(Crawler):
    """Crawls one pyiceberg catalog through a pool of catalog objects, one per thread at a time."""

    def __init__(self, config: CatalogConfig, **limits: Any) -> None:
        super().__init__(config, **limits)
        self._catalogs = CatalogPool(config)
        self._listed_locations = False
        """Whether the refs' versions are metadata locations the catalog listed in one query (SQL catalogs)."""

    def list_tables(self) -> list[TableRef]:
        identifiers, listed = self._with_retries(self._admitted_identifiers)
        self._listed_locations = listed is not None
        if listed is not None:
            locations = [listed.get(identifier) for identifier in identifiers]
        else:
            with ThreadPoolExecutor(max_workers=LISTING_CONCURRENCY, thread_name_prefix="iceberg-list") as pool:
                locations = list(pool.map(self._metadata_location_or_none, identifiers))
        return [
            TableRef(namespace=".".join(identifier[:-1]), name=identifier[-1], version=location)
            for identifier, location in zip(identifiers, locations, strict=True)
        ]

    def check_reachable(self) -> None:
        with self._catalogs.lend() as catalog:
            catalog.list_namespaces()  # top level only: one query (SQL) or one GET (REST)

    def crawl(self, ref: TableRef, previous: TableRecord | None = None) -> TableRecord:
        try:
            if self._listed_locations and ref.version:
                table = self._catalogs.read_table(ref.version)
            else:
                table = self._catalogs.load_table((*ref.namespace.split("."), ref.name))
            return iceberg_record(
                self.config.name, ref.namespace, ref.name, table, self.max_partitions, self.profile_limits, previous
            )
        except Exception as exc:
            raise TableUnreadable(f"{ref.full_name}: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self._catalogs.close()

    def _admitted_identifiers(self) -> tuple[list[tuple[str, ...]], dict[tuple[str, ...], str | None] | None]:
        """The admitted tables, and every table's metadata location where one query reads them all (an SQL
        catalog's own table; listing its 204 namespaces one by one took 409 queries, 1.5 CPU-s)."""
        with self._catalogs.lend() as catalog:
            listed = listed_metadata_locations(catalog)
            every = sorted(listed) if listed is not None else (
                identifier for namespace in all_namespaces(catalog) for identifier in catalog.list_tables(namespace))
            return [identifier for identifier in every if self.admits(".".join(identifier[:-1]), identifier[-1])], listed

    def _metadata_location_or_none(self, identifier: tuple[str, ...]) -> str | None:
        """A table that fails to load still gets listed; its crawl reports why."""
        try:
            return self._catalogs.load_table(identifier).metadata_location
        except Exception:
            return None

    def _with_retries(self, action: Callable[[], T]) -> T:
        """``action`` tried ``retries + 1`` times with backoff; CatalogUnreachable is final at once."""
        attempts = self.retries + 1
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=BACKOFF_SECONDS, max=MAX_BACKOFF_SECONDS),
            retry=retry_if_not_exception_type(CatalogUnreachable),
        )
        try:
            return retrying(action)
        except RetryError as exhausted:
            failure = exhausted.last_attempt.exception()
            raise CatalogUnreachable(
                f"catalog {self.config.name!r} ({describe_catalog(self.config)}) could not be listed after "
                f"{attempts} attempt(s): {type(failure).__name__}: {failure}"
            ) from failure


def describe_catalog(config: CatalogConfig) -> str:
    """Type and URI for error messages, without any password in the URI."""
    kind = config.properties.get("type", "default type")
    uri = config.properties.get("uri")
    return f"{kind} at {redact_uri(uri)}" if uri else kind


def redact_uri(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def all_namespaces(catalog: Catalog) -> Iterator[tuple[str, ...]]:
    """Every namespace, nested ones included (catalogs without nesting return no children)."""
    pending = list(catalog.list_namespaces())
    while pending:
        namespace = pending.pop(0)
        yield namespace
        pending.extend(child for child in catalog.list_namespaces(namespace) if child != namespace)
