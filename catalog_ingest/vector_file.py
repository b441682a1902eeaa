"""The served generation's vectors in one compact file beside the lexical index, read without Chroma.

Chroma stays the vector store of record. When an ingest publishes a generation it copies that generation's
vectors (rows rounded to float16: half the disk, and the same top 20 for the scale benchmark's queries) with
their document ids and metadata into ``settings.vectors_path``, a page of Chroma's at a time (the rows are
never all in memory), labelled with the generation, the embedder, the Chroma store and the collection. A
retriever whose record store reads that generation maps the file instead of opening Chroma, whose import alone costs about
a second of start-up; a missing or stale file (another generation, embedder or Chroma store, an embedded
Chroma folder gone) sends it to Chroma as before.

A version's vectors never change once its generation is published (a changed table is a new version), so a
new file copies the rows of the versions it shares with the file of an earlier generation (memory-mapped,
same embedder, store and collection) and reads only the others from Chroma: a re-ingest that changed a few
tables reads their vectors back, not the whole collection's. A retriever maps the float16 rows, not copying
them, and converts only the rows a query scores (``ExactVectors``); a file of format 2 (float32 ``.npy``) is
still read (into float16) and copied from. A collection past what exact search may hold in memory
(``index.exact_search_mb``) gets no file: its dense queries go to Chroma.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import numpy as np

from catalog_ingest.dense_bounds import BOUND_BYTES_PER_ROW, BoundsWhen
from catalog_ingest.index import ExactVectors, VectorIndex, Visible, is_visible
from catalog_ingest.saved_dirs import (candidates, generation_of, location_for_generation, save_directory,
                                       saved_location, write_counted_rows, write_synced)
from catalog_ingest.settings import Settings

MATRIX_FILE = "vectors.f16"
"""Format 3: the rows, float16, one after the other (the header says how many)."""
FLOAT32_MATRIX_FILE = "vectors.npy"
"""Format 2: the rows as a float32 ``.npy``."""
DOCUMENTS_FILE = "documents.json"
FORMAT = 3
"""2: the header names the Chroma store the vectors were copied from. 3: float16 rows, counted in the header."""
READABLE_FORMATS = (2, 3)
ROWS_PER_WRITE = 8_192


def fits_exact_search(settings: Settings, vectors: int, dim: int) -> bool:
    """``vectors`` rows of ``dim`` values fit the memory exact dense search may hold (``index.exact_search_mb``):
    each float16 row and its float32 score bounds."""
    return vectors * (2 * dim + BOUND_BYTES_PER_ROW) <= settings.index.exact_search_mb * 2**20


def chroma_store(settings: Settings) -> str:
    """Which Chroma store the vectors come from: the configured server, or the data directory's own."""
    index = settings.index
    return f"http://{index.chroma_host}:{index.chroma_port}" if index.chroma_host else "embedded"


def embedded_store_missing(settings: Settings) -> bool:
    """The embedded Chroma store's database is gone from the data directory (never true for a Chroma server)."""
    return not settings.index.chroma_host and not (settings.chroma_path / "chroma.sqlite3").is_file()


def save_vector_file(settings: Settings, index: VectorIndex, visible: Visible, generation: int) -> None:
    """Write the vector file of the ``visible`` table versions (those of ``generation``), staged then renamed
    into place; a collection past what exact search holds (``fits_exact_search``) gets none. The rows of versions an earlier file from
    the same embedder, store and collection holds are copied from it (a published version's vectors never
    change), the others' read from Chroma: after a re-ingest, only the versions it wrote."""
    if not fits_exact_search(settings, index.count(), index.embedder.dim):
        for location in candidates(settings.vectors_path):
            shutil.rmtree(location, ignore_errors=True)
        return
    earlier_ids, earlier_metadatas, earlier_matrix = earlier_vectors(settings, index, generation)
    copied = [row for row, metadata in enumerate(earlier_metadatas) if is_visible(metadata, visible)]
    copied_versions = {(str(earlier_metadatas[row]["table_key"]), earlier_metadatas[row]["generation"]) for row in copied}
    header = HeaderText({"format": FORMAT, "embedder": index.embedder.name, "store": chroma_store(settings),
                         "collection": settings.index.collection, "dim": index.embedder.dim})  # fmt: skip
    header.add([earlier_ids[row] for row in copied], [earlier_metadatas[row] for row in copied])

    def rows() -> Iterator[np.ndarray]:
        for start in range(0, len(copied), ROWS_PER_WRITE):
            yield earlier_matrix[copied[start : start + ROWS_PER_WRITE]]
        for ids, metadatas, matrix in index.vector_pages({key: g for key, g in visible.items() if (key, g) not in copied_versions}):
            header.add(ids, metadatas)
            yield matrix

    def fill(staging: Path) -> None:
        rows_written = write_counted_rows(staging / MATRIX_FILE, np.float16, rows())
        write_synced(staging / DOCUMENTS_FILE, lambda out: header.write(out, rows_written))

    save_directory(settings.vectors_path, fill, str(generation), fault="vector-file-swapping")


