"""A deterministic sample lake for demos, evals, benchmarks and tests, built without any cloud.

An e-commerce and subscription company's Iceberg catalog on local disk, and part of it registered in Glue
(a moto server). The modules, from the bottom up:

- ``reference``: the calendar and the fixed vocabularies (countries, products, statuses, ...);
- ``generate``: the seeded ``World`` (random streams, shared entities, running totals) and column helpers;
- ``dimensions``, ``facts``, ``aggregates``: the generators of each kind of table;
- ``spec``: the table-spec language (columns, partition expressions, metadata conventions);
- ``history``: the evolution scenarios (schema and spec changes, a delete, an overwrite);
- ``tables``: every table declared once;
- ``build``: building the lake (``build_sample_lake``) and opening it;
- ``glue``: registering part of it in Glue.

It sits above ``catalog_ingest`` (it uses the settings' catalog layout and the crawler's PII property);
nothing in ``catalog_ingest``, ``agent`` or ``api`` imports it.
"""
