"""Pooled table retrieval on public schemas: recall@10 of Spider 1.0 dev and BIRD mini-dev gold tables.

Usage: python -m bench.bench_pooled [DATA_DIR] [--cache DIR] [--show-misses N]

Every (db, table) of both benchmarks' ``schemas.jsonl`` becomes an empty Iceberg table ``db.table`` (one
namespace per database) in ONE pyiceberg SQL catalog, ingested by lakescout's own ingest (MiniLM vectors,
Chroma, BM25). Each question is searched over all tables at once, no database given, and scored by the share
of its gold tables (qualified with its db) in the top 10. BIRD is scored without and with its ``evidence``.

Questions are split by a hash of their id into a tuning part and a held-back part (30%), reported apart:
tune on the first only; ``--show-misses`` prints tuning misses, never held-back ones. The tuning misses are
counted by kind (``MISS_KINDS``): another database's table first, or the right database first and a gold table
still past the top 10. A hit that names copies of itself (a dataset present twice: ``formula_1`` is in both
benchmarks) finds those too; ``--copies-apart`` counts only the table a hit names.
The built catalog and index are cached under ``--cache``, keyed by the data files' hash (the index also by
the code that decides what is indexed, ``INDEX_SOURCES``), and so are the questions' vectors (keyed by the
embedder's name): a run after a ranking change re-ranks from the cache, embedding nothing. ``--tuning-only`` skips the held-back part while tuning.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.schema import Schema
from pyiceberg.types import BooleanType, DoubleType, LongType, NestedField, StringType, TimestampType

from catalog_ingest.embeddings import Embedder, embedder_for
from catalog_ingest.ingest import ingest
from catalog_ingest.ranking import key_name
from catalog_ingest.retrieval import Retriever
from catalog_ingest.settings import CatalogConfig, Settings, load_settings

if TYPE_CHECKING:
    import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = ("spider1", "bird_minidev")
K = 10
HELD_BACK_PERCENT = 30
CATALOG_NAME = "pooled"
ICEBERG_TYPES = {"text": StringType, "time": TimestampType, "boolean": BooleanType}
"""Benchmark column types, loosely; ``number`` is a long when it is a key, else a double; others are strings."""


@dataclass(frozen=True)
class Question:
    benchmark: str
    id: str
    text: str
    evidence: str
    gold: frozenset[str]
    """``namespace.table`` of the question's db, lower case."""
    namespace: str = ""
    """The namespace of the question's db."""
    gold_sql: str = ""
    """The benchmark's SQL for it (SQLite), over the db's tables unqualified."""

    @property
    def held_back(self) -> bool:
        digest = hashlib.sha256(f"{self.benchmark}:{self.id}".encode()).digest()
        return int.from_bytes(digest[:4], "big") % 100 < HELD_BACK_PERCENT


def default_data_dir() -> Path:
    """``shared/bench-data`` beside the repository (or beside one of its parent folders)."""
    for folder in REPO.parents:
        candidate = folder / "shared" / "bench-data"
        if candidate.is_dir():
            return candidate
    return REPO.parent / "shared" / "bench-data"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def data_hash(data_dir: Path) -> str:
    digest = hashlib.sha256()
    for benchmark in BENCHMARKS:
        for name in ("schemas.jsonl", "questions.jsonl"):
            digest.update((data_dir / benchmark / name).read_bytes())
    return digest.hexdigest()[:16]


INDEX_SOURCES = ("documents.py", "lexical_documents.py", "text.py", "embeddings.py")
"""The modules that decide what an ingest indexes: a cached index made by other versions of them is stale."""


def index_code_hash() -> str:
    digest = hashlib.sha256()
    for name in INDEX_SOURCES:
        digest.update((REPO / "catalog_ingest" / name).read_bytes())
    return digest.hexdigest()[:12]


def iceberg_schema(table: dict) -> Schema:
    keys = {name.lower() for name in table.get("primary_key") or []}
    fields, identifiers = [], []
    for field_id, column in enumerate(table["columns"], start=1):
        is_key = column["name"].lower() in keys
        if column["type"] == "number":
            field_type = LongType() if is_key else DoubleType()
        else:
            field_type = ICEBERG_TYPES.get(column["type"], StringType)()
        fields.append(
            NestedField(field_id, column["name"], field_type, required=is_key, doc=column.get("description") or None)
        )
        if is_key:
            identifiers.append(field_id)
    return Schema(*fields, identifier_field_ids=identifiers)


