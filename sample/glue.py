"""Part of the sample lake registered in AWS Glue, for crawling Glue without an AWS account.

Meant for a local endpoint such as a moto server (dummy credentials). It registers the three kinds of
table a real Glue catalog mixes:

- Iceberg tables created through pyiceberg's GlueCatalog, data and metadata on S3;
- Hive-style tables: Parquet files under ``dt=YYYY-MM-DD/`` folders, a StorageDescriptor with the Parquet
  SerDe, ``PartitionKeys`` and one Glue partition per folder with ``recordCount``/``totalSize``/``numFiles``;
  one unpartitioned CSV table;
- a ``VIRTUAL_VIEW`` with its SQL in ``ViewOriginalText``.

Rows come from ``sample.build.sample_tables`` so Glue and the local lake hold the same people and orders.
Registering again replaces what an earlier call registered (the databases and the bucket's objects).
"""

from __future__ import annotations

import io

import boto3
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pyiceberg.catalog.glue import GlueCatalog
from pyiceberg.schema import Schema
from pyiceberg.types import (
    DecimalType,
    IcebergType,
    ListType,
    StructType,
)

from catalog_ingest.crawlers.common import PII_PROPERTY
from sample.build import sample_tables
from sample.reference import ANCHOR
from sample.spec import TableSpec
from sample.tables import SPECS_BY_NAME

LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
"""A local endpoint accepts any keys; fixed ones keep the caller's real credentials out of the way."""

DATABASES = {
    "glue_raw": "Raw landings registered in Glue (Hive-style Parquet folders).",
    "glue_finance": "Finance tables in Glue: Iceberg refunds, FX rates as CSV, reporting views.",
    "glue_marketing": "Marketing dimensions in Glue (Iceberg).",
}
ICEBERG_TABLES = {"glue_finance.refunds": "finance.refunds", "glue_marketing.campaigns": "marketing.campaigns"}
HIVE_PARQUET_TABLES = {
    # Glue table: (sample table, timestamp column that names the dt partition)
    "glue_raw.events": ("raw.events", "event_time"),
    "glue_raw.orders": ("marts.orders", "order_ts"),
}
HIVE_DAYS = 30
"""Days of dt partitions kept in the Hive tables (the most recent ones)."""
CSV_TABLES = {"glue_finance.fx_rates_csv": "finance.fx_rates"}
VIEWS = {
    "glue_finance.refunds_by_region": (
        "Refunded USD per region and reason, from the Iceberg refunds table.",
        "SELECT region, reason, count(*) AS refunds, sum(amount_usd) AS refunded_usd "
        "FROM glue_finance.refunds GROUP BY region, reason",
        ["region", "reason", "refunds", "refunded_usd"],
    ),
}

PARQUET_STORAGE = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                  "Parameters": {"serialization.format": "1"}},
}
CSV_STORAGE = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                  "Parameters": {"field.delim": ",", "serialization.format": ","}},
}


def glue_catalog_properties(*, endpoint_url: str, region: str = "us-east-1", bucket: str = "lakescout-sample") -> dict:
    """pyiceberg GlueCatalog properties for a local endpoint (S3 region set: without it each call stalls)."""
    keys = LOCAL_CREDENTIALS
    return {
        "type": "glue",
        "glue.endpoint": endpoint_url, "glue.region": region,
        "glue.access-key-id": keys["aws_access_key_id"], "glue.secret-access-key": keys["aws_secret_access_key"],
        "s3.endpoint": endpoint_url, "s3.region": region,
        "s3.access-key-id": keys["aws_access_key_id"], "s3.secret-access-key": keys["aws_secret_access_key"],
        "warehouse": f"s3://{bucket}/iceberg/",
        "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO",
    }


def register_sample_in_glue(
    *, endpoint_url: str, region: str = "us-east-1", bucket: str = "lakescout-sample", seed: int = 7
) -> dict:
    """Register the sample Glue tables; returns what was registered (names, partition count, properties)."""
    glue = boto3.client("glue", endpoint_url=endpoint_url, region_name=region, **LOCAL_CREDENTIALS)
    s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name=region, **LOCAL_CREDENTIALS)
    _reset(glue, s3, bucket)
    for database, description in DATABASES.items():
        glue.create_database(DatabaseInput={
            "Name": database, "Description": description, "LocationUri": f"s3://{bucket}/{database}/"})

    sources = {*ICEBERG_TABLES.values(), *CSV_TABLES.values(), *(t for t, _ in HIVE_PARQUET_TABLES.values())}
    rows = sample_tables(sorted(sources), seed=seed)

    properties = glue_catalog_properties(endpoint_url=endpoint_url, region=region, bucket=bucket)
    catalog = GlueCatalog("glue", **properties)
    for glue_name, source in ICEBERG_TABLES.items():
        spec = SPECS_BY_NAME[source]
        table = catalog.create_table(glue_name, spec.schema, partition_spec=spec.partition_spec,
                                     properties=spec.properties)
        table.append(rows[source])

    partitions = 0
    for glue_name, (source, time_column) in HIVE_PARQUET_TABLES.items():
        partitions += _register_hive_parquet(glue, s3, bucket, glue_name, SPECS_BY_NAME[source], rows[source],
                                             time_column)
    for glue_name, source in CSV_TABLES.items():
        _register_csv(glue, s3, bucket, glue_name, SPECS_BY_NAME[source], rows[source])
    for glue_name, (description, sql, columns) in VIEWS.items():
        _register_view(glue, glue_name, description, sql, columns)

    return {
        "bucket": bucket,
        "databases": list(DATABASES),
        "iceberg_tables": list(ICEBERG_TABLES),
        "hive_tables": [*HIVE_PARQUET_TABLES, *CSV_TABLES],
        "views": list(VIEWS),
        "partitions": partitions,
        "catalog_properties": properties,
    }


