"""The ingest's text vectors kept between runs, so a re-ingest embeds only texts no earlier ingest embedded.

An ingest embeds texts (column phrases, column name words, table headers: ``Document.vector_texts``) and composes
each document's vector from them, remembering every text's vector for the run (``MemoizedEmbedder``). A run
that embedded new texts saves that memo in ``settings.embedding_memo_path``: the float16 vectors (as the memo
holds them) beside a hash of each text, labelled with the embedder, staged then renamed into place. The next
ingest maps the file and looks a text up there before embedding it: a table that gained a column embeds its
new column's phrase, not the phrases of all its columns again.

A text's vector depends on the text and the embedder alone, so the file is not tied to a generation; one
labelled with another embedder (or format) is not read. It holds at most as many texts as the memo
(``embeddings.MEMO_ENTRIES``), those least recently used by an ingest dropped first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import numpy as np

from catalog_ingest.embeddings import MemoizedEmbedder
from catalog_ingest.saved_dirs import save_directory, saved_location, write_rows, write_synced
from catalog_ingest.settings import Settings

KEYS_FILE = "keys.npy"
VECTORS_FILE = "vectors.npy"
HEADER_FILE = "memo.json"
FORMAT = 1
ROWS_PER_WRITE = 8_192


def text_key(text: str) -> bytes:
    """The hex BLAKE2b-128 digest of a text: what the file stores instead of the text."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest().encode("ascii")


class SavedMemo:
    """A saved memo, its vectors memory-mapped: read row by row as texts are looked up."""

    def __init__(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self.keys = keys
        self.vectors = vectors
        self._rows = {key: row for row, key in enumerate(keys.tolist())}

    def __len__(self) -> int:
        return len(self._rows)

    def lookup(self, texts: list[str]) -> dict[str, np.ndarray]:
        hits = [(text, row) for text in texts if (row := self._rows.get(text_key(text))) is not None]
        if not hits:
            return {}
        vectors = np.asarray(self.vectors[[row for _, row in hits]], dtype=np.float16)
        return {text: vector for (text, _), vector in zip(hits, vectors)}


def load_memo(settings: Settings, embedder_name: str) -> SavedMemo | None:
    """The memo saved by an earlier ingest with this embedder; None when there is none (or another's)."""
    location = saved_location(settings.embedding_memo_path, HEADER_FILE)
    if location is None:
        return None
    header = json.loads((location / HEADER_FILE).read_text(encoding="utf-8"))
    if header.get("format") != FORMAT or header.get("embedder") != embedder_name:
        return None
    keys = np.load(location / KEYS_FILE)
    vectors = np.load(location / VECTORS_FILE, mmap_mode="r")
    return SavedMemo(keys, vectors) if vectors.shape == (len(keys), header.get("dim")) else None


def save_memo(settings: Settings, memo: MemoizedEmbedder) -> None:
    """Save the texts ``memo`` used this run, after those of its earlier memo it did not use (so the least
    recently used come first and go first past the memo's ``max_entries``)."""
    used = memo.remembered()
    texts = list(used)
    earlier = memo.earlier if isinstance(memo.earlier, SavedMemo) else None
    used_keys = [text_key(text) for text in texts]
    fresh = set(used_keys)
    kept = [row for row, key in enumerate(earlier.keys.tolist()) if key not in fresh] if earlier is not None else []
    kept = kept[max(0, len(kept) + len(texts) - memo.max_entries) :]
    keys = np.array((earlier.keys[kept].tolist() if earlier is not None else []) + used_keys, dtype="S32")

    def rows() -> Iterator[np.ndarray]:
        for start in range(0, len(kept), ROWS_PER_WRITE):
            yield earlier.vectors[kept[start : start + ROWS_PER_WRITE]]
        for start in range(0, len(texts), ROWS_PER_WRITE):
            yield np.stack([used[text] for text in texts[start : start + ROWS_PER_WRITE]])

    def fill(staging) -> None:
        write_synced(staging / KEYS_FILE, lambda out: np.save(out, keys), "wb")
        write_rows(staging / VECTORS_FILE, np.float16, (len(keys), memo.dim), rows())
        header = {"format": FORMAT, "embedder": memo.name, "dim": memo.dim}
        write_synced(staging / HEADER_FILE, lambda out: json.dump(header, out))

    save_directory(settings.embedding_memo_path, fill, None, fault="embedding-memo-swapping")