def catalog_properties(lake_dir: Path) -> dict[str, str]:
    return {"type": "sql", "uri": f"sqlite:///{lake_dir / 'catalog.db'}", "warehouse": f"file://{lake_dir / 'warehouse'}"}


def namespaces(data_dir: Path) -> dict[tuple[str, str], str]:
    """(benchmark, db) -> its namespace: the db's name, prefixed with the benchmark's where both use it
    (``formula_1`` is in both: a dataset present twice, as real lakes have)."""
    dbs = {(b, row["db"]) for b in BENCHMARKS for row in read_jsonl(data_dir / b / "schemas.jsonl")}
    shared = {db for b, db in dbs if sum(db == other for _, other in dbs) > 1}
    return {(b, db): f"{b}_{db}" if db in shared else db for b, db in dbs}


TableRows = Callable[[str, dict, Schema], "pa.Table | None"]
"""(namespace, schemas.jsonl row, its Iceberg schema) -> the rows to append to that table, or None."""


def build_catalog(data_dir: Path, lake_dir: Path, rows: TableRows | None = None,
                  left_out: Collection[str] = ()) -> None:
    """Every benchmark table as an Iceberg table in one SQL catalog under ``lake_dir``, empty unless ``rows``
    gives it some, except the namespaces ``left_out``; the catalog database is written under a temporary name
    and renamed last, so a killed build is redone."""
    shutil.rmtree(lake_dir, ignore_errors=True)
    lake_dir.mkdir(parents=True)
    building = lake_dir / "catalog.db.building"
    catalog = SqlCatalog(CATALOG_NAME, uri=f"sqlite:///{building}", warehouse=catalog_properties(lake_dir)["warehouse"])
    namespace_of = namespaces(data_dir)
    for benchmark in BENCHMARKS:
        for table in read_jsonl(data_dir / benchmark / "schemas.jsonl"):
            namespace = namespace_of[benchmark, table["db"]]
            if namespace in left_out:
                continue
            catalog.create_namespace_if_not_exists(namespace)
            schema = iceberg_schema(table)
            created = catalog.create_table(f"{namespace}.{table['table']}", schema)
            if rows is not None and (data := rows(namespace, table, schema)) is not None:
                created.append(data)
    catalog.engine.dispose()
    building.rename(lake_dir / "catalog.db")


def ingested_settings(data_dir: Path, cache_dir: Path,
                      build: Callable[[Path, Path], None] = build_catalog) -> Settings:
    """The settings of the cached, ingested pooled catalog; ``build(data_dir, lake_dir)`` makes it when missing,
    then it is ingested."""
    folder = cache_dir / data_hash(data_dir)
    lake_dir = folder / "lake"
    if not (lake_dir / "catalog.db").is_file():
        started = time.monotonic()
        build(data_dir, lake_dir)
        print(f"built the pooled Iceberg catalog in {time.monotonic() - started:.0f}s", flush=True)
    catalog = CatalogConfig(name=CATALOG_NAME, properties=catalog_properties(lake_dir))
    code = index_code_hash()  # the lake is reused; an index made by other document code is made again
    settings = load_settings(data_dir=folder / f"data-{code}", catalogs=[catalog])
    done = folder / f"ingested-{code}"
    if not done.is_file():
        started = time.monotonic()
        report = ingest(settings)
        print(f"ingested {len(report.added) + len(report.changed)} tables, {report.documents_embedded} documents "
              f"in {time.monotonic() - started:.0f}s", flush=True)
        done.write_text("ok\n", encoding="utf-8")
    return settings


class SavedQueryVectors:
    """An embedder whose query vectors are kept in a file between runs (documents are embedded by ``inner``)."""

    def __init__(self, inner: Embedder, path: Path) -> None:
        self.inner, self.name, self.path = inner, inner.name, path
        self._vectors: dict[str, np.ndarray] = {}
        if path.is_file():
            with np.load(path) as saved:
                self._vectors = dict(zip(saved["texts"].tolist(), saved["vectors"]))
        self._saved_count = len(self._vectors)

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self.inner.embed_queries(missing)))
        return np.stack([self._vectors[text] for text in texts])

    def save(self) -> None:
        """Write the vectors when this run embedded new questions (to a temporary name, renamed last)."""
        if len(self._vectors) == self._saved_count:
            return
        staging = self.path.with_name(self.path.stem + ".building.npz")
        np.savez(staging, texts=np.array(list(self._vectors)), vectors=np.stack(list(self._vectors.values())))
        staging.rename(self.path)


