"""What an agent turn gives back: the answer with its facts (citations, SQL, usage, ...) and its stream events."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0


class ToolCallInfo(BaseModel):
    name: str
    args: dict[str, Any]
    summary: str


class SourceInfo(BaseModel):
    catalog: str | None = None
    snapshot_id: int | None = None
    as_of: str | None = None


class GroundingInfo(BaseModel):
    accounted: list[str] = Field(default_factory=list)
    """The question's terms the answer's evidence (SQL, tool results) accounts for."""
    unaccounted: list[str] = Field(default_factory=list)
    """Terms it does not: the answer is partial and says so."""


class AgentAnswer(BaseModel):
    answer: str
    sql: str | None = None
    tables_cited: list[str] = Field(default_factory=list)
    as_of: dict[str, SourceInfo] = Field(default_factory=dict)
    """Per cited table: the snapshot id and time its facts come from."""
    tool_calls: list[ToolCallInfo] = Field(default_factory=list)
    thread_id: str
    """Empty for a stateless turn (the caller sent the history; nothing was kept)."""
    message_id: str = Field(
        "",
        description="This answer's id in its thread: send it back with the thread id to POST /v1/feedback.",
        examples=["run-7d0c1b5e-0a9f-4c1e-9b57-2f4f1d3e8a61-0"],
    )
    usage: Usage = Field(default_factory=Usage)
    validation: dict[str, Any] | None = None
    scan_estimate: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    """Rows of the executed query (``columns``, ``rows``, ``truncated``, ...) when it was run."""
    error: str | None = None
    """Set when the agent stopped without a full answer (step budget, SQL attempts, a failed run)."""
    grounding: GroundingInfo | None = Field(
        None,
        description="How the question's terms are covered by the answer's evidence (SQL, tool results): any "
        "unaccounted term makes the answer partial, and its text says so.",
    )


class ThreadInfo(BaseModel):
    thread_id: str
    owner: str | None = Field(description="The key whose thread it is; null in the local space (auth off, CLI).")
    updated_at: str | None = Field(default=None, description="When its last checkpoint was written.")


Turn = tuple[Literal["user", "assistant"], str]
"""One earlier turn a stateless caller sends along (an OpenAI client's ``messages``): role and text."""


class AgentEvent(BaseModel):
    type: Literal["token", "tool_start", "tool_end", "answer", "error"]
    data: dict[str, Any]
