"""Generators of the sample lake's dimension and reference tables: customers, products, campaigns and the rest.

Each takes the ``World`` and returns one table's columns. Support tickets point into the first order batch,
so they are generated after the facts (``after_facts`` in their spec).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sample.generate import (
    Columns,
    World,
    as_text,
    concat,
    money,
    nullable,
    pick,
    random_lists,
    random_timestamps,
    weighted_indices,
)
from sample.reference import (
    ADJECTIVES,
    ANCHOR,
    BRANDS,
    CAMPAIGN_CHANNELS,
    CATEGORIES,
    CITIES,
    COUNTRY_CODES,
    COUNTRY_CURRENCY_INDEX,
    COUNTRY_REGION,
    CURRENCIES,
    DAY_US,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    FX_HISTORY_DAYS,
    HISTORY_DAYS,
    HOUR_US,
    LAST_NAMES,
    LOG_LEVELS,
    LOG_MESSAGES,
    NOUNS,
    OBJECTIVES,
    PIPELINES,
    PLAN_MRR,
    PLANS,
    PRODUCT_TAGS,
    SEGMENTS,
    SERVICES,
    START,
    START_DAY,
    STREETS,
    SUPPORT_TEAMS,
    TICKET_CATEGORIES,
    TICKET_TAGS,
)


def customers(world: World) -> Columns:
    rng = world.rng("customers")
    n = world.n_customers
    ids = np.arange(1, n + 1)
    country = world.customer_country[1:]
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    first_names, last_names = pick(FIRST_NAMES, first), pick(LAST_NAMES, last)
    email = concat(pc.utf8_lower(first_names), ".", pc.utf8_lower(last_names), as_text(ids), "@",
                    pick(EMAIL_DOMAINS, rng.integers(0, len(EMAIL_DOMAINS), n)))
    phone = concat("+", as_text(rng.integers(1, 99, n)), " ", as_text(rng.integers(0, 10**9, n), 9))
    address = pa.StructArray.from_arrays(
        [
            concat(as_text(rng.integers(1, 400, n)), " ", pick(STREETS, rng.integers(0, len(STREETS), n))),
            pick(CITIES, 2 * country + rng.integers(0, 2, n)),
            pick(COUNTRY_CODES, country),
            as_text(rng.integers(0, 100_000, n), 5),
        ],
        names=["street", "city", "country", "postal_code"],
    )
    return {
        "customer_id": ids,
        "email": email,
        "phone": phone,
        "full_name": concat(first_names, " ", last_names),
        "address": address,
        "country": pick(COUNTRY_CODES, country),
        "region": pick(COUNTRY_REGION, country),
        "signup_at": world.customer_signup[1:],
        "segment": pick(SEGMENTS, rng.integers(0, len(SEGMENTS), n)),
        "marketing_opt_in": rng.random(n) < 0.62,
        "updated_at": ANCHOR - rng.integers(0, 30 * DAY_US, n).astype("timedelta64[us]"),
    }


def shop_customers(world: World) -> Columns:
    """The shop database's export, before cleaning: same people, raw field names."""
    cleaned = world.table("marts.customers")
    return {
        "id": cleaned["customer_id"],
        "email_address": cleaned["email"],
        "phone_number": cleaned["phone"],
        "name": cleaned["full_name"],
        "street": cleaned["address"].field("street"),
        "city": cleaned["address"].field("city"),
        "country_code": cleaned["country"],
        "zip": cleaned["address"].field("postal_code"),
        "created_at": cleaned["signup_at"],
        "_extracted_at": np.full(world.n_customers, ANCHOR - np.timedelta64(2, "h")),
    }


