"""The sample lake's evolution scenarios: how some tables get a history beyond one append.

A schema change (customers), a partition-spec change (ad spend), a retention delete (application logs) and a
row-level overwrite (refunds), each committed through pyiceberg as a real catalog would see it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import And, EqualTo, LessThan
from pyiceberg.table import Table
from pyiceberg.transforms import DayTransform
from pyiceberg.types import DecimalType

from sample.generate import Columns, World, money
from sample.reference import ANCHOR
from sample.spec import to_arrow

RECENT_SIGNUP = ANCHOR - np.timedelta64(7, "D")
SPEND_SPEC_CHANGE = ANCHOR - np.timedelta64(30, "D")
LOG_RETENTION = ANCHOR - np.timedelta64(72, "h")


def customers_then_evolve(table: Table, rows: Columns, world: World) -> None:
    """Customers up to a week ago, then a schema change (rename + new column), then the latest signups."""
    recent = pa.array(rows["signup_at"] >= RECENT_SIGNUP)
    table.append(to_arrow(table.schema(), rows).filter(pc.invert(recent)))
    with table.update_schema() as update:
        update.rename_column("segment", "customer_segment")
        update.add_column("lifetime_value_usd", DecimalType(12, 2),
                          doc="Net revenue of the customer's orders after refunds, USD; filled for new signups first")
    evolved = {**rows, "customer_segment": rows["segment"],
               "lifetime_value_usd": money(world.totals.customer_revenue[1:])}
    table.append(to_arrow(table.schema(), evolved).filter(recent))


def spend_then_repartition(table: Table, rows: Columns, world: World) -> None:
    """Spend was partitioned by month; daily partitions replaced them 30 days ago (spec 0 -> spec 1)."""
    data = to_arrow(table.schema(), rows)
    recent = pa.array(rows["spend_date"] >= SPEND_SPEC_CHANGE.astype("datetime64[D]"))
    table.append(data.filter(pc.invert(recent)))
    with table.update_spec() as update:
        update.remove_field("spend_date_month")
        update.add_field("spend_date", DayTransform(), "spend_date_day")
    table.append(data.filter(recent))


def logs_then_purge(table: Table, rows: Columns, world: World) -> None:
    """Two daily ingests, then the 72-hour retention job deletes whole hourly partitions."""
    data = to_arrow(table.schema(), rows)
    half = data.num_rows // 2
    table.append(data.slice(0, half))
    table.append(data.slice(half))
    table.delete(delete_filter=LessThan("logged_at", str(LOG_RETENTION) + "+00:00"))


def reprocess_emea_refunds(table: Table) -> None:
    """Finance re-ran EMEA's pending refunds after a provider fix: a row-level overwrite (files rewritten)."""
    pending_emea = And(EqualTo("region", "EMEA"), EqualTo("status", "pending"))
    rows = table.scan(row_filter=pending_emea).to_arrow()
    status = pa.array(["reprocessed"] * rows.num_rows, rows.schema.field("status").type)
    rows = rows.set_column(rows.schema.get_field_index("status"), rows.schema.field("status"), status)
    table.overwrite(rows, overwrite_filter=pending_emea)


