"""Hybrid table search: dense and BM25 document hits fused by reciprocal rank, then ranked per table.

Each list alone loses to the fusion: dense search misses exact identifiers, BM25 misses paraphrases.
Ranks are fused per document, so a table gains from every chunk and column that matched, with
diminishing weight, and a query that names a table outright puts that table first. A dataset present twice
is returned once, its best-ranked copy naming the others (``dataset_copies``).
"""

from __future__ import annotations

import heapq
import threading
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from catalog_ingest.dataset_copies import DatasetCopies
from catalog_ingest.dense_batches import DenseBatches
from catalog_ingest.dense_bounds import BoundsWhen
from catalog_ingest.embeddings import Embedder, embedder_for, start_loading
from catalog_ingest.family_index import lexical_index
from catalog_ingest.index import ExactVectors, SearchResult, ServedVectors, VectorIndex, tokenize
from catalog_ingest.lexical import LexicalIndex
from catalog_ingest.ranking import JoinKeys, NamespaceWords, is_key_column, rank_tables
from catalog_ingest.settings import Settings
from catalog_ingest.store import RecordStore
from catalog_ingest.text import SEARCH_STOPWORDS, identifier_words, stem
from catalog_ingest.vector_file import embedded_store_missing, fits_exact_search, load_vector_file

RRF_K = 60
CANDIDATES_PER_LIST = 50
"""Documents taken from each list. Deeper lists (100 dense, 200 BM25) gave lesser tables scores of their own
and raised pooled recall@10 on the tuning part (spider1 0.974 -> 0.980, BIRD with evidence 0.953 -> 0.958,
bench/bench_pooled.py) but cost a quarter more CPU a search at 10,000 tables (p50 15.9 -> 19.6 ms, loaded)."""
DOC_WEIGHTS = (1.0, 0.5, 0.25)
"""A table's score: its best fused document score, plus half the second and a quarter of the third."""
NAMED_TABLE_BOOST = 1.0
"""Far above any fused score (at most about 0.06): a query that is a table's name gets that table."""
MENTIONED_TABLE_BOOST = 2.0 / (RRF_K + 1)
"""A table name inside a longer question counts like one more top document in both lists."""
FILLER_WORDS = SEARCH_STOPWORDS | {"table", "tables", "dataset", "view", "called", "named"}
"""Words of a query that never name a table."""


@dataclass
class TableHit:
    key: str
    full_name: str
    catalog: str
    namespace: str
    score: float
    matched_columns: list[str] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)
    """The same table in namespaces that copy this one's (``dataset_copies``), returned once, here."""


@dataclass(frozen=True)
class TableInfo:
    key: str
    full_name: str
    catalog: str
    namespace: str


@dataclass(frozen=True)
class OpenIndexes:
    """What one search reads, all of one record-store generation: the indexes as they were when the retriever
    opened them."""

    vector: VectorIndex | None
    """The Chroma collection, open while dense queries go to it; None once the vectors are in memory."""
    dense: ServedVectors | ExactVectors
    """What dense queries go to: the vectors in memory while they fit ``index.exact_search_mb`` (from the
    generation's vector file when there is one, else copied out of Chroma), else Chroma."""
    lexical: LexicalIndex
    tables: dict[str, TableInfo]
    tables_by_name: dict[str, set[str]]
    namespace_of: dict[str, str]
    join_keys: JoinKeys
    namespace_words: NamespaceWords
    copies: DatasetCopies
    generation: int
    gaps: dict[str, int]
    """Tables of the generation missing from an index ("vectors", "lexical" -> count)."""


def name_key(name: str) -> str:
    return stem(name.lower())


