"""Fixtures shared by every test folder.

PostgreSQL tests use CARELINK_TEST_POSTGRES_URL (default: the machine's service at
127.0.0.1:5432) and skip, saying why, only when none is reachable.
"""

from __future__ import annotations

import os

import pytest

POSTGRES_URL = os.environ.get(
    "CARELINK_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """A reachable PostgreSQL server URL, or skip with the reason."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable here"
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL.split('@')[-1]}: {exc}")
    return POSTGRES_URL
