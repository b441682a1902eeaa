"""Table ranking across namespaces: namespaces scored as wholes, and join-key neighbours of the best hits.

A lake holds many similar tables (``students`` in a dozen databases): per-table scores alone let the right
table's look-alikes from other namespaces crowd the top, and a question that needs two tables of one
namespace finds the one it names and loses the one that links it (``has_pet`` between ``student`` and
``pets``). So a table's score gains a share of its namespace's score (the best of its tables' scores, with
diminishing weight, plus how well the namespace's words as a whole cover the question), and tables that
share a join key with one of the top hits in its namespace are brought in just below that hit. The best
matches on their own stay in sight. Nothing here knows a particular catalog: join keys come from column names.
"""

from __future__ import annotations

import heapq
import math
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
import numpy as np

from catalog_ingest.text import stem

NAMESPACE_TABLE_WEIGHTS = (1.0, 0.5, 0.25)
"""A namespace's score: its best table's score, plus half the second's and a quarter of the third's."""
NAMESPACE_SHARE = 1.0
"""How much of its namespace's score a table gains."""
PROTECTED_MATCHES = 3
PROTECTED_WITHIN = 3
"""The best table on its own stays first, and the best ``PROTECTED_MATCHES`` on their own stay within the
first ``PROTECTED_WITHIN``: a leading namespace orders what follows but does not push a strong match of another
namespace out of sight (layered lakes, raw/staging/marts, share topics across namespaces; the agent reads
the first three hits). On the pooled benchmark this costs at most 0.003 of recall@10."""
NEIGHBOUR_SOURCES = 3
"""Top tables whose join-key neighbours are brought in."""
NEIGHBOUR_SHARE = 0.8
"""A neighbour's score: this share of the hit it joins, or its own when higher (it lands just below the hit)."""
NAMESPACE_WORDS_SHARE = 4.0
"""Weight of how well a namespace's words cover the query (``NamespaceWords.scores``, at most a top-ranked
document's fused score): tuned on the tuning part of the pooled benchmark (bench/bench_pooled.py)."""
KEY_SUFFIXES = ("id", "code", "key", "num", "number")
"""Column names that end like this are join keys (``customer_id``, ``StuID``, ``country_code``); a bare
``id`` is a table's own key, which joins only a column named after that table (``student_id``)."""


KEY_LAST_LETTERS = frozenset(suffix[-1] for suffix in KEY_SUFFIXES)
NOT_KEY_CHARACTERS = re.compile(r"[^a-z0-9]")


@lru_cache(maxsize=1 << 16)
def key_name(column: str) -> str:
    """A column name reduced for matching across tables: lower case, letters and digits only."""
    return NOT_KEY_CHARACTERS.sub("", column.lower())


def is_key_name(name: str) -> bool:
    return name.endswith(KEY_SUFFIXES)


def is_key_column(column: str) -> bool:
    """A column ``TableKeys`` keeps: the only columns ``JoinKeys`` needs to read. A name ending in a letter
    or digit no key suffix ends with is none (half of a lake's column names, told without reducing them)."""
    last = column[-1:].lower()
    if last.isascii() and last.isalnum() and last not in KEY_LAST_LETTERS:
        return False
    return is_key_name(key_name(column))


@dataclass(frozen=True)
class TableKeys:
    """One table's key-like columns, as its pairings with the other tables of its namespace read them."""

    columns: dict[str, str]
    """key name -> the table's (last) column of that name."""
    shareable: frozenset[str]
    """Key names that join when another table has them too (not a bare suffix such as ``id``)."""
    references: tuple[tuple[str, str, str], ...]
    """(key name, key suffix, the stemmed rest: ``student`` of ``student_id``) per key name and suffix it ends with."""
    own_names: frozenset[str]
    """The table's own name reduced, and stemmed: what another table's key named after it starts with."""

    @classmethod
    def of(cls, columns: Iterable[str], name: str) -> TableKeys:
        keys = {key_name(column): column for column in columns if is_key_column(column)}
        references = tuple(
            (key, suffix, stem(key[: -len(suffix)])) for key in keys for suffix in KEY_SUFFIXES if key.endswith(suffix)
        )
        bare = key_name(name)
        return cls(keys, frozenset(keys.keys() - set(KEY_SUFFIXES)), references, frozenset((bare, stem(bare))))

    def referenced_in(self, target: TableKeys) -> list[str]:
        """This table's key names named after ``target`` (``student_id`` for ``student``) when ``target`` has
        the bare key column (``id``)."""
        return [key for key, suffix, rest in self.references if suffix in target.columns and rest in target.own_names]


