"""A deterministic sample lake: an e-commerce and subscription company's Iceberg catalog on local disk.

Demos, evals and benchmarks need a lake that looks like a real one without any cloud: seven namespaces
(raw, staging, marts, finance, marketing, support, ops), every partition transform, a spec that evolves,
a schema that evolves, appends, an overwrite and a delete, sort orders, identifier fields, nested and list
columns, and ids that join across tables (customer_id, order_id, product_id, campaign_id).

Everything is seeded and anchored at a fixed date (``ANCHOR``, 2026-11-20, with ``HISTORY_DAYS`` of history
before it), so two builds with the same seed and scale hold the same rows; only snapshot ids and commit
times differ.

Metadata conventions the crawler reads back:

- table property ``comment``: the table description (missing on a few tables on purpose);
- column ``doc``: the column description (missing on some raw/ops tables on purpose);
- table property ``owner``: the owning team's e-mail; ``tags``: comma-separated labels (``finance,gold``);
- table property ``lakescout.pii`` (``PII_PROPERTY``): comma-separated column paths holding personal data,
  nested fields dotted (``email,phone,address.street``).

Tables are declared once in ``TABLE_SPECS``; dimension and aggregate tables name a generator, fact tables
(events, sessions, orders, order items, payments, refunds, attribution) come from ``order_batch`` and
``event_batch``, written batch by batch so ``scale`` (GB of Parquet) grows the lake, not the memory.
"""

from __future__ import annotations

import itertools
import shutil
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.expressions import And, EqualTo, LessThan
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema, assign_fresh_schema_ids
from pyiceberg.table import Table
from pyiceberg.table.sorting import SortField, SortOrder
from pyiceberg.transforms import (
    BucketTransform,
    DayTransform,
    HourTransform,
    IdentityTransform,
    MonthTransform,
    Transform,
    TruncateTransform,
    YearTransform,
)
from pyiceberg.types import (
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    NestedField,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
)
from sqlalchemy import event

from catalog_ingest.crawlers.common import PII_PROPERTY

CATALOG_NAME = "demo"
ANCHOR = np.datetime64("2026-11-20T00:00:00", "us")
HISTORY_DAYS = 90
START = ANCHOR - np.timedelta64(HISTORY_DAYS, "D")
FX_HISTORY_DAYS = 3 * 365
DAY_US = 86_400 * 1_000_000
HOUR_US = 3_600 * 1_000_000

# Default (scale=0) sizes: about 11 MB, built in seconds. Scaled builds use bigger batches until the GB target.
BASE_ORDERS_PER_BATCH = 10_000
BASE_SESSIONS_PER_BATCH = 10_000
BASE_BATCHES = 2
SCALED_ORDERS_PER_BATCH = 400_000  # with its sessions, about 120 MB of Parquet and 1.6 GB peak RSS
SCALED_MIN_BATCHES = 4
FACT_BYTES_PER_ORDER = 300
"""Parquet bytes written per order with its share of items, payments, refunds, events and sessions."""
FIRST_ORDER_ID = 100_001
N_PRODUCTS = 400
N_CAMPAIGNS = 48

# --------------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------------

# code, region, currency, share of customers, two cities
COUNTRIES = [
    ("US", "NA", "USD", 0.36, ("New York", "Austin")),
    ("CA", "NA", "CAD", 0.06, ("Toronto", "Vancouver")),
    ("GB", "EMEA", "GBP", 0.12, ("London", "Manchester")),
    ("DE", "EMEA", "EUR", 0.10, ("Berlin", "Munich")),
    ("FR", "EMEA", "EUR", 0.07, ("Paris", "Lyon")),
    ("NL", "EMEA", "EUR", 0.04, ("Amsterdam", "Utrecht")),
    ("ES", "EMEA", "EUR", 0.04, ("Madrid", "Barcelona")),
    ("BR", "LATAM", "BRL", 0.07, ("Sao Paulo", "Rio de Janeiro")),
    ("MX", "LATAM", "MXN", 0.05, ("Mexico City", "Guadalajara")),
    ("AU", "APAC", "AUD", 0.04, ("Sydney", "Melbourne")),
    ("JP", "APAC", "JPY", 0.03, ("Tokyo", "Osaka")),
    ("IN", "APAC", "INR", 0.02, ("Bengaluru", "Mumbai")),
]
COUNTRY_CODES = [c[0] for c in COUNTRIES]
COUNTRY_REGION = [c[1] for c in COUNTRIES]
COUNTRY_CURRENCY = [c[2] for c in COUNTRIES]
COUNTRY_SHARE = np.array([c[3] for c in COUNTRIES]) / sum(c[3] for c in COUNTRIES)
CITIES = [city for c in COUNTRIES for city in c[4]]  # country i owns cities 2i and 2i+1
CURRENCIES = ["USD", "CAD", "GBP", "EUR", "BRL", "MXN", "AUD", "JPY", "INR"]
USD_RATE = np.array([1.0, 1.36, 0.79, 0.92, 5.1, 17.2, 1.52, 149.0, 83.2])  # units of currency per USD
COUNTRY_CURRENCY_INDEX = np.array([CURRENCIES.index(c) for c in COUNTRY_CURRENCY])

FIRST_NAMES = ["Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Sofia", "Mateo", "Yuki", "Aarav", "Chloe",
               "Hugo", "Lena", "Omar", "Priya", "Diego", "Hannah", "Kenji", "Zoe", "Felix"]
LAST_NAMES = ["Smith", "Garcia", "Muller", "Martin", "Rossi", "Silva", "Tanaka", "Patel", "Brown", "Jansen",
              "Lopez", "Dubois", "Schmidt", "Kim", "Nguyen", "Wilson", "Costa", "Sato", "Novak", "Evans"]
STREETS = ["Main St", "Oak Ave", "High St", "Park Rd", "Station Rd", "Maple Dr", "Church Ln", "Elm St"]
EMAIL_DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com"]
SEGMENTS = ["consumer", "consumer", "consumer", "smb", "enterprise"]
CATEGORIES = ["apparel", "footwear", "home", "beauty", "electronics", "outdoor", "kitchen", "toys"]
ADJECTIVES = ["Classic", "Essential", "Premium", "Eco", "Urban", "Compact", "Pro", "Everyday"]
NOUNS = ["Tee", "Sneaker", "Lamp", "Serum", "Headphones", "Tent", "Skillet", "Puzzle", "Backpack", "Mug"]
BRANDS = ["Northwind", "Acme", "Lumen", "Verde", "Kite", "Summit"]
PRODUCT_TAGS = ["bestseller", "new", "sale", "eco", "gift", "limited", "bundle"]
SALES_CHANNELS = ["web", "ios", "android"]
ORDER_STATUSES = ["completed", "shipped", "cancelled", "returned", "pending"]
ORDER_STATUS_SHARE = [0.84, 0.05, 0.04, 0.04, 0.03]
PAYMENT_PROVIDERS = ["stripe", "adyen", "paypal"]
PAYMENT_METHODS = ["card", "apple_pay", "paypal", "klarna"]
REFUND_REASONS = ["damaged", "wrong_size", "late_delivery", "not_as_described", "changed_mind", "duplicate_charge"]
CAMPAIGN_CHANNELS = ["email", "paid_search", "paid_social", "display", "affiliate"]
OBJECTIVES = ["acquisition", "retention", "reactivation", "awareness"]
ATTRIBUTION_MODELS = ["last_touch", "first_touch", "linear"]
EVENT_TYPES = ["page_view", "product_view", "search", "add_to_cart", "checkout_started", "purchase", "login"]
EVENT_TYPE_SHARE = [0.42, 0.25, 0.1, 0.1, 0.05, 0.03, 0.05]
PAGES = ["/", "/search", "/category/apparel", "/category/home", "/product", "/cart", "/checkout", "/account"]
DEVICES = ["desktop", "mobile", "tablet"]
UTM_SOURCES = ["google", "facebook", "instagram", "newsletter", "direct", "tiktok"]
PLANS = ["basic", "plus", "pro"]
PLAN_MRR = np.array([9.0, 19.0, 39.0])
TICKET_CATEGORIES = ["delivery", "refund", "billing", "account", "product_question", "bug"]
TICKET_TAGS = ["vip", "escalated", "repeat_contact", "social", "refund_request", "shipping_delay"]
SERVICES = ["checkout-api", "catalog-api", "auth", "search", "payments-worker", "email-worker"]
LOG_LEVELS = ["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"]
LOG_MESSAGES = ["request completed", "cache miss", "upstream timeout", "retrying payment capture",
                "token refreshed", "slow query", "rate limited", "validation failed"]
PIPELINES = ["ingest_shop_orders", "ingest_clickstream", "dbt_staging", "dbt_marts", "finance_close",
             "ad_spend_sync", "email_sync"]
