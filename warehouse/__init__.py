"""The carelink warehouse: schema (SQLAlchemy + Alembic), nightly staging loads and reads.

One SQL database reached by a SQLAlchemy URL: a DuckDB file by default, PostgreSQL in
production. The public functions below are what `carelink.pipeline` and the CLI call.
"""

from __future__ import annotations

from warehouse.load import (
    StageResult,
    append_rows,
    gp_register_sizes,
    keep_linkage_start,
    make_engine,
    marts_loaded_by,
    nights_run,
    query,
    query_frame,
    read_linkage_state,
    read_source_state,
    read_staging,
    record_blocked,
    record_source_failure,
    replace_rows,
    stage_extract,
    table_row_history,
)
from warehouse.migrate import (
    WarehouseBehind,
    current_revision,
    ensure_current,
    head_revision,
    upgrade_engine,
)
from warehouse.nightly import LoadInputMissing, load_night
from warehouse.roles import create_roles


def upgrade(url: str) -> str:
    """Apply every migration up to head to the warehouse at `url`; returns the revision."""
    engine = make_engine(url)
    try:
        return upgrade_engine(engine)
    finally:
        engine.dispose()


__all__ = [
    "LoadInputMissing",
    "StageResult",
    "WarehouseBehind",
    "load_night",
    "append_rows",
    "create_roles",
    "current_revision",
    "ensure_current",
    "head_revision",
    "make_engine",
    "marts_loaded_by",
    "nights_run",
    "query",
    "query_frame",
    "keep_linkage_start",
    "read_linkage_state",
    "read_source_state",
    "read_staging",
    "record_blocked",
    "record_source_failure",
    "replace_rows",
    "stage_extract",
    "gp_register_sizes",
    "table_row_history",
    "upgrade",
    "upgrade_engine",
]