def shared_keys(first: TableKeys, second: TableKeys) -> tuple[str, ...]:
    """The key columns two tables of one namespace join on: key names they share, then key names of either
    named after the other while the other has the bare suffix column; ``first``'s spelling of a shared name."""
    shared = sorted(first.shareable & second.shareable)
    shared += first.referenced_in(second) + second.referenced_in(first)
    return tuple(dict.fromkeys(first.columns.get(n) or second.columns[n] for n in shared))


class JoinKeys:
    """Per table, the key-like column names it shares with other tables of its namespace.

    Found when a search first asks for a table's neighbours, and kept: a lake's pairs grow with the square
    of its namespaces' sizes (millions at 10,000 tables), while a search asks for three tables'. A namespace's
    tables are indexed by their key names the first time one of them is asked for (``NamespaceKeys``), so a
    table's neighbours are looked up, not paired with every table of its namespace; the key columns of a
    pair are worked out when they are read (``Neighbours``): a search shows them for the few it returns."""

    def __init__(
        self,
        columns_by_table: Callable[[], Mapping[str, Iterable[str]]],
        namespace_of: Mapping[str, str],
        name_of: Mapping[str, str],
    ) -> None:
        """``columns_by_table`` is called at the first question (each table's key-like columns, ``is_key_column``,
        are all it needs; other columns are ignored); ``name_of`` gives a table's own name."""
        self._read_columns = columns_by_table
        self._namespace_of, self._name_of = namespace_of, name_of
        self._lock = threading.Lock()
        self._columns: Mapping[str, Iterable[str]] | None = None
        self._tables_by_namespace: dict[str, list[str]] = {}
        """namespace -> its tables with columns, in the order of ``columns_by_table``."""
        self._position: dict[str, int] = {}
        self._namespaces: dict[str, NamespaceKeys] = {}
        self._neighbours: dict[str, Mapping[str, tuple[str, ...]]] = {}

    @classmethod
    def from_columns(
        cls, columns_by_table: Mapping[str, Iterable[str]], namespace_of: Mapping[str, str], name_of: Mapping[str, str]
    ) -> JoinKeys:
        return cls(lambda: columns_by_table, namespace_of, name_of)

    def of(self, table: str) -> Mapping[str, tuple[str, ...]]:
        """Neighbour table key -> the shared key columns' names. Two tables of one namespace join when they
        share a key-like column name, or when one has a column named after the other table plus a key suffix
        (``student_id`` -> ``student``, ``students``) while the other has that bare suffix column (``id``)."""
        found = self._neighbours.get(table)
        if found is None:
            with self._lock:
                found = self._neighbours.get(table)
                if found is None:
                    found = self._neighbours[table] = self._find(table)
        return found

    def _find(self, table: str) -> Mapping[str, tuple[str, ...]]:
        if self._columns is None:
            self._columns = self._read_columns()
            for position, key in enumerate(self._columns):
                self._position[key] = position
                self._tables_by_namespace.setdefault(self._namespace_of[key], []).append(key)
        if table not in self._position:
            return {}
        namespace = self._namespace_of[table]
        keys = self._namespaces.get(namespace)
        if keys is None:
            columns = self._columns
            keys = self._namespaces[namespace] = NamespaceKeys(
                {other: TableKeys.of(columns[other], self._name_of[other]) for other in self._tables_by_namespace[namespace]}
            )
        return Neighbours(table, sorted(keys.neighbours(table), key=self._position.__getitem__), keys, self._position)


class Neighbours(Mapping[str, tuple[str, ...]]):
    """One table's join-key neighbours (in the order of ``columns_by_table``) -> the key columns of each pair
    (``shared_keys``, in the earlier table's spelling), worked out when first read."""

    def __init__(self, table: str, neighbours: list[str], keys: NamespaceKeys, position: Mapping[str, int]) -> None:
        self._table, self._neighbours, self._keys, self._position = table, neighbours, keys, position
        self._members = frozenset(neighbours)
        self._names: dict[str, tuple[str, ...]] = {}

    def __getitem__(self, other: str) -> tuple[str, ...]:
        names = self._names.get(other)
        if names is None:
            if other not in self._members:
                raise KeyError(other)
            own, theirs = self._keys.tables[self._table], self._keys.tables[other]
            first = self._position[self._table] < self._position[other]
            names = self._names[other] = shared_keys(own, theirs) if first else shared_keys(theirs, own)
        return names

    def __contains__(self, other: object) -> bool:
        return other in self._members

    def __iter__(self) -> Iterator[str]:
        return iter(self._neighbours)

    def __len__(self) -> int:
        return len(self._neighbours)