def open_indexes(settings: Settings, embedder: Embedder, store: RecordStore, bounds: BoundsWhen = "open") -> OpenIndexes:
    """The indexes of the generation ``store`` reads (pinned). The lexical index comes from its save for
    that generation, or is built from the store's records when that save is missing (an ingest killed
    after publishing); the vectors are those tagged with each table's version, their score bounds built as
    ``bounds`` says."""
    generation = store.generation
    visible = store.searchable_versions()  # family members are served through their family
    lexical = LexicalIndex.load_generation(settings.lexical_path, str(generation)) or lexical_index(store)
    tables: dict[str, TableInfo] = {}
    tables_by_name: dict[str, set[str]] = defaultdict(set)
    lexical_tables = lexical.table_metadata()
    for key, metadata in lexical_tables.items():
        namespace, full_name = str(metadata["namespace"]), str(metadata["table"])
        tables[key] = TableInfo(key, full_name, str(metadata["catalog"]), namespace)
        for name in (key, full_name, full_name[len(namespace) + 1 :]):
            tables_by_name[name_key(name)].add(key)
    for member in store.member_keys():  # family members are not searched, but one named outright is found
        catalog, namespace, table = member.split(".", 2)
        tables[member] = TableInfo(member, f"{namespace}.{table}", catalog, namespace)
        for name in (member, f"{namespace}.{table}", table):
            tables_by_name[name_key(name)].add(member)
    namespace_of = {key: info.namespace for key, info in tables.items()}
    name_of = {key: info.full_name[len(info.namespace) + 1 :] for key, info in tables.items()}
    join_keys = JoinKeys(lambda: lexical.columns_by_table(keep=is_key_column), namespace_of, name_of)  # at the first search
    copies = DatasetCopies(
        lambda: {key: (f"{tables[key].catalog}.{tables[key].namespace}", name_of[key]) for key in lexical_tables},
        lambda keys: lexical.columns_by_table(of=keys),
    )
    vector, dense = open_dense(settings, embedder, visible, generation, bounds)
    gaps = {
        "vectors": len(visible.keys() - dense.table_keys()),
        "lexical entries": len(visible.keys() - lexical.table_keys()),
    }
    return OpenIndexes(
        vector, dense, lexical, tables, dict(tables_by_name), namespace_of, join_keys,
        NamespaceWords(lexical.words_by_namespace), copies, generation, gaps,
    )


def open_dense(
    settings: Settings, embedder: Embedder, visible: dict[str, int], generation: int, bounds: BoundsWhen = "open"
) -> tuple[VectorIndex | None, ServedVectors | ExactVectors]:
    """The generation's vector file when it is there and current (Chroma is not even imported), else the
    vectors copied out of Chroma into memory, else Chroma itself past what exact search holds (``fits_exact_search``)."""
    saved = load_vector_file(settings, embedder.name, generation, bounds)
    if saved is not None:
        return None, saved
    vector = VectorIndex(settings, embedder)
    if not fits_exact_search(settings, vector.count(), embedder.dim):
        return vector, ServedVectors(vector, visible, settings.index.exact_search_mb)
    dense = ExactVectors.load(vector, visible, bounds)
    vector.close()  # all in memory: no client left to share a stale cache with a later ingest here
    return None, dense


