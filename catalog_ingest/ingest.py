"""Ingest: crawl catalogs into the record store, the vector index and the lexical index, incrementally.

A run writes the next generation beside the served one: per table its vectors (tagged with the generation),
then its record; then it saves the text memo, lets the model go (publishing embeds nothing), publishes the
generation with one update in the record store, saves its lexical index, drops the vectors no served generation
needs and copies the served ones into the vector file the retriever opens without Chroma. A run killed
anywhere leaves the previous generation served whole; the next run resumes the unpublished one. Tables are
crawled ahead of the group being written (``ingest_pipeline``).
Only tables whose listing version or record fingerprint changed, or whose vectors are missing (a deleted
Chroma folder, say), are embedded again, and of their texts only those no earlier run embedded
(``memo_file``): a table that gained a column embeds that column's phrase and the chunk listing its columns.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from catalog_ingest.crawlers import crawler_for
from catalog_ingest.crawlers.base import Crawler, TableRef, TableUnreadable
from catalog_ingest.crawlers.profiles import ProfileLimits
from catalog_ingest.documents import Document, documents_for, member_documents
from catalog_ingest.embeddings import Embedder, MemoizedEmbedder, embed_documents, embedder_for, release_model
from catalog_ingest.faults import fault_point
from catalog_ingest.families import dated_members
from catalog_ingest.family_index import refresh_families
from catalog_ingest.ingest_pipeline import crawled, group_full
from catalog_ingest.index import FEW_WRITES_SYNC_THRESHOLD, HNSW_CONFIGURATION, IndexMismatchError, VectorIndex
from catalog_ingest.lexical import LexicalIndex, updated_from_store
from catalog_ingest.memo_file import load_memo, save_memo
from catalog_ingest.native_memory import limit_malloc_arenas, release_free_memory
from catalog_ingest.progress import EmbeddingProgress, IngestProgress, SilentProgress
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import CatalogConfig, Settings
from catalog_ingest.store import RecordStore
from catalog_ingest.store_backends import IngestBusy
from catalog_ingest.semantic_drift import revalidate_after_publish
from catalog_ingest.vector_file import has_vector_file, save_vector_file
from catalog_ingest.verified import mark_drifted_after_publish

log = logging.getLogger(__name__)

@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    """Unchanged tables embedded again because their vectors were missing."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(table, reason) for tables whose metadata could not be read."""
    documents_embedded: int = 0
    texts_embedded: int = 0
    """Texts the embedding model read: the others were remembered, from this run or an earlier one's memo."""
    drifted: list[str] = field(default_factory=list)
    """Tables whose schema changed under a verified query (those queries wait for re-validation)."""
    semantic_stale: list[str] = field(default_factory=list)
    """Semantic-layer entries a schema change broke (left out of the served layer, listed as stale)."""
    seconds: float = 0.0
    dry_run: bool = False

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "removed": len(self.removed),
            "unchanged": len(self.unchanged),
            "repaired": len(self.repaired),
            "skipped": len(self.skipped),
        }


