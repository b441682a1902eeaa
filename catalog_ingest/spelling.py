"""Misspelled search words: a query word missing from the lexical index's vocabulary is read as the token it
most likely misspells ("sesions" for "sessions"), so BM25 still finds the tables a typo names."""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterable

MIN_CHARS = 5
"""Shorter words are left alone: one letter there makes another word."""
CUTOFF = 0.8
"""How similar the token must be, by difflib's ratio ("sesion" and "session": 0.92)."""
SPELLED_WEIGHT = 0.5
"""A corrected word's share of a BM25 score: a guess counts for less than a word as written."""
REMEMBERED = 10_000


class Spellings:
    """A vocabulary's alphabetic tokens by first letter and length, and the corrections looked up so far."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self._lock = threading.Lock()
        self._groups: dict[tuple[str, int], list[str]] = {}
        for word in vocabulary:
            if word.isalpha():
                self._groups.setdefault((word[0], len(word)), []).append(word)
        self._corrected: dict[str, str | None] = {}

    def corrected(self, token: str) -> str | None:
        """The closest token at least ``CUTOFF`` similar among those with the token's first letter and a length
        within one of its own; None for a short token, a number or an identifier. Remembered per token."""
        if len(token) < MIN_CHARS or not token.isalpha():
            return None
        with self._lock:
            if token in self._corrected:
                return self._corrected[token]
        candidates = [w for n in range(len(token) - 1, len(token) + 2) for w in self._groups.get((token[0], n), ())]
        found = difflib.get_close_matches(token, candidates, n=1, cutoff=CUTOFF)
        with self._lock:
            if len(self._corrected) >= REMEMBERED:
                self._corrected.clear()
            self._corrected[token] = found[0] if found else None
        return found[0] if found else None
