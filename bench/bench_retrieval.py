"""Retrieval benchmark on a synthetic catalog: document building, embedding, hybrid query latency, HNSW recall.

Usage: python bench/bench_retrieval.py [N_TABLES]   (default 2000 tables of about 20 columns)
The catalog repeats entities across namespaces and date shards on purpose: near-identical tables are
where approximate search loses recall and where ranking is hard.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from catalog_ingest.documents import documents_for
from catalog_ingest.embeddings import MiniLMEmbedder
from catalog_ingest.index import VectorIndex
from catalog_ingest.lexical import LexicalIndex
from catalog_ingest.ingest_pipeline import EMBED_GROUP_TABLES
from catalog_ingest.records import Column, PartitionField, PartitionSpec, TableRecord, TableTotals
from catalog_ingest.retrieval import Retriever
from catalog_ingest.settings import Settings
from catalog_ingest.store import RecordStore

NAMESPACES = ["finance", "sales", "marketing", "raw", "marts", "staging", "product", "hr", "ops", "logistics"]
ENTITIES = {
    "orders": "customer orders with totals and status",
    "refunds": "refunds issued to customers",
    "customers": "one row per customer with contact and segment",
    "invoices": "invoices sent to business customers",
    "payments": "card and bank payments received",
    "shipments": "parcels shipped to customers with carrier and delivery times",
    "sessions": "web and app sessions",
    "events": "clickstream events from web and mobile",
    "campaigns": "marketing campaigns and their budgets",
    "ad_spend": "daily advertising spend per channel",
    "inventory": "stock levels per warehouse and product",
    "products": "product catalog with categories and prices",
    "employees": "employees with department and manager",
    "tickets": "customer support tickets",
    "subscriptions": "recurring subscriptions and their plans",
    "churn_scores": "predicted churn probability per customer",
}
SUFFIXES = ["", "_daily", "_snapshot", "_v2", "_by_region", "_2023", "_2024", "_agg", "_clean", "_history"]
COLUMNS = [
    ("id", "bigint", "primary key"),
    ("customer_id", "bigint", "customer reference"),
    ("order_id", "bigint", "order reference"),
    ("product_id", "bigint", "product reference"),
    ("amount_usd", "decimal(12,2)", "amount in US dollars"),
    ("net_revenue", "decimal(14,2)", "revenue after discounts and refunds"),
    ("tax_amount", "decimal(12,2)", "sales tax"),
    ("currency", "string", "ISO currency code"),
    ("region", "string", "sales region: EMEA, AMER, APAC"),
    ("country", "string", "ISO country code"),
    ("city", "string", ""),
    ("channel", "string", "acquisition or sales channel"),
    ("status", "string", "lifecycle status"),
    ("created_at", "timestamp", "when the row was created"),
    ("updated_at", "timestamp", "last change"),
    ("event_date", "date", "partition date"),
    ("email", "string", "contact email address"),
    ("segment", "string", "customer segment: smb, mid-market, enterprise"),
    ("quantity", "int", "units"),
    ("discount_pct", "double", "discount as a percentage"),
    ("carrier", "string", "shipping carrier"),
    ("delivered_at", "timestamp", "delivery time"),
    ("campaign_id", "string", "marketing campaign"),
    ("impressions", "bigint", "ad impressions"),
    ("clicks", "bigint", "ad clicks"),
    ("department", "string", "org department"),
    ("warehouse_id", "int", "fulfilment warehouse"),
    ("plan_name", "string", "subscription plan"),
    ("churn_probability", "double", "model score between 0 and 1"),
    ("ticket_priority", "string", "low, normal, high, urgent"),
    ("session_duration_s", "int", "session length in seconds"),
    ("utm_source", "string", "UTM source of the visit"),
]
QUESTIONS = [
    "refunds by region", "money given back to customers", "daily ad spend per channel", "orders shipped late",
    "which customers are likely to churn", "support tickets by priority", "revenue after discounts",
    "stock per warehouse", "invoices for enterprise customers", "where do website visitors come from",
    "subscription plans", "employees per department", "campaign clicks and impressions", "payments received",
    "delivery times by carrier", "customer email addresses", "product prices by category", "session length",
]


def synthetic_catalog(n_tables: int, seed: int = 7) -> list[TableRecord]:
    rng = random.Random(seed)
    records, seen = [], set()
    while len(records) < n_tables:
        namespace, entity, suffix = rng.choice(NAMESPACES), rng.choice(list(ENTITIES)), rng.choice(SUFFIXES)
        name = f"{entity}{suffix}" + (f"_{rng.randrange(100)}" if len(seen) > 1000 else "")
        if (namespace, name) in seen:
            continue
        seen.add((namespace, name))
        columns = rng.sample(COLUMNS, rng.randint(14, 26))
        records.append(
            TableRecord(
                catalog="bench",
                namespace=namespace,
                name=name,
                comment=f"{ENTITIES[entity].capitalize()} ({namespace} layer)",
                owner=f"{namespace}-team@example.com",
                columns=[Column(path=p, type=t, comment=c or None) for p, t, c in columns],
                partition_spec=PartitionSpec(
                    spec_id=1, fields=[PartitionField(source_column="created_at", transform="day", name="created_day")]
                ),
                totals=TableTotals(record_count=rng.randrange(10**3, 10**9), total_bytes=rng.randrange(10**6, 10**12)),
                last_updated=datetime(2024, 6, 1, tzinfo=timezone.utc) - timedelta(hours=rng.randrange(2000)),
            )
        )
    return records


def timed(label: str, count: int, unit: str, action):
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:8.2f} s  {count / max(seconds, 1e-9):10.0f} {unit}/s")
    return result


def percentiles(samples_ms: list[float]) -> str:
    return f"p50 {np.percentile(samples_ms, 50):.1f} ms, p95 {np.percentile(samples_ms, 95):.1f} ms"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    n_tables = int(argv[0]) if argv else 2000
    records = synthetic_catalog(n_tables)
    embedder = MiniLMEmbedder()
    embedder.embed(["warm up"])

    with tempfile.TemporaryDirectory(prefix="lakescout-bench-") as data_dir:
        settings = Settings(data_dir=Path(data_dir))
        per_table = timed(
            "build documents", n_tables, "tables", lambda: [(r.key, documents_for(r)) for r in records]
        )
        docs = [doc for _, table_docs in per_table for doc in table_docs]
        table_texts = [doc.text for doc in docs if doc.metadata["kind"] == "table"]
        print(f"{n_tables} tables -> {len(docs)} documents ({len(table_texts)} table chunks)")

        timed("embed table chunks", len(table_texts), "docs", lambda: embedder.embed(table_texts))
        vectors = timed("embed all documents", len(docs), "docs", lambda: embedder.embed([d.text for d in docs]))

        vector_index = VectorIndex(settings, embedder)
        lexical = LexicalIndex()
        store = RecordStore(settings.store_path)

        def write_indexes() -> None:
            start, generation = 0, store.begin()
            for group in range(0, len(per_table), EMBED_GROUP_TABLES):  # the groups an ingest writes
                tables = per_table[group : group + EMBED_GROUP_TABLES]
                group_docs = [doc for _, table_docs in tables for doc in table_docs]
                group_vectors = vectors[start : start + len(group_docs)]
                vector_index.replace_tables([key for key, _ in tables], group_docs, group_vectors, generation)
                start += len(group_docs)
            for record in records:  # the search serves the tables of one published record-store generation
                store.put(record)
            store.publish()
            lexical.build(docs)
            lexical.save(settings.lexical_path, generation=str(generation))

        timed("write Chroma + BM25 indexes", len(docs), "docs", write_indexes)

        retriever = timed("open retriever", 1, "opens", lambda: Retriever(settings, embedder))
        questions = [f"{q} {suffix}".strip() for suffix in ("", "in marts", "daily", "2024") for q in QUESTIONS]
        latencies = []
        for question in questions:
            start = time.perf_counter()
            retriever.search(question, k=5)
            latencies.append((time.perf_counter() - start) * 1000)
        print(f"hybrid search ({len(questions)} uncached queries): {percentiles(latencies)}")
        cached = []
        for question in questions:
            start = time.perf_counter()
            retriever.search(question, k=5)
            cached.append((time.perf_counter() - start) * 1000)
        print(f"hybrid search (query vector cached):  {percentiles(cached)}")

        query_vectors = embedder.embed(questions)
        served = {key: version.generation for key, version in store.versions().items()}
        recalls = []
        for query_vector in query_vectors:
            exact = {docs[i].id for i in np.argsort(-(vectors @ query_vector))[:20]}
            approximate = {doc_id for doc_id, _, _ in vector_index.query(query_vector, 20, visible=served)}
            recalls.append(len(exact & approximate) / 20)
        print(f"Chroma HNSW recall of exact top-20: {np.mean(recalls):.3f} (min {np.min(recalls):.2f})")


if __name__ == "__main__":
    main()
