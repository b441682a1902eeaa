"""The offline model: a deterministic, rule-based chat model that drives the same graph as a real one.

Each call reads the conversation, then: intent detection (what kind of question) -> plan (the next tool
calls, given the tool results so far this turn) -> answer composition (from those results only). It knows
no catalog: every table, column and number in its answers comes from a tool message. It is the no-key
default and the test model; anything outside its question types gets a plain "cannot answer" with how to
configure a real model.

Modules, in the order a call uses them: ``conversation`` (what is asked, what the tools returned),
``intents`` (what kind of question), ``plans`` (the next tool calls), ``compose`` (the answer texts) and
``model`` (the LangChain chat model).
"""

from agent.models.offline.model import OfflineChatModel

__all__ = ["OfflineChatModel"]
