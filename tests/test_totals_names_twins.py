"""One total over "all X", groups said with "every", the name a key points at, a column's values asked for, row
counts with a threshold, and filters on one of two twin columns: the offline model's drafts and intents, and the
grounding check's labels when an answer reads them otherwise."""

from __future__ import annotations

import json
from datetime import date

import pytest
from langchain_core.messages import ToolMessage
from test_grounding import calls, hit, searched_then_ran

from agent.grounding import ground
from agent.models.offline.intents import detect_intent
from agent.models.request import parse_request
from agent.models.sql_writer import draft_sql
from agent.models.tables import Table
from agent.state import turn_facts

TODAY = date(2026, 12, 3)


def table(name: str, *columns: tuple[str, str]) -> Table:
    return Table(name, [{"name": n, "type": t} for n, t in columns], [], {})


@pytest.fixture
def spend() -> Table:
    return table("ads.spend", ("spend_day", "date"), ("campaign_id", "long"), ("region", "string"), ("spend_usd", "decimal(12,2)"))


@pytest.fixture
def campaigns() -> Table:
    return table("ads.campaigns", ("campaign_id", "long"), ("campaign_name", "string"), ("objective", "string"))


def sql_for(question: str, *tables: Table) -> str:
    return draft_sql(parse_request(question, TODAY), list(tables), tables[0]).sql


def test_across_all_is_one_total_and_every_is_a_breakdown(spend):
    assert "GROUP BY" not in sql_for("total spend_usd across all regions in ads.spend", spend)
    assert "GROUP BY" not in sql_for("total spend_usd over all the regions and campaigns", spend)
    assert "t.region" in sql_for("total spend_usd for every region", spend)
    assert "t.region" in sql_for("total spend_usd across regions", spend)  # no "all": a breakdown


def test_the_names_of_grouped_things_come_from_the_table_the_key_points_at(spend, campaigns):
    top = sql_for("what are the names of the 3 campaigns with the highest total spend_usd?", spend, campaigns)
    assert "c.campaign_name" in top and "JOIN ads.campaigns" in top and "LIMIT 3" in top
    assert "t.campaign_id" not in top.partition("FROM")[0]
    each = sql_for("for each campaign, show its campaign name and the total spend_usd", spend, campaigns)
    assert "c.campaign_name" in each and "GROUP BY 1" in each


def test_values_asked_of_a_named_table_and_row_counts_with_a_threshold_are_queries():
    assert detect_intent("which regions are there in ads.spend?").kind == "sql"
    assert parse_request("which regions are there in ads.spend?", TODAY).dims == ["regions"]
    assert detect_intent("which campaigns are there in ads.campaigns?").kind != "sql"  # the table's own rows
    assert detect_intent("how many rows of ads.spend have more than 50 clicks?").kind == "sql"
    assert detect_intent("how many rows does ads.spend have?").kind == "stats"


def unaccounted(question: str, sql: str, columns: list[dict] | None = None, name: str = "ads.spend") -> list[str]:
    messages = searched_then_ran(sql, [hit(name)])
    if columns is not None:
        described = {"table": name, "columns": columns}
        messages[3:3] = [calls("describe_table", 5, table=name),
                         ToolMessage(json.dumps(described), tool_call_id="describe_table-5", name="describe_table")]
    return ground(question, turn_facts(messages), {name}).unaccounted


def test_a_total_over_all_of_them_grouped_by_them_is_partial():
    assert unaccounted("total spend across all regions", "SELECT sum(spend_usd) FROM ads.spend") == []
    grouped = "SELECT region, sum(spend_usd) FROM ads.spend GROUP BY 1"
    assert unaccounted("total spend across all regions", grouped) == ["all"]
    assert unaccounted("total spend across regions", grouped) == []
    assert unaccounted("total spend in every region", "SELECT sum(spend_usd) FROM ads.spend") == ["region", "every"]


def test_names_asked_for_need_a_column_that_holds_a_name():
    by_key = "SELECT campaign_id, sum(spend_usd) FROM ads.spend GROUP BY 1 ORDER BY 2 DESC LIMIT 3"
    assert "name" in unaccounted("the names of the 3 campaigns with the most spend", by_key)
    by_name = ("SELECT c.campaign_name, sum(s.spend_usd) FROM ads.spend s JOIN ads.campaigns c "
               "ON s.campaign_id = c.campaign_id GROUP BY 1 ORDER BY 2 DESC LIMIT 3")  # fmt: skip
    assert "name" not in unaccounted("the names of the 3 campaigns with the most spend", by_name)
    assert "name" not in unaccounted("name the 3 campaigns with the most spend", by_key)  # the verb