GL_ACCOUNTS = ["4000-REVENUE", "4100-REFUNDS", "5000-COGS", "2100-SALES-TAX", "6100-MARKETING"]
SUPPORT_TEAMS = ["tier1", "tier2", "billing", "logistics"]


# --------------------------------------------------------------------------------------------------
# Table declarations
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StructOf:
    fields: tuple[Col, ...]


@dataclass(frozen=True)
class ListOf:
    element: str


@dataclass(frozen=True)
class Col:
    name: str
    type: str | StructOf | ListOf
    """A key of ``SCALAR_TYPES`` or a nested type."""
    doc: str | None = None
    required: bool = False


SCALAR_TYPES: dict[str, IcebergType] = {
    "long": LongType(), "int": IntegerType(), "string": StringType(), "double": DoubleType(),
    "bool": BooleanType(), "date": DateType(), "ts": TimestampType(), "tstz": TimestamptzType(),
    "decimal": DecimalType(12, 2),
}

TRANSFORMS: dict[str, Callable[[], Transform]] = {
    "identity": IdentityTransform, "year": YearTransform, "month": MonthTransform, "day": DayTransform,
    "hour": HourTransform,
}

Columns = dict[str, Any]
"""Column name -> numpy array, pyarrow array or list, in any order; cast to the table schema on write."""


@dataclass(frozen=True)
class TableSpec:
    name: str
    """``namespace.table``."""
    columns: tuple[Col, ...]
    comment: str | None
    owner: str
    tags: str = ""
    pii: str = ""
    partition: tuple[str, ...] = ()
    """Iceberg transform expressions: ``day(event_time)``, ``bucket[16](order_id)``, ``region``."""
    identifier: tuple[str, ...] = ()
    sort: tuple[str, ...] = ()
    source: Callable[[World], Columns] | None = None
    """Rows of a dimension or aggregate table; None for fact tables written in batches."""
    load: Callable[[Table, Columns, World], None] | None = None
    """How the rows are committed when one plain append is not the story the table tells."""
    after_facts: bool = False
    """Its rows summarise or point into the fact batches, so it is written after them."""

    @cached_property
    def schema(self) -> Schema:
        ids = itertools.count(1)

        def to_field(col: Col) -> NestedField:
            return NestedField(next(ids), col.name, to_type(col.type), required=col.required, doc=col.doc)

        def to_type(kind: str | StructOf | ListOf) -> IcebergType:
            if isinstance(kind, StructOf):
                return StructType(*[to_field(f) for f in kind.fields])
            if isinstance(kind, ListOf):
                return ListType(next(ids), to_type(kind.element), element_required=False)
            return SCALAR_TYPES[kind]

        fields = [to_field(c) for c in self.columns]
        schema = Schema(*fields)
        schema = Schema(*fields, identifier_field_ids=[schema.find_field(n).field_id for n in self.identifier])
        return assign_fresh_schema_ids(schema)  # the ids the catalog will store, so written files match

    @property
    def partition_spec(self) -> PartitionSpec:
        fields = []
        for i, expression in enumerate(self.partition):
            transform, column = _parse_transform(expression)
            name = column if isinstance(transform, IdentityTransform) else f"{column}_{expression.split('(')[0]}"
            name = name.replace("[", "").replace("]", "")
            fields.append(PartitionField(self.schema.find_field(column).field_id, 1000 + i, transform, name))
        return PartitionSpec(*fields)

    @property
    def sort_order(self) -> SortOrder:
        fields = [SortField(source_id=self.schema.find_field(c).field_id) for c in self.sort]
        return SortOrder(*fields) if fields else SortOrder()

    @property
    def properties(self) -> dict[str, str]:
        values = {"comment": self.comment, "owner": self.owner, "tags": self.tags, PII_PROPERTY: self.pii}
        return {k: v for k, v in values.items() if v}


def _parse_transform(expression: str) -> tuple[Transform, str]:
    """``bucket[16](order_id)`` -> (BucketTransform(16), "order_id"); a bare column is identity."""
    if "(" not in expression:
        return IdentityTransform(), expression
    head, column = expression.rstrip(")").split("(")
    if "[" in head:
        kind, width = head.rstrip("]").split("[")
        return (BucketTransform if kind == "bucket" else TruncateTransform)(int(width)), column
    return TRANSFORMS[head](), column


# --------------------------------------------------------------------------------------------------
# The seeded world: reference entities every table draws from
# --------------------------------------------------------------------------------------------------


