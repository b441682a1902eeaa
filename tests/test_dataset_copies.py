"""Datasets present twice: two namespaces holding one dataset fold into one hit per table, naming the copy;
namespaces that only share a few table names do not. On a real pyiceberg SQL catalog, ingested and searched
with the real index, through the search tool and the API."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from langchain.tools import ToolRuntime
from fastapi.testclient import TestClient
from pyiceberg.catalog.sql import SqlCatalog

from agent.context import AgentContext
from api.app import create_app
from api_support import USER, with_api
from agent.tools import search_tables
from catalog_ingest.dataset_copies import DatasetCopies
from catalog_ingest.ingest import ingest
from catalog_ingest.retrieval import Retriever
from catalog_ingest.settings import CatalogConfig, load_settings

SHOP = {
    "customers": ["customer_id", "full_name", "email", "signup_date", "country"],
    "orders": ["order_id", "customer_id", "ordered_at", "order_total", "status"],
    "order_items": ["order_id", "product_id", "quantity", "unit_price"],
    "products": ["product_id", "product_name", "category", "list_price"],
    "payments": ["payment_id", "order_id", "paid_at", "amount", "method"],
}
CRM = {
    "customers": ["customer_id", "account_manager", "segment"],
    "leads": ["lead_id", "source", "created_at", "score"],
    "campaigns": ["campaign_id", "channel", "budget", "started_at"],
}


def schema(columns: list[str]) -> pa.Schema:
    return pa.schema([pa.field(name, pa.string()) for name in columns])


def unit(datasets: dict[str, dict[str, list[str]]]) -> tuple[DatasetCopies, list[list[str]]]:
    tables = {f"c.{ns}.{t}": (f"c.{ns}", t) for ns, ts in datasets.items() for t in ts}
    columns = {f"c.{ns}.{t}": cols for ns, ts in datasets.items() for t, cols in ts.items()}
    asked: list[list[str]] = []

    def columns_of(keys):
        asked.append(sorted(keys))
        return {key: columns[key] for key in keys}

    return DatasetCopies(lambda: tables, columns_of), asked


def test_a_copy_with_one_column_more_is_a_copy_and_a_namespace_sharing_one_name_is_not():
    archive = {name: list(cols) for name, cols in SHOP.items()}
    archive["customers"].append("loyalty_tier")
    copies, asked = unit({"shop": SHOP, "shop_archive": archive, "crm": CRM})
    assert copies.are_copies("c.shop.customers", "c.shop_archive.customers")
    assert copies.are_copies("c.shop_archive.orders", "c.shop.orders")
    assert not copies.are_copies("c.shop.customers", "c.shop_archive.orders")  # other tables of the two
    assert not copies.are_copies("c.shop.customers", "c.crm.customers")
    assert len(asked) == 1, asked  # one pair compared by columns, once; crm's names alone rule it out


def test_same_table_names_with_other_columns_are_not_copies():
    other = {name: [f"{column}_v2" for column in cols] for name, cols in SHOP.items()}
    copies, _ = unit({"shop": SHOP, "shop_v2": other})
    assert not copies.are_copies("c.shop.orders", "c.shop_v2.orders")


def test_fold_keeps_the_first_copy_and_names_the_later_ones():
    copies, _ = unit({"shop": SHOP, "shop_archive": SHOP, "crm": CRM})
    ordered = ["c.shop_archive.orders", "c.shop.orders", "c.crm.customers", "c.shop.customers", "c.shop_archive.customers"]
    assert copies.fold(ordered, 2) == [("c.shop_archive.orders", ["c.shop.orders"]), ("c.crm.customers", [])]
    assert copies.fold(ordered, 5)[-1] == ("c.shop.customers", ["c.shop_archive.customers"])


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    root = tmp_path_factory.mktemp("copies")
    properties = {"type": "sql", "uri": f"sqlite:///{root / 'catalog.db'}", "warehouse": f"file://{root / 'wh'}"}
    catalog = SqlCatalog("lake", **properties)
    for namespace, tables in (("shop", SHOP), ("shop_archive", SHOP), ("crm", CRM)):
        catalog.create_namespace(namespace)
        for name, columns in tables.items():
            catalog.create_table(f"{namespace}.{name}", schema=schema(columns))
    catalog.engine.dispose()
    settings = load_settings(data_dir=root / "data", catalogs=[CatalogConfig(name="lake", properties=properties)])
    ingest(settings)
    return settings


def test_search_returns_each_table_of_a_copied_dataset_once(settings):
    retriever = Retriever(settings)
    try:
        hits = retriever.search("customers and their orders and payments", k=8)
    finally:
        retriever.close()
    names = [hit.full_name for hit in hits]
    shop_tables = [hit for hit in hits if hit.full_name.split(".")[1] in {"orders", "payments"}]
    assert len(shop_tables) == 2, names  # each once, not once per copy
    for hit in shop_tables:
        namespace, table = hit.full_name.split(".")
        other = "shop_archive" if namespace == "shop" else "shop"
        assert hit.copies == [f"{other}.{table}"], hit
    assert "crm.customers" in names  # another dataset's table of the same name stays its own hit
    assert not any(hit.copies for hit in hits if hit.full_name.startswith("crm."))
    assert len(names) == len(set(names)) >= 6  # every matched table once: shop's five and crm.customers


def test_the_search_tool_names_the_copy(settings):
    context = AgentContext.from_settings(settings)
    try:
        runtime = ToolRuntime(state={}, context=context, config={}, stream_writer=None, tool_call_id="1", store=None)
        message = search_tables.invoke(
            {"type": "tool_call", "id": "1", "name": "search_tables", "args": {"query": "payments", "runtime": runtime}}
        )
    finally:
        context.close()
    tables = json.loads(message.content)["tables"]
    payments = [hit for hit in tables if hit["table"].endswith(".payments")]
    assert len(payments) == 1, tables
    assert payments[0]["same_table_also_in"] in (["shop.payments"], ["shop_archive.payments"])
    assert payments[0]["same_table_also_in"] != [payments[0]["table"]]


def test_the_search_api_names_the_copy(settings):
    with TestClient(create_app(with_api(settings))) as client:
        response = client.get("/v1/search", params={"q": "orders", "k": 3}, headers=USER)
    assert response.status_code == 200, response.text
    orders = [hit for hit in response.json()["hits"] if hit["full_name"].endswith(".orders")]
    assert len(orders) == 1 and len(orders[0]["copies"]) == 1, response.json()
    assert {orders[0]["full_name"], orders[0]["copies"][0]} == {"shop.orders", "shop_archive.orders"}


def test_the_table_maps_are_built_at_the_first_comparison_not_when_opened():
    read: list[int] = []

    def tables():
        read.append(1)
        return {"c.shop.orders": ("c.shop", "orders"), "c.backup.orders": ("c.backup", "orders")}

    copies = DatasetCopies(tables, lambda keys: {key: ["order_id"] for key in keys})
    assert read == []
    assert copies.are_copies("c.shop.orders", "c.backup.orders")
    assert not copies.are_copies("c.shop.orders", "c.shop.orders")
    assert read == [1]