TWINS = [{"name": "origin_airport", "type": "string"}, {"name": "dest_airport", "type": "string"}]


def test_a_value_on_one_of_two_twin_columns_needs_the_words_that_tell_them_apart():
    origin = "SELECT count(*) FROM air.flights WHERE origin_airport = 'ABC'"
    assert unaccounted("how many flights arrive at ABC?", origin, TWINS, "air.flights") == ["abc"]
    assert unaccounted("how many flights have an origin of ABC?", origin, TWINS, "air.flights") == []
    dest = "SELECT count(*) FROM air.flights WHERE dest_airport = 'ABC'"
    assert "abc" not in unaccounted("how many flights have the destination ABC?", dest, TWINS, "air.flights")
    profiled = [{"name": "base_currency", "type": "string", "profile": {"top_values": {"USD": 9}, "distinct": 1}},
                {"name": "quote_currency", "type": "string"}]  # fmt: skip
    quote = "SELECT count(*) FROM ads.spend WHERE quote_currency = 'JPY'"
    assert "jpy" not in unaccounted("how many rates for JPY?", quote, profiled)  # the twin holds only USD
    assert "jpy" in unaccounted("how many rates for JPY?", quote, [{**profiled[0], "profile": {}}, profiled[1]])


def test_attributes_listed_for_each_thing_are_rows_not_groups():
    grouped = "SELECT region, count(*) FROM ads.spend GROUP BY 1"
    assert "list" in unaccounted("list the region and campaign of each spend", grouped)
    assert "list" not in unaccounted("list the number of rows of each region", grouped)  # a count asked for
    assert "list" not in unaccounted("list the region and campaign of each spend", "SELECT region, campaign_id FROM ads.spend")


def test_a_period_is_on_the_time_column_a_word_names():
    invoices = table("bill.invoices", ("invoice_id", "string"), ("issued_at", "timestamp"), ("due_date", "date"))
    invoices.partition_sources = ["issued_at"]
    assert "t.due_date >=" in sql_for("how many invoices were due last month?", invoices)
    assert "t.issued_at >=" in sql_for("how many invoices last month?", invoices)


def test_a_column_of_the_rows_a_filter_picks_is_listed_unaggregated():
    products = table("shop.products", ("product_id", "long"), ("product_name", "string"), ("is_active", "boolean"))
    assert detect_intent("show the names of the products in shop.products that are no longer active").kind == "sql"
    listed = sql_for("show the names of the products in shop.products that are no longer active", products)
    assert listed.replace("\n", " ") == "SELECT t.product_name FROM shop.products AS t WHERE NOT t.is_active"
    assert "t.product_id" in sql_for("list the product ids of the products that are active", products)
    assert parse_request("list the number of products of the brands with sales", TODAY).listing is None  # a count
    assert detect_intent("list the names of the tables in finance").kind == "catalog"


def test_how_much_answered_by_a_count_is_partial():
    assert unaccounted("how much did we spend in EMEA?", "SELECT count(*) FROM ads.spend WHERE region = 'EMEA'") == ["much"]
    assert unaccounted("how much did we spend in EMEA?", "SELECT sum(spend_usd) FROM ads.spend WHERE region = 'EMEA'") == []


def test_a_measure_with_a_twin_in_another_unit_needs_the_words_that_say_which():
    sales = [{"name": "sale_id", "type": "long"}, {"name": "total_amount", "type": "decimal(12,2)"},
             {"name": "total_amount_eur", "type": "decimal(12,2)"}]  # fmt: skip
    local = "SELECT avg(total_amount) FROM shop.sales"
    assert unaccounted("average sale total in shop.sales", local, sales, "shop.sales") == ["total"]
    assert unaccounted("average total_amount in shop.sales", local, sales, "shop.sales") == []  # named as written
    euros = "SELECT avg(total_amount_eur) FROM shop.sales"
    assert unaccounted("average sale total in shop.sales", euros, sales, "shop.sales") == ["total"]
    assert unaccounted("average sale total in eur in shop.sales", euros, sales, "shop.sales") == []


def test_the_different_values_listed_are_not_a_count_of_them():
    counted = "SELECT count(DISTINCT region) FROM ads.spend"
    assert unaccounted("what are the different regions in ads.spend?", counted) == ["different"]
    assert unaccounted("how many different regions are in ads.spend?", counted) == []
    assert unaccounted("what are the different regions in ads.spend?", "SELECT DISTINCT region FROM ads.spend") == []
