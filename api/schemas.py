"""Request and response models: what /openapi.json documents and what the VS Code extension parses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from agent.answers import AgentAnswer, ThreadInfo

ThreadId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:@\-]{1,128}$", description="A conversation thread id.")]


class Strict(BaseModel):
    """A request body: unknown fields refused; its booleans are ``StrictBool`` (``0`` or ``"true"`` is a 422)."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable: unauthorized, not_found, no_index, timeout, ...")
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


# Chat -------------------------------------------------------------------------------------------------


class ChatRequest(Strict):
    message: str = Field(min_length=1, max_length=20_000)
    thread_id: ThreadId | None = None
    run: StrictBool = Field(default=False, description="Also execute the SQL the agent drafts (read-only, row-limited).")


ChatResponse = AgentAnswer
"""The agent's own answer model is the response: one definition, documented as-is in /openapi.json."""


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class ThreadHistory(BaseModel):
    thread_id: str
    messages: list[Turn]


class ThreadList(BaseModel):
    threads: list[ThreadInfo]


# OpenAI-compatible chat completions ---------------------------------------------------------------------


class CompletionMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """Plain text of the message: a string, or the text parts of a content list."""
        if isinstance(self.content, list):
            return "".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")
        return self.content or ""


class ResponseFormat(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str = Field(description="text, json_object (the answer and its facts as JSON) or json_schema.")
    json_schema: dict[str, Any] | None = Field(
        default=None, description="OpenAI's {name, schema, strict}: properties filled from the answer's fields."
    )


class CompletionRequest(BaseModel):
    """OpenAI's request body; fields lakescout has no use for (temperature, max_tokens, ...) are accepted."""

    model_config = ConfigDict(extra="allow")
    model: str = "lakescout"
    messages: list[CompletionMessage] = Field(min_length=1)
    stream: StrictBool = False
    user: ThreadId | None = Field(
        default=None, description="Used as the thread id, in the calling key's own threads (or send X-Lakescout-Thread)."
    )
    response_format: ResponseFormat | None = None
    tools: list[dict[str, Any]] | None = Field(
        default=None, description="Refused with 400: lakescout runs its own tools; use its MCP server for yours."
    )


class CompletionChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class CompletionChoice(BaseModel):
    index: int = 0
    message: CompletionChoiceMessage
    finish_reason: Literal["stop"] = "stop"


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: CompletionUsage


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "lakescout"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


# Catalog ------------------------------------------------------------------------------------------------


class SearchHit(BaseModel):
    key: str
    full_name: str
    catalog: str
    namespace: str
    score: float
    matched_columns: list[str]
    copies: list[str] = Field(
        default_factory=list,
        description="The same table in namespaces that copy this one's dataset (namespace.table), returned once, here.",
    )


class SearchResponse(BaseModel):
    query: str
    hits: list[SearchHit]


class TableEntry(BaseModel):
    name: str = Field(description="namespace.table")
    namespace: str
    catalog: str
    kind: str
    comment: str | None = None


class TableList(BaseModel):
    tables: list[TableEntry]


# SQL ----------------------------------------------------------------------------------------------------


class SqlRequest(Strict):
    sql: str = Field(min_length=1, max_length=100_000)


class RunRequest(SqlRequest):
    limit: int | None = Field(default=None, ge=1, description="Rows returned; at most sql.row_limit.")


class Issue(BaseModel):
    code: str = Field(
        description="unknown_table, unknown_column, missing_partition_filter, unsafe_sql, parse_error or unresolved_names."
    )
    message: str = Field(description="The finding in one sentence, suggestions included.")
    identifier: str | None = Field(default=None, description="The name at fault, as the query wrote it.")
    suggestions: list[str] = Field(default_factory=list, description="Real names that could replace it, best first.")
    line: int | None = Field(default=None, description="1-based line in the submitted SQL; null when unknown.")
    column: int | None = Field(default=None, description="1-based column on that line; null when unknown.")


class ValidateResponse(BaseModel):
    ok: bool
    errors: list[Issue]
    warnings: list[Issue]
    tables: list[str] = Field(description="namespace.table of each table the query reads.")
    sql: str | None = Field(default=None, description="The checked query as it would run.")
    scan_estimate: dict[str, Any] | None = None


class RunResponse(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    truncated_by: Literal["row_limit", "max_result_bytes"] | None = None
    """Which cap cut the rows: the row limit, or ``sql.max_result_bytes``."""
    masked_columns: list[str]
    elapsed_ms: float | None = None


# Ingest and health --------------------------------------------------------------------------------------


class IngestRequest(Strict):
    full: StrictBool = Field(default=False, description="Re-crawl and re-embed every table.")


class IngestJobOut(BaseModel):
    job: str
    status: Literal["running", "succeeded", "failed"]
    full: bool
    started_at: datetime
    finished_at: datetime | None
    catalog: str | None = Field(description="The catalog being crawled (the last one when finished).")
    total: int
    done: int
    current: str | None = Field(description="The table processed last.")
    counts: dict[str, int] = Field(description="added, changed, removed, unchanged, skipped; set when succeeded.")
    error: str | None


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str] = Field(description="Each check: 'ok' or what is wrong.")
    error: ErrorDetail | None = None
