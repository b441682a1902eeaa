"""The crawler interface: one per catalog backend, the shape of pyiceberg's catalog package.

Backends (``iceberg``, ``glue``) import this and the shared modules (``common``, ``pyiceberg_catalogs``,
``iceberg_record``), never each other; ``catalog_ingest.crawlers.crawler_for`` picks one by config.
"""

from __future__ import annotations

import fnmatch
from abc import ABC, abstractmethod
from dataclasses import dataclass

from catalog_ingest.crawlers.profiles import ProfileLimits
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import CatalogConfig


class CatalogUnreachable(RuntimeError):
    """The catalog could not be listed after bounded retries; nothing was changed."""


class TableUnreadable(RuntimeError):
    """One table's metadata could not be read (corrupt file, missing object, access denied)."""


@dataclass(frozen=True)
class TableRef:
    namespace: str
    name: str
    version: str | None = None
    """A cheap change marker from the listing (Iceberg metadata location, Glue update time and version):
    equal to the stored one means the table is unchanged and need not be crawled again."""

    @property
    def full_name(self) -> str:
        return f"{self.namespace}.{self.name}"


class Crawler(ABC):
    def __init__(
        self,
        config: CatalogConfig,
        *,
        max_partitions: int = 20000,
        retries: int = 3,
        profile_limits: ProfileLimits | None = None,
    ) -> None:
        self.config = config
        self.max_partitions = max_partitions
        self.retries = retries
        self.profile_limits = profile_limits or ProfileLimits()

    @abstractmethod
    def list_tables(self) -> list[TableRef]:
        """Every table the filters admit. Raises CatalogUnreachable."""

    @abstractmethod
    def check_reachable(self) -> None:
        """One small request the catalog must answer, costing the same at ten tables or ten thousand (no
        table is listed or loaded): what a readiness probe asks. Raises what the catalog's client raises."""

    @abstractmethod
    def crawl(self, ref: TableRef, previous: TableRecord | None = None) -> TableRecord:
        """The full record of one table; ``previous`` is its stored record, whose column profiles are kept
        when the data did not change. Raises TableUnreadable. Safe to call from several threads."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release clients."""

    def admits(self, namespace: str, name: str) -> bool:
        return admits(self.config, namespace, name)


def admits(config: CatalogConfig, namespace: str, name: str) -> bool:
    """Include/exclude globs match ``namespace.table`` or the namespace alone."""
    full = f"{namespace}.{name}"

    def matches(pattern: str) -> bool:
        return fnmatch.fnmatchcase(full, pattern) or fnmatch.fnmatchcase(namespace, pattern)

    if config.include and not any(matches(p) for p in config.include):
        return False
    return not any(matches(p) for p in config.exclude)