def load_questions(data_dir: Path) -> list[Question]:
    questions = []
    namespace_of = namespaces(data_dir)
    for benchmark in BENCHMARKS:
        for row in read_jsonl(data_dir / benchmark / "questions.jsonl"):
            namespace = namespace_of[benchmark, row["db"]]
            gold = frozenset(f"{namespace}.{table}".lower() for table in row["gold_tables"])
            questions.append(Question(benchmark, str(row["id"]), row["question"], row.get("evidence") or "", gold,
                                      namespace, row["gold_sql"]))
    return questions


MISS_KINDS = ("another database first", "the right database first")
"""A miss is one or the other: its top hit's namespace is not its database's, or it is and a gold table is
still past the top K."""


def score(
    retriever: Retriever, questions: list[Question], with_evidence: bool, copies_count: bool = True
) -> tuple[float, float, list]:
    """(recall@K, share whose top hit is in a gold table's namespace, misses as (question, gold, top hits,
    its ``MISS_KINDS`` entry)). With ``copies_count``, a hit finds a gold table that it names as a copy
    (``TableHit.copies``: the same table of a dataset present twice, ``formula_1`` here)."""
    total = namespace_right = 0.0
    misses = []
    for question in questions:
        query = f"{question.text} {question.evidence}".strip() if with_evidence else question.text
        found_hits = retriever.search(query, k=K)
        hits = [hit.full_name.lower() for hit in found_hits]
        named = {name.lower() for hit in found_hits for name in (hit.full_name, *(hit.copies if copies_count else ()))}
        found = len(question.gold & named) / len(question.gold)
        total += found
        gold_namespaces = {name.split(".", 1)[0] for name in question.gold}
        first_names = {found_hits[0].full_name, *(found_hits[0].copies if copies_count else ())} if hits else set()
        first_right = any(name.lower().split(".", 1)[0] in gold_namespaces for name in first_names)
        namespace_right += first_right
        if found < 1:
            misses.append((query, sorted(question.gold), hits, MISS_KINDS[first_right]))
    return total / len(questions), namespace_right / len(questions), misses


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_pooled", description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=default_data_dir())
    parser.add_argument("--cache", type=Path, default=REPO / ".lakescout" / "bench-pooled")
    parser.add_argument("--show-misses", type=int, default=0, help="print this many tuning-part misses per set")
    parser.add_argument("--tuning-only", action="store_true", help="score the tuning part only")
    parser.add_argument("--copies-apart", action="store_true",
                        help="count only the table a hit names, not the copies of it that it folds in")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not (args.data_dir / BENCHMARKS[0] / "schemas.jsonl").is_file():
        print(f"no benchmark data at {args.data_dir}: pass the folder holding {' and '.join(BENCHMARKS)}")
        return

    settings = ingested_settings(args.data_dir, args.cache)
    inner = embedder_for(settings.index)
    vectors_file = args.cache / data_hash(args.data_dir) / f"query-vectors-{key_name(inner.name)}.npz"
    embedder = SavedQueryVectors(inner, vectors_file)
    retriever = Retriever(settings, embedder)
    questions = load_questions(args.data_dir)
    sets = [("spider1", "spider1", False), ("BIRD", "bird_minidev", False), ("BIRD + evidence", "bird_minidev", True)]
    print(f"pooled recall@{K} over {len(retriever._indexes.tables)} tables, no database given "
          f"(top-1 namespace right in brackets)")
    print(f"{'set':18} {'tuning':>16} {'held back':>16}")
    for label, benchmark, with_evidence in sets:
        figures, tuning_misses = [], []
        for held_back in (False,) if args.tuning_only else (False, True):
            part = [q for q in questions if q.benchmark == benchmark and q.held_back == held_back]
            recall, namespace_right, misses = score(retriever, part, with_evidence, not args.copies_apart)
            figures.append(f"{recall:.3f} ({namespace_right:.2f}) n={len(part)}")
            if not held_back:
                tuning_misses = misses
        print(f"{label:18} " + " ".join(f"{figure:>16}" for figure in figures), flush=True)
        kinds = Counter(kind for *_, kind in tuning_misses)
        print(f"{'':18} tuning misses: " + ", ".join(f"{kinds[kind]} {kind}" for kind in MISS_KINDS))
        for query, gold, hits, kind in tuning_misses[: args.show_misses]:
            print(f"    MISS ({kind}) {query[:140]!r}\n      gold {gold}\n      got  {hits}")
    print("target: pooled recall@10 at least 0.95 on spider1 and on BIRD with evidence")
    retriever.close()
    embedder.save()


if __name__ == "__main__":
    main()
