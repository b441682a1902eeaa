"""The sample lake's fixed reference data: its calendar and the vocabularies every generator draws from.

Everything is anchored at ``ANCHOR`` (2026-11-20) with ``HISTORY_DAYS`` of history before it, so two builds
with the same seed and scale hold the same rows.
"""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------------------------------

ANCHOR = np.datetime64("2026-11-20T00:00:00", "us")
HISTORY_DAYS = 90
START = ANCHOR - np.timedelta64(HISTORY_DAYS, "D")
START_DAY = START.astype("datetime64[D]")
FIRST_WEEK = START_DAY - np.timedelta64((START_DAY.astype(np.int64) + 3) % 7, "D")  # Monday on or before START
N_WEEKS = int((ANCHOR.astype("datetime64[D]") - FIRST_WEEK) // np.timedelta64(7, "D")) + 1
FX_HISTORY_DAYS = 3 * 365
DAY_US = 86_400 * 1_000_000
HOUR_US = 3_600 * 1_000_000

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
