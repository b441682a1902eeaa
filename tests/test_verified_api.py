"""Feedback and verified queries over HTTP, on a real `lakescout serve` (uvicorn) with user and admin keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from api_support import ADMIN, OTHER, USER, running_server
from catalog_ingest.settings import Settings
from lake_changes import copy_lake

PAIR = {"question": "how many refunds were issued per region?",
        "sql": "SELECT region, COUNT(*) AS refunds FROM finance.refunds GROUP BY region"}
PARAPHRASE = "number of refunds issued by region"


@contextmanager
def serving(sample_settings: Settings, data_dir: Path, **env: str) -> Iterator[httpx.Client]:
    """`lakescout serve` on a copy of the sample data directory (its verified store is written)."""
    settings = copy_lake(sample_settings, data_dir)
    with running_server(["--data-dir", str(settings.data_dir), "serve"], settings.data_dir / "server.log", env=env) as url:
        with httpx.Client(base_url=url, timeout=120) as client:
            yield client


@pytest.fixture(scope="module")
def api(sample_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with serving(sample_settings, tmp_path_factory.mktemp("verified") / "data") as client:
        yield client


def listed(api: httpx.Client, **params: str) -> list[dict]:
    response = api.get("/v1/verified", params=params, headers=USER)
    assert response.status_code == 200, response.text
    return response.json()["queries"]


def test_admin_teaching_is_verified_and_answers_a_paraphrase(api):
    taught = api.post("/v1/verified", json=PAIR, headers=ADMIN)
    assert taught.status_code == 201, taught.text
    pair = taught.json()
    assert pair["status"] == "verified" and pair["author"] == "ops" and pair["approved_by"] == "ops"
    assert pair["tables"][0]["table"] == "finance.refunds" and pair["tables"][0]["snapshot_id"]
    answer = api.post("/v1/chat", json={"message": PARAPHRASE}, headers=USER).json()
    assert answer["answer"].startswith(f"Based on a verified query from {pair['approved_at'][:10]}")
    assert answer["sql"] == PAIR["sql"]
    assert not answer["grounding"]["unaccounted"]
    changed = api.post("/v1/chat", json={"message": "how many refunds were issued per currency?"}, headers=USER).json()
    assert "verified query" not in changed["answer"]  # another grouping: drafted, not the verified SQL
    assert api.delete(f"/v1/verified/{pair['id']}", headers=ADMIN).status_code == 204


def test_user_feedback_waits_for_an_admin(api):
    answer = api.post("/v1/chat", json={"message": "count orders by status in marts.orders"}, headers=USER).json()
    assert answer["message_id"] and answer["thread_id"]
    body = {"thread_id": answer["thread_id"], "message_id": answer["message_id"], "rating": "up", "note": "right"}
    recorded = api.post("/v1/feedback", json=body, headers=USER)
    assert recorded.status_code == 201, recorded.text
    feedback, proposal = recorded.json()["feedback"], recorded.json()["verified"]
    assert feedback["question"] == "count orders by status in marts.orders" and feedback["sql"] == answer["sql"]
    assert proposal["status"] == "pending" and proposal["sql"] == answer["sql"] and proposal["author"] == "analyst"
    assert [q["id"] for q in listed(api, status="pending")] == [proposal["id"]]

    refused = api.post(f"/v1/verified/{proposal['id']}/approve", headers=USER)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    approved = api.post(f"/v1/verified/{proposal['id']}/approve", headers=ADMIN)
    assert approved.status_code == 200 and approved.json()["status"] == "verified"
    assert approved.json()["approved_by"] == "ops"
    assert [q["id"] for q in listed(api, author="analyst", table="marts.orders")] == [proposal["id"]]
    assert listed(api, text="refund") == [] and [q["id"] for q in listed(api, text="status")] == [proposal["id"]]
    assert listed(api, stale="true") == []


def test_a_correction_down_vote_proposes_the_corrected_sql(api):
    answer = api.post("/v1/chat", json={"message": "how many refunds per reason?"}, headers=USER).json()
    corrected = "SELECT reason, SUM(amount_usd) AS refunded_usd FROM finance.refunds GROUP BY reason"
    body = {"thread_id": answer["thread_id"], "message_id": answer["message_id"], "rating": "down",
            "corrected_sql": corrected}
    recorded = api.post("/v1/feedback", json=body, headers=USER).json()
    assert recorded["feedback"]["rating"] == "down" and recorded["verified"]["sql"] == corrected
    plain = api.post("/v1/feedback", json={**body, "corrected_sql": None}, headers=USER).json()
    assert plain["verified"] is None  # a thumbs down without a correction teaches nothing


def test_bad_feedback_is_a_clear_error_and_stores_nothing(api):
    answer = api.post("/v1/chat", json={"message": "count orders by status in marts.orders"}, headers=USER).json()
    before = listed(api)
    body = {"thread_id": answer["thread_id"], "message_id": answer["message_id"], "rating": "down"}

    unknown = api.post("/v1/feedback", json={**body, "message_id": "no-such-message"}, headers=USER)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_message"
    foreign = api.post("/v1/feedback", json=body, headers=OTHER)  # not the intruder's thread
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "unknown_message"
    unsafe = api.post("/v1/feedback", json={**body, "corrected_sql": "DELETE FROM marts.orders"}, headers=USER)
    assert unsafe.status_code == 422 and unsafe.json()["error"]["code"] == "sql_refused"
    assert "DELETE" in unsafe.json()["error"]["message"]
    wrong = api.post("/v1/verified", json={**PAIR, "sql": "SELECT regoin FROM finance.refunds"}, headers=ADMIN)
    assert wrong.status_code == 422 and "did you mean region" in wrong.json()["error"]["message"]
    rating = api.post("/v1/feedback", json={**body, "rating": "meh"}, headers=USER)
    assert rating.status_code == 422 and rating.json()["error"]["code"] == "invalid_request"
    assert listed(api) == before


def test_only_admins_delete_and_unknown_ids_are_404(api):
    pair = api.post("/v1/verified", json=PAIR, headers=USER).json()
    assert pair["status"] == "pending"
    assert api.delete(f"/v1/verified/{pair['id']}", headers=USER).status_code == 403
    assert api.get(f"/v1/verified/{pair['id']}", headers=USER).json()["id"] == pair["id"]
    assert api.delete(f"/v1/verified/{pair['id']}", headers=ADMIN).status_code == 204
    gone = api.delete(f"/v1/verified/{pair['id']}", headers=ADMIN)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "unknown_verified_query"
    assert api.post(f"/v1/verified/{pair['id']}/approve", headers=ADMIN).status_code == 404


def test_streamed_answers_carry_their_message_id(api):
    with api.stream("POST", "/v1/chat/stream", json={"message": "count orders by status in marts.orders"},
                    headers=USER) as response:  # fmt: skip
        lines = [line for line in response.iter_lines() if line.startswith("data:")]
    answers = [json.loads(line[5:]) for line in lines if '"message_id"' in line]
    assert answers and answers[-1]["message_id"]


def test_a_setting_makes_user_feedback_verified_at_once(sample_settings, tmp_path):
    with serving(sample_settings, tmp_path / "data", LAKESCOUT_API__USER_FEEDBACK_VERIFIED="true") as trusting:
        taught = trusting.post("/v1/verified", json=PAIR, headers=USER).json()
        assert taught["status"] == "verified" and taught["approved_by"] == "analyst"