class NamespaceKeys:
    """One namespace's tables' keys, indexed by what can make two of them join (``shared_keys``): a shareable
    key name, a table's own name (what another table's key is named after) and the rest of a key name."""

    def __init__(self, tables: dict[str, TableKeys]) -> None:
        self.tables = tables
        self._by_shareable: dict[str, list[str]] = defaultdict(list)
        self._by_own_name: dict[str, list[str]] = defaultdict(list)
        self._by_reference: dict[str, list[str]] = defaultdict(list)
        for table, keys in tables.items():
            for name in keys.shareable:
                self._by_shareable[name].append(table)
            for name in keys.own_names:
                self._by_own_name[name].append(table)
            for rest in {rest for _, _, rest in keys.references}:
                self._by_reference[rest].append(table)

    def neighbours(self, table: str) -> set[str]:
        """The other tables ``shared_keys`` finds a key with: one sharing a shareable key name, one this
        table's keys are named after (and that has the key's bare suffix), one with a key named after this
        table (while this table has that key's bare suffix)."""
        keys = self.tables[table]
        found: set[str] = set()
        for name in keys.shareable:
            found.update(self._by_shareable[name])
        for _, suffix, rest in keys.references:
            found.update(other for other in self._by_own_name.get(rest, ()) if suffix in self.tables[other].columns)
        for name in keys.own_names:
            found.update(other for other in self._by_reference.get(name, ()) if self.tables[other].referenced_in(keys))
        found.discard(table)
        return found


class NamespaceWords:
    """BM25 over each namespace's distinct words as one document: which namespace covers most of a
    question's words, rare words counting most (a question about students' pets is about the namespace
    that has both students and pets, not one of the many with students)."""

    def __init__(self, words_by_namespace: Callable[[], Mapping[str, Iterable[str]]]) -> None:
        """``words_by_namespace`` is called, and the scorer built, at the first question."""
        self._read_words = words_by_namespace
        self._lock = threading.Lock()
        self._scorer: DistinctWordsBM25 | None = None

    @classmethod
    def from_words(cls, words_by_namespace: Mapping[str, Iterable[str]]) -> NamespaceWords:
        return cls(lambda: words_by_namespace)

    def scores(self, tokens: list[str], rrf_k: int, limit: int = 50) -> dict[str, float]:
        """namespace -> its BM25 score relative to the best namespace's, on the scale of a top-ranked
        document in the fusion (1 / (rrf_k + 1)), for the ``limit`` namespaces covering the query best."""
        scorer = self._built()
        raw = scorer.scores(tokens)
        if raw is None:
            return {}
        order = sorted(np.flatnonzero(raw > 0).tolist(), key=lambda i: -raw[i])[:limit]
        return {scorer.documents[i]: float(raw[i] / raw[order[0]]) / (rrf_k + 1) for i in order}

    def _built(self) -> DistinctWordsBM25:
        with self._lock:
            if self._scorer is None:
                self._scorer = DistinctWordsBM25(self._read_words())
            return self._scorer


