"""Names that are not unique and top N of a table's own rows (issue 13): a group read as the name of a thing keeps
one group per thing (its key beside the name) unless the profile shows one name per row, and the grounding check
does not doubt a key grouped beside a name."""

from __future__ import annotations

from datetime import date

from agent.grounding_doubts import keys_grouped, parsed
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
    assert keys_grouped("total units per product", parsed(beside)) == {}
    alone = "SELECT t.product_id, SUM(t.units) AS n FROM shop.sales AS t GROUP BY 1"
    assert keys_grouped("total units per product", parsed(alone)) == {"product": "product_id"}


def campaigns() -> Table:
    table = profiled("ads.campaigns", 48, ("campaign_id", "long", {}), ("campaign_name", "string", {"distinct": 48}),
                     ("channel", "string", {}), ("owner_email", "string", {}), ("budget_usd", "decimal(12,2)", {}))
    table.values = {"channel": ["email", "display"]}
    return table


def test_a_top_n_of_the_things_a_table_is_about_lists_its_rows_with_their_names():
    listed = "SELECT t.campaign_id, t.campaign_name, t.budget_usd FROM ads.campaigns AS t ORDER BY t.budget_usd"
    for question in ("top 3 campaigns by budget_usd in ads.campaigns", "the top three budgets in ads.campaigns",
                     "which 3 campaigns have the biggest budget_usd in ads.campaigns?"):
        sql = drafted(question.replace("three", "3"), campaigns())
        assert sql == f"{listed} DESC LIMIT 3", question
    assert drafted("the 3 campaigns with the smallest budget_usd", campaigns()) == f"{listed} ASC LIMIT 3"
    one = draft_sql(parse_request("which campaign has the largest budget_usd?", TODAY), [campaigns()], None)
    assert one.sql.endswith("DESC\nLIMIT 1") and one.explanation.startswith("The row of ads.campaigns with the largest")
    email = drafted("top 3 email campaigns by budget_usd in ads.campaigns", campaigns())
    assert "WHERE t.channel = 'email'" in email and "GROUP BY" not in email


def test_a_top_n_of_things_another_table_has_rows_about_still_groups():
    spend = profiled("ads.spend", 900, ("spend_day", "date", {}), ("campaign_id", "long", {}), ("spend_usd", "decimal(12,2)", {}))
    sql = drafted("top 3 campaigns by spend_usd in ads.spend", spend, campaigns())
    assert sql.startswith("SELECT c.campaign_name, SUM(t.spend_usd)") and "LIMIT 3" in sql
    assert "GROUP BY 1" in drafted("top 3 campaigns by channel in ads.campaigns", campaigns())  # no measure: counted
