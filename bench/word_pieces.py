"""Where an ingest's embedding goes: the word pieces the model would read, by kind of document text.

Runs a real ingest of the catalog into a scratch data directory with an embedder that only counts (MiniLM's
own tokenizer, cut at the model's 256 word pieces; vectors are random), so a lake's word pieces are known in
a fraction of the ingest's time. Word pieces are the steady proxy for embedding CPU (about 0.24 ms each on
the 2-core machine): every text is embedded once across the lake, so a text counts for the kind of document
that first used it.

    python -m bench.word_pieces CATALOG_PROPERTIES (a JSON object, or a file holding one) [--catalog scale] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from bench.scale_lake import properties_argument
from catalog_ingest.documents import COLUMN_VECTORS_MAX_COLUMNS, Document, unique_columns
from catalog_ingest.embeddings import MINILM_MAX_TOKENS, l2_normalise, minilm_tokenizer_path
from catalog_ingest.ingest import Ingester
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import CatalogConfig, load_settings

BATCH = 8
"""``MiniLMEmbedder``'s batch: texts sorted by length, each batch padded to its longest."""


class CountingEmbedder:
    """Tokenizes what it is given and counts it under the kind ``kinds`` names for the text."""

    name = "count:minilm-word-pieces"
    dim = 384

    def __init__(self, kinds: dict[str, str]) -> None:
        import tokenizers

        self.tokenizer = tokenizers.Tokenizer.from_file(str(minilm_tokenizer_path()))
        self.tokenizer.enable_truncation(max_length=MINILM_MAX_TOKENS)
        self.tokenizer.no_padding()
        self.kinds = kinds
        self.texts: Counter[str] = Counter()
        self.pieces: Counter[str] = Counter()
        self.padded = 0
        """Word pieces including each batch's padding (what the model computes)."""

    def embed(self, texts: list[str]) -> np.ndarray:
        lengths = [len(encoding.ids) for encoding in self.tokenizer.encode_batch(texts)]
        for text, length in zip(texts, lengths):
            kind = self.kinds.get(text, "other")
            self.texts[kind] += 1
            self.pieces[kind] += length
        ordered = sorted(lengths)
        self.padded += sum(max(ordered[i : i + BATCH]) * len(ordered[i : i + BATCH]) for i in range(0, len(ordered), BATCH))
        seeds = [int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") for text in texts]
        return l2_normalise(np.stack([np.random.default_rng(seed).standard_normal(self.dim) for seed in seeds]))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed(texts)


def text_kinds(documents: list[Document], width: str, owner: str, kinds: dict[str, str]) -> None:
    """Name each vector text of ``documents`` (of a ``width`` table or family, ``owner``) by the part it plays,
    unless an earlier document named it first."""
    for doc in documents:
        if not doc.in_vectors:
            continue
        role = doc.id.split("::")[-2]
        for i, text in enumerate(doc.vector_texts):
            if doc.embed_parts == ("table family member",):
                part = "placeholder"
            elif i == (0 if role == "table" else 1):
                part = "header"
            elif role == "col" or (width == "narrow" and not doc.id.endswith("::0")):
                part = "column phrase"
            else:  # a first chunk composes the words of its column names, and so do a wide table's other chunks
                part = "column name word"
            kinds.setdefault(text, f"{owner} {width} {part}")


class CountingIngester(Ingester):
    """An ``Ingester`` that names each document text's kind before its group is embedded."""

    def __init__(self, *args, kinds: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kinds = kinds

    def _documents(self, record: TableRecord) -> list[Document]:
        documents = super()._documents(record)
        text_kinds(documents, width_of(record), "table", self.kinds)
        return documents

    def _write_families(self, families: list[tuple[str, list[Document]]]) -> int:
        for _, documents in families:
            columns = sum(doc.metadata["kind"] == "column" for doc in documents)
            text_kinds(documents, "wide" if columns > COLUMN_VECTORS_MAX_COLUMNS else "narrow", "family", self.kinds)
        return super()._write_families(families)


def width_of(record: TableRecord) -> str:
    return "wide" if len(unique_columns(record)) > COLUMN_VECTORS_MAX_COLUMNS else "narrow"


def count_word_pieces(catalog: CatalogConfig, data_dir: Path) -> dict:
    kinds: dict[str, str] = {}
    embedder = CountingEmbedder(kinds)
    settings = load_settings(data_dir=data_dir, catalogs=[catalog])
    ingester = CountingIngester(settings, embedder=embedder, kinds=kinds)
    try:
        report = ingester.run()
    finally:
        ingester.close()
    total = sum(embedder.pieces.values())
    return {
        "tables": len(report.added), "documents": report.documents_embedded,
        "texts": sum(embedder.texts.values()), "word_pieces": total, "padded_word_pieces": embedder.padded,
        "by_kind": {kind: {"texts": embedder.texts[kind], "word_pieces": pieces, "share": round(pieces / total, 3)}
                    for kind, pieces in embedder.pieces.most_common()},
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.word_pieces", description=__doc__.splitlines()[0])
    parser.add_argument("properties", type=properties_argument,
                        help="the catalog's properties: a JSON object, or a JSON file holding one")
    parser.add_argument("--catalog", default="scale", help="the catalog's name (an SQL catalog keeps it in its rows)")
    parser.add_argument("--data-dir", type=Path, help="scratch data directory (default: a temporary one)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    catalog = CatalogConfig(name=args.catalog, properties=args.properties)
    if args.data_dir is not None:
        result = count_word_pieces(catalog, args.data_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="lakescout-word-pieces-") as scratch:
            result = count_word_pieces(catalog, Path(scratch))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
