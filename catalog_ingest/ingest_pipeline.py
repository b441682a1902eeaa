"""The ingest's pipeline: tables crawled ahead of the group being written, and each group's texts embedded
while the group before it is written.

Embedding runs in native code (onnxruntime on two threads, the tokenizer) with the GIL released; writing a
group is Python (Chroma, the record store, the next group's documents). One after the other, a full ingest
on two cores kept about one of them busy (2,500 tables of the scale benchmark: 138 s for 159 CPU-s). Here a
group is embedded in a thread of its own while the main thread writes the group before it, one group ahead
at most, so vectors and records are still written group by group, in crawl order, vectors first.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

from catalog_ingest.crawlers.base import Crawler, TableRef
from catalog_ingest.records import TableRecord

EMBED_GROUP_TABLES = 64
EMBED_GROUP_COLUMNS = 4_000
"""Crawled tables are embedded and written together until a group reaches either bound: Chroma's cost is
per call far more than per row, and a group still commits often enough that a killed run loses little."""
CRAWLS_AHEAD = 4 * EMBED_GROUP_TABLES
"""Tables crawled ahead of the one being written, at most: a crawled record waits in memory until its group is
written, and at 10,000 wide tables crawling all of them ahead held about a gigabyte of records."""

Group = TypeVar("Group")
Embedded = TypeVar("Embedded")


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


class EmbedAhead(Generic[Group, Embedded]):
    """Groups embedded by ``embed`` in a thread of their own, one ahead of the group ``write`` is writing on
    the caller's thread; groups are written in the order they were added. Use as a context manager: leaving
    it waits for an embedding still running and writes nothing more."""

    def __init__(self, embed: Callable[[Group], Embedded], write: Callable[[Group, Embedded], int]) -> None:
        self._embed, self._write = embed, write
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-ahead")
        self._ahead: tuple[Group, Future[Embedded]] | None = None

    def __enter__(self) -> EmbedAhead[Group, Embedded]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def add(self, group: Group) -> int:
        """Start embedding ``group``, then write the group added before it (once its embedding is done);
        returns what that write returned (0 for the first group)."""
        future = self._pool.submit(self._embed, group)
        written = self._write_ahead()
        self._ahead = (group, future)
        return written

    def finish(self) -> int:
        """Write the last group added; returns what its write returned."""
        return self._write_ahead()

    def _write_ahead(self) -> int:
        if self._ahead is None:
            return 0
        group, future = self._ahead
        self._ahead = None
        return self._write(group, future.result())
