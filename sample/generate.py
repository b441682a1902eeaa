"""The seeded world the sample tables are drawn from: random streams, shared entities, running totals.

``World`` holds what several tables must agree on (customers' countries and signup times, product prices,
campaign channels, FX rates) and memoises each generated table, so a table that copies or points into
another (staging customers, e-mail sends, invoices) sees the same rows. ``Totals`` accumulates the fact
batches so the aggregate tables are true summaries at any scale. The small helpers build typed Arrow
columns from numpy draws.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sample.reference import (
    ANCHOR,
    CAMPAIGN_CHANNELS,
    CATEGORIES,
    COUNTRIES,
    COUNTRY_SHARE,
    CURRENCIES,
    DAY_US,
    FX_HISTORY_DAYS,
    HISTORY_DAYS,
    N_WEEKS,
    PAYMENT_PROVIDERS,
    SALES_CHANNELS,
    START,
    USD_RATE,
)

N_PRODUCTS = 400
N_CAMPAIGNS = 48

Columns = dict[str, Any]
"""Column name -> numpy array, pyarrow array or list, in any order; cast to the table schema on write."""

TableSource = Callable[["World"], Columns]
"""Generates the rows of one dimension or aggregate table."""

def day_index(ts: np.ndarray) -> np.ndarray:
    """Days since START."""
    return ((ts - START) // np.timedelta64(1, "D")).astype(np.int64)


def random_timestamps(rng: np.random.Generator, n: int, *, start=START, end=ANCHOR, growth: bool = False):
    """Microsecond timestamps in [start, end); ``growth`` makes later days busier, as a growing shop's are."""
    u = rng.random(n)
    if growth:
        u = np.sqrt(u)
    span = (end - start) // np.timedelta64(1, "us")
    return start + (u * span).astype(np.int64).astype("timedelta64[us]")


def pick(values: list[str], index: np.ndarray) -> pa.Array:
    return pc.take(pa.array(values), pa.array(index))


def concat(*parts: Any) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def as_text(numbers: np.ndarray, width: int = 0) -> pa.Array:
    text = pc.cast(pa.array(numbers), pa.string())
    return pc.utf8_lpad(text, width, padding="0") if width else text


def nullable(values: Any, missing: np.ndarray) -> pa.Array:
    return pa.array(values, mask=missing)


def money(amount: np.ndarray) -> pa.Array:
    return pa.array(np.round(amount, 2)).cast(pa.decimal128(12, 2))


def random_lists(rng: np.random.Generator, vocabulary: list[str], n: int, max_len: int) -> pa.Array:
    lengths = rng.integers(0, max_len + 1, n)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    values = pick(vocabulary, rng.integers(0, len(vocabulary), int(offsets[-1])))
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def weighted_indices(rng: np.random.Generator, weights: Iterable[float], n: int) -> np.ndarray:
    p = np.asarray(list(weights), float)
    return rng.choice(p.size, size=n, p=p / p.sum())


@dataclass
class Totals:
    """Running aggregates of the fact batches, so marts are true summaries of the facts at any scale."""

    n_products: int
    n_customers: int
    revenue_usd: np.ndarray = field(init=False)  # [day, country, channel]
    orders: np.ndarray = field(init=False)
    refunds_usd: np.ndarray = field(init=False)
    product_units: np.ndarray = field(init=False)  # [day, product]
    product_revenue: np.ndarray = field(init=False)
    payments_usd: np.ndarray = field(init=False)  # [day, provider]
    active_users: np.ndarray = field(init=False)  # [week, customer] bool
    customer_revenue: np.ndarray = field(init=False)  # [customer]
    ticket_orders: dict[str, np.ndarray] = field(default_factory=dict)
    """order_id, customer_id and order_ts of the first order batch: what support tickets refer to."""

    def __post_init__(self) -> None:
        shape = (HISTORY_DAYS, len(COUNTRIES), len(SALES_CHANNELS))
        self.revenue_usd, self.orders, self.refunds_usd = np.zeros(shape), np.zeros(shape, np.int64), np.zeros(shape)
        self.product_units = np.zeros((HISTORY_DAYS, self.n_products + 1), np.int64)
        self.product_revenue = np.zeros((HISTORY_DAYS, self.n_products + 1))
        self.payments_usd = np.zeros((HISTORY_DAYS, len(PAYMENT_PROVIDERS)))
        self.active_users = np.zeros((N_WEEKS, self.n_customers + 1), bool)
        self.customer_revenue = np.zeros(self.n_customers + 1)


class World:
    """Seeded reference entities (customers, products, campaigns, fx rates) and the memoised tables."""

    def __init__(self, seed: int = 7, scale: float = 0.0, *, sources: Mapping[str, TableSource]) -> None:
        self.seed = seed
        self.sources = sources  # table name -> the generator of its rows (tables.TABLE_SOURCES)
        self.n_customers = 6_000 + int(scale * 100_000)
        self.n_products = N_PRODUCTS
        self.n_campaigns = N_CAMPAIGNS
        self.totals = Totals(self.n_products, self.n_customers)
        self._tables: dict[str, Columns] = {}

        rng = self.rng("world")
        n = self.n_customers
        # Arrays indexed by id (slot 0 unused) so ids map to attributes without joins.
        self.customer_country = np.concatenate([[0], weighted_indices(rng, COUNTRY_SHARE, n)])
        signup_offset = (rng.random(n + 1) ** 0.5 * (3 * 365 + HISTORY_DAYS) * DAY_US).astype(np.int64)
        self.customer_signup = START - np.timedelta64(3 * 365, "D") + signup_offset.astype("timedelta64[us]")
        self.product_price = np.round(np.exp(rng.normal(3.3, 0.8, self.n_products + 1)), 2) - 0.01
        self.product_category = rng.integers(0, len(CATEGORIES), self.n_products + 1)
        self.campaign_channel = rng.integers(0, len(CAMPAIGN_CHANNELS), self.n_campaigns + 1)
        self.campaign_start = random_timestamps(rng, self.n_campaigns + 1, start=START - np.timedelta64(30, "D"))
        fx_steps = rng.normal(0, 0.004, (FX_HISTORY_DAYS + 1, len(CURRENCIES)))
        fx_steps[:, 0] = 0
        self.fx = USD_RATE * np.exp(np.cumsum(fx_steps, axis=0))  # [day since ANCHOR - FX_HISTORY_DAYS, currency]

    def rng(self, *labels: object) -> np.random.Generator:
        """An independent stream per purpose, so adding a table never changes another table's rows."""
        return np.random.default_rng([self.seed, *(zlib.crc32(str(x).encode()) for x in labels)])

    def table(self, name: str) -> Columns:
        """The rows of a generated table, generated once."""
        if name not in self._tables:
            self._tables[name] = self.sources[name](self)
        return self._tables[name]

    def customers(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Customer ids with a long tail: a few loyal customers order often."""
        return 1 + (rng.random(n) ** 2 * self.n_customers).astype(np.int64)

    def fx_on(self, ts: np.ndarray, currency_index: np.ndarray) -> np.ndarray:
        day = FX_HISTORY_DAYS - HISTORY_DAYS + day_index(ts)
        return self.fx[np.clip(day, 0, FX_HISTORY_DAYS), currency_index]