def _day_index(ts: np.ndarray) -> np.ndarray:
    """Days since START."""
    return ((ts - START) // np.timedelta64(1, "D")).astype(np.int64)


def _timestamps(rng: np.random.Generator, n: int, *, start=START, end=ANCHOR, growth: bool = False):
    """Microsecond timestamps in [start, end); ``growth`` makes later days busier, as a growing shop's are."""
    u = rng.random(n)
    if growth:
        u = np.sqrt(u)
    span = (end - start) // np.timedelta64(1, "us")
    return start + (u * span).astype(np.int64).astype("timedelta64[us]")


def _pick(values: list[str], index: np.ndarray) -> pa.Array:
    return pc.take(pa.array(values), pa.array(index))


def _concat(*parts: Any) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _text(numbers: np.ndarray, width: int = 0) -> pa.Array:
    text = pc.cast(pa.array(numbers), pa.string())
    return pc.utf8_lpad(text, width, padding="0") if width else text


def _nullable(values: Any, missing: np.ndarray) -> pa.Array:
    return pa.array(values, mask=missing)


def _money(amount: np.ndarray) -> pa.Array:
    return pa.array(np.round(amount, 2)).cast(pa.decimal128(12, 2))


def _lists(rng: np.random.Generator, vocabulary: list[str], n: int, max_len: int) -> pa.Array:
    lengths = rng.integers(0, max_len + 1, n)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    values = _pick(vocabulary, rng.integers(0, len(vocabulary), int(offsets[-1])))
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _weighted_indices(rng: np.random.Generator, weights: Iterable[float], n: int) -> np.ndarray:
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


START_DAY = START.astype("datetime64[D]")
FIRST_WEEK = START_DAY - np.timedelta64((START_DAY.astype(np.int64) + 3) % 7, "D")  # Monday on or before START
N_WEEKS = int((ANCHOR.astype("datetime64[D]") - FIRST_WEEK) // np.timedelta64(7, "D")) + 1


class World:
    """Seeded reference entities (customers, products, campaigns, fx rates) and the memoised tables."""

    def __init__(self, seed: int = 7, scale: float = 0.0) -> None:
        self.seed = seed
        self.n_customers = 6_000 + int(scale * 100_000)
        self.n_products = N_PRODUCTS
        self.n_campaigns = N_CAMPAIGNS
        self.totals = Totals(self.n_products, self.n_customers)
        self._tables: dict[str, Columns] = {}

        rng = self.rng("world")
        n = self.n_customers
        # Arrays indexed by id (slot 0 unused) so ids map to attributes without joins.
        self.customer_country = np.concatenate([[0], _weighted_indices(rng, COUNTRY_SHARE, n)])
        signup_offset = (rng.random(n + 1) ** 0.5 * (3 * 365 + HISTORY_DAYS) * DAY_US).astype(np.int64)
        self.customer_signup = START - np.timedelta64(3 * 365, "D") + signup_offset.astype("timedelta64[us]")
        self.product_price = np.round(np.exp(rng.normal(3.3, 0.8, self.n_products + 1)), 2) - 0.01
        self.product_category = rng.integers(0, len(CATEGORIES), self.n_products + 1)
        self.campaign_channel = rng.integers(0, len(CAMPAIGN_CHANNELS), self.n_campaigns + 1)
        self.campaign_start = _timestamps(rng, self.n_campaigns + 1, start=START - np.timedelta64(30, "D"))
        fx_steps = rng.normal(0, 0.004, (FX_HISTORY_DAYS + 1, len(CURRENCIES)))
        fx_steps[:, 0] = 0
        self.fx = USD_RATE * np.exp(np.cumsum(fx_steps, axis=0))  # [day since ANCHOR - FX_HISTORY_DAYS, currency]

    def rng(self, *labels: object) -> np.random.Generator:
        """An independent stream per purpose, so adding a table never changes another table's rows."""
        return np.random.default_rng([self.seed, *(zlib.crc32(str(x).encode()) for x in labels)])

    def table(self, name: str) -> Columns:
        if name not in self._tables:
            self._tables[name] = SPECS_BY_NAME[name].source(self)
        return self._tables[name]

    def customers(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Customer ids with a long tail: a few loyal customers order often."""
        return 1 + (rng.random(n) ** 2 * self.n_customers).astype(np.int64)

    def fx_on(self, ts: np.ndarray, currency_index: np.ndarray) -> np.ndarray:
        day = FX_HISTORY_DAYS - HISTORY_DAYS + _day_index(ts)
        return self.fx[np.clip(day, 0, FX_HISTORY_DAYS), currency_index]


# --------------------------------------------------------------------------------------------------
# Generators: dimensions
# --------------------------------------------------------------------------------------------------


def _customers(world: World) -> Columns:
    rng = world.rng("customers")
    n = world.n_customers
    ids = np.arange(1, n + 1)
    country = world.customer_country[1:]
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    first_names, last_names = _pick(FIRST_NAMES, first), _pick(LAST_NAMES, last)
    email = _concat(pc.utf8_lower(first_names), ".", pc.utf8_lower(last_names), _text(ids), "@",
                    _pick(EMAIL_DOMAINS, rng.integers(0, len(EMAIL_DOMAINS), n)))
    phone = _concat("+", _text(rng.integers(1, 99, n)), " ", _text(rng.integers(0, 10**9, n), 9))
    address = pa.StructArray.from_arrays(
        [
            _concat(_text(rng.integers(1, 400, n)), " ", _pick(STREETS, rng.integers(0, len(STREETS), n))),
            _pick(CITIES, 2 * country + rng.integers(0, 2, n)),
            _pick(COUNTRY_CODES, country),
            _text(rng.integers(0, 100_000, n), 5),
        ],
        names=["street", "city", "country", "postal_code"],
    )
    return {
        "customer_id": ids,
        "email": email,
        "phone": phone,
        "full_name": _concat(first_names, " ", last_names),
        "address": address,
        "country": _pick(COUNTRY_CODES, country),
        "region": _pick(COUNTRY_REGION, country),
        "signup_at": world.customer_signup[1:],
        "segment": _pick(SEGMENTS, rng.integers(0, len(SEGMENTS), n)),
        "marketing_opt_in": rng.random(n) < 0.62,
        "updated_at": ANCHOR - rng.integers(0, 30 * DAY_US, n).astype("timedelta64[us]"),
    }


def _shop_customers(world: World) -> Columns:
    """The shop database's export, before cleaning: same people, raw field names."""
    customers = world.table("marts.customers")
    return {
        "id": customers["customer_id"],
        "email_address": customers["email"],
        "phone_number": customers["phone"],
        "name": customers["full_name"],
        "street": customers["address"].field("street"),
        "city": customers["address"].field("city"),
        "country_code": customers["country"],
        "zip": customers["address"].field("postal_code"),
        "created_at": customers["signup_at"],
        "_extracted_at": np.full(world.n_customers, ANCHOR - np.timedelta64(2, "h")),
    }


def _products(world: World) -> Columns:
    rng = world.rng("products")
    n = world.n_products
    ids = np.arange(1, n + 1)
    category = world.product_category[1:]
    name = _concat(_pick(ADJECTIVES, rng.integers(0, len(ADJECTIVES), n)), " ",
                   _pick(NOUNS, rng.integers(0, len(NOUNS), n)))
    return {
        "product_id": ids,
        "sku": _concat(pc.utf8_upper(pc.utf8_slice_codeunits(_pick(CATEGORIES, category), 0, 3)), "-", _text(ids, 5)),
        "product_name": name,
        "category": _pick(CATEGORIES, category),
        "brand": _pick(BRANDS, rng.integers(0, len(BRANDS), n)),
        "list_price_usd": _money(world.product_price[1:]),
        "unit_cost_usd": _money(world.product_price[1:] * rng.uniform(0.35, 0.6, n)),
        "is_active": rng.random(n) < 0.93,
        "tags": _lists(rng, PRODUCT_TAGS, n, 3),
        "updated_at": ANCHOR - rng.integers(0, 60 * DAY_US, n).astype("timedelta64[us]"),
    }


def _campaigns(world: World) -> Columns:
    rng = world.rng("campaigns")
    n = world.n_campaigns
    ids = np.arange(1, n + 1)
    channel = world.campaign_channel[1:]
    start = world.campaign_start[1:]
    objective = rng.integers(0, len(OBJECTIVES), n)
    code = _concat("FA26-", pc.utf8_upper(_pick(CAMPAIGN_CHANNELS, channel)), "-", _text(ids, 3))
    return {
        "campaign_id": ids,
        "campaign_code": code,
        "campaign_name": _concat(_pick(OBJECTIVES, objective), " ", _pick(CATEGORIES, rng.integers(0, 8, n)), " ",
                                 _text(ids)),
        "channel": _pick(CAMPAIGN_CHANNELS, channel),
        "objective": _pick(OBJECTIVES, objective),
        "start_date": start.astype("datetime64[D]"),
        "end_date": (start + rng.integers(14, 75, n).astype("timedelta64[D]")).astype("datetime64[D]"),
        "budget_usd": _money(rng.integers(5, 120, n) * 1000.0),
        "owner_email": _pick(["growth@shopco.example", "crm@shopco.example", "brand@shopco.example"],
                             rng.integers(0, 3, n)),
    }


def _ad_spend(world: World) -> Columns:
    days = np.arange(HISTORY_DAYS)
    paid = [c for c in range(1, world.n_campaigns + 1) if CAMPAIGN_CHANNELS[world.campaign_channel[c]] != "email"]
    day, campaign = (a.ravel() for a in np.meshgrid(days, np.array(paid), indexing="ij"))
    rng = world.rng("ad_spend")
    impressions = rng.poisson(20_000, day.size)
    clicks = rng.binomial(impressions, 0.012)
    return {
        "spend_date": (START_DAY + day.astype("timedelta64[D]")),
        "campaign_id": campaign,
        "channel": _pick(CAMPAIGN_CHANNELS, world.campaign_channel[campaign]),
        "impressions": impressions,
        "clicks": clicks,
        "spend_usd": _money(clicks * rng.uniform(0.4, 2.5, day.size)),
    }


def _email_sends(world: World) -> Columns:
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
        "template": _pick(["weekly_digest", "abandoned_cart", "winback", "new_arrivals"], rng.integers(0, 4, n)),
        "sent_at": sent,
        "opened_at": _nullable(open_at, ~opened),
        "clicked_at": _nullable(open_at + np.timedelta64(30, "s"), ~clicked),
    }


def _audiences(world: World) -> Columns:
    names = ["high_value", "lapsed_90d", "newsletter_optin", "cart_abandoners", "vip_emea", "app_only"]
    rng = world.rng("audiences")
    return {
        "audience_id": np.arange(1, len(names) + 1),
        "audience_name": names,
        "rule_sql": [f"select customer_id from marts.customers where {n} /* managed in the CDP */" for n in names],
        "member_count": rng.integers(100, world.n_customers, len(names)),
        "refreshed_at": np.full(len(names), ANCHOR - np.timedelta64(6, "h")),
    }


def _subscriptions(world: World) -> Columns:
    rng = world.rng("subscriptions")
    n = world.n_customers * 2 // 5
    customer = rng.choice(np.arange(1, world.n_customers + 1), n, replace=False)
    plan = _weighted_indices(rng, [0.5, 0.35, 0.15], n)
    started = np.maximum(world.customer_signup[customer], ANCHOR - np.timedelta64(400, "D"))
    started = started + (rng.random(n) * ((ANCHOR - started) // np.timedelta64(1, "us"))).astype("timedelta64[us]")
    cancelled = rng.random(n) < 0.22
    cancelled_at = started + (rng.random(n) * ((ANCHOR - started) // np.timedelta64(1, "us"))).astype(
        "timedelta64[us]")
    status = np.where(cancelled, 1, np.where(rng.random(n) < 0.04, 2, 0))
    return {
        "subscription_id": np.arange(1, n + 1),
        "customer_id": customer,
        "plan": _pick(PLANS, plan),
        "status": _pick(["active", "cancelled", "paused"], status),
        "started_at": started,
        "cancelled_at": _nullable(cancelled_at, ~cancelled),
        "mrr_usd": _money(PLAN_MRR[plan]),
    }


def _invoices(world: World) -> Columns:
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
        "invoice_id": _concat("INV-", _text(np.arange(1, n + 1), 7)),
        "subscription_id": subs["subscription_id"][row],
        "customer_id": customer,
        "issued_at": issued,
        "due_date": (issued + np.timedelta64(14, "D")).astype("datetime64[D]"),
        "currency": _pick(CURRENCIES, currency),
        "amount": _money(amount_usd * world.fx_on(issued, currency)),
        "amount_usd": _money(amount_usd),
        "status": _pick(["paid", "open"], (~paid).astype(int)),
    }


def _fx_rates(world: World) -> Columns:
    days = np.arange(FX_HISTORY_DAYS + 1)
    quotes = np.arange(1, len(CURRENCIES))
    day, quote = (a.ravel() for a in np.meshgrid(days, quotes, indexing="ij"))
    first_day = (ANCHOR - np.timedelta64(FX_HISTORY_DAYS, "D")).astype("datetime64[D]")
    return {
        "rate_date": first_day + day.astype("timedelta64[D]"),
        "base_currency": np.full(day.size, "USD"),
        "quote_currency": _pick(CURRENCIES, quote),
        "rate": np.round(world.fx[day, quote], 6),
        "source": np.full(day.size, "ecb"),
    }


def _agents(world: World) -> Columns:
    rng = world.rng("agents")
    n = 24
    names = _concat(_pick(FIRST_NAMES, rng.integers(0, 20, n)), " ", _pick(LAST_NAMES, rng.integers(0, 20, n)))
    return {
        "agent_id": np.arange(1, n + 1),
        "full_name": names,
        "email": _concat("agent", _text(np.arange(1, n + 1)), "@shopco.example"),
        "team": _pick(SUPPORT_TEAMS, rng.integers(0, len(SUPPORT_TEAMS), n)),
        "hired_at": _timestamps(rng, n, start=ANCHOR - np.timedelta64(1500, "D")).astype("datetime64[D]"),
    }


def _tickets(world: World) -> Columns:
    orders = world.totals.ticket_orders
    rng = world.rng("tickets")
    n = len(orders["order_id"]) // 8
    pick = rng.choice(len(orders["order_id"]), n, replace=False)
    about_order = rng.random(n) < 0.75
    created = orders["order_ts"][pick] + rng.integers(HOUR_US, 10 * DAY_US, n).astype("timedelta64[us]")
    created = np.minimum(created, ANCHOR - np.timedelta64(1, "h"))
    resolved = rng.random(n) < 0.85
    return {
        "ticket_id": np.arange(1, n + 1),
        "customer_id": orders["customer_id"][pick],
        "order_id": _nullable(orders["order_id"][pick], ~about_order),
        "agent_id": rng.integers(1, 25, n),
        "created_at": created,
        "resolved_at": _nullable(created + rng.integers(HOUR_US, 5 * DAY_US, n).astype("timedelta64[us]"), ~resolved),
        "channel": _pick(["email", "chat", "phone", "social"], rng.integers(0, 4, n)),
        "priority": _pick(["low", "normal", "high", "urgent"], _weighted_indices(rng, [0.3, 0.5, 0.15, 0.05], n)),
        "category": _pick(TICKET_CATEGORIES, rng.integers(0, len(TICKET_CATEGORIES), n)),
        "csat_score": _nullable(rng.integers(1, 6, n), ~resolved | (rng.random(n) < 0.5)),
        "tags": _lists(rng, TICKET_TAGS, n, 2),
    }


def _app_logs(world: World) -> Columns:
    """Four days of logs; the loader then purges everything older than the 72-hour retention."""
    rng = world.rng("app_logs")
    n = 40_000
    logged = np.sort(_timestamps(rng, n, start=ANCHOR - np.timedelta64(96, "h")))
    has_user = rng.random(n) < 0.6
    return {
        "logged_at": logged,
        "service": _pick(SERVICES, rng.integers(0, len(SERVICES), n)),
        "level": _pick(LOG_LEVELS, rng.integers(0, len(LOG_LEVELS), n)),
        "message": _pick(LOG_MESSAGES, rng.integers(0, len(LOG_MESSAGES), n)),
        "request_id": _concat("req-", _text(rng.integers(0, 16**10, n), 12)),
        "user_id": _nullable(world.customers(rng, n), ~has_user),
        "latency_ms": np.round(rng.lognormal(3.5, 1.0, n), 1),
        "host": _concat("ip-10-0-", _text(rng.integers(0, 32, n))),
    }


def _pipeline_runs(world: World) -> Columns:
    rng = world.rng("pipeline_runs")
    day, pipeline = (a.ravel() for a in np.meshgrid(np.arange(HISTORY_DAYS), np.arange(len(PIPELINES)), indexing="ij"))
    n = day.size
    started = START + (day * DAY_US + rng.integers(HOUR_US, 4 * HOUR_US, n)).astype("timedelta64[us]")
    failed = rng.random(n) < 0.03
    return {
        "run_id": _concat("run-", _text(np.arange(1, n + 1), 6)),
        "pipeline": _pick(PIPELINES, pipeline),
        "started_at": started,
        "finished_at": started + rng.integers(60, 3_600, n).astype("timedelta64[s]"),
        "status": _pick(["success", "failed"], failed.astype(int)),
        "rows_written": np.where(failed, 0, rng.integers(1_000, 2_000_000, n)),
        "triggered_by": _pick(["schedule", "manual", "backfill"], _weighted_indices(rng, [0.9, 0.07, 0.03], n)),
    }


# --------------------------------------------------------------------------------------------------
# Generators: fact batches
# --------------------------------------------------------------------------------------------------


def order_batch(world: World, batch: int, first_order_id: int, n: int) -> dict[str, Columns]:
    """One batch of orders with their items, payments, CDC rows, refunds and attribution, all consistent.

    Also folds the batch into ``world.totals`` so the marts agree with the facts.
    """
    rng = world.rng("orders", batch)
    order_id = np.arange(first_order_id, first_order_id + n)
    customer = world.customers(rng, n)
    country = world.customer_country[customer]
    order_ts = _timestamps(rng, n, growth=True)
    signup = world.customer_signup[customer]
    late = signup >= order_ts  # a customer cannot order before signing up: move the order after signup
    order_ts = np.where(late, signup + ((ANCHOR - signup) * rng.random(n).astype(float)).astype("timedelta64[us]"),
                        order_ts)
    order_ts = np.minimum(order_ts, ANCHOR - np.timedelta64(1, "m"))
    day = _day_index(order_ts)
    channel = _weighted_indices(rng, [0.55, 0.3, 0.15], n)
    status = _weighted_indices(rng, ORDER_STATUS_SHARE, n)
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

    provider = _weighted_indices(rng, [0.6, 0.25, 0.15], n)
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
                 provider, r, _day_index(refunded_at[r]), refund_usd)
    if batch == 0:
        world.totals.ticket_orders = {"order_id": order_id, "customer_id": customer, "order_ts": order_ts}

    return {
        "marts.orders": {
            "order_id": order_id, "customer_id": customer, "order_ts": order_ts,
            "status": _pick(ORDER_STATUSES, status), "sales_channel": _pick(SALES_CHANNELS, channel),
            "country": _pick(COUNTRY_CODES, country), "region": _pick(COUNTRY_REGION, country),
            "currency": _pick(CURRENCIES, currency), "item_count": item_count,
            "subtotal_usd": _money(subtotal), "discount_usd": _money(discount), "shipping_usd": _money(shipping),
            "tax_usd": _money(tax), "total_amount_usd": _money(total_usd), "total_amount": _money(total_usd * fx),
            "campaign_id": _nullable(campaign, ~has_campaign),
        },
        "raw.orders": {
            "order_id": order_id[cdc_rows], "customer_id": customer[cdc_rows],
            "status": _pick(ORDER_STATUSES, np.where(is_update, status[cdc_rows], ORDER_STATUSES.index("pending"))),
            "total_amount": np.round(total_usd[cdc_rows] * fx[cdc_rows], 2),
            "currency": _pick(CURRENCIES, currency[cdc_rows]), "created_at": order_ts[cdc_rows],
            "_op": _pick(["c", "u"], is_update.astype(int)), "_ingested_at": cdc_ingested,
            "ingest_date": cdc_ingested.astype("datetime64[D]"),
        },
        "raw.order_items": {
            "order_id": order_id[line_order], "line_number": line_number, "product_id": product,
            "quantity": quantity, "unit_price_usd": _money(unit_price), "discount_rate": discount_rate,
            "line_amount_usd": _money(line_amount),
        },
        "raw.payments": {
            "payment_id": _concat("pay_", _text(order_id)), "order_id": order_id,
            "provider": _pick(PAYMENT_PROVIDERS, provider),
            "method": _pick(PAYMENT_METHODS, np.where(provider == 2, 2, rng.choice([0, 0, 1, 3], n))),
            "amount": np.round(total_usd * fx, 2), "currency": _pick(CURRENCIES, currency),
            "status": _pick(["captured", "voided"], payment_status), "paid_at": paid_at,
        },
        "finance.refunds": {
            "refund_id": _concat("rf_", _text(order_id[r])), "order_id": order_id[r], "customer_id": customer[r],
            "amount": _money(refund_usd * fx[r]), "currency": _pick(CURRENCIES, currency[r]),
            "amount_usd": _money(refund_usd),
            "reason": _pick(REFUND_REASONS, rng.integers(0, len(REFUND_REASONS), r.size)),
            "region": _pick(COUNTRY_REGION, country[r]), "country": _pick(COUNTRY_CODES, country[r]),
            "status": _pick(["processed", "pending"], (refunded_at[r] > ANCHOR - np.timedelta64(2, "D")).astype(int)),
            "refunded_at": refunded_at[r],
        },
        "marketing.attribution": {
            "order_id": order_id[a], "campaign_id": campaign[a],
            "channel": _pick(CAMPAIGN_CHANNELS, world.campaign_channel[campaign[a]]),
            "touch_ts": order_ts[a] - rng.integers(60, 7 * 86_400, a.size).astype("timedelta64[s]"),
            "model": _pick(ATTRIBUTION_MODELS, model), "weight": weight,
            "attributed_revenue_usd": _money(total_usd[a] * weight),
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
    country = np.where(logged_in, world.customer_country[user], _weighted_indices(rng, COUNTRY_SHARE, n_sessions))
    started = _timestamps(rng, n_sessions, growth=True)
    device = _weighted_indices(rng, [0.4, 0.52, 0.08], n_sessions)
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
    event_type = _weighted_indices(rng, EVENT_TYPE_SHARE, s.size)
    has_product = np.isin(event_type, [1, 3])
    converted = np.bincount(s[event_type == 5], minlength=n_sessions) > 0

    week = (started.astype("datetime64[D]") - FIRST_WEEK) // np.timedelta64(7, "D")
    world.totals.active_users[week[logged_in], user[logged_in]] = True

    utm = _weighted_indices(rng, [0.3, 0.15, 0.1, 0.1, 0.3, 0.05], n_sessions)
    user_ids = _nullable(user, ~logged_in)
    return {
        "raw.events": {
            "event_id": _concat("ev_", _text(session_id[s]), "_", _text(sequence, 3)),
            "session_id": pc.take(_concat("s_", _text(session_id)), pa.array(s)),
            "user_id": pc.take(user_ids, pa.array(s)),
            "event_time": event_time,
            "event_type": _pick(EVENT_TYPES, event_type),
            "page_url": _pick(PAGES, rng.integers(0, len(PAGES), s.size)),
            "product_id": _nullable(1 + (rng.random(s.size) ** 1.6 * world.n_products).astype(np.int64), ~has_product),
            "country": _pick(COUNTRY_CODES, country[s]),
            "device": _pick(DEVICES, device[s]),
            "ip_address": _concat(_text(rng.integers(1, 223, s.size)), ".", _text(rng.integers(0, 255, s.size)),
                                  ".", _text(rng.integers(0, 255, s.size)), ".", _text(rng.integers(1, 254, s.size))),
        },
        "staging.sessions": {
            "session_id": _concat("s_", _text(session_id)), "user_id": user_ids, "started_at": started,
            "ended_at": np.minimum(started + (last_offset * 1e6).astype("timedelta64[us]"), ANCHOR),
            "event_count": n_events, "country": _pick(COUNTRY_CODES, country), "device": _pick(DEVICES, device),
            "landing_page": _pick(PAGES, rng.integers(0, 4, n_sessions)), "utm_source": _pick(UTM_SOURCES, utm),
            "converted": converted,
        },
    }


# --------------------------------------------------------------------------------------------------
# Generators: aggregates over the fact batches (written after them)
# --------------------------------------------------------------------------------------------------


def _calendar(day: np.ndarray) -> np.ndarray:
    return START_DAY + day.astype("timedelta64[D]")


def _daily_revenue(world: World) -> Columns:
    totals = world.totals
    day, country, channel = np.nonzero(totals.orders)
    gross = totals.revenue_usd[day, country, channel]
    refunds = totals.refunds_usd[day, country, channel]
    return {
        "revenue_date": _calendar(day), "country": _pick(COUNTRY_CODES, country),
        "region": _pick(COUNTRY_REGION, country), "sales_channel": _pick(SALES_CHANNELS, channel),
        "orders": totals.orders[day, country, channel], "gross_revenue_usd": _money(gross),
        "refunds_usd": _money(refunds), "net_revenue_usd": _money(gross - refunds),
    }


def _weekly_active_users(world: World) -> Columns:
    week, user = np.nonzero(world.totals.active_users)
    counts = np.zeros((N_WEEKS, len(COUNTRIES)), np.int64)
    np.add.at(counts, (week, world.customer_country[user]), 1)
    week, country = np.nonzero(counts)
    return {
        "week_start": FIRST_WEEK + (7 * week).astype("timedelta64[D]"), "country": _pick(COUNTRY_CODES, country),
        "active_users": counts[week, country],
    }


def _product_sales_daily(world: World) -> Columns:
    day, product = np.nonzero(world.totals.product_units)
    return {
        "sales_date": _calendar(day), "product_id": product,
        "units_sold": world.totals.product_units[day, product],
        "revenue_usd": _money(world.totals.product_revenue[day, product]),
    }


def _subscription_mrr(world: World) -> Columns:
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
    return {**rows, "month_start": np.array(rows["month_start"]), "mrr_usd": _money(np.array(rows["mrr_usd"]))}


def _payouts(world: World) -> Columns:
    """Providers pay out each day's captured payments two days later."""
    day, provider = np.nonzero(world.totals.payments_usd)
    keep = day + 2 < HISTORY_DAYS
    day, provider = day[keep], provider[keep]
    gross = world.totals.payments_usd[day, provider]
    fee = gross * np.array([0.029, 0.025, 0.034])[provider] + 0.3
    return {
        "payout_id": _concat("po_", _pick(PAYMENT_PROVIDERS, provider), "_", _text(day, 3)),
        "provider": _pick(PAYMENT_PROVIDERS, provider), "payout_date": _calendar(day + 2),
        "gross_amount_usd": _money(gross), "fee_amount_usd": _money(fee), "net_amount_usd": _money(gross - fee),
        "status": _pick(["paid", "in_transit"], (day + 2 >= HISTORY_DAYS - 2).astype(int)),
    }


def _gl_entries(world: World) -> Columns:
    """Daily journal lines per account: revenue, tax, refunds, cost of goods and ad spend."""
    totals = world.totals
    revenue = totals.revenue_usd.sum(axis=(1, 2))
    spend = world.table("marketing.ad_spend")
    spend_by_day = np.bincount(_day_index(spend["spend_date"].astype("datetime64[us]")),
                               spend["spend_usd"].to_numpy(zero_copy_only=False).astype(float), HISTORY_DAYS)
    amounts = np.stack([revenue / 1.08, revenue - revenue / 1.08, totals.refunds_usd.sum(axis=(1, 2)),
                        revenue * 0.45, spend_by_day])  # [account, day], order of GL_ACCOUNTS
    is_credit = np.array([True, True, False, False, False])
    account, day = (a.ravel() for a in np.meshgrid(np.arange(len(GL_ACCOUNTS)), np.arange(HISTORY_DAYS),
                                                   indexing="ij"))
    amount = np.round(amounts[account, day], 2)
    return {
        "entry_id": np.arange(1, account.size + 1), "account_code": _pick(GL_ACCOUNTS, account),
        "posted_at": START + ((day + 1) * DAY_US - 1).astype("timedelta64[us]"),
        "debit_usd": _money(np.where(is_credit[account], 0.0, amount)),
        "credit_usd": _money(np.where(is_credit[account], amount, 0.0)),
        "memo": _concat("daily close ", _calendar(day).astype(str)),
    }


# --------------------------------------------------------------------------------------------------
# Loaders that give a table its history
# --------------------------------------------------------------------------------------------------

RECENT_SIGNUP = ANCHOR - np.timedelta64(7, "D")
SPEND_SPEC_CHANGE = ANCHOR - np.timedelta64(30, "D")
LOG_RETENTION = ANCHOR - np.timedelta64(72, "h")


def _arrow(schema: Schema, columns: Columns) -> pa.Table:
    target = schema.as_arrow()
    return pa.table({f.name: columns[f.name] for f in target}).cast(target)


def _load_customers_then_evolve(table: Table, rows: Columns, world: World) -> None:
    """Customers up to a week ago, then a schema change (rename + new column), then the latest signups."""
    recent = pa.array(rows["signup_at"] >= RECENT_SIGNUP)
    table.append(_arrow(table.schema(), rows).filter(pc.invert(recent)))
    with table.update_schema() as update:
        update.rename_column("segment", "customer_segment")
        update.add_column("lifetime_value_usd", DecimalType(12, 2),
                          doc="Net revenue of the customer's orders after refunds, USD; filled for new signups first")
    evolved = {**rows, "customer_segment": rows["segment"],
               "lifetime_value_usd": _money(world.totals.customer_revenue[1:])}
    table.append(_arrow(table.schema(), evolved).filter(recent))


def _load_spend_then_repartition(table: Table, rows: Columns, world: World) -> None:
    """Spend was partitioned by month; daily partitions replaced them 30 days ago (spec 0 -> spec 1)."""
    data = _arrow(table.schema(), rows)
    recent = pa.array(rows["spend_date"] >= SPEND_SPEC_CHANGE.astype("datetime64[D]"))
    table.append(data.filter(pc.invert(recent)))
    with table.update_spec() as update:
        update.remove_field("spend_date_month")
        update.add_field("spend_date", DayTransform(), "spend_date_day")
    table.append(data.filter(recent))


def _load_logs_then_purge(table: Table, rows: Columns, world: World) -> None:
    """Two daily ingests, then the 72-hour retention job deletes whole hourly partitions."""
    data = _arrow(table.schema(), rows)
    half = data.num_rows // 2
    table.append(data.slice(0, half))
    table.append(data.slice(half))
    table.delete(delete_filter=LessThan("logged_at", str(LOG_RETENTION) + "+00:00"))


def _reprocess_emea_refunds(table: Table) -> None:
    """Finance re-ran EMEA's pending refunds after a provider fix: a row-level overwrite (files rewritten)."""
    pending_emea = And(EqualTo("region", "EMEA"), EqualTo("status", "pending"))
    rows = table.scan(row_filter=pending_emea).to_arrow()
    status = pa.array(["reprocessed"] * rows.num_rows, rows.schema.field("status").type)
    rows = rows.set_column(rows.schema.get_field_index("status"), rows.schema.field("status"), status)
    table.overwrite(rows, overwrite_filter=pending_emea)


# --------------------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------------------

PLATFORM = "data-platform@shopco.example"
ANALYTICS = "analytics-eng@shopco.example"
FINANCE = "finance-data@shopco.example"
GROWTH = "growth-analytics@shopco.example"
SUPPORT = "support-ops@shopco.example"
SRE = "sre@shopco.example"

NAMESPACE_COMMENTS = {
    "raw": "Landed as-is from source systems (shop DB CDC, clickstream, payment providers).",
    "staging": "Cleaned and typed source data, one table per entity.",
    "marts": "Modelled tables for analytics: orders, customers, revenue and engagement.",
    "finance": "Finance-owned facts: refunds, invoices, payouts, FX and the general ledger.",
    "marketing": "Campaigns, spend, e-mail and attribution.",
    "support": "Customer support tickets and agents.",
    "ops": "Operational data: application logs and pipeline runs.",
}

ADDRESS = StructOf((Col("street", "string", "Street and number"), Col("city", "string"),
                    Col("country", "string", "ISO 3166-1 alpha-2"), Col("postal_code", "string")))

TABLE_SPECS: tuple[TableSpec, ...] = (
    TableSpec(
        "raw.events",
        (Col("event_id", "string", "Unique event id: session id and sequence number", True),
         Col("session_id", "string", "Browser or app session"),
         Col("user_id", "long", "customer_id of a logged-in user; null for anonymous traffic"),
         Col("event_time", "tstz", "When the event happened (client clock, UTC)", True),
         Col("event_type", "string", "page_view, product_view, search, add_to_cart, checkout_started, purchase, login"),
         Col("page_url", "string", "Path of the page"), Col("product_id", "long", "Product viewed or added to cart"),
         Col("country", "string", "ISO country of the user (geo-IP for anonymous traffic)"),
         Col("device", "string", "desktop, mobile or tablet"), Col("ip_address", "string", "Client IP address")),
        "Clickstream events from web and apps, one row per event, partitioned by event day.", PLATFORM,
        "raw,clickstream", pii="ip_address", partition=("day(event_time)",), identifier=("event_id",),
        sort=("event_time", "user_id"),
    ),
    TableSpec(
        "raw.orders",
        (Col("order_id", "long", "Shop order id", True), Col("customer_id", "long"),
         Col("status", "string", "Order status after this change"), Col("total_amount", "double", "Order currency"),
         Col("currency", "string"), Col("created_at", "ts", "Order creation time (UTC)"),
         Col("_op", "string", "CDC operation: c = insert, u = update"),
         Col("_ingested_at", "ts", "When the change landed in the lake"),
         Col("ingest_date", "date", "Landing date, the partition column")),
        "CDC change log of the shop database's orders table; one row per insert or update.", PLATFORM,
        "raw,cdc,orders", partition=("ingest_date",),
    ),
    TableSpec(
        "raw.order_items",
        (Col("order_id", "long", "Order the line belongs to", True), Col("line_number", "long", None, True),
         Col("product_id", "long", "Product sold"), Col("quantity", "long"),
         Col("unit_price_usd", "decimal", "List price at the time of the order"),
         Col("discount_rate", "double", "0.1 = 10% off"), Col("line_amount_usd", "decimal", "After discount")),
        "Order lines from the shop database.", PLATFORM, "raw,orders", partition=("bucket[16](order_id)",),
        identifier=("order_id", "line_number"),
    ),
    TableSpec(
        "raw.payments",
        (Col("payment_id", "string", "Provider-independent payment id", True), Col("order_id", "long"),
         Col("provider", "string", "stripe, adyen or paypal"), Col("method", "string"),
         Col("amount", "double", "In the order's currency"), Col("currency", "string"),
         Col("status", "string", "captured or voided"), Col("paid_at", "ts")),
        "Payment captures from the payment providers' webhooks.", PLATFORM, "raw,payments",
        partition=("provider", "month(paid_at)"), identifier=("payment_id",),
    ),
    TableSpec(
        "raw.shop_customers",
        (Col("id", "long"), Col("email_address", "string"), Col("phone_number", "string"), Col("name", "string"),
         Col("street", "string"), Col("city", "string"), Col("country_code", "string"), Col("zip", "string"),
         Col("created_at", "ts"), Col("_extracted_at", "ts")),
        "Nightly full export of the shop's customer table (unmodelled).", PLATFORM, "raw,customers",
        pii="email_address,phone_number,name,street,zip", source=_shop_customers,
    ),
    TableSpec(
        "staging.customers",
        (Col("customer_id", "long", "Customer key", True), Col("email", "string", "Login e-mail"),
         Col("phone", "string", "E.164-ish phone number"), Col("full_name", "string"),
         Col("address", ADDRESS, "Shipping address"), Col("country", "string", "ISO country"),
         Col("region", "string", "NA, EMEA, LATAM or APAC"), Col("signup_at", "ts", "Account creation"),
         Col("segment", "string", "consumer, smb or enterprise"), Col("marketing_opt_in", "bool"),
         Col("updated_at", "ts")),
        "Deduplicated customers with typed fields.", ANALYTICS, "staging,customers",
        pii="email,phone,full_name,address.street,address.postal_code", partition=("bucket[8](customer_id)",),
        identifier=("customer_id",), source=lambda world: world.table("marts.customers"),
    ),
    TableSpec(
        "staging.products",
        (Col("product_id", "long", "Product key", True), Col("sku", "string", "Stock keeping unit"),
         Col("product_name", "string", "Display name"), Col("category", "string", "Merchandising category"), Col("brand", "string", "Brand"),
         Col("list_price_usd", "decimal", "Current list price"), Col("unit_cost_usd", "decimal", "Landed cost"),
         Col("is_active", "bool", "Still sold"), Col("tags", ListOf("string"), "Merchandising tags"),
         Col("updated_at", "ts")),
        "Product catalogue.", ANALYTICS, "staging,products,dimension", identifier=("product_id",), source=_products,
    ),
    TableSpec(
        "staging.sessions",
        (Col("session_id", "string", "Session key", True), Col("user_id", "long", "Null for anonymous sessions"),
         Col("started_at", "tstz", "First event"), Col("ended_at", "tstz", "Last event"), Col("event_count", "long", "Events in the session"), Col("country", "string", "ISO country"),
         Col("device", "string", "desktop, mobile or tablet"), Col("landing_page", "string", "First page"), Col("utm_source", "string", "Traffic source"),
         Col("converted", "bool", "The session had a purchase event")),
        "Sessions built from raw.events.", ANALYTICS, "staging,clickstream", partition=("day(started_at)",),
        identifier=("session_id",),
    ),
    TableSpec(
        "staging.subscriptions",
        (Col("subscription_id", "long", "Subscription key", True), Col("customer_id", "long"),
         Col("plan", "string", "basic, plus or pro"), Col("status", "string", "active, cancelled or paused"),
         Col("started_at", "ts"), Col("cancelled_at", "ts", "Null while the subscription runs"),
         Col("mrr_usd", "decimal", "Monthly recurring revenue")),
        "ShopCo+ membership subscriptions (monthly billing).", ANALYTICS, "staging,subscriptions",
        partition=("plan",), identifier=("subscription_id",), source=_subscriptions,
    ),
    TableSpec(
        "marts.orders",
        (Col("order_id", "long", "Order key", True), Col("customer_id", "long", "Buyer, see marts.customers"),
         Col("order_ts", "ts", "Checkout time (UTC)"),
         Col("status", "string", "completed, shipped, cancelled, returned or pending"),
         Col("sales_channel", "string", "web, ios or android"), Col("country", "string", "Buyer's country"),
         Col("region", "string", "NA, EMEA, LATAM or APAC"), Col("currency", "string", "Currency charged"),
         Col("item_count", "long", "Number of order lines"), Col("subtotal_usd", "decimal", "Sum of order lines after discounts"),
         Col("discount_usd", "decimal", "Discounts applied to the lines"), Col("shipping_usd", "decimal", "Shipping fee; free from 50 USD"), Col("tax_usd", "decimal", "Sales tax / VAT"),
         Col("total_amount_usd", "decimal", "What the customer paid, in USD"),
         Col("total_amount", "decimal", "What the customer paid, in the order currency"),
         Col("campaign_id", "long", "Marketing campaign credited with the order, if any")),
        "One row per order with amounts in USD and local currency. Source of truth for revenue.", ANALYTICS,
        "marts,orders,gold", partition=("month(order_ts)",), identifier=("order_id",), sort=("order_ts",),
    ),
    TableSpec(
        "marts.customers",
        (Col("customer_id", "long", "Customer key", True), Col("email", "string", "Login e-mail"),
         Col("phone", "string", "Phone number"), Col("full_name", "string"),
         Col("address", ADDRESS, "Shipping address"), Col("country", "string", "ISO country"),
         Col("region", "string", "NA, EMEA, LATAM or APAC"), Col("signup_at", "ts", "Account creation"),
         Col("segment", "string", "consumer, smb or enterprise"), Col("marketing_opt_in", "bool"),
         Col("updated_at", "ts")),
        "Customer dimension: one row per customer with contact details and segment.", ANALYTICS,
        "marts,customers,gold", pii="email,phone,full_name,address.street,address.postal_code",
        identifier=("customer_id",), source=_customers, load=_load_customers_then_evolve, after_facts=True,
    ),
    TableSpec(
        "marts.daily_revenue",
        (Col("revenue_date", "date", "Order date (UTC)", True), Col("country", "string", "Buyer's ISO country", True),
         Col("region", "string", "NA, EMEA, LATAM or APAC"), Col("sales_channel", "string", "web, ios or android", True),
         Col("orders", "long", "Orders that were not cancelled"), Col("gross_revenue_usd", "decimal", "Order totals incl. tax and shipping"),
         Col("refunds_usd", "decimal", "Refunds issued that day"), Col("net_revenue_usd", "decimal", "Gross revenue minus refunds")),
        "Revenue per day, country and sales channel, from marts.orders and finance.refunds.", ANALYTICS,
        "marts,revenue,gold", identifier=("revenue_date", "country", "sales_channel"), source=_daily_revenue, after_facts=True,
    ),
    TableSpec(
        "marts.weekly_active_users",
        (Col("week_start", "date", "Monday of the ISO week"), Col("country", "string", "User's home country"),
         Col("active_users", "long", "Distinct logged-in users with at least one session that week")),
        "Weekly active users per country, from raw.events.", ANALYTICS, "marts,engagement",
        source=_weekly_active_users, after_facts=True,
    ),
    TableSpec(
        "marts.product_sales_daily",
        (Col("sales_date", "date", "Order date (UTC)"), Col("product_id", "long", "See staging.products"), Col("units_sold", "long", "Quantity over order lines"),
         Col("revenue_usd", "decimal", "Line amounts after discounts")),
        "Units and revenue per product and day (cancelled orders excluded).", ANALYTICS, "marts,products",
        partition=("month(sales_date)",), source=_product_sales_daily, after_facts=True,
    ),
    TableSpec(
        "marts.subscription_mrr",
        (Col("month_start", "date", "First day of the month"), Col("plan", "string", "basic, plus or pro"),
         Col("active_subscriptions", "long", "Active at month end"), Col("mrr_usd", "decimal", "Monthly recurring revenue at month end"),
         Col("churned_subscriptions", "long", "Cancelled during the month")),
        "Monthly recurring revenue and churn per plan.", FINANCE, "marts,subscriptions,gold",
        source=_subscription_mrr,
    ),
    TableSpec(
        "finance.refunds",
        (Col("refund_id", "string", "Refund key", True), Col("order_id", "long", "Refunded order"),
         Col("customer_id", "long", "Customer refunded"), Col("amount", "decimal", "Refunded amount in the order currency"),
         Col("currency", "string", "Currency of the refund"), Col("amount_usd", "decimal", "Refunded amount in USD"),
         Col("reason", "string", "damaged, wrong_size, late_delivery, not_as_described, changed_mind, ..."),
         Col("region", "string", "Sales region of the order: NA, EMEA, LATAM or APAC"), Col("country", "string", "Buyer's ISO country"),
         Col("status", "string", "processed, pending or reprocessed"), Col("refunded_at", "ts", "When the refund was issued (UTC)")),
        "Refunds issued to customers, by sales region.", FINANCE, "finance,refunds,gold",
        partition=("region",), identifier=("refund_id",), sort=("refunded_at",),
    ),
    TableSpec(
        "finance.invoices",
        (Col("invoice_id", "string", "Invoice number", True), Col("subscription_id", "long", "See staging.subscriptions"),
         Col("customer_id", "long", "Billed customer"), Col("issued_at", "ts", "Invoice date"), Col("due_date", "date", "Payment due"), Col("currency", "string", "Invoice currency"),
         Col("amount", "decimal", "Invoice currency"), Col("amount_usd", "decimal", "Invoice amount in USD"),
         Col("status", "string", "paid or open")),
        "Subscription invoices.", FINANCE, "finance,billing", partition=("month(issued_at)",),
        identifier=("invoice_id",), source=_invoices,
    ),
    TableSpec(
        "finance.payouts",
        (Col("payout_id", "string", "Provider payout reference", True), Col("provider", "string", "stripe, adyen or paypal"), Col("payout_date", "date", "Settlement date"),
         Col("gross_amount_usd", "decimal", "Captured payments settled"), Col("fee_amount_usd", "decimal", "Provider fees"),
         Col("net_amount_usd", "decimal", "Paid to the bank account"), Col("status", "string", "paid or in_transit")),
        "Daily settlements from payment providers.", FINANCE, "finance,payments", identifier=("payout_id",),
        source=_payouts, after_facts=True,
    ),
    TableSpec(
        "finance.fx_rates",
        (Col("rate_date", "date", "Day the rate applies to", True), Col("base_currency", "string", "Always USD"),
         Col("quote_currency", "string", "ISO 4217 currency", True), Col("rate", "double", "Units of quote currency per 1 USD"),
         Col("source", "string", "Rate provider")),
        "Daily FX reference rates against USD, three years of history.", FINANCE, "finance,reference",
        partition=("year(rate_date)",), identifier=("rate_date", "quote_currency"), source=_fx_rates,
    ),
    TableSpec(
        "finance.gl_entries",
        (Col("entry_id", "long", "Journal line key", True), Col("account_code", "string", "Account number and name"),
         Col("posted_at", "ts", "Posting time (end of day)"), Col("debit_usd", "decimal", "Debit amount"), Col("credit_usd", "decimal", "Credit amount"), Col("memo", "string", "Free text")),
        "General ledger journal lines from the daily close.", FINANCE, "finance,ledger,restricted",
        partition=("truncate[4](account_code)",), identifier=("entry_id",), source=_gl_entries, after_facts=True,
    ),
    TableSpec(
        "marketing.campaigns",
        (Col("campaign_id", "long", "Campaign key", True), Col("campaign_code", "string", "Code used in UTM tags"),
         Col("campaign_name", "string", "Human-readable name"), Col("channel", "string", "email, paid_search, paid_social, display, affiliate"),
         Col("objective", "string", "acquisition, retention, reactivation or awareness"), Col("start_date", "date", "First day live"), Col("end_date", "date", "Last day live"),
         Col("budget_usd", "decimal", "Planned spend"), Col("owner_email", "string", "Marketer responsible")),
        "Marketing campaigns.", GROWTH, "marketing,dimension", identifier=("campaign_id",), source=_campaigns,
    ),
    TableSpec(
        "marketing.ad_spend",
        (Col("spend_date", "date", "Day of the spend", True), Col("campaign_id", "long", "See marketing.campaigns", True), Col("channel", "string", "Paid channel"),
         Col("impressions", "long", "Ads shown"), Col("clicks", "long", "Ad clicks"), Col("spend_usd", "decimal", "Cost billed by the ad platform")),
        "Daily paid media spend per campaign, synced from the ad platforms.", GROWTH, "marketing,spend",
        partition=("month(spend_date)",), identifier=("spend_date", "campaign_id"), source=_ad_spend,
        load=_load_spend_then_repartition,
    ),
    TableSpec(
        "marketing.email_sends",
        (Col("send_id", "long", "Send key", True), Col("campaign_id", "long", "E-mail campaign"), Col("customer_id", "long", "Recipient"),
         Col("email", "string", "Recipient address"), Col("template", "string", "E-mail template"), Col("sent_at", "ts", "Send time (UTC)"),
         Col("opened_at", "ts", "First open, null if never opened"), Col("clicked_at", "ts", "First click, null if never clicked")),
        "E-mails sent by campaign, with opens and clicks.", GROWTH, "marketing,email", pii="email",
        partition=("day(sent_at)",), identifier=("send_id",), source=_email_sends,
    ),
    TableSpec(
        "marketing.attribution",
        (Col("order_id", "long", "Credited order"), Col("campaign_id", "long", "Credited campaign"), Col("channel", "string", "Campaign channel"), Col("touch_ts", "ts", "Time of the marketing touch"),
         Col("model", "string", "last_touch, first_touch or linear"), Col("weight", "double", "Share of the order credited"),
         Col("attributed_revenue_usd", "decimal", "Order total times weight")),
        "Orders credited to campaigns under each attribution model.", GROWTH, "marketing,attribution",
        partition=("model",),
    ),
    TableSpec(
        "marketing.audiences",
        (Col("audience_id", "long"), Col("audience_name", "string"), Col("rule_sql", "string"),
         Col("member_count", "long"), Col("refreshed_at", "ts")),
        None, GROWTH, "marketing", source=_audiences,
    ),
    TableSpec(
        "support.tickets",
        (Col("ticket_id", "long", "Ticket key", True), Col("customer_id", "long", "Customer who wrote in"), Col("order_id", "long", "If about an order"),
         Col("agent_id", "long", "See support.agents"), Col("created_at", "ts", "Opened (UTC)"), Col("resolved_at", "ts", "Null while open"), Col("channel", "string", "email, chat, phone or social"),
         Col("priority", "string", "low, normal, high or urgent"), Col("category", "string", "Ticket topic"), Col("csat_score", "long", "1-5 survey answer"),
         Col("tags", ListOf("string"))),
        "Customer support tickets from the help desk.", SUPPORT, "support", partition=("month(created_at)",),
        identifier=("ticket_id",), source=_tickets, after_facts=True,
    ),
    TableSpec(
        "support.agents",
        (Col("agent_id", "long"), Col("full_name", "string"), Col("email", "string"), Col("team", "string"),
         Col("hired_at", "date")),
        None, SUPPORT, "support,hr", pii="full_name,email", source=_agents,
    ),
    TableSpec(
        "ops.app_logs",
        (Col("logged_at", "tstz"), Col("service", "string"), Col("level", "string"), Col("message", "string"),
         Col("request_id", "string"), Col("user_id", "long"), Col("latency_ms", "double"), Col("host", "string")),
        "Application logs, 72-hour retention.", SRE, "ops,logs", partition=("hour(logged_at)",),
        source=_app_logs, load=_load_logs_then_purge,
    ),
    TableSpec(
        "ops.pipeline_runs",
        (Col("run_id", "string"), Col("pipeline", "string"), Col("started_at", "ts"), Col("finished_at", "ts"),
         Col("status", "string"), Col("rows_written", "long"), Col("triggered_by", "string")),
        None, PLATFORM, "ops", source=_pipeline_runs,
    ),
)
SPECS_BY_NAME = {spec.name: spec for spec in TABLE_SPECS}


# --------------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleLake:
    lake_dir: Path
    catalog_properties: dict[str, str]
    """Pass to ``SqlCatalog(CATALOG_NAME, **catalog_properties)`` or a lakescout catalog config."""
    tables: list[str]
    """``namespace.table`` names."""
    total_bytes: int
    """Parquet bytes on disk, including files that later snapshots replaced."""
    catalog_name: str = CATALOG_NAME


def sample_catalog_properties(lake_dir: Path) -> dict[str, str]:
    lake_dir = Path(lake_dir).resolve()
    return {"type": "sql", "uri": f"sqlite:///{lake_dir / 'catalog.db'}", "warehouse": f"file://{lake_dir / 'warehouse'}"}


def open_sample_catalog(lake_dir: Path) -> SqlCatalog:
    properties = sample_catalog_properties(lake_dir)
    return SqlCatalog(CATALOG_NAME, uri=properties["uri"], warehouse=properties["warehouse"])


def sample_tables(names: Iterable[str], *, seed: int = 7) -> dict[str, pa.Table]:
    """Default-scale rows of some tables (the first batch for fact tables), typed by their declared schemas.

    Lets other catalogs (Glue, Hive-style folders) carry the same data without a second generator.
    """
    world = World(seed)
    facts = _fact_batches(world, BASE_ORDERS_PER_BATCH, BASE_SESSIONS_PER_BATCH, batch=0)
    specs = [SPECS_BY_NAME[name] for name in names]
    return {s.name: _arrow(s.schema, world.table(s.name) if s.source else facts[s.name]) for s in specs}


def build_sample_lake(
    lake_dir: Path,
    *,
    scale: float = 0.0,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> SampleLake:
    """Build (or rebuild) the sample lake in ``lake_dir``; ``scale`` is the Parquet size target in GB.

    Iceberg metadata stores absolute file paths, so the lake cannot be built elsewhere and moved. Instead the
    catalog database is written under a temporary name and renamed into place last: a killed build leaves
    no ``catalog.db``, so nothing can open a half lake, and the next build clears the leftovers.
    """
    say = progress or (lambda message: None)
    lake_dir = Path(lake_dir).resolve()
    _clear_lake_dir(lake_dir)
    building_db = lake_dir / "catalog.db.building"
    warehouse = sample_catalog_properties(lake_dir)["warehouse"]
    catalog = SqlCatalog(CATALOG_NAME, uri=f"sqlite:///{building_db}", warehouse=warehouse)
    # A crashed build is discarded whole, so its commits need no fsync (about a third of the default build time).
    event.listen(catalog.engine, "connect", lambda connection, _: connection.execute("PRAGMA synchronous=OFF"))
    catalog.engine.dispose()
    try:
        _populate(catalog, World(seed, scale), scale, say)
    finally:
        catalog.engine.dispose()
    building_db.rename(lake_dir / "catalog.db")
    total_bytes = sum(p.stat().st_size for p in (lake_dir / "warehouse").rglob("*.parquet"))
    say(f"sample lake ready: {len(TABLE_SPECS)} tables, {total_bytes / 1e6:.1f} MB of Parquet in {lake_dir}")
    return SampleLake(lake_dir, sample_catalog_properties(lake_dir), [s.name for s in TABLE_SPECS], total_bytes)


LAKE_ENTRIES = {"catalog.db", "catalog.db.building", "warehouse"}


def _clear_lake_dir(lake_dir: Path) -> None:
    """Remove a previous lake, refusing to delete a folder that holds anything else."""
    if lake_dir.exists():
        foreign = {p.name for p in lake_dir.iterdir()} - LAKE_ENTRIES
        if foreign:
            raise ValueError(f"{lake_dir} holds files that are not a sample lake: {sorted(foreign)[:5]}")
        shutil.rmtree(lake_dir)
    lake_dir.mkdir(parents=True)


def _populate(catalog: SqlCatalog, world: World, scale: float, say: Callable[[str], None]) -> None:
    for namespace, comment in NAMESPACE_COMMENTS.items():
        catalog.create_namespace(namespace, {"comment": comment})
    tables = {
        spec.name: catalog.create_table(spec.name, spec.schema, partition_spec=spec.partition_spec,
                                        sort_order=spec.sort_order, properties=spec.properties)
        for spec in TABLE_SPECS
    }
    _load_sources(tables, world, after_facts=False)
    say("dimensions written")
    _write_facts(tables, world, scale, say)
    _load_sources(tables, world, after_facts=True)
    _reprocess_emea_refunds(tables["finance.refunds"])
    say("aggregates written, history applied")


def _load_sources(tables: dict[str, Table], world: World, *, after_facts: bool) -> None:
    for spec in TABLE_SPECS:
        if spec.source is None or spec.after_facts != after_facts:
            continue
        rows = world.table(spec.name)
        if spec.load:
            spec.load(tables[spec.name], rows, world)
        else:
            tables[spec.name].append(_arrow(tables[spec.name].schema(), rows))


def _fact_batches(world: World, orders: int, sessions: int, *, batch: int) -> dict[str, Columns]:
    return {**order_batch(world, batch, FIRST_ORDER_ID + batch * orders, orders),
            **event_batch(world, batch, 1 + batch * sessions, sessions)}


def _write_facts(tables: dict[str, Table], world: World, scale: float, say: Callable[[str], None]) -> None:
    """Fixed batches by default; for ``scale`` > 0, batches sized to reach the GB target in about
    ``SCALED_MIN_BATCHES`` steps (capped for memory), written until the Parquet bytes reach it."""
    target_bytes = scale * 1e9
    orders = BASE_ORDERS_PER_BATCH
    if scale > 0:
        wanted = int(target_bytes / FACT_BYTES_PER_ORDER / SCALED_MIN_BATCHES)
        orders = min(max(wanted, BASE_ORDERS_PER_BATCH), SCALED_ORDERS_PER_BATCH)
    sessions = orders * BASE_SESSIONS_PER_BATCH // BASE_ORDERS_PER_BATCH
    written = 0
    for batch in itertools.count():
        for name, rows in _fact_batches(world, orders, sessions, batch=batch).items():
            table = tables[name]
            table.append(_arrow(table.schema(), rows))
            written += int(table.current_snapshot().summary.get("added-files-size", 0))
        say(f"fact batch {batch + 1}: {written / 1e6:.0f} MB")
        if (written >= target_bytes) if scale > 0 else batch + 1 >= BASE_BATCHES:
            return