class Retriever:
    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, *, store: RecordStore | None = None,
        bounds: BoundsWhen = "open",
    ) -> None:
        """Searches the generation ``store`` is pinned to (pass the store the caller reads records from),
        by default the one published now. ``bounds``: when exact dense search builds its score bounds
        (``dense_bounds.BoundsWhen``): a process that searches once need not."""
        self._settings = settings
        self._embedder = embedder or embedder_for(settings.index)
        start_loading(self._embedder)  # while the indexes open and the caller builds its graph
        self._vector_lock = threading.Lock()
        """Held around dense queries and around closing, so no query runs on a closed client."""
        self._closed = False
        self._own_store = None if store is not None else RecordStore(settings.store_location, pinned=True)
        """A store opened here (no ``store`` passed) is closed with the retriever, ending its reader pin."""
        self._indexes = open_indexes(settings, self._embedder, store or self._own_store, bounds)
        self._dense_batches = DenseBatches(self._embedder.embed_queries, self._dense_step)
        """Concurrent searches embed and score their queries together (``catalog_ingest.dense_batches``)."""

    @property
    def embedder(self) -> Embedder:
        """The lake's embedder, loaded once: verified questions are embedded and searched with it too."""
        return self._embedder

    @property
    def generation(self) -> int:
        return self._indexes.generation

    def dense_search(self) -> str:
        """How dense queries are answered: "exact: N vectors in memory", or "approximate: ..." with the measured
        recall of Chroma's index, for a lake past what is held in memory."""
        return self._indexes.dense.describe()

    def health(self) -> str:
        """"ok", or "degraded: ..." with what is missing: tables without vectors or lexical entries (counted
        when the indexes opened), or the embedded Chroma store gone from disk (checked now)."""
        problems = [f"{n} tables without {index}" for index, n in self._indexes.gaps.items() if n]
        if embedded_store_missing(self._settings):
            problems.append("the vector store's folder is missing; run an ingest to rebuild it")
        return "degraded: " + "; ".join(problems) if problems else "ok"

    def close(self) -> None:
        """Release the Chroma client; searches after this raise. To see a new ingest, open a new Retriever:
        after another process's ingest, close this one first, or the new one shares its cached vector graph."""
        with self._vector_lock:
            if self._indexes.vector is not None:
                self._indexes.vector.close()
            self._closed = True
        if self._own_store is not None:
            self._own_store.close()

    def _dense_step(self, vectors: np.ndarray, namespaces: list[str | None]) -> list[list[SearchResult]]:
        """Each query vector's dense candidates (a batch from ``DenseBatches``)."""
        with self._vector_lock:
            if self._closed:
                raise RuntimeError("this retriever is closed; open a new Retriever")
            dense = self._indexes.dense
            if isinstance(dense, ExactVectors):
                return dense.query_many(vectors, CANDIDATES_PER_LIST, namespaces)
            return [dense.query(vector, CANDIDATES_PER_LIST, namespace) for vector, namespace in zip(vectors, namespaces)]

    def search(self, query: str, k: int = 5, namespace: str | None = None) -> list[TableHit]:
        if not query.strip() or k <= 0:
            return []
        indexes = self._indexes
        dense = self._dense_batches.search(query, namespace)
        lexical = indexes.lexical.search(query, CANDIDATES_PER_LIST, namespace)

        fused: dict[str, float] = defaultdict(float)
        metadata_by_doc: dict[str, dict] = {}
        for results in (dense, lexical):
            for rank, (doc_id, _, metadata) in enumerate(results, start=1):
                fused[doc_id] += 1.0 / (RRF_K + rank)
                metadata_by_doc[doc_id] = metadata

        found = tables_found(fused, metadata_by_doc)
        scores = {key: table.score for key, table in found.items()}
        named, referenced = named_tables(query, indexes)
        for key, boost in referenced.items():  # a column reference counts in its namespace's score too
            if not namespace or indexes.tables[key].namespace == namespace:
                scores[key] = scores.get(key, 0.0) + boost
        namespace_words = indexes.namespace_words.scores(tokenize(query), RRF_K)
        ranked, joined = rank_tables(scores, indexes.namespace_of, indexes.join_keys, namespace_words)
        for key, boost in named.items():
            if not namespace or indexes.tables[key].namespace == namespace:
                ranked[key] = ranked.get(key, 0.0) + boost

        def name_of(key: str) -> str:
            table = found.get(key)
            return table.full_name if table is not None else indexes.tables[key].full_name

        def order(key: str) -> tuple[float, str]:
            return -ranked[key], name_of(key)

        candidates = heapq.nsmallest(2 * k, ranked, key=order)  # sorted(...)[:2 * k]
        top = indexes.copies.fold(candidates, k)  # a copy of a table before it is named by that table's hit
        if len(top) < k and len(candidates) < len(ranked):
            top = indexes.copies.fold(sorted(ranked, key=order), k)
        hits = []
        for key, copies in top:  # hits, and their matched columns, made for the tables returned only
            table = found.get(key)
            if table is not None:
                hit = TableHit(key, table.full_name, table.catalog, table.namespace, ranked[key], table.matched_columns())
            else:
                info = indexes.tables[key]
                hit = TableHit(key, info.full_name, info.catalog, info.namespace, ranked[key])
                if key in joined and key not in scores:  # brought in: the key columns it joins on (read here)
                    hit.matched_columns = list(joined[key])
            hit.copies = [indexes.tables[copy].full_name for copy in copies]
            hits.append(hit)
        return hits


