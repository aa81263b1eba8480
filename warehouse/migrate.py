"""Schema migrations (Alembic), configured in code.

Why no alembic.ini: the warehouse URL comes from carelink's settings, and the same package
must migrate a DuckDB file and a PostgreSQL database, so `upgrade(url)` builds the Alembic
Config itself and hands Alembic an open connection.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.ddl.impl import DefaultImpl
from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_SCHEMA = "meta"
VERSION_TABLE = "alembic_version"


class DuckDBImpl(DefaultImpl):
    """Alembic knows no "duckdb" dialect; DuckDB's DDL is transactional like PostgreSQL's."""

    __dialect__ = "duckdb"
    transactional_ddl = True


class WarehouseBehind(Exception):
    """The warehouse schema is older (or newer, or absent) than this carelink expects; the
    message says which, since the remedy differs (upgrade, or deploy the newer release)."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest migration shipped with this carelink."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the warehouse is at, or None for an empty (never migrated) database."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(VERSION_TABLE, schema=VERSION_SCHEMA):
            return None
        return conn.execute(
            sa.text(f"SELECT version_num FROM {VERSION_SCHEMA}.{VERSION_TABLE}")
        ).scalar()


def _ahead_message(current: str, head: str) -> str:
    return (f"warehouse schema is at revision {current}, which this carelink does not ship "
            f"(its newest is {head}): the warehouse was migrated by a newer release. Deploy "
            "that release again; do not upgrade or downgrade from this one")


def _known(revision: str) -> bool:
    """Whether this code ships `revision` (a newer release's revision is unknown here)."""
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - Alembic raises several kinds for an unknown id
        return False


def upgrade_engine(engine: sa.Engine, revision: str = "head") -> str:
    """Apply migrations in one transaction (both engines have transactional DDL, so a failed
    migration leaves the warehouse as it was).

    A warehouse at a revision this code does not ship was migrated by a newer release; it is
    refused before Alembic would fail on it with a traceback.
    """
    current = current_revision(engine)
    if current is not None and not _known(current):
        raise WarehouseBehind(_ahead_message(current, head_revision()))
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    current = current_revision(engine)
    assert current is not None
    return current


def ensure_current(engine: sa.Engine) -> None:
    """Refuse to run a night against a warehouse whose schema does not match this code:
    loading into the wrong columns is worse than stopping with a clear instruction."""
    current, head = current_revision(engine), head_revision()
    if current is not None and current != head and not _known(current):
        raise WarehouseBehind(_ahead_message(current, head))
    if current != head:
        shown = current or "none (empty warehouse)"
        raise WarehouseBehind(
            f"warehouse schema is at revision {shown} but this carelink needs {head}: "
            "run `carelink warehouse upgrade`"
        )
