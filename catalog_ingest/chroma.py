"""The Chroma side of the vector index: the client for the configured store and the embedding function.

Imported only when a ``VectorIndex`` opens, since chromadb takes about a second to import.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import chromadb
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.config import Settings as ChromaSettings

from catalog_ingest.embeddings import Embedder
from catalog_ingest.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "chroma.sqlite3"
FREE_SHARE_TO_VACUUM = 0.2
"""An embedded store's database is vacuumed once this share of its pages is free: Chroma purges its write log
once the vector graph holds what it logged, and at 10,000 tables that left 73 MB of a 189 MB file free."""


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


def vacuum_embedded_store(settings: Settings) -> None:
    """Give the free pages of the embedded store's database back to the disk, when they are a fair share of
    it (``FREE_SHARE_TO_VACUUM``): SQLite's VACUUM, as ``chroma utils vacuum`` runs it, after the ingest's own
    client closed. A store that is busy (another process reading it) is left as it is, for the next ingest."""
    path = Path(settings.chroma_path) / EMBEDDED_DATABASE
    if settings.index.chroma_host or not path.is_file():
        return
    try:
        with closing(sqlite3.connect(path, timeout=5)) as database:
            free, pages = (database.execute(f"PRAGMA {count}").fetchone()[0] for count in ("freelist_count", "page_count"))
            if free >= FREE_SHARE_TO_VACUUM * pages:
                database.execute("VACUUM")
    except sqlite3.OperationalError as exc:
        log.info("left %s as it is: %s", path, exc)
