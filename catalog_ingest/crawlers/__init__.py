"""Crawlers of catalog backends into table records; ``crawler_for`` picks the backend a catalog config names."""

from __future__ import annotations

from catalog_ingest.crawlers.base import Crawler
from catalog_ingest.crawlers.profiles import ProfileLimits
from catalog_ingest.settings import CatalogConfig


def crawler_for(
    config: CatalogConfig, *, max_partitions: int = 20000, retries: int = 3, profile_limits: ProfileLimits | None = None
) -> Crawler:
    """Backends are imported on first use: boto3 loads only when a Glue catalog is configured."""
    limits = {"max_partitions": max_partitions, "retries": retries, "profile_limits": profile_limits}
    if config.type == "glue":
        from catalog_ingest.crawlers.glue import GlueCrawler

        return GlueCrawler(config, **limits)
    from catalog_ingest.crawlers.iceberg import IcebergCrawler

    return IcebergCrawler(config, **limits)
