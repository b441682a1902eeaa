"""The lexical index updated table by table: what a whole rebuild gives, from only the changed and added
tables' documents; BM25 weights equal to bm25s's; saves in an older format refused with a hint (and rebuilt
whole by an ingest); a live reader's generation still readable after later saves."""

from __future__ import annotations

import json
from collections.abc import Iterable

import bm25s
import numpy as np
import pytest

from catalog_ingest import bm25, lexical_documents
from catalog_ingest.bm25 import Postings
from catalog_ingest.documents import Document, documents_for
from catalog_ingest.index import IndexMismatchError, tokenize
from catalog_ingest.lexical import LexicalIndex
from catalog_ingest.records import Column, TableRecord
from catalog_ingest.settings import Settings
from test_index import build, catalog, embedder  # noqa: F401 (embedder: the module fixture)

QUESTIONS = ("refund amount by region", "customer orders", "ad spend per channel", "loyalty downgrade reason",
             "chargeback reason", "event country", "order_id")  # fmt: skip


def documents(records: Iterable[TableRecord]) -> list[Document]:
    return [doc for record in records for doc in documents_for(record)]


def built(records: list[TableRecord], versions: dict[str, int]) -> LexicalIndex:
    index = LexicalIndex()
    index.build(documents(records), versions)
    return index


def assert_same(index: LexicalIndex, expected: LexicalIndex) -> None:
    """Everything a reader asks of the index, equal (searches with and without a namespace, over every document)."""
    assert index.count() == expected.count() and index.table_metadata() == expected.table_metadata()
    assert index.table_versions() == expected.table_versions()
    assert index.columns_by_table() == expected.columns_by_table()
    assert index.words_by_namespace() == expected.words_by_namespace()
    assert list(index.words_by_namespace()) == list(expected.words_by_namespace())  # namespace order counts
    for question in QUESTIONS:
        for namespace in (None, "marts", "finance"):
            everything = expected.count()
            assert index.search(question, everything, namespace) == expected.search(question, everything, namespace)


def test_bm25_weights_and_scores_are_bm25s():
    docs = [doc for doc in documents(catalog()) if doc.in_lexical]
    vocabulary: dict[str, int] = {}
    token_ids = [[vocabulary.setdefault(token, len(vocabulary)) for token in tokenize(doc.text)] for doc in docs]
    token_ids.append([])  # a document without tokens still counts in BM25's document count and mean length
    reference = bm25s.BM25()
    reference.index((token_ids, dict(vocabulary)), show_progress=False)
    postings = Postings.of_documents(token_ids, len(vocabulary))
    assert np.array_equal(reference.scores["indptr"], postings.starts)
    assert np.array_equal(reference.scores["indices"], postings.documents)
    assert np.array_equal(reference.scores["data"], postings.weights)
    for question in QUESTIONS:
        ids = reference.get_tokens_ids(tokenize(question))
        assert ids and np.array_equal(reference.get_scores_from_ids(ids), postings.scores(ids))


def test_a_build_a_few_documents_and_tokens_at_a_time_is_the_same_index(monkeypatch):
    records = catalog()
    versions = {record.key: 1 for record in records}
    whole = built(records, versions)
    monkeypatch.setattr(lexical_documents, "TOKENS_PER_CHUNK", 16)  # documents' tokens counted in many parts
    monkeypatch.setattr(bm25, "ENTRIES_PER_SLICE", 8)  # weights and namespace words a few tokens at a time
    chunked = built(records, versions)
    assert_same(chunked, whole)
    assert all(np.array_equal(ours, theirs) for ours, theirs in zip(chunked._postings.arrays(), whole._postings.arrays()))
    assert np.array_equal(chunked._namespace_words, whole._namespace_words)
    changed = [records[0].model_copy(update={"comment": "card payments reversed by the bank"}), *records[1:]]
    versions = {record.key: 2 if record is changed[0] else 1 for record in changed}
    updated = chunked.updated(versions, lambda keys: documents(r for r in changed if r.key in keys))  # parts interleave
    assert_same(updated, built(changed, versions))


