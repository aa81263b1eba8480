"""Warehouse test fixtures: every test runs on a fresh DuckDB file and, when the server is
reachable, on a fresh PostgreSQL database (created and dropped around the test)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path) -> str:
    """An empty warehouse database URL on each engine."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'wh' / 'warehouse.duckdb'}"
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    name = f"carelink_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def engine(warehouse_url):
    """An engine on a migrated warehouse."""
    import warehouse

    warehouse.upgrade(warehouse_url)
    eng = warehouse.make_engine(warehouse_url)
    yield eng
    eng.dispose()
