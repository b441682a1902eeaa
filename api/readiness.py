"""The catalog half of /readyz: can each configured catalog answer one small request, whatever its size?

A probe asks each catalog one question that costs the same at ten tables or ten thousand (the top-level
namespaces of an Iceberg catalog, one Glue database), never a listing of its tables: a load balancer may
call /readyz every few seconds. The result is kept for ``CATALOG_PROBE_SECONDS`` all the same.
"""

from __future__ import annotations

import logging
import time

import anyio

from catalog_ingest.settings import Settings

log = logging.getLogger("lakescout.api")

CATALOG_PROBE_SECONDS = 30.0
"""How long a catalog reachability result is reused by /readyz."""
CATALOG_PROBE_TIMEOUT = 10.0


class CatalogProbe:
    """Do the configured catalogs answer? Cached, so /readyz stays cheap under frequent probes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._checked_at = -CATALOG_PROBE_SECONDS
        self._result = "not checked"
        self._checking = anyio.Lock()
        """One probe at a time: a /readyz during the one the server starts with waits for its answer."""

    async def check(self) -> str:
        async with self._checking:
            return await self._checked()

    async def _checked(self) -> str:
        if time.monotonic() - self._checked_at >= CATALOG_PROBE_SECONDS:
            try:
                with anyio.fail_after(CATALOG_PROBE_TIMEOUT):
                    await anyio.to_thread.run_sync(self._reach_all, abandon_on_cancel=True)
                self._result = "ok"
            except TimeoutError:
                self._result = f"the catalog took longer than {CATALOG_PROBE_TIMEOUT:.0f}s to answer"
            except Exception as exc:  # reported, not raised; details only in the log (readyz is public)
                log.warning("catalog probe failed: %s", exc)
                self._result = f"unreachable ({type(exc).__name__}); the server log has details"
            self._checked_at = time.monotonic()
        return self._result

    def _reach_all(self) -> None:
        from catalog_ingest.crawlers import crawler_for

        for config in self.settings.effective_catalogs():
            crawler = crawler_for(config, retries=0)
            try:
                crawler.check_reachable()
            finally:
                crawler.close()
