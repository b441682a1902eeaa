"""One function from settings to a chat model, so the graph never cares which model it talks to.

``model.name`` is ``offline`` (no key, deterministic), a provider string for LangChain's ``init_chat_model``
(``openai:gpt-4o-mini``, ``anthropic:claude-...``), or, with ``model.base_url`` set, any model name served by
an OpenAI-compatible endpoint (Ollama, vLLM, LM Studio).
"""

from __future__ import annotations

import os

from langchain_core.language_models import BaseChatModel

from agent.models.offline import OfflineChatModel
from catalog_ingest.settings import ConfigError, ModelSettings

PROVIDER_KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "google_genai": "GOOGLE_API_KEY"}
"""Providers whose key LangChain would otherwise look up in the environment, for a clear early error."""


def chat_model(settings: ModelSettings) -> BaseChatModel:
    if settings.name == "offline":
        return OfflineChatModel()
    key = settings.api_key.get_secret_value() if settings.api_key else None
    common = {"temperature": settings.temperature, "timeout": settings.timeout_seconds, "max_retries": settings.max_retries}
    if settings.base_url:
        from langchain_openai import ChatOpenAI

        # Local servers (Ollama, vLLM) accept any key; the client still insists on one. ``stream_usage``: token
        # counts arrive on streamed calls too (the graph streams whenever a caller streams).
        return ChatOpenAI(
            model=settings.name, base_url=settings.base_url, api_key=key or "not-needed", stream_usage=True, **common
        )
    provider, sep, model = settings.name.partition(":")
    if not sep or not provider or not model:
        raise ConfigError(
            f"model.name (LAKESCOUT_MODEL__NAME): '{settings.name}' is neither 'offline' nor 'provider:model' "
            "(e.g. openai:gpt-4o-mini); for an OpenAI-compatible server also set LAKESCOUT_MODEL__BASE_URL"
        )
    env_key = PROVIDER_KEYS.get(provider)
    if key is None and env_key and not os.environ.get(env_key):
        raise ConfigError(
            f"model.name '{settings.name}' needs an API key: set LAKESCOUT_MODEL__API_KEY (or {env_key})"
        )
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(settings.name, **common, **({"api_key": key} if key else {}))
    except ImportError as exc:
        raise ConfigError(f"model.name '{settings.name}': the provider's package is not installed ({exc})") from None
    except ValueError as exc:
        raise ConfigError(f"model.name (LAKESCOUT_MODEL__NAME) '{settings.name}': {exc}") from None
