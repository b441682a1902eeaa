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

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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
"""A neighbour's score: this share of the hit it joins (it lands just below the hit)."""
NAMESPACE_WORDS_SHARE = 4.0
"""Weight of how well a namespace's words cover the query (``NamespaceWords.scores``, at most a top-ranked
document's fused score): tuned on the tuning part of the pooled benchmark (bench/bench_pooled.py)."""
KEY_SUFFIXES = ("id", "code", "key", "num", "number")
"""Column names that end like this are join keys (``customer_id``, ``StuID``, ``country_code``); a bare
``id`` is a table's own key, which joins only a column named after that table (``student_id``)."""


def key_name(column: str) -> str:
    """A column name reduced for matching across tables: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", column.lower())


def is_key_name(name: str) -> bool:
    return name.endswith(KEY_SUFFIXES)


@dataclass(frozen=True)
class JoinKeys:
    """Per table, the key-like column names it shares with other tables of its namespace."""

    neighbours: dict[str, dict[str, tuple[str, ...]]]
    """table key -> {neighbour table key: the shared key columns' names}."""

    @classmethod
    def from_columns(
        cls, columns_by_table: Mapping[str, Iterable[str]], namespace_of: Mapping[str, str], name_of: Mapping[str, str]
    ) -> JoinKeys:
        """Two tables of one namespace join when they share a key-like column name, or when one has a
        column named after the other table plus a key suffix (``student_id`` -> ``student``, ``students``)
        while the other has that bare suffix column (``id``). ``name_of`` gives a table's own name."""
        keys: dict[str, dict[str, str]] = {}
        for table, columns in columns_by_table.items():
            keys[table] = {key_name(column): column for column in columns if is_key_name(key_name(column))}
        by_namespace: dict[str, list[str]] = defaultdict(list)
        for table in columns_by_table:
            by_namespace[namespace_of[table]].append(table)

        neighbours: dict[str, dict[str, tuple[str, ...]]] = defaultdict(dict)
        for tables in by_namespace.values():
            for i, first in enumerate(tables):
                for second in tables[i + 1 :]:
                    shared = sorted(keys[first].keys() & keys[second].keys() - set(KEY_SUFFIXES))
                    shared += referenced_keys(keys[first], keys[second], name_of[second])
                    shared += referenced_keys(keys[second], keys[first], name_of[first])
                    if shared:
                        names = tuple(dict.fromkeys(keys[first].get(n) or keys[second][n] for n in shared))
                        neighbours[first][second] = neighbours[second][first] = names
        return cls(dict(neighbours))

    def of(self, table: str) -> dict[str, tuple[str, ...]]:
        return self.neighbours.get(table, {})


def referenced_keys(source: Mapping[str, str], target: Mapping[str, str], target_name: str) -> list[str]:
    """Key columns of ``source`` named after the target table (``student_id`` for ``student``) when the
    target has the bare key column (``id``)."""
    bare = key_name(target_name)
    return [
        name
        for name in source
        for suffix in KEY_SUFFIXES
        if name.endswith(suffix) and suffix in target and stem(name[: -len(suffix)]) in (bare, stem(bare))
    ]


class NamespaceWords:
    """BM25 over each namespace's distinct words as one document: which namespace covers most of a
    question's words, rare words counting most (a question about students' pets is about the namespace
    that has both students and pets, not one of the many with students)."""

    def __init__(self, words_by_namespace: Mapping[str, Iterable[str]]) -> None:
        import bm25s

        self._namespaces = list(words_by_namespace)
        self._bm25 = bm25s.BM25()
        if self._namespaces:
            self._bm25.index([sorted(words_by_namespace[n]) for n in self._namespaces], show_progress=False)

    def scores(self, tokens: list[str], rrf_k: int, limit: int = 50) -> dict[str, float]:
        """namespace -> its BM25 score relative to the best namespace's, on the scale of a top-ranked
        document in the fusion (1 / (rrf_k + 1)), for the ``limit`` namespaces covering the query best."""
        token_ids = self._bm25.get_tokens_ids(tokens) if self._namespaces else []
        if not token_ids:
            return {}
        raw = self._bm25.get_scores_from_ids(token_ids)
        order = sorted((i for i in range(len(raw)) if raw[i] > 0), key=lambda i: -raw[i])[:limit]
        return {self._namespaces[i]: float(raw[i] / raw[order[0]]) / (rrf_k + 1) for i in order}


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
) -> tuple[dict[str, float], dict[str, tuple[str, ...]]]:
    """Scores with namespaces counted as wholes (their tables' scores, plus ``namespace_words``: how well
    each covers the query's words) and join-key neighbours of the top tables added, the strongest matches
    on their own kept in sight; and for each neighbour brought in, the key columns it was joined on."""
    whole = namespace_scores(scores, namespace_of)
    for namespace, score in namespace_words.items():
        if namespace in whole:
            whole[namespace] += NAMESPACE_WORDS_SHARE * score
    ranked = {table: score + NAMESPACE_SHARE * whole[namespace_of[table]] for table, score in scores.items()}
    joined = add_neighbours(ranked, join_keys)
    keep_strong_matches_in_sight(ranked, scores)
    return ranked, joined


def add_neighbours(ranked: dict[str, float], join_keys: JoinKeys) -> dict[str, tuple[str, ...]]:
    """Raise the join-key neighbours of the top ``NEIGHBOUR_SOURCES`` tables to just below them (in place);
    returns each neighbour raised with the key columns it joins on."""
    joined: dict[str, tuple[str, ...]] = {}
    for source in sorted(ranked, key=lambda table: (-ranked[table], table))[:NEIGHBOUR_SOURCES]:
        for neighbour, columns in join_keys.of(source).items():
            score = NEIGHBOUR_SHARE * ranked[source]
            if score > ranked.get(neighbour, 0.0):
                ranked[neighbour] = score
                joined.setdefault(neighbour, columns)
    return joined


def keep_strong_matches_in_sight(ranked: dict[str, float], scores: Mapping[str, float]) -> None:
    """In place: the best match on its own first, and the best ``PROTECTED_MATCHES`` within the first
    ``PROTECTED_WITHIN``."""
    if not scores:
        return
    protected = sorted(scores, key=lambda table: (-scores[table], table))[:PROTECTED_MATCHES]
    others = sorted((score for table, score in ranked.items() if table not in protected), reverse=True)
    slack = PROTECTED_WITHIN - PROTECTED_MATCHES
    if len(others) > slack:
        for table in protected:
            ranked[table] = max(ranked[table], others[slack] + 1e-6 * scores[table])  # in their own order
    ranked[protected[0]] = max(ranked.values()) + 1e-9
