"""Generators of the sample lake's aggregate tables: marts and finance summaries of the facts and dimensions.

Most read ``world.totals``, so they run after the fact batches (``after_facts`` in their spec); monthly MRR
summarises the subscriptions table.
"""

from __future__ import annotations

import numpy as np

from sample.generate import Columns, World, as_text, concat, day_index, money, pick
from sample.reference import (
    ANCHOR,
    COUNTRIES,
    COUNTRY_CODES,
    COUNTRY_REGION,
    DAY_US,
    FIRST_WEEK,
    GL_ACCOUNTS,
    HISTORY_DAYS,
    N_WEEKS,
    PAYMENT_PROVIDERS,
    PLAN_MRR,
    PLANS,
    SALES_CHANNELS,
    START,
    START_DAY,
)


def _calendar(day: np.ndarray) -> np.ndarray:
    return START_DAY + day.astype("timedelta64[D]")


def daily_revenue(world: World) -> Columns:
    totals = world.totals
    day, country, channel = np.nonzero(totals.orders)
    gross = totals.revenue_usd[day, country, channel]
    refunds = totals.refunds_usd[day, country, channel]
    return {
        "revenue_date": _calendar(day), "country": pick(COUNTRY_CODES, country),
        "region": pick(COUNTRY_REGION, country), "sales_channel": pick(SALES_CHANNELS, channel),
        "orders": totals.orders[day, country, channel], "gross_revenue_usd": money(gross),
        "refunds_usd": money(refunds), "net_revenue_usd": money(gross - refunds),
    }


def weekly_active_users(world: World) -> Columns:
    week, user = np.nonzero(world.totals.active_users)
    counts = np.zeros((N_WEEKS, len(COUNTRIES)), np.int64)
    np.add.at(counts, (week, world.customer_country[user]), 1)
    week, country = np.nonzero(counts)
    return {
        "week_start": FIRST_WEEK + (7 * week).astype("timedelta64[D]"), "country": pick(COUNTRY_CODES, country),
        "active_users": counts[week, country],
    }


def product_sales_daily(world: World) -> Columns:
    day, product = np.nonzero(world.totals.product_units)
    return {
        "sales_date": _calendar(day), "product_id": product,
        "units_sold": world.totals.product_units[day, product],
        "revenue_usd": money(world.totals.product_revenue[day, product]),
    }


def subscription_mrr(world: World) -> Columns:
    subs = world.table("staging.subscriptions")
    plan = np.array([PLANS.index(p) for p in subs["plan"].to_pylist()])
    cancelled = subs["cancelled_at"].to_numpy(zero_copy_only=False)
    months = np.arange(START.astype("datetime64[M]"), ANCHOR.astype("datetime64[M]") + 1)
    rows: dict[str, list] = {"month_start": [], "plan": [], "active_subscriptions": [], "mrr_usd": [],
                             "churned_subscriptions": []}
    for month in months:
        month_end = min((month + 1).astype("datetime64[us]"), ANCHOR)
        active = (subs["started_at"] < month_end) & ~(cancelled < month_end)
        churned = (cancelled >= month.astype("datetime64[us]")) & (cancelled < month_end)
        for p, name in enumerate(PLANS):
            rows["month_start"].append(month.astype("datetime64[D]"))
            rows["plan"].append(name)
            rows["active_subscriptions"].append(int((active & (plan == p)).sum()))
            rows["mrr_usd"].append(float((active & (plan == p)).sum() * PLAN_MRR[p]))
            rows["churned_subscriptions"].append(int((churned & (plan == p)).sum()))
    return {**rows, "month_start": np.array(rows["month_start"]), "mrr_usd": money(np.array(rows["mrr_usd"]))}


def payouts(world: World) -> Columns:
    """Providers pay out each day's captured payments two days later."""
    day, provider = np.nonzero(world.totals.payments_usd)
    keep = day + 2 < HISTORY_DAYS
    day, provider = day[keep], provider[keep]
    gross = world.totals.payments_usd[day, provider]
    fee = gross * np.array([0.029, 0.025, 0.034])[provider] + 0.3
    return {
        "payout_id": concat("po_", pick(PAYMENT_PROVIDERS, provider), "_", as_text(day, 3)),
        "provider": pick(PAYMENT_PROVIDERS, provider), "payout_date": _calendar(day + 2),
        "gross_amount_usd": money(gross), "fee_amount_usd": money(fee), "net_amount_usd": money(gross - fee),
        "status": pick(["paid", "in_transit"], (day + 2 >= HISTORY_DAYS - 2).astype(int)),
    }


def gl_entries(world: World) -> Columns:
    """Daily journal lines per account: revenue, tax, refunds, cost of goods and ad spend."""
    totals = world.totals
    revenue = totals.revenue_usd.sum(axis=(1, 2))
    spend = world.table("marketing.ad_spend")
    spend_by_day = np.bincount(day_index(spend["spend_date"].astype("datetime64[us]")),
                               spend["spend_usd"].to_numpy(zero_copy_only=False).astype(float), HISTORY_DAYS)
    amounts = np.stack([revenue / 1.08, revenue - revenue / 1.08, totals.refunds_usd.sum(axis=(1, 2)),
                        revenue * 0.45, spend_by_day])  # [account, day], order of GL_ACCOUNTS
    is_credit = np.array([True, True, False, False, False])
    account, day = (a.ravel() for a in np.meshgrid(np.arange(len(GL_ACCOUNTS)), np.arange(HISTORY_DAYS),
                                                   indexing="ij"))
    amount = np.round(amounts[account, day], 2)
    return {
        "entry_id": np.arange(1, account.size + 1), "account_code": pick(GL_ACCOUNTS, account),
        "posted_at": START + ((day + 1) * DAY_US - 1).astype("timedelta64[us]"),
        "debit_usd": money(np.where(is_credit[account], 0.0, amount)),
        "credit_usd": money(np.where(is_credit[account], amount, 0.0)),
        "memo": concat("daily close ", _calendar(day).astype(str)),
    }


