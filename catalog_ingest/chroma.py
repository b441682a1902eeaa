"""The Chroma side of the vector index: the client for the configured store and the embedding function.

Imported only when a ``VectorIndex`` opens, since chromadb takes about a second to import.
"""

from __future__ import annotations

from typing import Any

import chromadb
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.config import Settings as ChromaSettings

from catalog_ingest.embeddings import Embedder
from catalog_ingest.settings import Settings


class ChromaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Hands Chroma our embedder, so its default model (downloaded at first use) never loads.

    lakescout always passes vectors explicitly; this is only called if Chroma embeds text itself.
    Chroma also rebuilds one from the collection's stored config while reading it: that copy has only
    the embedder's name and is replaced by the one lakescout passes in.
    """

    def __init__(self, embedder: Embedder | None, embedder_name: str | None = None) -> None:
        self._embedder = embedder
        self._embedder_name = embedder.name if embedder else embedder_name

    def __call__(self, input: Documents) -> Embeddings:
        if self._embedder is None:
            # a RuntimeError, not index.IndexMismatchError: index imports this module (no cycle back)
            raise RuntimeError("open lakescout's Chroma collection through catalog_ingest.index.VectorIndex")
        return list(self._embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "lakescout"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self._embedder_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingFunction:
        return ChromaEmbeddingFunction(None, config.get("embedder"))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    def is_legacy(self) -> bool:
        return False


def chroma_client(settings: Settings):
    """A Chroma server when ``index.chroma_host`` is set, else the embedded store under the data directory."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.index.chroma_host:
        return chromadb.HttpClient(
            host=settings.index.chroma_host, port=settings.index.chroma_port, settings=chroma_settings
        )
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
