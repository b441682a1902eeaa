"""Misspelled search words (issue 13, typos): a query word missing from the lexical vocabulary is read as the
token it most likely misspells, so BM25 finds the table a typo names; short words, numbers and words like no
token are left alone."""

from __future__ import annotations

from catalog_ingest.documents import documents_for
from catalog_ingest.lexical import LexicalIndex
from catalog_ingest.spelling import Spellings
from tests.test_index import catalog


def test_a_misspelled_word_is_read_as_the_token_it_misspells():
    spellings = Spellings(["session", "device", "refund", "region", "order", "2024", "order_id"])
    assert spellings.corrected("sesion") == "session"
    assert spellings.corrected("devise") == "device"
    assert spellings.corrected("regoin") == "region"
    assert spellings.corrected("ordr") is None  # too short: one letter makes another word
    assert spellings.corrected("weather") is None  # like no token
    assert spellings.corrected("2025") is None


def test_bm25_finds_the_table_a_typo_names():
    index = LexicalIndex()
    index.build(doc for record in catalog() for doc in documents_for(record))
    hits = index.search("refnds by regoin", 5)
    assert hits and all(doc_id.startswith("demo.finance.refunds::") for doc_id, _, _ in hits[:2])
    assert index.search("qwertyuiop zxcvbnm", 5) == []  # nothing like any token: no hit made up