@contextmanager
def ingest_lock(data_dir: Path) -> Iterator[None]:
    """One ingest per data directory at a time, across processes; released even when the process dies."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "ingest.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IngestBusy(f"another ingest is running on {data_dir}; wait for it to finish") from None
        yield


class Ingester:
    """Holds the stores for one run; `run()` does the work for every configured catalog."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        progress: IngestProgress | None = None,
    ) -> None:
        self.settings = settings
        limit_malloc_arenas()  # before the crawl, model and Chroma threads start
        self.embedder = MemoizedEmbedder(embedder or embedder_for(settings.index))
        self._owns_model = embedder is None  # only a model it loaded is let go after embedding: a caller's may serve on
        self.progress = progress or SilentProgress()
        self.store = RecordStore(settings.store_location)
        self._vectors: VectorIndex | None = None
        self._sync_threshold: int | None = None
        """``VectorIndex``'s: few rows between graph writes for a re-ingest, many for a full one, none set by a dry run."""
        self._dated_members: dict[str, str] = {}
        """Table key -> its date family's name, from the listings: such members get one placeholder document."""

    @property
    def vectors(self) -> VectorIndex:
        if self._vectors is None:
            self._vectors = VectorIndex(self.settings, self.embedder, sole_writer=True,
                                        sync_threshold=self._sync_threshold)
        return self._vectors

    def _switch_embedder(self) -> None:
        """``--full`` after a change of embedder: drop the old vectors (only once the catalogs listed fine);
        every table then lacks vectors and is embedded again, also by a later run if this one is killed."""
        try:
            self.vectors
        except IndexMismatchError:
            self._vectors = VectorIndex(self.settings, self.embedder, reset=True, sole_writer=True,
                                        sync_threshold=self._sync_threshold)

    def close(self) -> None:
        """Embedded Chroma shows other processes' writes only once every client on the path has closed."""
        if self._vectors is not None:
            self._vectors.close()
        self.store.close()

    def run(self, *, full: bool = False, dry_run: bool = False) -> IngestReport:
        started = time.monotonic()
        report = IngestReport(dry_run=dry_run)
        with ingest_lock(self.settings.data_dir):
            if not dry_run:
                incremental = not full and self.store.count() > 0
                self._sync_threshold = FEW_WRITES_SYNC_THRESHOLD if incremental else HNSW_CONFIGURATION["sync_threshold"]
            # List every catalog before changing anything: an unreachable one leaves the index untouched.
            limits = {"max_partitions": self.settings.ingest.max_partitions, "retries": self.settings.ingest.retries,
                      "profile_limits": profile_limits(self.settings)}  # fmt: skip
            crawlers = [(config, crawler_for(config, **limits)) for config in self.settings.effective_catalogs()]
            try:
                listings = [(config, crawler, crawler.list_tables()) for config, crawler in crawlers]
                if not dry_run:
                    self.store.begin()
                if full and not dry_run:
                    self._switch_embedder()
                if not full and not dry_run:
                    self.embedder.earlier = load_memo(self.settings, self.embedder.name)
                for config, crawler, refs in listings:
                    self._ingest_catalog(config, crawler, refs, report, full=full, dry_run=dry_run)
                self._remove_unconfigured_catalogs(report, dry_run=dry_run)
                if not dry_run:
                    report.documents_embedded += self._refresh_families(full=full)
            finally:
                for _, crawler in crawlers:
                    crawler.close()
            if not dry_run:
                report.texts_embedded = self.embedder.texts_embedded
                if report.texts_embedded:
                    save_memo(self.settings, self.embedder)
                self._release_embedding()
                published = self.publish(force=full)
                report.drifted = mark_drifted_after_publish(self.settings.data_dir, self.store)
                report.semantic_stale = revalidate_after_publish(self.settings, self.store, generation_published=published)
                if published and self._vectors is not None:
                    self._vectors.close(vacuum=True)  # Chroma's purged log leaves free pages behind
                    self._vectors = None  # opened again if this ingester is used after
        report.seconds = time.monotonic() - started
        return report

    def _release_embedding(self) -> None:
        """Before publishing, which embeds nothing: let the memo (saved) and the model this ingester loaded go,
        and hand the memory they and the crawl freed back to the system, under what publishing allocates."""
        self.embedder.forget()
        if self._owns_model:
            release_model(self.embedder.inner)
        release_free_memory()

    def _ingest_catalog(
        self,
        config: CatalogConfig,
        crawler: Crawler,
        refs: list[TableRef],
        report: IngestReport,
        *,
        full: bool,
        dry_run: bool,
    ) -> None:
        stored = self.store.versions(config.name)
        embedded = self.vectors.table_versions()
        listed = {f"{config.name}.{ref.full_name}": ref for ref in refs}
        was_member = self.store.member_keys(dated=True)
        families = dated_members(ref.full_name for ref in refs)
        self._dated_members |= {f"{config.name}.{name}": family.full_name for name, family in families.items()}
        self.progress.start(config.name, len(refs))

        def has_vectors(key: str) -> bool:
            """Of the stored version, and of the right kind: a table that joined or left a date family needs the
            other kind (a member's placeholder, or documents of its own)."""
            same_role = (key in self._dated_members) == (key in was_member)
            return (key, stored[key].generation) in embedded and same_role

        def previous_record(ref: TableRef) -> TableRecord | None:
            """The stored record lends its column profiles to a table whose snapshot did not change."""
            key = f"{config.name}.{ref.full_name}"
            return self.store.get(key, with_partitions=False) if key in stored and not full else None

        to_crawl: list[TableRef] = []
        for key, ref in listed.items():
            previous = stored.get(key)
            if not full and previous and has_vectors(key) and ref.version and previous.source_version == ref.version:
                report.unchanged.append(ref.full_name)
                self.progress.advance(ref.full_name, "unchanged")
            else:
                to_crawl.append(ref)

        for key in sorted(set(stored) - set(listed)):
            report.removed.append(key.split(".", 1)[1])
            if not dry_run:
                self.remove(key)

        pending: list[tuple[TableRecord, str, str]] = []
        for ref, future in crawled(crawler, to_crawl, previous_record, self.settings.ingest.concurrency):
            try:
                record = future.result()
            except TableUnreadable as exc:
                log.warning("skipped %s: %s", ref.full_name, exc)
                report.skipped.append((ref.full_name, str(exc)))
                self.progress.advance(ref.full_name, "skipped")
                continue
            fingerprint = record.fingerprint()
            previous = stored.get(record.key)
            if previous is None:
                status = "added"
            elif previous.fingerprint != fingerprint or full:
                status = "changed"
            elif not has_vectors(record.key):
                status = "repaired"
            else:
                status = "unchanged"
            getattr(report, status).append(record.full_name)
            if status == "unchanged" or dry_run:
                self.progress.advance(record.full_name, status)
                continue
            pending.append((record, fingerprint, status))
            if group_full(pending):
                report.documents_embedded += self._write_group(pending)
                pending = []
        if pending:
            report.documents_embedded += self._write_group(pending)

    def _write_group(self, pending: list[tuple[TableRecord, str, str]]) -> int:
        """Write a group of crawled tables, then count them done: progress follows what is stored."""
        documents = self.write([(record, fingerprint) for record, fingerprint, _ in pending])
        for record, _, status in pending:
            self.progress.advance(record.full_name, status)
        return documents

    def _remove_unconfigured_catalogs(self, report: IngestReport, *, dry_run: bool) -> None:
        """A catalog taken out of the settings takes its tables out of the index."""
        configured = {config.name for config in self.settings.effective_catalogs()}
        for catalog in sorted(self.store.catalogs() - configured):
            for key in sorted(self.store.versions(catalog)):
                report.removed.append(key.split(".", 1)[1])
                if not dry_run:
                    self.remove(key)

    def remove(self, key: str) -> None:
        """Take one table out of the generation being written; its vectors go once that is published."""
        self.store.begin()
        self.store.delete(key)

    def write(self, batch: list[tuple[TableRecord, str]]) -> int:
        """Embed a group of (record, fingerprint) tables together (each distinct text once), write their
        vectors, then their records, into the generation being written: a run killed in between leaves
        records that still say the old version, so the next run redoes them. ``run`` calls this per group of
        crawled tables; tests call it with hand-made records, then ``publish``."""
        generation = self.store.begin()
        documents = [doc for record, _ in batch for doc in self._documents(record) if doc.in_vectors]
        progress = self.progress if isinstance(self.progress, EmbeddingProgress) else None
        vectors = embed_documents(self.embedder, documents, progress.embedding if progress else None)
        self.vectors.replace_tables([record.key for record, _ in batch], documents, vectors, generation)
        fault_point("vectors-written")
        for record, fingerprint in batch:
            self.store.put(record, fingerprint)
        if progress:
            progress.written(len(documents))
        return len(documents)

    def _documents(self, record: TableRecord) -> list[Document]:
        family = self._dated_members.get(record.key)
        return member_documents(record, family) if family else documents_for(record)

    def _refresh_families(self, *, full: bool) -> int:
        """Families of the generation written, rebuilt where members changed or vectors are missing."""
        return refresh_families(self.store, self._write_families, self.vectors.table_versions(), full=full)

    def _write_families(self, families: list[tuple[str, list[Document]]]) -> int:
        """Embed and write families' documents with vectors, under their keys, in one write (``refresh_families``)."""
        documents = [doc for _, docs in families for doc in docs if doc.in_vectors]
        vectors = embed_documents(self.embedder, documents)
        self.vectors.replace_tables([key for key, _ in families], documents, vectors, self.store.begin())
        return len(documents)

    def publish(self, *, force: bool = False) -> bool:
        """Serve the generation written (if it changed anything, or ``force``), with its lexical index, then
        drop the vectors no served generation reads and copy the served ones into the vector file. With
        nothing to publish, the served generation's lexical index is still checked and updated if it is
        missing, stale or holds another version of a table, and its vector file written if it is missing or
        stale. Returns whether a new generation was published."""
        path = self.settings.lexical_path
        published = self.store.publish(force=force)
        if published:
            fault_point("generation-published")
            self._save_lexical(path, full=force)
        elif LexicalIndex.saved_table_versions(path, str(self.store.generation)) != self.store.searchable_versions():
            self._save_lexical(path)
        fault_point("lexical-saved")
        self._drop_unserved_vectors()
        if not has_vector_file(self.settings, self.vectors.embedder.name, self.store.generation):
            save_vector_file(self.settings, self.vectors, self._served_versions(), self.store.generation)
        return published

    def _save_lexical(self, path: Path, *, full: bool = False) -> None:
        """The served generation's lexical index: the saved one updated (only changed and added tables'
        documents are read and tokenized), or built whole with ``full`` or over a save in an older format."""
        previous = LexicalIndex()
        if not full:
            try:
                previous = LexicalIndex.load(path)
            except IndexMismatchError as exc:
                log.info("%s: building it whole", exc)
        updated_from_store(previous, self.store).save(path, generation=str(self.store.generation))

    def _drop_unserved_vectors(self) -> None:
        """Vectors of versions no stored generation reads (the served one, or a live reader's): replaced and
        collected, removed, or never published (a run killed between a table's vectors and its record)."""
        self.vectors.delete_versions(self.vectors.table_versions() - self.store.retained_versions())

    def _served_versions(self) -> dict[str, int]:
        """What search reads: tables that are not family members, and families (the vector file's content)."""
        return self.store.searchable_versions()


def profile_limits(settings: Settings) -> ProfileLimits:
    return ProfileLimits(max_bytes=settings.ingest.profile_bytes, max_distinct=settings.ingest.profile_max_distinct)


def ingest(
    settings: Settings,
    *,
    full: bool = False,
    dry_run: bool = False,
    progress: IngestProgress | None = None,
    embedder: Embedder | None = None,
) -> IngestReport:
    ingester = Ingester(settings, embedder=embedder, progress=progress)
    try:
        return ingester.run(full=full, dry_run=dry_run)
    finally:
        ingester.close()