def test_an_update_reads_only_changed_and_added_tables_and_equals_a_rebuild(tmp_path):
    refunds, orders, events, ad_spend, features, staging = catalog()
    path = tmp_path / "lexical"
    built([refunds, orders, events, ad_spend, features], dict.fromkeys(
        [refunds.key, orders.key, events.key, ad_spend.key, features.key], 1)).save(path, "1")  # fmt: skip
    chargebacks = Column(path="chargeback_reason", type="string", comment="why the bank reversed the payment")
    changed = refunds.model_copy(update={"columns": [*refunds.columns, chargebacks]})
    current = [changed, events, ad_spend, features, staging]  # orders dropped, staging added, refunds changed
    versions = {record.key: 2 if record in (changed, staging) else 1 for record in current}
    asked: list[str] = []

    def source(keys: list[str]) -> list[Document]:
        asked.extend(keys)
        return documents(record for record in current if record.key in keys)

    updated = LexicalIndex.load(path).updated(versions, source)
    assert sorted(asked) == sorted([changed.key, staging.key])
    rebuilt = built(current, versions)
    assert_same(updated, rebuilt)
    updated.save(path, "2")
    assert_same(LexicalIndex.load_generation(path, "2"), rebuilt)
    assert updated.search("chargeback reason", 1)[0][2]["table_key"] == refunds.key
    assert orders.key not in updated.table_keys()
    assert list(updated.words_by_namespace()) == list(dict.fromkeys(record.namespace for record in current))
    # a table asked for at another version than the saved one is read again
    assert LexicalIndex.load(path).updated({**versions, refunds.key: 3}, source).table_versions()[refunds.key] == 3
    assert asked[-1:] == [refunds.key]


def test_an_update_with_nothing_kept_is_a_rebuild():
    records = catalog()
    versions = {record.key: 1 for record in records}
    unlabelled = LexicalIndex()
    unlabelled.build(documents(records))  # no versions: nothing it holds can be kept
    updated = unlabelled.updated(versions, lambda keys: documents(r for r in records if r.key in keys))
    assert_same(updated, built(records, versions))
    with pytest.raises(ValueError, match="documents of table demo.finance.refunds were not asked for"):
        LexicalIndex().updated({records[1].key: 1}, lambda keys: documents(records[:2]))


def test_an_older_format_is_refused_with_a_hint_and_an_ingest_builds_it_anew(tmp_path, embedder):
    settings = Settings(data_dir=tmp_path)
    records = catalog()[:2]
    build(settings, embedder, records)
    saved = settings.lexical_path
    header = json.loads((saved / LexicalIndex.FILE).read_text(encoding="utf-8"))
    (saved / LexicalIndex.FILE).write_text(json.dumps(header | {"format": 2}), encoding="utf-8")
    (saved / LexicalIndex.TABLES_FILE).rename(saved / "tables")  # format 2's name for its list of tables
    with pytest.raises(IndexMismatchError) as refused:
        LexicalIndex.load(saved)
    assert str(refused.value) == f"lexical index at {saved} has format 2, expected 3; re-run `lakescout ingest --full`"

    build(settings, embedder, [])  # an ingest with nothing new still replaces a save it cannot update
    index = LexicalIndex.load(saved)
    assert index.table_keys() == {record.key for record in records}
    assert_same(index, built(records, index.table_versions()))


def test_a_live_reader_keeps_its_generation_after_later_saves(tmp_path):
    path = tmp_path / "lexical"
    records = catalog()
    first = built(records, {record.key: 1 for record in records})
    first.save(path, "1")
    reader = LexicalIndex.load_generation(path, "1")
    changed = [records[0].model_copy(update={"comment": "card payments reversed by the bank"}), *records[1:]]
    for generation in (2, 3):  # the reader's directory is renamed away, then deleted
        versions = {record.key: generation if record is changed[0] else 1 for record in changed}
        source = lambda keys: documents(record for record in changed if record.key in keys)  # noqa: E731
        LexicalIndex.load(path).updated(versions, source).save(path, str(generation))
    assert LexicalIndex.load_generation(path, "1") is None and LexicalIndex.stored_generation(path) == "3"
    assert_same(reader, first)
    assert LexicalIndex.load(path).search("reversed bank", 1)[0][2]["table_key"] == records[0].key
