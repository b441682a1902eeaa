"""Declines that say what was found, through the real graph: a question about causes names the tables the
search found, and a count of a whole table whose rows are not the thing asked about names the table instead of
presenting its row count."""

from __future__ import annotations

from datetime import date

import pytest
from agent_lake import make_context
from langgraph.checkpoint.memory import InMemorySaver

from agent.models.offline import OfflineChatModel
from agent.service import LakeAgent


@pytest.fixture
def agent(tmp_path):
    return LakeAgent(make_context(tmp_path), model=OfflineChatModel(today=date(2026, 11, 27)), checkpointer=InMemorySaver())


def test_a_why_question_is_declined_naming_the_tables_found(agent):
    answer = agent.ask("why did refunds go up in October?")
    assert answer.answer.startswith("I cannot tell you why: the lake records what happened, not its causes")
    assert "`finance.refunds`" in answer.answer and "finance.refunds" in answer.tables_cited
    assert answer.sql is None and [c.name for c in answer.tool_calls] == ["search_tables"]


def test_a_count_of_rows_that_are_not_the_thing_asked_is_declined_naming_the_table(agent):
    answer = agent.ask("how many dogs are there in sales.orders?")
    assert answer.answer.startswith("I cannot answer that: I found no table or column for 'dogs'")
    assert "`sales.orders`" in answer.answer and "rows are not that" in answer.answer
    counted = agent.ask("how many orders are there in sales.orders?")
    assert not counted.answer.startswith("I cannot")
