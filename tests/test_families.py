"""Family detection from names alone (catalog_ingest.families): date and number suffixes, singletons left
alone, numbers that are not shards, schemas split into the family's and the odd members', at 30,000 names."""

from __future__ import annotations

import time
from datetime import date, timedelta

from catalog_ingest.families import dated_members, detect_families, one_schema, read_suffix, schema_split


def days(stem: str, start: date, count: int, form: str = "%Y%m%d") -> list[str]:
    return [f"{stem}{(start + timedelta(days=i)):{form}}" for i in range(count)]


def test_mixed_families_and_singletons_like_a_real_catalog():
    names = [f"ga.{n}" for n in days("ga_sessions_", date(2017, 7, 30), 5)]
    names += [f"ga.{n}" for n in days("events_", date(2024, 1, 30), 3, "%Y_%m_%d")]
    names += ["ga.billing_202401", "ga.billing_202402", "ga.billing_202403"]
    names += ["ga.clicks_2024010100", "ga.clicks_2024010101"]
    names += [f"ga.shard_{i:03d}" for i in range(1, 11)]
    names += ["ga.users", "ga.users_v2", "ga.auth_2fa", "ga.top100", "ga.top200", "ga.orders_20240101"]
    names += ["other.ga_sessions_20170730", "other.ga_sessions_20170731"]
    families = {f.full_name: f for f in detect_families(names)}
    assert set(families) == {
        "ga.ga_sessions_YYYYMMDD", "ga.events_YYYY_MM_DD", "ga.billing_YYYYMM", "ga.clicks_YYYYMMDDHH",
        "ga.shard_N", "other.ga_sessions_YYYYMMDD",
    }  # fmt: skip
    sessions = families["ga.ga_sessions_YYYYMMDD"]
    assert [m.name for m in (sessions.members[0], sessions.members[-1])] == ["ga_sessions_20170730", "ga_sessions_20170803"]
    assert sessions.pattern.period == "day" and len(sessions.members) == 5
    assert families["ga.events_YYYY_MM_DD"].members[-1].day == date(2024, 2, 1)
    assert families["ga.billing_YYYYMM"].pattern.period == "month"
    assert not families["ga.shard_N"].is_dated
    assert [m.name for m in sessions.members_between(date(2017, 8, 1), None)] == ["ga_sessions_20170801", "ga_sessions_20170802", "ga_sessions_20170803"]
    # one dated table is no family, and the date families are known before any record is read
    members = dated_members(names)
    assert "ga.orders_20240101" not in members and "ga.shard_001" not in members
    assert members["ga.events_2024_01_31"].name == "events_YYYY_MM_DD"


def test_numbers_that_are_not_shards():
    for name in ("users_v2", "auth_2fa", "top100", "web3", "events"):
        assert read_suffix(name) is None, name
    assert read_suffix("events_20241399")[1].name == "N"  # not a date: a number
    assert read_suffix("events_120240101")[1].name == "N"  # a date glued after a digit is not a date
    assert read_suffix("ga_sessions20170801")[1].name == "YYYYMMDD"
    # nine numbered tables are not enough for a number family; ids that merely end names need one schema too
    assert detect_families([f"a.part_{i}" for i in range(9)]) == []
    assert not one_schema({"user_daily_12": ["id", "name"], "user_daily_57": ["id", "amount"], "user_daily_88": ["x"]})


def test_one_odd_schema_is_named_with_what_it_adds_and_lacks():
    split = schema_split({
        "events_20240101": ["id", "ts"], "events_20240102": ["id", "ts", "country"],
        "events_20240103": ["id", "ts"], "events_20240104": ["id", "ts"],
    })  # fmt: skip
    assert split.representative == "events_20240104"
    assert split.differing == {"events_20240102": (["country"], [])}


def test_thirty_thousand_names_in_well_under_a_second():
    names = []
    for i in range(600):
        names += [f"ns{i % 40}.{n}" for n in days(f"t{i}_events_", date(2024, 1, 1), 40)]
    names += [f"ns{i % 40}.table_{i}_facts" for i in range(6000)]
    started = time.process_time()  # this process's CPU: the machine may be busy with others
    families = detect_families(names)
    assert time.process_time() - started < 1.0
    assert len(names) == 30_000 and len(families) == 600