class HeaderText:
    """The vector file's header as JSON text, its ids and metadata encoded a page at a time as the pages come:
    the same bytes as ``json.dumps`` of the whole header, without every document's id and metadata dict held
    at once (at 10,000 tables 110,438 of them: save_vector_file added 100 MB to an ingest's resident size)."""

    def __init__(self, fields: dict[str, object]) -> None:
        self._fields = fields
        self._ids: list[str] = []
        self._metadatas: list[str] = []

    def add(self, ids: list[str], metadatas: list[dict]) -> None:
        if ids:
            self._ids.append(json.dumps(ids, separators=(",", ":"))[1:-1])
            self._metadatas.append(json.dumps(metadatas, separators=(",", ":"))[1:-1])

    def write(self, out: TextIO, rows: int) -> None:
        """``{fields..., "ids": [...], "metadatas": [...], "rows": rows}``, in that order."""
        out.write(json.dumps(self._fields, separators=(",", ":"))[:-1])
        for name, pieces in (("ids", self._ids), ("metadatas", self._metadatas)):
            out.write(f',"{name}":[')
            for i, piece in enumerate(pieces):
                out.write("," + piece if i else piece)
            out.write("]")
        out.write(f',"rows":{rows}}}')


def has_vector_file(settings: Settings, embedder_name: str, generation: int) -> bool:
    """A vector file the retriever would read for ``generation`` (see ``load_vector_file``) is there."""
    return current_save(settings, embedder_name, generation) is not None


def load_vector_file(
    settings: Settings, embedder_name: str, generation: int, bounds: BoundsWhen = "open"
) -> ExactVectors | None:
    """The vectors saved for ``generation`` by this embedder from the configured store and collection,
    memory-mapped (``ExactVectors`` keeps a float16 map as it is, its score bounds built as ``bounds`` says); None
    when there is no such file, it is damaged, or the embedded Chroma store it was copied from is gone."""
    save = current_save(settings, embedder_name, generation)
    if save is None:
        return None
    location, header = save
    try:
        matrix = saved_matrix(location, header, len(header["ids"]))
    except (OSError, ValueError):
        return None
    return ExactVectors(header["ids"], header["metadatas"], matrix, bounds)


def current_save(settings: Settings, embedder_name: str, generation: int) -> tuple[Path, dict] | None:
    """Where the vector file for ``generation`` from these settings' embedder, store and collection is, and
    its header; None when there is none, or its rows are past what exact search may hold now (the next ingest
    then removes it). A header of format 2 names no dimension: such files were written under 200,000 rows."""
    location = location_for_generation(settings.vectors_path, DOCUMENTS_FILE, str(generation))
    save = labelled_save(settings, location, embedder_name)
    if save is None or not fits_exact_search(settings, len(save[1]["ids"]), save[1].get("dim", 0)):
        return None
    return save


def earlier_vectors(settings: Settings, index: VectorIndex, generation: int) -> tuple[list[str], list[dict], np.ndarray]:
    """Ids, metadata and memory-mapped vectors of the file saved for a generation before ``generation`` from
    these settings' embedder, store and collection; none when there is no such file (or it is damaged)."""
    none: tuple[list[str], list[dict], np.ndarray] = ([], [], np.zeros((0, index.embedder.dim), np.float32))
    location = saved_location(settings.vectors_path, DOCUMENTS_FILE)
    label = generation_of(location) if location is not None else None
    if location is None or not label or not label.isdigit() or int(label) >= generation:
        return none
    try:
        save = labelled_save(settings, location, index.embedder.name)
        if save is None:
            return none
        header = save[1]
        matrix = saved_matrix(location, header, len(header["ids"]))
    except (OSError, ValueError):
        return none
    return (header["ids"], header["metadatas"], matrix) if matrix.shape[1] == index.embedder.dim else none


def saved_matrix(location: Path, header: dict, rows: int) -> np.ndarray:
    """The saved rows, memory-mapped: float16 (format 3) or float32 (format 2). Raises ValueError when the
    file does not hold ``rows`` rows (cut short, say)."""
    if header["format"] == 2:
        matrix = np.load(location / FLOAT32_MATRIX_FILE, mmap_mode="r")
        if matrix.shape[0] != rows:
            raise ValueError(f"{location}: {matrix.shape[0]} vectors for {rows} documents")
        return matrix
    dim = header.get("dim")
    path = location / MATRIX_FILE
    if not isinstance(dim, int) or header.get("rows") != rows or path.stat().st_size != rows * dim * 2:
        raise ValueError(f"{path}: not {rows} rows of {dim} float16 values")
    shape = (rows, dim)
    return np.memmap(path, dtype=np.float16, mode="r", shape=shape) if rows else np.zeros(shape, np.float16)


def labelled_save(settings: Settings, location: Path | None, embedder_name: str) -> tuple[Path, dict] | None:
    """The saved vector file at ``location`` and its header, if it holds vectors of this embedder copied from
    the configured Chroma store and collection (and that store's folder is still there)."""
    if location is None or embedded_store_missing(settings):
        return None
    with open(location / DOCUMENTS_FILE, encoding="utf-8") as source:
        header = json.load(source)
    expected = {"embedder": embedder_name, "store": chroma_store(settings), "collection": settings.index.collection}
    if header.get("format") not in READABLE_FORMATS or any(header.get(key) != value for key, value in expected.items()):
        return None
    return location, header
