"""The semantic layer as the tools show it: the terms, metrics and relationships a question or a table touches.

Every model reads the same thing in ``search_tables`` and ``describe_table`` results, under ``semantic``:
terms with where they live (a table, a column, a column's values), metrics with their SQL expression,
filter, time column and dimensions, and join keys. The layer is the lake owner's file, so its references
and SQL are shown as written (they passed validation against the catalog); its descriptions are free
text, set apart under ``metadata_untrusted`` like catalog comments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catalog_ingest.documents import clean_text
from catalog_ingest.records import TableRecord
from catalog_ingest.semantic import Metric, Relationship, SemanticLayer, Term, entry_tables
from catalog_ingest.semantic_match import Matches, match
from catalog_ingest.store import RecordStore
from catalog_ingest.text import stem, words

DESCRIPTION_CHARS = 200
SHOWN_PER_KIND = 6


def term_view(term: Term, phrase: str | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {"term": term.name, "matched": phrase, "table": term.table, "column": term.column,
                            "values": term.values or None}  # fmt: skip
    return {k: v for k, v in view.items() if v is not None}


def metric_view(metric: Metric, phrase: str | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "metric": metric.name,
        "matched": phrase,
        "table": metric.table,
        "expression": metric.expression,
        "filter": metric.filter,
        "time_column": metric.time_column,
        "dimensions": metric.dimensions or None,
    }
    return {k: v for k, v in view.items() if v is not None}


def relationship_view(relationship: Relationship) -> dict[str, Any]:
    return {"from": relationship.source, "to": relationship.target, "cardinality": relationship.cardinality}


def descriptions(entries: list[Term | Metric]) -> dict[str, Any]:
    said = {e.name: clean_text(e.description, DESCRIPTION_CHARS) for e in entries if e.description}
    return {"metadata_untrusted": {"descriptions": said}} if said else {}


def search_view(matches: Matches) -> dict[str, Any]:
    """What ``search_tables`` adds for the layer entries a query mentions; {} when it mentions none."""
    if not matches:
        return {}
    view = {
        "terms": [term_view(t, p) for t, p in matches.terms[:SHOWN_PER_KIND]],
        "metrics": [metric_view(m, p) for m, p in matches.metrics[:SHOWN_PER_KIND]],
        "relationships": [relationship_view(r) for r in matches.relationships[:SHOWN_PER_KIND]],
    }
    entries = [e for e, _ in [*matches.terms, *matches.metrics]]
    return {k: v for k, v in view.items() if v} | descriptions(entries)


def query_matches(layer: SemanticLayer | None, query: str) -> Matches:
    return match(layer, query) if layer is not None else Matches()


def matched_tables(matches: Matches) -> list[str]:
    """The tables the matched terms and metrics point at, metrics first: the owner's word for where to look."""
    return list(dict.fromkeys(t for e, _ in [*matches.metrics, *matches.terms] for t in sorted(entry_tables(e))))


def table_view(layer: SemanticLayer | None, record: TableRecord) -> dict[str, Any]:
    """What ``describe_table`` adds: every term, metric and relationship that names this table or its columns."""
    if layer is None:
        return {}
    touching = layer.entries_touching(record.key, [record])
    terms = [e for e in touching if isinstance(e, Term)]
    metrics = [e for e in touching if isinstance(e, Metric)]
    view = {
        "terms": [term_view(t) for t in terms[:SHOWN_PER_KIND]],
        "metrics": [metric_view(m) for m in metrics[:SHOWN_PER_KIND]],
        "relationships": [relationship_view(e) for e in touching if isinstance(e, Relationship)][:SHOWN_PER_KIND],
    }
    return {k: v for k, v in view.items() if v} | descriptions([*terms, *metrics])


def with_layer_tables(
    store: RecordStore, hits: list[Any], matches: Matches, k: int, namespace: str | None = None
) -> list[tuple[Any, Any]]:
    """(hit, record) pairs: the tables the query's semantic-layer terms and metrics point at first (in
    ``namespace`` when one is given), then the search hits (a family's record is its ``FamilyRecord``), at most
    ``k``."""
    first = [r for name in matched_tables(matches) if (r := store.get(name, with_partitions=False))
             and namespace in (None, r.namespace)]  # fmt: skip
    found = [(h, r) for h in hits if (r := store.get(h.key, with_partitions=False) or store.family(h.key))]
    by_key = {r.key: h for h, r in found}
    pairs = [(by_key.get(r.key) or SemanticHit(r.key), r) for r in first]
    pairs += [(h, r) for h, r in found if r.key not in {p[1].key for p in pairs}]
    return pairs[:k]


@dataclass
class SemanticHit:
    """A table no search hit found, brought in because a term or metric of the layer points at it."""

    key: str
    score: float = 0.0
    matched_columns: list[str] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)


def fitted(view: dict[str, Any], room: int, size: Callable[[Any], int]) -> dict[str, Any]:
    """The view within ``room`` (as ``size`` measures it), so a tool result stays whole JSON: the descriptions
    go first, then the longest list is halved; a note says entries were left out."""
    shown = dict(view)
    while shown and size(shown) > room:
        if "metadata_untrusted" in shown:
            del shown["metadata_untrusted"]
            continue
        lists = [k for k, v in shown.items() if isinstance(v, list)]
        if not lists:
            return {}
        longest = max(lists, key=lambda k: len(shown[k]))
        kept = shown[longest][: len(shown[longest]) // 2]
        shown = {k: v for k, v in shown.items() if k != longest} | ({longest: kept} if kept else {})
        shown["note"] = "more layer entries touch this table than fit here"
    return shown


def semantic_part(view: dict[str, Any]) -> dict[str, Any]:
    return {"semantic": view} if view else {}


def layer_words(results: list[Any], cited: set[str]) -> set[str]:
    """Stemmed words of the question's phrases that a semantic-layer term or metric matched in this turn's
    ``search_tables`` results, when the answer cites the table the entry points at: accounted for by the layer."""
    found: set[str] = set()
    for result in results:
        if result.name != "search_tables" or not result.ok:
            continue
        semantic = result.data.get("semantic") or {}
        for entry in [*semantic.get("terms", []), *semantic.get("metrics", [])]:
            table = entry.get("table") or ".".join(str(entry.get("column", "")).split(".")[:2])
            if entry.get("matched") and table in cited:
                found |= {stem(w) for w in words(entry["matched"])}
    return found
