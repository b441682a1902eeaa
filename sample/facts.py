"""Generators of the sample lake's fact tables, written batch by batch so ``scale`` grows the lake, not memory.

``order_batch`` yields orders with their items, payments, CDC rows, refunds and attribution; ``event_batch``
yields sessions and their clickstream events. Both fold what they wrote into ``world.totals`` so the
aggregate tables agree with the facts.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sample.generate import (
    Columns,
    Totals,
    World,
    as_text,
    concat,
    day_index,
    money,
    nullable,
    pick,
    random_timestamps,
    weighted_indices,
)
from sample.reference import (
    ANCHOR,
    ATTRIBUTION_MODELS,
    CAMPAIGN_CHANNELS,
    COUNTRY_CODES,
    COUNTRY_CURRENCY_INDEX,
    COUNTRY_REGION,
    COUNTRY_SHARE,
    CURRENCIES,
    DAY_US,
    DEVICES,
    EVENT_TYPE_SHARE,
    EVENT_TYPES,
    FIRST_WEEK,
    ORDER_STATUS_SHARE,
    ORDER_STATUSES,
    PAGES,
    PAYMENT_METHODS,
    PAYMENT_PROVIDERS,
    REFUND_REASONS,
    SALES_CHANNELS,
    UTM_SOURCES,
)


def order_batch(world: World, batch: int, first_order_id: int, n: int) -> dict[str, Columns]:
    """One batch of orders with their items, payments, CDC rows, refunds and attribution, all consistent.

    Also folds the batch into ``world.totals`` so the marts agree with the facts.
    """
    rng = world.rng("orders", batch)
    order_id = np.arange(first_order_id, first_order_id + n)
    customer = world.customers(rng, n)
    country = world.customer_country[customer]
    order_ts = random_timestamps(rng, n, growth=True)
    signup = world.customer_signup[customer]
    late = signup >= order_ts  # a customer cannot order before signing up: move the order after signup
    order_ts = np.where(late, signup + ((ANCHOR - signup) * rng.random(n).astype(float)).astype("timedelta64[us]"),
                        order_ts)
    order_ts = np.minimum(order_ts, ANCHOR - np.timedelta64(1, "m"))
    day = day_index(order_ts)
    channel = weighted_indices(rng, [0.55, 0.3, 0.15], n)
    status = weighted_indices(rng, ORDER_STATUS_SHARE, n)
    currency = COUNTRY_CURRENCY_INDEX[country]
    fx = world.fx_on(order_ts, currency)

    item_count = np.minimum(1 + rng.poisson(0.9, n), 8)
    line_order = np.repeat(np.arange(n), item_count)
    line_number = np.arange(line_order.size) - np.repeat(np.cumsum(item_count) - item_count, item_count) + 1
    product = 1 + (rng.random(line_order.size) ** 1.6 * world.n_products).astype(np.int64)
    quantity = 1 + rng.poisson(0.3, line_order.size)
    unit_price = world.product_price[product]
    discount_rate = np.where(rng.random(line_order.size) < 0.2, rng.choice([0.1, 0.2, 0.3], line_order.size), 0.0)
    line_amount = np.round(quantity * unit_price * (1 - discount_rate), 2)
    subtotal = np.bincount(line_order, line_amount, n)
    discount = np.bincount(line_order, quantity * unit_price * discount_rate, n)
    shipping = np.where(subtotal >= 50, 0.0, 4.99)
    tax = np.round(subtotal * 0.08, 2)
    total_usd = np.round(subtotal + shipping + tax, 2)
    has_campaign = rng.random(n) < 0.3
    campaign = rng.integers(1, world.n_campaigns + 1, n)
    ingested = order_ts + rng.integers(60, 900, n).astype("timedelta64[s]")

    provider = weighted_indices(rng, [0.6, 0.25, 0.15], n)
    paid_at = order_ts + rng.integers(2, 120, n).astype("timedelta64[s]")
    payment_status = np.where(status == ORDER_STATUSES.index("cancelled"), 1, 0)

    refunded = (status == ORDER_STATUSES.index("returned")) | (
        (status == ORDER_STATUSES.index("completed")) & (rng.random(n) < 0.02))
    refunded_at = order_ts + rng.integers(2 * DAY_US, 25 * DAY_US, n).astype("timedelta64[us]")
    refunded &= refunded_at < ANCHOR
    r = np.nonzero(refunded)[0]
    refund_share = np.where(status[r] == ORDER_STATUSES.index("returned"), 1.0, rng.uniform(0.1, 0.6, r.size))
    refund_usd = np.round(total_usd[r] * refund_share, 2)

    a = np.repeat(np.nonzero(has_campaign)[0], len(ATTRIBUTION_MODELS))
    model = np.tile(np.arange(len(ATTRIBUTION_MODELS)), int(has_campaign.sum()))
    weight = np.where(model == 2, 0.5, 1.0)

    cdc_rows = np.concatenate([np.arange(n), np.nonzero(status != ORDER_STATUSES.index("pending"))[0]])
    is_update = np.arange(cdc_rows.size) >= n
    cdc_ingested = np.where(is_update, ingested[cdc_rows] + np.timedelta64(1, "D"), ingested[cdc_rows])
    cdc_ingested = np.minimum(cdc_ingested, ANCHOR - np.timedelta64(1, "s"))

    _fold_orders(world.totals, day, customer, country, channel, status, total_usd, line_order, product, quantity, line_amount,
                 provider, r, day_index(refunded_at[r]), refund_usd)
    if batch == 0:
        world.totals.ticket_orders = {"order_id": order_id, "customer_id": customer, "order_ts": order_ts}

    return {
        "marts.orders": {
            "order_id": order_id, "customer_id": customer, "order_ts": order_ts,
            "status": pick(ORDER_STATUSES, status), "sales_channel": pick(SALES_CHANNELS, channel),
            "country": pick(COUNTRY_CODES, country), "region": pick(COUNTRY_REGION, country),
            "currency": pick(CURRENCIES, currency), "item_count": item_count,
            "subtotal_usd": money(subtotal), "discount_usd": money(discount), "shipping_usd": money(shipping),
            "tax_usd": money(tax), "total_amount_usd": money(total_usd), "total_amount": money(total_usd * fx),
            "campaign_id": nullable(campaign, ~has_campaign),
        },
        "raw.orders": {
            "order_id": order_id[cdc_rows], "customer_id": customer[cdc_rows],
            "status": pick(ORDER_STATUSES, np.where(is_update, status[cdc_rows], ORDER_STATUSES.index("pending"))),
            "total_amount": np.round(total_usd[cdc_rows] * fx[cdc_rows], 2),
            "currency": pick(CURRENCIES, currency[cdc_rows]), "created_at": order_ts[cdc_rows],
            "_op": pick(["c", "u"], is_update.astype(int)), "_ingested_at": cdc_ingested,
            "ingest_date": cdc_ingested.astype("datetime64[D]"),
        },
        "raw.order_items": {
            "order_id": order_id[line_order], "line_number": line_number, "product_id": product,
            "quantity": quantity, "unit_price_usd": money(unit_price), "discount_rate": discount_rate,
            "line_amount_usd": money(line_amount),
        },
        "raw.payments": {
            "payment_id": concat("pay_", as_text(order_id)), "order_id": order_id,
            "provider": pick(PAYMENT_PROVIDERS, provider),
            "method": pick(PAYMENT_METHODS, np.where(provider == 2, 2, rng.choice([0, 0, 1, 3], n))),
            "amount": np.round(total_usd * fx, 2), "currency": pick(CURRENCIES, currency),
            "status": pick(["captured", "voided"], payment_status), "paid_at": paid_at,
        },
        "finance.refunds": {
            "refund_id": concat("rf_", as_text(order_id[r])), "order_id": order_id[r], "customer_id": customer[r],
            "amount": money(refund_usd * fx[r]), "currency": pick(CURRENCIES, currency[r]),
            "amount_usd": money(refund_usd),
            "reason": pick(REFUND_REASONS, rng.integers(0, len(REFUND_REASONS), r.size)),
            "region": pick(COUNTRY_REGION, country[r]), "country": pick(COUNTRY_CODES, country[r]),
            "status": pick(["processed", "pending"], (refunded_at[r] > ANCHOR - np.timedelta64(2, "D")).astype(int)),
            "refunded_at": refunded_at[r],
        },
        "marketing.attribution": {
            "order_id": order_id[a], "campaign_id": campaign[a],
            "channel": pick(CAMPAIGN_CHANNELS, world.campaign_channel[campaign[a]]),
            "touch_ts": order_ts[a] - rng.integers(60, 7 * 86_400, a.size).astype("timedelta64[s]"),
            "model": pick(ATTRIBUTION_MODELS, model), "weight": weight,
            "attributed_revenue_usd": money(total_usd[a] * weight),
        },
    }


def _fold_orders(totals: Totals, day, customer, country, channel, status, total_usd, line_order, product, quantity,
                 line_amount, provider, refund_rows, refund_day, refund_usd) -> None:
    counted = status != ORDER_STATUSES.index("cancelled")
    np.add.at(totals.orders, (day[counted], country[counted], channel[counted]), 1)
    np.add.at(totals.revenue_usd, (day[counted], country[counted], channel[counted]), total_usd[counted])
    np.add.at(totals.customer_revenue, customer[counted], total_usd[counted])
    np.subtract.at(totals.customer_revenue, customer[refund_rows], refund_usd)
    np.add.at(totals.refunds_usd, (refund_day, country[refund_rows], channel[refund_rows]), refund_usd)
    line_counted = counted[line_order]
    line_day = day[line_order][line_counted]
    np.add.at(totals.product_units, (line_day, product[line_counted]), quantity[line_counted])
    np.add.at(totals.product_revenue, (line_day, product[line_counted]), line_amount[line_counted])
    np.add.at(totals.payments_usd, (day[counted], provider[counted]), total_usd[counted])


def event_batch(world: World, batch: int, first_session: int, n_sessions: int) -> dict[str, Columns]:
    """Sessions and their clickstream events; folds weekly activity into ``world.totals``."""
    rng = world.rng("events", batch)
    session_id = np.arange(first_session, first_session + n_sessions)
    logged_in = rng.random(n_sessions) < 0.7
    user = world.customers(rng, n_sessions)
    country = np.where(logged_in, world.customer_country[user], weighted_indices(rng, COUNTRY_SHARE, n_sessions))
    started = random_timestamps(rng, n_sessions, growth=True)
    device = weighted_indices(rng, [0.4, 0.52, 0.08], n_sessions)
    n_events = 1 + rng.poisson(4, n_sessions)
    s = np.repeat(np.arange(n_sessions), n_events)
    gaps = rng.exponential(45.0, s.size)
    first_of_session = np.cumsum(n_events) - n_events
    sequence = np.arange(s.size) - np.repeat(first_of_session, n_events)
    gaps[first_of_session] = 0
    offset_s = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first_of_session], n_events)
    event_time = np.minimum(started[s] + (offset_s * 1e6).astype("timedelta64[us]"), ANCHOR - np.timedelta64(1, "s"))
    last_offset = np.zeros(n_sessions)
    np.maximum.at(last_offset, s, offset_s)
    order = np.argsort(event_time, kind="stable")  # the table's sort order: event_time, user_id
    s, event_time, sequence = s[order], event_time[order], sequence[order]
    event_type = weighted_indices(rng, EVENT_TYPE_SHARE, s.size)
    has_product = np.isin(event_type, [1, 3])
    converted = np.bincount(s[event_type == 5], minlength=n_sessions) > 0

    week = (started.astype("datetime64[D]") - FIRST_WEEK) // np.timedelta64(7, "D")
    world.totals.active_users[week[logged_in], user[logged_in]] = True

    utm = weighted_indices(rng, [0.3, 0.15, 0.1, 0.1, 0.3, 0.05], n_sessions)
    user_ids = nullable(user, ~logged_in)
    return {
        "raw.events": {
            "event_id": concat("ev_", as_text(session_id[s]), "_", as_text(sequence, 3)),
            "session_id": pc.take(concat("s_", as_text(session_id)), pa.array(s)),
            "user_id": pc.take(user_ids, pa.array(s)),
            "event_time": event_time,
            "event_type": pick(EVENT_TYPES, event_type),
            "page_url": pick(PAGES, rng.integers(0, len(PAGES), s.size)),
            "product_id": nullable(1 + (rng.random(s.size) ** 1.6 * world.n_products).astype(np.int64), ~has_product),
            "country": pick(COUNTRY_CODES, country[s]),
            "device": pick(DEVICES, device[s]),
            "ip_address": concat(as_text(rng.integers(1, 223, s.size)), ".", as_text(rng.integers(0, 255, s.size)),
                                  ".", as_text(rng.integers(0, 255, s.size)), ".", as_text(rng.integers(1, 254, s.size))),
        },
        "staging.sessions": {
            "session_id": concat("s_", as_text(session_id)), "user_id": user_ids, "started_at": started,
            "ended_at": np.minimum(started + (last_offset * 1e6).astype("timedelta64[us]"), ANCHOR),
            "event_count": n_events, "country": pick(COUNTRY_CODES, country), "device": pick(DEVICES, device),
            "landing_page": pick(PAGES, rng.integers(0, 4, n_sessions)), "utm_source": pick(UTM_SOURCES, utm),
            "converted": converted,
        },
    }