class DistinctWordsBM25:
    """bm25s's BM25 (its defaults: Lucene, k1 1.5, b 0.75, float32 scores) over documents that are sets of
    distinct words, each word counted once, with the same float operations, so the scores are bitwise
    bm25s's. Nothing is indexed up front (``bm25s.BM25.index`` was a fifth of a first question's CPU at 10,000
    tables): a query word's documents are found when it is first asked for, and kept."""

    K1 = 1.5
    B = 0.75
    KEPT_WORDS = 1 << 16
    """Query words whose documents and weights are kept (all are forgotten when it fills)."""

    def __init__(self, words_by_document: Mapping[str, Iterable[str]]) -> None:
        self.documents = list(words_by_document)
        self._words = [words if isinstance(words, (set, frozenset)) else set(words)
                       for words in (words_by_document[document] for document in self.documents)]  # fmt: skip
        self._kept: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
        if self.documents:
            one = np.ones(1, dtype=np.float32)  # a word's term frequency, as bm25s holds it
            lengths = np.array([len(words) for words in self._words])
            self._weight = one / (self.K1 * ((1 - self.B) + self.B * lengths / lengths.mean()) + one)

    def scores(self, tokens: list[str]) -> np.ndarray | None:
        """Each document's score for ``tokens`` (repeated tokens count again, unknown ones not at all); None
        when no token is in any document."""
        found = [entries for token in tokens if (entries := self._entries(token)) is not None]
        if not found:
            return None
        scores = np.zeros(len(self.documents), dtype=np.float32)
        for rows, weights in found:
            scores[rows] += weights  # a word's rows are distinct documents: the same float32 sums as np.add.at
        return scores

    def _entries(self, token: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The documents holding ``token`` and its score in each (idf times the length-normalised weight)."""
        if token in self._kept:
            return self._kept[token]
        rows = np.array([n for n, words in enumerate(self._words) if token in words], dtype=np.int64)
        entries = None
        if len(rows):
            n = len(self.documents)
            idf = np.float32(math.log(1 + (n - len(rows) + 0.5) / (len(rows) + 0.5)))
            entries = rows, (idf * self._weight[rows]).astype(np.float32)
        if len(self._kept) >= self.KEPT_WORDS:
            self._kept.clear()
        self._kept[token] = entries
        return entries


def namespace_scores(scores: Mapping[str, float], namespace_of: Mapping[str, str]) -> dict[str, float]:
    """Each namespace's score from its tables' scores, best first with diminishing weight."""
    by_namespace: dict[str, list[float]] = defaultdict(list)
    for table, score in scores.items():
        by_namespace[namespace_of[table]].append(score)
    return {
        namespace: sum(w * s for w, s in zip(NAMESPACE_TABLE_WEIGHTS, sorted(values, reverse=True)))
        for namespace, values in by_namespace.items()
    }


def rank_tables(
    scores: Mapping[str, float],
    namespace_of: Mapping[str, str],
    join_keys: JoinKeys,
    namespace_words: Mapping[str, float],
) -> tuple[dict[str, float], Mapping[str, tuple[str, ...]]]:
    """Scores with namespaces counted as wholes (their tables' scores, plus ``namespace_words``: how well
    each covers the query's words) and join-key neighbours of the top tables added, the strongest matches
    on their own kept in sight; and for each neighbour brought in, the key columns it was joined on (worked
    out when read)."""
    whole = namespace_scores(scores, namespace_of)
    for namespace, score in namespace_words.items():
        if namespace in whole:
            whole[namespace] += NAMESPACE_WORDS_SHARE * score
    ranked = {table: score + NAMESPACE_SHARE * whole[namespace_of[table]] for table, score in scores.items()}
    joined = add_neighbours(ranked, join_keys)
    keep_strong_matches_in_sight(ranked, scores)
    return ranked, joined


def add_neighbours(ranked: dict[str, float], join_keys: JoinKeys) -> Mapping[str, tuple[str, ...]]:
    """Raise the join-key neighbours of the top ``NEIGHBOUR_SOURCES`` tables to just below them (in place);
    returns each neighbour raised -> the key columns it joins on with the first source that raised it."""
    joined: dict[str, Mapping[str, tuple[str, ...]]] = {}
    """neighbour -> the neighbours of the source that raised it first."""
    for source in heapq.nsmallest(NEIGHBOUR_SOURCES, ranked, key=lambda table: (-ranked[table], table)):
        neighbours = join_keys.of(source)
        score = NEIGHBOUR_SHARE * ranked[source]
        for neighbour in neighbours:
            if score > ranked.get(neighbour, 0.0):
                ranked[neighbour] = score
                joined.setdefault(neighbour, neighbours)
    return JoinedColumns(joined)


class JoinedColumns(Mapping[str, tuple[str, ...]]):
    """Raised neighbour -> the key columns it was joined on, read from its source's ``Neighbours``."""

    def __init__(self, sources: dict[str, Mapping[str, tuple[str, ...]]]) -> None:
        self._sources = sources

    def __getitem__(self, neighbour: str) -> tuple[str, ...]:
        return self._sources[neighbour][neighbour]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)


def keep_strong_matches_in_sight(ranked: dict[str, float], scores: Mapping[str, float]) -> None:
    """In place: the best match on its own first, and the best ``PROTECTED_MATCHES`` within the first
    ``PROTECTED_WITHIN``."""
    if not scores:
        return
    protected = heapq.nsmallest(PROTECTED_MATCHES, scores, key=lambda table: (-scores[table], table))
    slack = PROTECTED_WITHIN - PROTECTED_MATCHES
    others = heapq.nlargest(slack + 1, (score for table, score in ranked.items() if table not in protected))
    if len(others) > slack:
        for table in protected:
            ranked[table] = max(ranked[table], others[slack] + 1e-6 * scores[table])  # in their own order
    ranked[protected[0]] = max(ranked.values()) + 1e-9