def _reset(glue, s3, bucket: str) -> None:
    for database in DATABASES:
        try:
            glue.delete_database(Name=database)
        except glue.exceptions.EntityNotFoundException:
            pass
    try:
        s3.create_bucket(Bucket=bucket)
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})


def _hive_type(kind: IcebergType) -> str:
    if isinstance(kind, StructType):
        return "struct<" + ",".join(f"{f.name}:{_hive_type(f.field_type)}" for f in kind.fields) + ">"
    if isinstance(kind, ListType):
        return f"array<{_hive_type(kind.element_type)}>"
    if isinstance(kind, DecimalType):
        return f"decimal({kind.precision},{kind.scale})"
    return {"long": "bigint", "timestamptz": "timestamp"}.get(str(kind), str(kind))


def _glue_columns(schema: Schema) -> list[dict]:
    return [{"Name": f.name, "Type": _hive_type(f.field_type), **({"Comment": f.doc} if f.doc else {})}
            for f in schema.fields]


def _table_parameters(spec: TableSpec, classification: str, record_count: int) -> dict[str, str]:
    parameters = {"classification": classification, "recordCount": str(record_count), "EXTERNAL": "TRUE",
                  "owner": spec.owner}
    parameters.update({k: v for k, v in spec.properties.items() if k in ("tags", PII_PROPERTY)})
    return parameters


def _put(s3, bucket: str, key: str, body: bytes) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body)


def _register_hive_parquet(glue, s3, bucket: str, glue_name: str, spec: TableSpec, rows: pa.Table,
                           time_column: str) -> int:
    """One Parquet file per ``dt=`` folder for the last ``HIVE_DAYS`` days; returns the partition count."""
    database, name = glue_name.split(".")
    location = f"s3://{bucket}/hive/{database}/{name}/"
    day = pc.strftime(rows[time_column], format="%Y-%m-%d")
    first_day = str((ANCHOR - HIVE_DAYS * 86_400_000_000).astype("datetime64[D]"))
    partitions = []
    for dt in sorted(d for d in pc.unique(day).to_pylist() if d >= first_day):
        part = rows.filter(pc.equal(day, dt))
        buffer = io.BytesIO()
        pq.write_table(part, buffer)
        body = buffer.getvalue()
        _put(s3, bucket, f"hive/{database}/{name}/dt={dt}/part-00000.parquet", body)
        partitions.append({
            "Values": [dt],
            "StorageDescriptor": {"Columns": _glue_columns(spec.schema), "Location": f"{location}dt={dt}/",
                                  **PARQUET_STORAGE},
            "Parameters": {"classification": "parquet", "recordCount": str(part.num_rows),
                           "totalSize": str(len(body)), "sizeKey": str(len(body)), "numFiles": "1"},
        })
    glue.create_table(DatabaseName=database, TableInput={
        "Name": name, "Description": spec.comment or "", "Owner": spec.owner, "TableType": "EXTERNAL_TABLE",
        "Parameters": _table_parameters(spec, "parquet", sum(int(p["Parameters"]["recordCount"]) for p in partitions)),
        "StorageDescriptor": {"Columns": _glue_columns(spec.schema), "Location": location, **PARQUET_STORAGE},
        "PartitionKeys": [{"Name": "dt", "Type": "string", "Comment": f"Date of {time_column} (UTC), yyyy-mm-dd"}],
    })
    for start in range(0, len(partitions), 100):  # the API takes at most 100 per call
        glue.batch_create_partition(DatabaseName=database, TableName=name,
                                    PartitionInputList=partitions[start:start + 100])
    return len(partitions)


def _register_csv(glue, s3, bucket: str, glue_name: str, spec: TableSpec, rows: pa.Table) -> None:
    database, name = glue_name.split(".")
    buffer = io.BytesIO()
    pacsv.write_csv(rows, buffer, pacsv.WriteOptions(quoting_style="needed"))
    _put(s3, bucket, f"hive/{database}/{name}/{name}.csv", buffer.getvalue())
    parameters = {**_table_parameters(spec, "csv", rows.num_rows), "skip.header.line.count": "1"}
    glue.create_table(DatabaseName=database, TableInput={
        "Name": name, "Description": f"{spec.comment} CSV export for spreadsheet users.", "Owner": spec.owner,
        "TableType": "EXTERNAL_TABLE", "Parameters": parameters,
        "StorageDescriptor": {"Columns": _glue_columns(spec.schema), "Location": f"s3://{bucket}/hive/{database}/{name}/",
                              **CSV_STORAGE},
    })


def _register_view(glue, glue_name: str, description: str, sql: str, columns: list[str]) -> None:
    database, name = glue_name.split(".")
    glue.create_table(DatabaseName=database, TableInput={
        "Name": name, "Description": description, "TableType": "VIRTUAL_VIEW",
        "ViewOriginalText": sql, "ViewExpandedText": sql,
        "Parameters": {"presto_view": "false", "comment": description},
        "StorageDescriptor": {"Columns": [{"Name": c, "Type": "string"} for c in columns]},
    })