class FoundTable:
    """One table's documents in the fused lists: its score (``DOC_WEIGHTS`` over its documents' fused scores,
    best first) and its matched columns, best first."""

    __slots__ = ("metadata", "scores", "columns")

    def __init__(self, metadata: dict) -> None:
        self.metadata = metadata
        """Its first document's metadata."""
        self.scores: list[float] = []
        self.columns: list[tuple[float, str]] = []
        """(fused score, column path) per matched column document."""

    @property
    def full_name(self) -> str:
        return str(self.metadata["table"])

    @property
    def catalog(self) -> str:
        return str(self.metadata["catalog"])

    @property
    def namespace(self) -> str:
        return str(self.metadata["namespace"])

    @property
    def score(self) -> float:
        return sum(weight * score for weight, score in zip(DOC_WEIGHTS, sorted(self.scores, reverse=True)))

    def matched_columns(self) -> list[str]:
        columns = sorted(self.columns, key=lambda column: -column[0])  # stable: equal scores keep their fused order
        return [column for _, column in columns]


def tables_found(fused: dict[str, float], metadata_by_doc: dict[str, dict]) -> dict[str, FoundTable]:
    """Table key -> its documents among the fused ones, in fused order."""
    found: dict[str, FoundTable] = {}
    for doc_id, score in fused.items():
        metadata = metadata_by_doc[doc_id]
        key = str(metadata["table_key"])
        table = found.get(key)
        if table is None:
            table = found[key] = FoundTable(metadata)
        table.scores.append(score)
        if metadata["kind"] == "column":
            table.columns.append((score, str(metadata["column"])))
    return found


def named_tables(query: str, indexes: OpenIndexes) -> tuple[dict[str, float], dict[str, float]]:
    """Tables the query names, and tables whose columns it references (``refunds.amount``), with their boosts.
    Qualified names (``finance.refunds``) or a bare name alone (``orders``) win outright; a bare name inside a
    longer question gets a nudge, and so do a name written as two words (``high schoolers`` for
    ``highschooler``, ``ad spend`` for ``ad_spend``) and the table of a column reference."""
    words = [word.lower() for word in identifier_words(query)]
    words = [word for word in words if word and word not in FILLER_WORDS]
    named: dict[str, float] = {}
    referenced: dict[str, float] = {}
    for first, second in zip(words, words[1:]):  # two words naming one table (high schooler, ad spend)
        for joined in (first + second, f"{first}_{second}"):
            for key in indexes.tables_by_name.get(name_key(joined), ()):
                named[key] = max(named.get(key, 0.0), MENTIONED_TABLE_BOOST)
    for word in words:
        word_key = name_key(word)
        for key in indexes.tables_by_name.get(word_key, ()):
            info = indexes.tables[key]
            qualified = word_key in (name_key(info.full_name), name_key(info.key))
            strong = qualified or len(words) == 1
            named[key] = max(named.get(key, 0.0), NAMED_TABLE_BOOST if strong else MENTIONED_TABLE_BOOST)
        if "." in word and word_key not in indexes.tables_by_name:
            for key in indexes.tables_by_name.get(name_key(word.split(".")[-2]), ()):
                referenced[key] = MENTIONED_TABLE_BOOST
    return named, referenced
