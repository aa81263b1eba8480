"""Alembic environment for the carelink warehouse.

Configured in code (see `warehouse.migrate`): the caller passes an open connection in
`config.attributes["connection"]`, so the same migrations run on a DuckDB file and on
PostgreSQL. The version table lives in schema `meta` beside the other bookkeeping, so the
analyst-facing schemas stay free of pipeline internals.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

import warehouse.migrate  # noqa: F401 - registers the DuckDB dialect impl with alembic
from warehouse.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "carelink migrations run only through warehouse.upgrade(url) "
        "(an open connection is expected in config.attributes['connection'])"
    )

# The version table's schema has to exist before alembic looks for the table.
connection.execute(sa.text("CREATE SCHEMA IF NOT EXISTS meta"))

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table_schema="meta",
    transactional_ddl=True,
)

with context.begin_transaction():
    context.run_migrations()