def products(world: World) -> Columns:
    rng = world.rng("products")
    n = world.n_products
    ids = np.arange(1, n + 1)
    category = world.product_category[1:]
    name = concat(pick(ADJECTIVES, rng.integers(0, len(ADJECTIVES), n)), " ",
                   pick(NOUNS, rng.integers(0, len(NOUNS), n)))
    return {
        "product_id": ids,
        "sku": concat(pc.utf8_upper(pc.utf8_slice_codeunits(pick(CATEGORIES, category), 0, 3)), "-", as_text(ids, 5)),
        "product_name": name,
        "category": pick(CATEGORIES, category),
        "brand": pick(BRANDS, rng.integers(0, len(BRANDS), n)),
        "list_price_usd": money(world.product_price[1:]),
        "unit_cost_usd": money(world.product_price[1:] * rng.uniform(0.35, 0.6, n)),
        "is_active": rng.random(n) < 0.93,
        "tags": random_lists(rng, PRODUCT_TAGS, n, 3),
        "updated_at": ANCHOR - rng.integers(0, 60 * DAY_US, n).astype("timedelta64[us]"),
    }


def campaigns(world: World) -> Columns:
    rng = world.rng("campaigns")
    n = world.n_campaigns
    ids = np.arange(1, n + 1)
    channel = world.campaign_channel[1:]
    start = world.campaign_start[1:]
    objective = rng.integers(0, len(OBJECTIVES), n)
    code = concat("FA26-", pc.utf8_upper(pick(CAMPAIGN_CHANNELS, channel)), "-", as_text(ids, 3))
    return {
        "campaign_id": ids,
        "campaign_code": code,
        "campaign_name": concat(pick(OBJECTIVES, objective), " ", pick(CATEGORIES, rng.integers(0, 8, n)), " ",
                                 as_text(ids)),
        "channel": pick(CAMPAIGN_CHANNELS, channel),
        "objective": pick(OBJECTIVES, objective),
        "start_date": start.astype("datetime64[D]"),
        "end_date": (start + rng.integers(14, 75, n).astype("timedelta64[D]")).astype("datetime64[D]"),
        "budget_usd": money(rng.integers(5, 120, n) * 1000.0),
        "owner_email": pick(["growth@shopco.example", "crm@shopco.example", "brand@shopco.example"],
                             rng.integers(0, 3, n)),
    }


def ad_spend(world: World) -> Columns:
    days = np.arange(HISTORY_DAYS)
    paid = [c for c in range(1, world.n_campaigns + 1) if CAMPAIGN_CHANNELS[world.campaign_channel[c]] != "email"]
    day, campaign = (a.ravel() for a in np.meshgrid(days, np.array(paid), indexing="ij"))
    rng = world.rng("ad_spend")
    impressions = rng.poisson(20_000, day.size)
    clicks = rng.binomial(impressions, 0.012)
    return {
        "spend_date": (START_DAY + day.astype("timedelta64[D]")),
        "campaign_id": campaign,
        "channel": pick(CAMPAIGN_CHANNELS, world.campaign_channel[campaign]),
        "impressions": impressions,
        "clicks": clicks,
        "spend_usd": money(clicks * rng.uniform(0.4, 2.5, day.size)),
    }


def email_sends(world: World) -> Columns:
    rng = world.rng("email_sends")
    email_campaigns = np.array([c for c in range(1, world.n_campaigns + 1) if world.campaign_channel[c] == 0])
    n = len(email_campaigns) * 1_500
    campaign = np.repeat(email_campaigns, 1_500)
    customer = world.customers(rng, n)
    sent = world.campaign_start[campaign] + rng.integers(0, HOUR_US, n).astype("timedelta64[us]")
    sent = np.clip(sent, START, ANCHOR - np.timedelta64(1, "D"))
    opened = rng.random(n) < 0.38
    clicked = opened & (rng.random(n) < 0.2)
    open_at = sent + rng.integers(60_000_000, 2 * DAY_US, n).astype("timedelta64[us]")
    emails = world.table("marts.customers")["email"]
    return {
        "send_id": np.arange(1, n + 1),
        "campaign_id": campaign,
        "customer_id": customer,
        "email": pc.take(emails, pa.array(customer - 1)),
        "template": pick(["weekly_digest", "abandoned_cart", "winback", "new_arrivals"], rng.integers(0, 4, n)),
        "sent_at": sent,
        "opened_at": nullable(open_at, ~opened),
        "clicked_at": nullable(open_at + np.timedelta64(30, "s"), ~clicked),
    }


