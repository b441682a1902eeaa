"""Catalog crawlers: one per backend (Iceberg through pyiceberg, Glue through boto3), each turning tables into records."""
