"""The offline chat model: a LangChain chat model that reads the conversation and plans, without an LLM.

Each call reads the conversation, detects the intent, and plans the next tool calls or composes the answer;
tool calls outside the bound tools become a plain "cannot answer". Whether to run the drafted SQL comes
from the graph in the call's config metadata, never from the prompt's wording. Usage is estimated, since
there is no tokenizer, and answers stream word by word.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig, ensure_config
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from agent.models.offline.compose import CANNOT_ANSWER
from agent.models.offline.conversation import Conversation
from agent.models.offline.intents import detect_intent
from agent.models.offline.plans import Answer, plan
from agent.state import RUN_REQUESTED, TODAY

FOOTER = (
    "_Answered by lakescout's offline rule-based model, from catalog facts only. For open-ended questions "
    "set LAKESCOUT_MODEL__NAME (e.g. openai:gpt-4o-mini)._"
)


def estimate_tokens(text: str) -> int:
    """About four characters a token: close enough to report usage for a model that has no tokenizer."""
    return max(1, len(text) // 4)


class OfflineChatModel(BaseChatModel):
    tool_names: tuple[str, ...] = ()
    """Tools bound with ``bind_tools``; the model only calls these."""
    today: date | None = None
    """Fixed "today" for relative dates (tests); None means the graph's date in the configured time zone."""

    @property
    def _llm_type(self) -> str:
        return "lakescout-offline"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable:
        # A tool's own name: its OpenAI schema (pydantic JSON schemas, 0.2 s a process) is not needed.
        names = tuple(
            t.name if isinstance(t, BaseTool) else convert_to_openai_tool(t)["function"]["name"] for t in tools
        )
        return self.model_copy(update={"tool_names": names})

    def invoke(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        """As any chat model's, plus the graph's run flag: read from the call's config metadata (the graph
        calls ``invoke``) and handed to ``_generate`` or ``_stream`` as their ``run`` argument."""
        metadata = ensure_config(config)["metadata"]
        kwargs.setdefault("run", bool(metadata.get(RUN_REQUESTED)))
        kwargs.setdefault("today", metadata.get(TODAY))
        return super().invoke(input, config, stop=stop, **kwargs)

    def reply(self, messages: list[BaseMessage], run: bool = False, today: str | None = None) -> AIMessage:
        """The next step for this conversation; ``run``: the user asked for the drafted SQL to be run; ``today``:
        the graph's date in the configured time zone (ISO), unless the model has a fixed one."""
        convo = Conversation.read(messages, self.today or (date.fromisoformat(today) if today else date.today()), run)
        step = plan(detect_intent(convo.question), convo)
        if isinstance(step, list) and not all(c.name in self.tool_names for c in step):
            step = Answer(CANNOT_ANSWER)
        input_tokens = estimate_tokens("".join(m.text for m in messages))
        if isinstance(step, Answer):
            message = AIMessage(content=f"{step.text}\n\n{FOOTER}")
        else:
            calls = [tool_call(name=c.name, args=c.args, id=f"offline-{len(messages)}-{i}") for i, c in enumerate(step)]
            message = AIMessage(content="", tool_calls=calls)
        output_tokens = estimate_tokens(message.text + json.dumps([c["args"] for c in message.tool_calls]))
        message.usage_metadata = {"input_tokens": input_tokens, "output_tokens": output_tokens,
                                  "total_tokens": input_tokens + output_tokens}  # fmt: skip
        message.response_metadata = {"model_name": "offline", "finish_reason": "tool_calls" if message.tool_calls else "stop"}
        return message

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        run: bool = False,
        today: str | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.reply(messages, run, today))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        run: bool = False,
        today: str | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """Word by word for answers, one chunk for tool calls; usage rides on the last chunk."""
        message = self.reply(messages, run, today)
        meta = {"usage_metadata": message.usage_metadata, "response_metadata": message.response_metadata}
        if message.tool_calls:
            chunks = [tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
                      for i, c in enumerate(message.tool_calls)]  # fmt: skip
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=chunks, **meta))
            return
        pieces = re.findall(r"\S+\s*|\s+", message.text)
        for i, piece in enumerate(pieces):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece, **(meta if i == len(pieces) - 1 else {})))
