"""One measured phase of the scale benchmark, in its own process so its peak memory is its own.

Run by path with ``PYTHONPATH`` set to the code under test (this worktree, or another checkout for the
design it is compared with), so it imports only ``catalog_ingest``; prints one JSON object.

    python bench/scale_phases.py ingest|search DATA_DIR CATALOG_PROPERTIES_JSON
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from pathlib import Path

QUERIES = (
    "refund amount by country", "daily events per user", "shipment status and delivery date", "session duration",
    "total revenue usd", "customer email address", "device platform and browser", "campaign clicks impressions",
    "invoice tax amount", "order_id created_at", "ticket reason", "store region sales", "payment fee currency",
    "ga sessions traffic source medium", "vehicle sensor temperature", "patient claim cost", "loan balance rate",
    "video views likes shares", "repo commit count", "page url query term",
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU of this process: steadier than wall time on a machine other work shares."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def settings_for(data_dir: str, properties: dict[str, str]):
    from catalog_ingest.settings import CatalogConfig, load_settings

    return load_settings(data_dir=Path(data_dir), catalogs=[CatalogConfig(name="scale", properties=properties)])


def ingest_phase(settings) -> dict[str, float]:
    from catalog_ingest.ingest import ingest

    report = ingest(settings)
    return {"seconds": report.seconds, "documents": report.documents_embedded, **report.counts()}


def search_phase(settings) -> dict[str, float]:
    """Cold start (open the retriever), the first query, then every query five times for p50/p95."""
    from catalog_ingest.retrieval import Retriever

    started = time.perf_counter()
    retriever = Retriever(settings)
    opened = time.perf_counter() - started
    started = time.perf_counter()
    retriever.search(QUERIES[0], k=10)
    first = time.perf_counter() - started
    latencies = []
    for query in QUERIES * 5:
        started = time.perf_counter()
        retriever.search(query, k=10)
        latencies.append(1000 * (time.perf_counter() - started))
    retriever.close()
    cuts = statistics.quantiles(latencies, n=20)
    return {"open_seconds": opened, "first_query_seconds": first, "p50_ms": statistics.median(latencies), "p95_ms": cuts[18]}


def main(argv: list[str]) -> None:
    phase, data_dir, properties = argv[0], argv[1], json.loads(argv[2])
    settings = settings_for(data_dir, properties)
    result = {"ingest": ingest_phase, "search": search_phase}[phase](settings)
    print(json.dumps(result | {"peak_rss_mb": peak_rss_mb(), "cpu_s": cpu_seconds()}))


if __name__ == "__main__":
    main(sys.argv[1:])
