"""Which semantic-layer entries a question mentions: term and metric names and synonyms found as phrases in
its words (plurals folded), longest first, with the relationships of the tables they point at.

The layer is a lake owner's short list, so it is matched whole at search time against the layer served
with the record-store generation being read: no separate index to keep in step with an ingest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog_ingest.semantic import CatalogNames, Metric, Relationship, SemanticLayer, Term, referenced_tables
from catalog_ingest.text import stem, words


def phrase_key(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(text))


def mentions(question: str, phrase: str) -> bool:
    """The phrase's words appear in the question in order, side by side (plurals folded)."""
    asked, wanted = phrase_key(question), phrase_key(phrase)
    n = len(wanted)
    return n > 0 and any(asked[i : i + n] == wanted for i in range(len(asked) - n + 1))


def matched_phrase(entry: Term | Metric, question: str) -> str | None:
    """The longest of the entry's name and synonyms the question mentions."""
    found = [p for p in (entry.name, *entry.synonyms) if mentions(question, p)]
    return max(found, key=lambda p: len(phrase_key(p))) if found else None


@dataclass
class Matches:
    terms: list[tuple[Term, str]] = field(default_factory=list)
    """Terms the question mentions, each with the phrase it used."""
    metrics: list[tuple[Metric, str]] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.terms or self.metrics or self.relationships)


def match(layer: SemanticLayer, question: str) -> Matches:
    """The terms and metrics a question mentions (a phrase inside a longer matched one does not count on its
    own: "net revenue" is not also "revenue"), and the relationships of the tables they point at."""
    found = Matches()
    spans: list[tuple[str, ...]] = []
    candidates = [(e, p) for e in [*layer.metrics, *layer.terms] if (p := matched_phrase(e, question))]
    for entry, phrase in sorted(candidates, key=lambda c: -len(phrase_key(c[1]))):
        key = phrase_key(phrase)
        if any(len(s) > len(key) and mentions(" ".join(s), phrase) for s in spans):
            continue
        spans.append(key)
        (found.metrics if isinstance(entry, Metric) else found.terms).append((entry, phrase))  # type: ignore[arg-type]
    lake = CatalogNames(())
    touched = {t.lower() for e, _ in [*found.terms, *found.metrics] for t in referenced_tables(e, lake)}
    found.relationships = [r for r in layer.relationships if {t.lower() for t in referenced_tables(r, lake)} & touched]
    return found
