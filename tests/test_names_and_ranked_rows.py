"""Names that are not unique and top N of a table's own rows (issue 13): a group read as the name of a thing keeps
one group per thing (its key beside the name) unless the profile shows one name per row, and the grounding check
does not doubt a key grouped beside a name."""

from __future__ import annotations

from datetime import date

from agent.grounding_doubts import keys_grouped
from agent.models.request import parse_request
from agent.models.sql_writer import draft_sql
from agent.models.tables import Table

TODAY = date(2026, 12, 6)


def profiled(name: str, rows: int, *columns: tuple[str, str, dict]) -> Table:
    """A described table whose columns carry the profiles describe_table shows."""
    return Table(name, [{"name": n, "type": t} | ({"profile": p} if p else {}) for n, t, p in columns], [], {}, rows=rows)


def sales() -> Table:
    return profiled("shop.sales", 900, ("sold_on", "date", {}), ("product_id", "long", {}), ("units", "long", {}))


def products(name_profile: dict) -> Table:
    return profiled("shop.products", 400, ("product_id", "long", {}), ("product_name", "string", name_profile),
                    ("price_usd", "decimal(12,2)", {}))


def drafted(question: str, *tables: Table) -> str:
    return draft_sql(parse_request(question, TODAY), list(tables), tables[0]).sql.replace("\n", " ")


def test_a_name_not_known_to_be_unique_is_grouped_with_its_key():
    many = products({"nulls": 0, "many_values": True})
    for question in ("total units per product in shop.sales", "total units by product name in shop.sales",
                     "for each product, the total units in shop.sales"):
        sql = drafted(question, sales(), many)
        assert sql.startswith("SELECT p.product_name, p.product_id, SUM(t.units)"), question
        assert "GROUP BY 1, 2" in sql
    draft = draft_sql(parse_request("total units per product in shop.sales", TODAY), [sales(), many], None)
    assert "by product_name and product_id from shop.products (product_name is not known to be unique" in draft.explanation


def test_names_the_profile_shows_repeating_are_said_so_and_unique_ones_group_alone():
    repeating = products({"nulls": 0, "distinct": 40, "top_values": {"Mug": 12}})
    draft = draft_sql(parse_request("total units per product in shop.sales", TODAY), [sales(), repeating], None)
    assert "p.product_id" in draft.sql and "product_name holds 40 different values over 400 rows" in draft.explanation
    unique = products({"nulls": 0, "distinct": 400})
    assert drafted("total units per product in shop.sales", sales(), unique).startswith("SELECT p.product_name, SUM(")
    sampled = products({"nulls": 0, "distinct": 400, "sampled": True})  # a sample cannot show every name once
    assert "p.product_id" in drafted("total units per product in shop.sales", sales(), sampled)


def test_a_name_column_written_out_is_grouped_as_asked():
    sql = drafted("total units by product_name in shop.sales", sales(), products({"many_values": True}))
    assert sql.startswith("SELECT p.product_name, SUM(t.units)") and "GROUP BY 1 " in sql


def test_a_key_grouped_beside_a_name_is_not_doubted():
    beside = "SELECT p.product_name, p.product_id, SUM(t.units) AS n FROM shop.sales AS t JOIN shop.products AS p " \
             "ON t.product_id = p.product_id GROUP BY 1, 2"
    assert keys_grouped("total units per product", beside) == {}
    alone = "SELECT t.product_id, SUM(t.units) AS n FROM shop.sales AS t GROUP BY 1"
    assert keys_grouped("total units per product", alone) == {"product": "product_id"}
