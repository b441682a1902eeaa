"""The verified-query store (real SQLite, the real MiniLM embedder) and the offline model's paraphrase test."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from agent.models.offline.verified import same_request
from catalog_ingest.embeddings import embedder_for
from catalog_ingest.records import SchemaVersion, TableRecord
from catalog_ingest.settings import IndexSettings
from catalog_ingest.verified import Feedback, TableVersion, VerifiedQuery, VerifiedStore, new_id, now

TODAY = date(2026, 12, 2)


@pytest.fixture(scope="module")
def embedder():
    return embedder_for(IndexSettings())


def pair(question: str, sql: str = "SELECT 1 FROM finance.refunds", schema_id: int = 0) -> VerifiedQuery:
    table = TableVersion(table="finance.refunds", key="demo.finance.refunds", snapshot_id=1, schema_id=schema_id)
    return VerifiedQuery(id=new_id("vq"), question=question, sql=sql, author="ops", created_at=now(),
                         status="verified", tables=[table])  # fmt: skip


def test_search_finds_the_closest_question_and_sees_other_writers(tmp_path, embedder):
    store, other = VerifiedStore(tmp_path / "v.sqlite"), VerifiedStore(tmp_path / "v.sqlite")
    store.add(pair("how many refunds were issued per region?"), embedder)
    store.add(pair("daily active users by country"), embedder)
    best, score = store.search(embedder.embed_query("number of refunds by region"), embedder.name)[0]
    assert best.question == "how many refunds were issued per region?" and score > 0.7
    other.add(pair("orders per sales channel"), embedder)  # another process's write is seen at once
    assert store.search(embedder.embed_query("orders by channel"), embedder.name)[0][0].question == "orders per sales channel"
    assert store.search(embedder.embed_query("orders by channel"), "another-model") == []


def test_a_failed_write_leaves_nothing_half_done(tmp_path, embedder):
    store = VerifiedStore(tmp_path / "v.sqlite")
    first = Feedback(id="fb_1", thread_id="t", message_id="m", rating="up", created_at=now())
    store.record_feedback(first, pair("refunds per region"), embedder)
    duplicate = Feedback(id="fb_1", thread_id="t", message_id="m2", rating="up", created_at=now())
    with pytest.raises(sqlite3.IntegrityError):
        store.record_feedback(duplicate, pair("refunds per currency"), embedder)
    assert [f.message_id for f in store.feedback()] == ["m"]
    assert [q.question for q in store.list()] == ["refunds per region"]  # the second pair went with its feedback


def test_a_schema_change_or_a_dropped_table_marks_pairs_drifted(tmp_path):
    store = VerifiedStore(tmp_path / "v.sqlite")
    kept, moved = store.add(pair("kept", schema_id=1)), store.add(pair("moved", schema_id=0))
    record = TableRecord(catalog="demo", namespace="finance", name="refunds",
                         schema_history=[SchemaVersion(schema_id=0, columns=["a"]), SchemaVersion(schema_id=1, columns=["b"])])  # fmt: skip
    assert store.mark_drifted({record.key: record}, generation=7) == ["finance.refunds"]
    assert store.get(moved.id).status == "drifted" and store.get(kept.id).status == "verified"
    assert store.mark_drifted({}, generation=8) == ["finance.refunds"]  # the table is gone
    assert store.get(kept.id).status == "drifted"


SQL = "SELECT reason, COUNT(*) AS refunds FROM finance.refunds WHERE status = 'processed' GROUP BY reason"


@pytest.mark.parametrize(
    ("question", "same"),
    [
        ("processed refund volume per reason", True),
        ("how many refunds per reason?", False),  # drops the verified filter
        ("processed refund volume per reason in EMEA", False),  # adds a filter
        ("processed refund volume per country", False),  # changes the grouping
        ("processed refund volume per reason last month", False),  # adds a period
        ("top 5 processed refund reasons", False),  # adds a number
    ],
)
def test_a_paraphrase_must_not_add_or_change_a_filter_table_or_measure(question, same):
    assert same_request(question, "what is the processed refund volume by reason?", SQL, TODAY) is same