def audiences(world: World) -> Columns:
    names = ["high_value", "lapsed_90d", "newsletter_optin", "cart_abandoners", "vip_emea", "app_only"]
    rng = world.rng("audiences")
    return {
        "audience_id": np.arange(1, len(names) + 1),
        "audience_name": names,
        "rule_sql": [f"select customer_id from marts.customers where {n} /* managed in the CDP */" for n in names],
        "member_count": rng.integers(100, world.n_customers, len(names)),
        "refreshed_at": np.full(len(names), ANCHOR - np.timedelta64(6, "h")),
    }


def subscriptions(world: World) -> Columns:
    rng = world.rng("subscriptions")
    n = world.n_customers * 2 // 5
    customer = rng.choice(np.arange(1, world.n_customers + 1), n, replace=False)
    plan = weighted_indices(rng, [0.5, 0.35, 0.15], n)
    started = np.maximum(world.customer_signup[customer], ANCHOR - np.timedelta64(400, "D"))
    started = started + (rng.random(n) * ((ANCHOR - started) // np.timedelta64(1, "us"))).astype("timedelta64[us]")
    cancelled = rng.random(n) < 0.22
    cancelled_at = started + (rng.random(n) * ((ANCHOR - started) // np.timedelta64(1, "us"))).astype(
        "timedelta64[us]")
    status = np.where(cancelled, 1, np.where(rng.random(n) < 0.04, 2, 0))
    return {
        "subscription_id": np.arange(1, n + 1),
        "customer_id": customer,
        "plan": pick(PLANS, plan),
        "status": pick(["active", "cancelled", "paused"], status),
        "started_at": started,
        "cancelled_at": nullable(cancelled_at, ~cancelled),
        "mrr_usd": money(PLAN_MRR[plan]),
    }


def invoices(world: World) -> Columns:
    """Monthly invoices for every subscription cycle inside the history window."""
    subs = world.table("staging.subscriptions")
    started = subs["started_at"]
    ends = np.where(pc.is_null(subs["cancelled_at"]).to_numpy(zero_copy_only=False), ANCHOR,
                    subs["cancelled_at"].to_numpy(zero_copy_only=False))
    cycle_offset = ((started - START) // np.timedelta64(1, "D")) % 30
    k = np.arange(4)
    issued = START + (cycle_offset[:, None] + 30 * k[None, :]).astype("timedelta64[D]")
    valid = (issued >= started[:, None]) & (issued < ends[:, None]) & (issued < ANCHOR)
    row, _ = np.nonzero(valid)
    issued = issued[valid].astype("datetime64[us]")
    n = row.size
    rng = world.rng("invoices")
    customer = subs["customer_id"][row]
    currency = COUNTRY_CURRENCY_INDEX[world.customer_country[customer]]
    amount_usd = pc.take(subs["mrr_usd"], pa.array(row)).to_numpy(zero_copy_only=False).astype(float)
    paid = rng.random(n) < 0.93
    return {
        "invoice_id": concat("INV-", as_text(np.arange(1, n + 1), 7)),
        "subscription_id": subs["subscription_id"][row],
        "customer_id": customer,
        "issued_at": issued,
        "due_date": (issued + np.timedelta64(14, "D")).astype("datetime64[D]"),
        "currency": pick(CURRENCIES, currency),
        "amount": money(amount_usd * world.fx_on(issued, currency)),
        "amount_usd": money(amount_usd),
        "status": pick(["paid", "open"], (~paid).astype(int)),
    }


def fx_rates(world: World) -> Columns:
    days = np.arange(FX_HISTORY_DAYS + 1)
    quotes = np.arange(1, len(CURRENCIES))
    day, quote = (a.ravel() for a in np.meshgrid(days, quotes, indexing="ij"))
    first_day = (ANCHOR - np.timedelta64(FX_HISTORY_DAYS, "D")).astype("datetime64[D]")
    return {
        "rate_date": first_day + day.astype("timedelta64[D]"),
        "base_currency": np.full(day.size, "USD"),
        "quote_currency": pick(CURRENCIES, quote),
        "rate": np.round(world.fx[day, quote], 6),
        "source": np.full(day.size, "ecb"),
    }


def agents(world: World) -> Columns:
    rng = world.rng("agents")
    n = 24
    names = concat(pick(FIRST_NAMES, rng.integers(0, 20, n)), " ", pick(LAST_NAMES, rng.integers(0, 20, n)))
    return {
        "agent_id": np.arange(1, n + 1),
        "full_name": names,
        "email": concat("agent", as_text(np.arange(1, n + 1)), "@shopco.example"),
        "team": pick(SUPPORT_TEAMS, rng.integers(0, len(SUPPORT_TEAMS), n)),
        "hired_at": random_timestamps(rng, n, start=ANCHOR - np.timedelta64(1500, "D")).astype("datetime64[D]"),
    }


def tickets(world: World) -> Columns:
    orders = world.totals.ticket_orders
    rng = world.rng("tickets")
    n = len(orders["order_id"]) // 8
    chosen = rng.choice(len(orders["order_id"]), n, replace=False)
    about_order = rng.random(n) < 0.75
    created = orders["order_ts"][chosen] + rng.integers(HOUR_US, 10 * DAY_US, n).astype("timedelta64[us]")
    created = np.minimum(created, ANCHOR - np.timedelta64(1, "h"))
    resolved = rng.random(n) < 0.85
    return {
        "ticket_id": np.arange(1, n + 1),
        "customer_id": orders["customer_id"][chosen],
        "order_id": nullable(orders["order_id"][chosen], ~about_order),
        "agent_id": rng.integers(1, 25, n),
        "created_at": created,
        "resolved_at": nullable(created + rng.integers(HOUR_US, 5 * DAY_US, n).astype("timedelta64[us]"), ~resolved),
        "channel": pick(["email", "chat", "phone", "social"], rng.integers(0, 4, n)),
        "priority": pick(["low", "normal", "high", "urgent"], weighted_indices(rng, [0.3, 0.5, 0.15, 0.05], n)),
        "category": pick(TICKET_CATEGORIES, rng.integers(0, len(TICKET_CATEGORIES), n)),
        "csat_score": nullable(rng.integers(1, 6, n), ~resolved | (rng.random(n) < 0.5)),
        "tags": random_lists(rng, TICKET_TAGS, n, 2),
    }


def app_logs(world: World) -> Columns:
    """Four days of logs; the loader then purges everything older than the 72-hour retention."""
    rng = world.rng("app_logs")
    n = 40_000
    logged = np.sort(random_timestamps(rng, n, start=ANCHOR - np.timedelta64(96, "h")))
    has_user = rng.random(n) < 0.6
    return {
        "logged_at": logged,
        "service": pick(SERVICES, rng.integers(0, len(SERVICES), n)),
        "level": pick(LOG_LEVELS, rng.integers(0, len(LOG_LEVELS), n)),
        "message": pick(LOG_MESSAGES, rng.integers(0, len(LOG_MESSAGES), n)),
        "request_id": concat("req-", as_text(rng.integers(0, 16**10, n), 12)),
        "user_id": nullable(world.customers(rng, n), ~has_user),
        "latency_ms": np.round(rng.lognormal(3.5, 1.0, n), 1),
        "host": concat("ip-10-0-", as_text(rng.integers(0, 32, n))),
    }


def pipeline_runs(world: World) -> Columns:
    rng = world.rng("pipeline_runs")
    day, pipeline = (a.ravel() for a in np.meshgrid(np.arange(HISTORY_DAYS), np.arange(len(PIPELINES)), indexing="ij"))
    n = day.size
    started = START + (day * DAY_US + rng.integers(HOUR_US, 4 * HOUR_US, n)).astype("timedelta64[us]")
    failed = rng.random(n) < 0.03
    return {
        "run_id": concat("run-", as_text(np.arange(1, n + 1), 6)),
        "pipeline": pick(PIPELINES, pipeline),
        "started_at": started,
        "finished_at": started + rng.integers(60, 3_600, n).astype("timedelta64[s]"),
        "status": pick(["success", "failed"], failed.astype(int)),
        "rows_written": np.where(failed, 0, rng.integers(1_000, 2_000_000, n)),
        "triggered_by": pick(["schedule", "manual", "backfill"], weighted_indices(rng, [0.9, 0.07, 0.03], n)),
    }


