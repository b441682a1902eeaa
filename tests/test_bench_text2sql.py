"""The text-to-SQL bench's own parts: literal pools from gold SQL, the seeded rows, gold SQL in DuckDB, the judge."""

from __future__ import annotations

import duckdb

from bench.bench_pooled import Question, iceberg_schema
from bench.bench_text2sql import judge
from bench.text2sql_lake import ROWS, DatabaseRows, compared_literals, gold_duckdb, gold_tree, left_out

SINGER = {"db": "music", "table": "singer", "primary_key": ["Singer_ID"],
          "columns": [{"name": "Singer_ID", "type": "number"}, {"name": "Name", "type": "text"},
                      {"name": "Country", "type": "text"}, {"name": "Age", "type": "number"}]}  # fmt: skip
SONG = {"db": "music", "table": "song", "primary_key": ["Song_ID"],
        "foreign_keys": [{"column": "Singer_ID", "ref_table": "singer", "ref_column": "Singer_ID"}],
        "columns": [{"name": "Song_ID", "type": "number"}, {"name": "Singer_ID", "type": "number"},
                    {"name": "Title", "type": "text"}]}  # fmt: skip
GOLD = [
    'SELECT count(*) FROM singer WHERE country = "France" AND age > 40',
    "SELECT T2.title FROM singer AS T1 JOIN song AS T2 ON T1.singer_id = T2.singer_id WHERE T1.name LIKE '%Ann%'",
    "SELECT name FROM singer WHERE country IN ('Peru', 'Chile')",
]
COLUMNS = {"singer": {"singer_id", "name", "country", "age"}, "song": {"song_id", "singer_id", "title"}}


def music() -> DatabaseRows:
    return DatabaseRows.of("music", [SINGER, SONG], GOLD)


def test_literals_are_found_per_column_through_aliases_quotes_like_and_in():
    found = {}
    for sql in GOLD:
        for key, values in compared_literals(gold_tree(sql, COLUMNS["singer"] | COLUMNS["song"]), COLUMNS).items():
            found.setdefault(key, set()).update(values)
    assert found[("singer", "country")] == {"France", "Peru", "Chile"}
    assert found[("singer", "age")] == {40.0}
    assert found[("singer", "name")] == {"Ann"}  # the LIKE pattern as a value it matches
    assert ("song", "title") not in found


def test_rows_hold_the_literals_so_filters_select_some_rows_but_not_all():
    db = music()
    singer = db.rows(SINGER, iceberg_schema(SINGER)).to_pylist()
    assert len(singer) == ROWS
    for country in ("France", "Peru", "Chile"):
        assert 0 < sum(row["Country"] == country for row in singer) < ROWS
    assert 0 < sum(row["Age"] > 40 for row in singer) < ROWS
    assert 0 < sum("Ann" in row["Name"] for row in singer) < ROWS


def test_keys_are_unique_and_foreign_keys_match_and_the_rows_are_seeded():
    db = music()
    singers = [row["Singer_ID"] for row in db.rows(SINGER, iceberg_schema(SINGER)).to_pylist()]
    songs = db.rows(SONG, iceberg_schema(SONG))
    assert len(set(singers)) == len(singers)
    assert set(songs.column("Singer_ID").to_pylist()) <= set(singers)
    assert songs.equals(music().rows(SONG, iceberg_schema(SONG)))


def test_gold_sql_runs_in_duckdb_as_sqlite_reads_it():
    db = music()
    connection = duckdb.connect()
    for table in (SINGER, SONG):
        connection.register(table["table"], db.rows(table, iceberg_schema(table)))
    sql, ordered = gold_duckdb(GOLD[0], COLUMNS["singer"])
    assert "'France'" in sql and not ordered
    assert connection.execute(sql).fetchone()[0] >= 0
    grouped, ordered = gold_duckdb("SELECT name, count(*) FROM singer AS T1 JOIN song AS T2 ON T1.singer_id = "
                                   "T2.singer_id GROUP BY T1.singer_id ORDER BY count(*) DESC", COLUMNS["singer"])
    assert ordered and "ANY_VALUE(name)" in grouped
    assert len(connection.execute(grouped).fetchall()) <= ROWS  # SQLite's bare column runs in DuckDB


def test_the_left_out_databases_are_a_fixed_share():
    names = {f"db_{i}" for i in range(400)}
    chosen = left_out(names)
    assert chosen == left_out(names)
    assert 60 < len(chosen) < 140


def test_the_held_back_split_is_fixed_and_about_thirty_percent():
    questions = [Question("spider1", f"dev_{i:04}", "q", "", frozenset()) for i in range(1000)]
    held = [q.id for q in questions if q.held_back]
    assert 250 < len(held) < 350
    assert held == [q.id for q in questions if q.held_back]


def answer(text: str, rows: list | None = None, unaccounted: list[str] | None = None) -> dict:
    result = None if rows is None else {"columns": ["a", "b"][: len(rows[0]) if rows else 1], "rows": rows}
    return {"answer": text, "result": result, "grounding": {"accounted": [], "unaccounted": unaccounted or []}}


def test_the_judge_compares_rows_as_multisets_unless_the_gold_orders():
    gold = {"columns": ["x", "y"], "rows": [["a", 1], ["b", 2]]}
    assert judge(answer("Here.", [[2, "b"], [1, "a"]]), (gold, False))[0] == "correct"
    assert judge(answer("Here.", [[2, "b"], [1, "a"]]), (gold, True))[0] == "wrong_confident"
    assert judge(answer("Here.", [[1, "a"]]), (gold, False))[0] == "wrong_confident"
    assert judge(answer("Here.", [["a", 1], ["b", 2], ["b", 2]]), (gold, False))[0] == "wrong_confident"


def test_the_judge_reads_partial_declined_and_unanswerable_answers():
    gold = {"columns": ["n"], "rows": [[3]]}
    assert judge(answer("Partial answer: the SQL below is a draft", [[60]]), (gold, False))[0] == "partial"
    assert judge(answer("Counts.", [[60]], unaccounted=["failed"]), (gold, False))[0] == "partial"
    assert judge(answer("I cannot find a table about that."), (gold, False))[0] == "declined"
    assert judge(answer("```sql\nSELECT x FROM t WHERE x NOT IN (1)\n```", [[3]]), (gold, False))[0] == "correct"
    assert judge(answer("The best match is `a.b`."), (gold, False))[0] == "no_result"
    assert judge(answer("There are 60.", [[60]]), None)[0] == "wrong_confident"
