"""The served generation's vectors in one compact file beside the lexical index, read without Chroma.

Chroma stays the vector store of record. When an ingest publishes a generation it copies that generation's
vectors (float32 rows, exactly as Chroma returns them) with their document ids and metadata into
``settings.vectors_path``, labelled with the generation, the embedder, the Chroma store and the collection. A retriever whose
record store reads that generation maps the file instead of opening Chroma, whose import alone costs about
a second of start-up; a missing or stale file (another generation, embedder or Chroma store, an embedded
Chroma folder gone) sends it to Chroma as before.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from catalog_ingest.index import ExactVectors, VectorIndex, Visible
from catalog_ingest.saved_dirs import candidates, location_for_generation, save_directory, write_synced
from catalog_ingest.settings import Settings

EXACT_SEARCH_LIMIT = 200_000
"""Documents held in memory for exact dense search (about 300 MB of vectors at the limit); past it dense
queries go to Chroma and no vector file is kept."""
MATRIX_FILE = "vectors.npy"
DOCUMENTS_FILE = "documents.json"
FORMAT = 2
"""2: the header names the Chroma store the vectors were copied from."""


def chroma_store(settings: Settings) -> str:
    """Which Chroma store the vectors come from: the configured server, or the data directory's own."""
    index = settings.index
    return f"http://{index.chroma_host}:{index.chroma_port}" if index.chroma_host else "embedded"


def embedded_store_missing(settings: Settings) -> bool:
    """The embedded Chroma store's database is gone from the data directory (never true for a Chroma server)."""
    return not settings.index.chroma_host and not (settings.chroma_path / "chroma.sqlite3").is_file()


def save_vector_file(settings: Settings, index: VectorIndex, visible: Visible, generation: int) -> None:
    """Copy the vectors of the ``visible`` table versions (those of ``generation``) out of Chroma into the
    vector file, staged then renamed into place; a collection past ``EXACT_SEARCH_LIMIT`` gets none."""
    if index.count() > EXACT_SEARCH_LIMIT:
        for location in candidates(settings.vectors_path):
            shutil.rmtree(location, ignore_errors=True)
        return
    ids, metadatas, matrix = index.all_vectors(visible)
    header = {
        "format": FORMAT,
        "embedder": index.embedder.name,
        "store": chroma_store(settings),
        "collection": settings.index.collection,
        "ids": ids,
        "metadatas": metadatas,
    }

    def fill(staging: Path) -> None:
        write_synced(staging / MATRIX_FILE, lambda out: np.save(out, np.ascontiguousarray(matrix, np.float32)), "wb")
        write_synced(staging / DOCUMENTS_FILE, lambda out: json.dump(header, out, separators=(",", ":")))

    save_directory(settings.vectors_path, fill, str(generation), fault="vector-file-swapping")


def has_vector_file(settings: Settings, embedder_name: str, generation: int) -> bool:
    """A vector file the retriever would read for ``generation`` (see ``load_vector_file``) is there."""
    return current_save(settings, embedder_name, generation) is not None


def load_vector_file(settings: Settings, embedder_name: str, generation: int) -> ExactVectors | None:
    """The vectors saved for ``generation`` by this embedder from the configured store and collection,
    memory-mapped; None when there is no such file or the embedded Chroma store it was copied from is gone."""
    save = current_save(settings, embedder_name, generation)
    if save is None:
        return None
    location, header = save
    return ExactVectors(header["ids"], header["metadatas"], np.load(location / MATRIX_FILE, mmap_mode="r"))


def current_save(settings: Settings, embedder_name: str, generation: int) -> tuple[Path, dict] | None:
    """Where the vector file for ``generation`` from these settings' embedder, store and collection is, and
    its header; None when there is none."""
    location = location_for_generation(settings.vectors_path, DOCUMENTS_FILE, str(generation))
    if location is None or embedded_store_missing(settings):
        return None
    with open(location / DOCUMENTS_FILE, encoding="utf-8") as source:
        header = json.load(source)
    expected = {"format": FORMAT, "embedder": embedder_name, "store": chroma_store(settings),
                "collection": settings.index.collection}  # fmt: skip
    return None if any(header.get(key) != value for key, value in expected.items()) else (location, header)
