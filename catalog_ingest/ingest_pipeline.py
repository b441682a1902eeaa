"""The ingest's pipeline: tables crawled ahead of the group being written, and the bounds of a group.

Embedding a group while the one before it was written (a thread of its own, one group ahead) was tried on
2026-12-04: faster with other work on the machine (2,500 tables, load 5-6: 114 and 113 s against 131 and 144 s)
but slower on a quiet one (86 and 98 s, 124 and 136 CPU-s, against 74-88 s, 107-126 CPU-s in four runs), the model's
two threads and the writer's Python contending for two cores; so a group is still embedded, then written.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from catalog_ingest.crawlers.base import Crawler, TableRef
from catalog_ingest.records import TableRecord

EMBED_GROUP_TABLES = 256
EMBED_GROUP_COLUMNS = 16_000
"""Crawled tables are embedded and written together until a group reaches either bound: Chroma's cost is
per call far more than per row, and a group still commits often enough that a killed run loses little. Chroma's
``add`` holds the GIL while it writes: 60,000 vectors of a generated lake added 650 at a time took 67 s, 2,600 at a
time 41 s; at 10,000 wide tables the bounds of 64 tables and 4,000 columns (about 650 vectors a group) held the
GIL 185 s of a 380 s ingest (py-spy ``--gil``), and these bounds took the ingest from 326 to 241 s."""
CRAWLS_AHEAD = 4 * EMBED_GROUP_TABLES
"""Tables crawled ahead of the one being written, at most: a crawled record waits in memory until its group is
written, and at 10,000 wide tables crawling all of them ahead held about a gigabyte of records."""


def crawled(
    crawler: Crawler, refs: list[TableRef], previous: Callable[[TableRef], TableRecord | None], concurrency: int
) -> Iterator[tuple[TableRef, Future[TableRecord]]]:
    """(ref, finished crawl) for every ref, in order of completion, never more than ``CRAWLS_AHEAD`` crawled
    or in flight beyond what the caller has taken."""
    waiting = iter(refs)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        running: dict[Future[TableRecord], TableRef] = {}
        for ref in itertools.islice(waiting, CRAWLS_AHEAD):
            running[pool.submit(crawler.crawl, ref, previous(ref))] = ref
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                ref = running.pop(future)
                for following in itertools.islice(waiting, 1):
                    running[pool.submit(crawler.crawl, following, previous(following))] = following
                yield ref, future


def group_full(pending: list[tuple[TableRecord, str, str]]) -> bool:
    return len(pending) >= EMBED_GROUP_TABLES or sum(len(record.columns) for record, _, _ in pending) >= EMBED_GROUP_COLUMNS
