"""Chat models: the offline rule-based model, provider strings, and OpenAI-compatible endpoints."""

from agent.models.factory import chat_model
from agent.models.offline import OfflineChatModel

__all__ = ["OfflineChatModel", "chat_model"]
