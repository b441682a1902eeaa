"""Three classes of trust_dev12 (issue 13): a count of things over rows that are not those things counts their
distinct keys; a namespace's tables asked in other words (schema, database, layer, "contain", its name as a
modifier) are listed from the catalog, scoped by the catalog's own namespace names; a table's owner asked without
the word leads the describe answer."""

from __future__ import annotations

from datetime import date

from agent.models.offline.catalog import list_args, namespace_said
from agent.models.offline.compose import compose_describe
from agent.models.offline.intents import detect_intent
from agent.models.request import parse_request
from agent.models.sql_writer import draft_sql
from agent.models.tables import Table

TODAY = date(2026, 12, 6)


def table(name: str, rows: int, identifier: list[str], *columns: tuple[str, str, dict]) -> Table:
    return Table(name, [{"name": n, "type": t} | ({"profile": p} if p else {}) for n, t, p in columns], [], {},
                 rows=rows, identifier=identifier)


def drafted(question: str, main: Table) -> str:
    return draft_sql(parse_request(question, TODAY), [main], main).sql.replace("\n", " ")


def test_things_over_rows_keyed_by_more_than_their_key_are_counted_distinct():
    lines = table("shop.order_lines", 900, ["order_id", "line_no"], ("order_id", "long", {}), ("line_no", "long", {}),
                  ("sku", "string", {}))
    assert "COUNT(DISTINCT t.order_id)" in drafted("how many orders appear in shop.order_lines?", lines)
    assert "COUNT(DISTINCT t.order_id)" in drafted("how many orders per sku in shop.order_lines?", lines)
    draft = draft_sql(parse_request("how many orders are in shop.order_lines?", TODAY), [lines], lines)
    assert "keyed by order_id and line_no, so one order_id may take several rows" in draft.explanation
    assert not draft.whole_table_count  # the catalog's row count does not answer it
    assert "COUNT(*)" in drafted("how many order lines are in shop.order_lines?", lines)  # the rows themselves


def test_a_key_that_is_the_whole_identifier_counts_rows():
    orders = table("shop.orders", 500, ["order_id"], ("order_id", "long", {"min": 1, "max": 100, "nulls": 0}),
                   ("region", "string", {}))
    assert "COUNT(*)" in drafted("how many orders per region in shop.orders?", orders)


def test_without_an_identifier_the_key_s_bounds_decide():
    def log(low: int, high: int, nulls: int = 0) -> Table:
        return table("shop.orders", 1000, [], ("order_id", "long", {"min": low, "max": high, "nulls": nulls}),
                     ("status", "string", {}))
    assert "COUNT(DISTINCT t.order_id)" in drafted("how many orders are in shop.orders?", log(1, 400))  # must repeat
    assert "COUNT(*)" in drafted("how many orders are in shop.orders?", log(1, 5000))  # may be one row each
    assert "COUNT(*)" in drafted("how many orders are in shop.orders?", log(1, 900, nulls=200))  # 800 keyed rows
    unprofiled = table("shop.orders", 1000, [], ("order_id", "long", {}), ("status", "string", {}))
    assert "COUNT(*)" in drafted("how many orders are in shop.orders?", unprofiled)


def test_a_namespace_s_tables_in_other_words_are_a_catalog_listing():
    for question, namespace in [("which tables are in the ops database?", "ops"), ("what tables sit under raw?", "raw"),
                                ("tables belonging to staging", "staging"), ("which tables does support contain?", "support"),
                                ("give me everything in the marts layer", "marts"), ("which datasets live in finance?", "finance"),
                                ("show me the tables of the finance schema", "finance")]:  # fmt: skip
        assert detect_intent(question).kind == "catalog", question
        assert list_args(question).get("namespace") == namespace, question
    assert "namespace" not in list_args("which tables do we have about refunds?")


def test_a_namespace_said_as_a_modifier_is_taken_from_the_catalog_s_own_names():
    listed = {"namespaces": {"ops": 2, "finance": 5}, "filters": {}}
    assert namespace_said("list the ops tables", listed) == "ops"
    assert namespace_said("which finance tables have the most rows?", listed) == "finance"
    assert namespace_said("list the five biggest tables", listed) is None
    assert namespace_said("compare ops and finance tables", listed) is None  # two: no single scope
    assert namespace_said("list the ops tables", {**listed, "filters": {"namespace": "ops"}}) is None  # scoped already


def test_who_answers_for_a_table_is_its_owner_first():
    for question in ("who maintains a.b?", "who is responsible for a.b?", "who should I contact about a.b?",
                     "which team looks after a.b?"):
        assert detect_intent(question).kind == "describe", question
    described = {"table": "a.b", "kind": "iceberg", "format": "parquet", "metadata_untrusted": {"owner": "x@y.example"}}
    assert compose_describe(described, "who maintains a.b?").startswith("The owner of `a.b` is `x@y.example`")
    assert compose_describe({**described, "metadata_untrusted": {}}, "who owns a.b?").startswith(
        "The catalog names no owner for `a.b`.")
    assert not compose_describe(described, "describe a.b").startswith("The owner")
