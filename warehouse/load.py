"""Writing to and reading from the warehouse.

Design choices and why:
- Every night's write for one source (quarantine rows, staging rows, source state, ledger row)
  happens in ONE transaction, so a failure half way leaves the warehouse exactly as the
  previous night left it and the night can simply be rerun.
- DataFrames are written in bulk with each engine's fast path (DuckDB scans a registered
  DataFrame; PostgreSQL uses COPY), because a provider snapshot is ~150k rows and row-by-row
  INSERTs would take minutes.
- Values are conformed to the target column's type first, so NaN/NaT/pd.NA become NULL and a
  float-typed integer column does not trip either engine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from carelink.private import restrict
from sources.result import QuarantinedRow, SourceExtract
from sources.tables import TABLES_BY_NAME, TABLES_BY_SOURCE, StagedTable
from warehouse.schema import SCHEMAS, metadata, table

_CHUNK = 10_000


@dataclass(frozen=True)
class StageResult:
    status: str
    rows_written: int


# --- engines ----------------------------------------------------------------------------------


def make_engine(url: str) -> sa.Engine:
    """An Engine for a warehouse URL. A DuckDB file's folder is created on first use, and the
    file (staging and linkage hold identifiers; a file has no roles) is kept owner-only."""
    parsed = sa.make_url(url)
    engine = sa.create_engine(parsed)
    if parsed.get_backend_name() == "duckdb" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)

        @sa.event.listens_for(engine, "connect")
        def _owner_only(*_args: object) -> None:
            for file in (path, path.with_name(path.name + ".wal")):
                if file.exists():
                    restrict(file)
    return engine


# --- bulk writes ------------------------------------------------------------------------------


def _conform_for_write(df: pd.DataFrame, tbl: sa.Table) -> pd.DataFrame:
    """The frame's columns that the table has, as Python objects fit for the column types,
    with every kind of missing value as None."""
    unknown = [c for c in df.columns if c not in tbl.c]
    if unknown:
        raise ValueError(f"{tbl.fullname} has no column(s) {unknown}")
    out = {}
    for col in tbl.columns:
        if col.name not in df.columns:
            continue
        s = df[col.name]
        if isinstance(col.type, sa.Integer):
            s = pd.to_numeric(s).astype("Int64")
        elif isinstance(col.type, sa.Boolean):
            s = s.astype("boolean")
        elif isinstance(col.type, sa.DateTime):
            s = pd.to_datetime(s)
            s = pd.Series(s.dt.to_pydatetime(), index=s.index, dtype=object)
        elif isinstance(col.type, sa.Date):
            if pd.api.types.is_datetime64_any_dtype(s):
                s = s.dt.date
            elif s.dtype == object:
                s = s.map(lambda v: v.date() if isinstance(v, datetime) else v)
        elif isinstance(col.type, sa.Numeric):
            s = pd.to_numeric(s)
        s = s.astype(object)
        out[col.name] = s.where(pd.notna(s), None)
    return pd.DataFrame(out, index=df.index)


def _sql_type(col: sa.Column, dialect: sa.Dialect) -> str:
    return col.type.compile(dialect=dialect)


def _insert_frame(conn: sa.Connection, tbl: sa.Table, df: pd.DataFrame) -> int:
    """Append a DataFrame to a table inside the caller's transaction."""
    if df is None or len(df) == 0:
        return 0
    frame = _conform_for_write(df, tbl)
    cols = list(frame.columns)
    if not cols:
        return 0
    name = _qualified(tbl)
    col_list = ", ".join(f'"{c}"' for c in cols)
    dialect = conn.dialect.name
    if dialect == "duckdb":
        raw = conn.connection.driver_connection
        view = "_carelink_frame"
        raw.register(view, frame)
        try:
            select = ", ".join(
                f'CAST("{c}" AS {_sql_type(tbl.c[c], conn.dialect)})' for c in cols
            )
            raw.execute(f"INSERT INTO {name} ({col_list}) SELECT {select} FROM {view}")
        finally:
            raw.unregister(view)
    elif dialect == "postgresql" and conn.dialect.driver == "psycopg":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            with cur.copy(f"COPY {name} ({col_list}) FROM STDIN") as copy:
                for row in frame.itertuples(index=False, name=None):
                    copy.write_row(row)
    else:
        records = frame.to_dict("records")
        for start in range(0, len(records), _CHUNK):
            conn.execute(tbl.insert(), records[start:start + _CHUNK])
    return len(frame)


def _qualified(tbl: sa.Table) -> str:
    return f"{tbl.schema}.{tbl.name}" if tbl.schema else tbl.name


def _delete_matching(conn: sa.Connection, tbl: sa.Table, keys: pd.DataFrame) -> None:
    """Delete the rows whose key columns match any row of `keys`, set-based (a temporary key
    table and one DELETE), since per-key DELETEs on an unindexed staging table are quadratic."""
    if len(keys) == 0:
        return
    key_cols = list(keys.columns)
    tmp = sa.Table(
        "_carelink_keys", sa.MetaData(),
        *[sa.Column(c, tbl.c[c].type) for c in key_cols],
        prefixes=["TEMPORARY"],
    )
    conn.execute(sa.text("DROP TABLE IF EXISTS _carelink_keys"))
    tmp.create(conn)
    try:
        _insert_frame(conn, tmp, keys.drop_duplicates())
        match = " AND ".join(f'k."{c}" = {_qualified(tbl)}."{c}"' for c in key_cols)
        conn.execute(sa.text(
            f"DELETE FROM {_qualified(tbl)} WHERE EXISTS "
            f"(SELECT 1 FROM _carelink_keys AS k WHERE {match})"
        ))
    finally:
        conn.execute(sa.text("DROP TABLE IF EXISTS _carelink_keys"))


def append_rows(engine: sa.Engine, qualified_table: str, df: pd.DataFrame) -> int:
    """Append a frame to a warehouse table (e.g. "dq.validation_results"); returns rows."""
    with engine.begin() as conn:
        return _insert_frame(conn, table(qualified_table), df)


def replace_rows(
    conn: sa.Connection,
    qualified_table: str,
    df: pd.DataFrame,
    where: Mapping[str, Any] | None = None,
) -> int:
    """Inside the caller's transaction: delete the rows matching `where` (column = value for
    each item; every row when None) and insert `df`. Returns rows inserted."""
    tbl = table(qualified_table)
    stmt = tbl.delete()
    for column, value in (where or {}).items():
        stmt = stmt.where(tbl.c[column] == value)
    conn.execute(stmt)
    return _insert_frame(conn, tbl, df)


# --- source state and ledger ------------------------------------------------------------------


def read_source_state(engine: sa.Engine, source: str) -> dict[str, Any]:
    """The bookkeeping the last successful night left for a source ({} before the first)."""
    with engine.connect() as conn:
        return _read_state(conn, source)


def _read_state(conn: sa.Connection, source: str) -> dict[str, Any]:
    tbl = table("meta.source_state")
    text = conn.execute(sa.select(tbl.c.state_json).where(tbl.c.source == source)).scalar()
    return json.loads(text) if text else {}


def _merge_state(stored: dict[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """New values win, except the GP "files" map, which accumulates: a file seen on an earlier
    night must stay seen even when tonight's extract only lists tonight's files."""
    merged = dict(stored)
    for key, value in new.items():
        if key == "files" and isinstance(value, Mapping):
            merged["files"] = {**(stored.get("files") or {}), **value}
        else:
            merged[key] = value
    return merged


def _write_state(conn: sa.Connection, extract: SourceExtract, run_id: str) -> None:
    state = _merge_state(_read_state(conn, extract.source), extract.state)
    conn.execute(
        sa.text(
            "INSERT INTO meta.source_state (source, state_json, extract_date, updated_run_id) "
            "VALUES (:source, :state_json, :extract_date, :run_id) "
            "ON CONFLICT (source) DO UPDATE SET state_json = EXCLUDED.state_json, "
            "extract_date = EXCLUDED.extract_date, updated_run_id = EXCLUDED.updated_run_id"
        ),
        {
            "source": extract.source,
            "state_json": json.dumps(state, sort_keys=True, default=str),
            "extract_date": extract.extract_date,
            "run_id": run_id,
        },
    )


def _write_ledger(
    conn: sa.Connection, extract: SourceExtract, run_id: str, status: str, message: str
) -> None:
    files = extract.files
    counts = {name: len(df) for name, df in extract.tables.items()}
    row = {
        "extract_date": extract.extract_date,
        "source": extract.source,
        "run_id": run_id,
        "status": status,
        "rows_read": sum(f.rows_read for f in files),
        # What is in staging from tonight: nothing for a blocked or rejected source, whatever
        # its files would have given.
        "rows_staged": 0 if status != "extracted" else (
            sum(f.rows_staged for f in files) if files else extract.rows_staged),
        "rows_quarantined": (
            sum(f.rows_quarantined for f in files) if files else len(extract.quarantine)
        ),
        "table_counts": json.dumps(counts, sort_keys=True),
        "message": message or "",
        "recorded_at": datetime.now(UTC).replace(tzinfo=None),
    }
    cols = list(row)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c not in ("extract_date", "source"))
    conn.execute(
        sa.text(
            f"INSERT INTO meta.run_ledger ({', '.join(cols)}) "
            f"VALUES ({', '.join(':' + c for c in cols)}) "
            f"ON CONFLICT (extract_date, source) DO UPDATE SET {updates}"
        ),
        row,
    )


def _write_quarantine(conn: sa.Connection, extract: SourceExtract, run_id: str) -> None:
    """Quarantine rows of this run and source, replaced so a retried task does not double them."""
    frame = pd.DataFrame(
        [
            {"run_id": run_id, "source": q.source or extract.source, "file": q.file,
             "row_number": q.row_number, "reason": q.reason}
            for q in extract.quarantine
        ],
        columns=["run_id", "source", "file", "row_number", "reason"],
    )
    replace_rows(conn, "dq.quarantine", frame, where={"run_id": run_id, "source": extract.source})


# --- staging ----------------------------------------------------------------------------------


def _stage_tables(conn: sa.Connection, extract: SourceExtract) -> int:
    source = extract.source
    specs = {t.name: t for t in TABLES_BY_SOURCE[source]}
    unknown = sorted(set(extract.tables) - set(specs))
    if unknown:
        raise ValueError(f"{source} extract has tables that are not {source}'s: {unknown}")
    written = 0
    if source == "provider":
        # A provider delivery is a full snapshot: it replaces everything the provider said.
        for name in specs:
            conn.execute(table(f"staging.{name}").delete())
        for name, df in extract.tables.items():
            written += _insert_frame(conn, table(f"staging.{name}"), df)
    elif source == "las":
        # LAS is incremental: upsert by business key, then apply every known merge.
        for name, df in extract.tables.items():
            tbl = table(f"staging.{name}")
            _delete_matching(conn, tbl, df[list(specs[name].key)])
            written += _insert_frame(conn, tbl, df)
        # From the whole merge table, not only tonight's rows: a merge delivered a night
        # before the old person record must still apply when that record arrives.
        conn.execute(sa.text(
            "UPDATE staging.las_person SET merged_into = m.new_person_id "
            "FROM staging.las_person_merge AS m "
            "WHERE staging.las_person.person_id = m.old_person_id"
        ))
    elif source == "gp":
        # Each practice's newest register replaces that practice's rows, and only those.
        tbl = table("staging.gp_register_entry")
        df = extract.tables.get("gp_register_entry")
        practices = set(extract.state.get("practices_replaced") or [])
        if df is not None and len(df):
            practices |= set(df["practice_ods"].dropna().astype(str))
        if practices:
            conn.execute(tbl.delete().where(tbl.c.practice_ods.in_(sorted(practices))))
        if df is not None:
            written += _insert_frame(conn, tbl, df)
    else:
        raise ValueError(f"unknown source {source!r}")
    return written


def stage_extract(engine: sa.Engine, extract: SourceExtract, run_id: str) -> StageResult:
    """Write one source's night to the warehouse in one transaction: its quarantine rows,
    (when extracted) its staging rows and source state, and its ledger row. A rejected or
    absent extract records only the ledger row and quarantine: staging keeps the previous
    night's data and the state is unchanged, so the next night tries again."""
    with engine.begin() as conn:
        _write_quarantine(conn, extract, run_id)
        written = 0
        if extract.status == "extracted":
            written = _stage_tables(conn, extract)
            _write_state(conn, extract, run_id)
        _write_ledger(conn, extract, run_id, extract.status, extract.message)
    return StageResult(status=extract.status, rows_written=written)


def record_blocked(
    engine: sa.Engine, extract: SourceExtract, run_id: str, message: str
) -> None:
    """A quality gate stopped this source: ledger "blocked" plus its quarantine rows; nothing
    is staged and the state is unchanged, so tomorrow re-reads what tonight could not load.

    `dq.quarantine` holds every row or file not loaded: the rows quarantined on their own, and
    each file whose good rows the block kept out (null row number, the reason)."""
    held = [QuarantinedRow(extract.source, f.file, None,
                           f"not loaded: {extract.source} blocked by a critical expectation "
                           f"tonight ({f.rows_staged} rows; see dq.validation_results)")
            for f in extract.files if f.rows_staged]
    with engine.begin() as conn:
        _write_quarantine(conn, replace(extract, quarantine=[*extract.quarantine, *held]),
                          run_id)
        _write_ledger(conn, extract, run_id, "blocked", message)


def record_source_failure(engine: sa.Engine, source: str, extract_date: date, run_id: str,
                          status: str, message: str) -> None:
    """A source that could not be extracted at all (unreachable: "failed"; a schema change:
    "rejected"): its ledger row only, so the night's summary and report say why it is
    missing. Staging and the state are untouched; the next night reads what this one missed."""
    with engine.begin() as conn:
        _write_ledger(conn, SourceExtract(source, extract_date, "rejected"), run_id, status,
                      message)


def nights_run(engine: sa.Engine) -> set[date]:
    """Every extract date the run ledger holds (any source, any outcome): the nights that ran."""
    ledger = table("meta.run_ledger")
    with engine.connect() as conn:
        dates = conn.execute(sa.select(ledger.c.extract_date).distinct()).scalars().all()
    return {d for d in dates if d is not None}


def table_row_history(engine: sa.Engine, source: str, before: date) -> dict[str, list[int]]:
    """Per staged table of `source`, the rows staged on each earlier extracted night, oldest
    first (the volume expectations compare tonight with these)."""
    ledger = table("meta.run_ledger")
    stmt = (
        sa.select(ledger.c.table_counts)
        .where(ledger.c.source == source, ledger.c.status == "extracted",
               ledger.c.extract_date < before)
        .order_by(ledger.c.extract_date)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).scalars().all()
    history: dict[str, list[int]] = {t.name: [] for t in TABLES_BY_SOURCE[source]}
    for text in rows:
        counts = json.loads(text) if text else {}
        for name in history:
            history[name].append(int(counts.get(name, 0)))
    return history


def gp_register_sizes(engine: sa.Engine) -> dict[str, int]:
    """Entries per practice in the staged GP registers (each practice's current register,
    before tonight replaces any): what a practice's new register is compared with."""
    tbl = table("staging.gp_register_entry")
    stmt = sa.select(tbl.c.practice_ods, sa.func.count()).group_by(tbl.c.practice_ods)
    with engine.connect() as conn:
        return {str(ods): int(n) for ods, n in conn.execute(stmt).all() if ods is not None}


# --- reads ------------------------------------------------------------------------------------


def conform_staged(df: pd.DataFrame, spec: StagedTable) -> pd.DataFrame:
    """Give a frame read back from SQL the same pandas types the source readers produce
    (Int64, boolean, float64, datetime64, date objects, str objects), whichever engine."""
    out = pd.DataFrame(index=df.index)
    for col in spec.columns:
        s = df[col.name] if col.name in df.columns else pd.Series([None] * len(df), dtype=object)
        if col.type == "integer":
            s = pd.to_numeric(s).astype("Int64")
        elif col.type == "boolean":
            s = s.astype("boolean")
        elif col.type == "numeric":
            s = pd.to_numeric(s).astype("float64")
        elif col.type == "timestamp":
            s = pd.to_datetime(s)
        elif col.type == "date":
            if pd.api.types.is_datetime64_any_dtype(s):
                s = s.dt.date
            s = s.astype(object)
            s = s.where(pd.notna(s), None)
        else:
            s = s.astype(object)
            s = s.where(pd.notna(s), None)
        out[col.name] = s.values
    return out.reset_index(drop=True)


def query_frame(engine: sa.Engine, sql: str, params: Mapping[str, Any] | None = None
                ) -> pd.DataFrame:
    """Run a query (":name" parameters) and return the result as a DataFrame."""
    with engine.connect() as conn:
        result = conn.execute(sa.text(sql), dict(params or {}))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def marts_loaded_by(engine: sa.Engine) -> tuple[Any, str | None]:
    """(snapshot date, run id) of the night the marts hold, (None, None) before any load:
    the night's report and summary compare it with their own run, so a night whose load
    failed never presents the night before's figures as its own."""
    latest = query_frame(engine, "select snapshot_date, run_id from marts.carers_known"
                                 " order by snapshot_date desc limit 1")
    return (latest["snapshot_date"].iloc[0], latest["run_id"].iloc[0]) if len(latest) else (
        None, None)


def query(url: str, sql: str) -> pd.DataFrame:
    """`carelink sql`: one query against the warehouse at `url`."""
    engine = make_engine(url)
    try:
        return query_frame(engine, sql)
    finally:
        engine.dispose()


def read_staging(engine: sa.Engine) -> dict[str, pd.DataFrame]:
    """Every staging table, typed like the extract contract."""
    out = {}
    with engine.connect() as conn:
        for name, spec in TABLES_BY_NAME.items():
            result = conn.execute(sa.text(f"SELECT * FROM staging.{name}"))
            raw = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
            out[name] = conform_staged(raw, spec)
    return out


# meta.source_state row naming the newest night whose linkage is loaded.
LINKAGE_STATE = "linkage"
_KEPT = {"person_xref": "source_record_key, person_key, run_id",
         "person_key_history": "retired_key, surviving_key, run_id",
         "person_key_dormant": "source_record_key, person_key, since, run_id"}


def _linkage_night(conn: sa.Connection) -> date | None:
    tbl = table("meta.source_state")
    return conn.execute(sa.select(tbl.c.extract_date)
                        .where(tbl.c.source == LINKAGE_STATE)).scalar()


def keep_linkage_start(conn: sa.Connection, extract_date: date, run_id: str) -> None:
    """In the load's transaction, before the linkage tables are replaced: on a night's first
    load, what they hold (the night before's keys) is kept as that night's starting point.
    A rerun of the night keeps the starting point its first run kept."""
    if _linkage_night(conn) == extract_date:
        return
    for name, columns in _KEPT.items():
        conn.execute(sa.text(f"DELETE FROM linkage.{name}_before_night"))
        conn.execute(sa.text(f"INSERT INTO linkage.{name}_before_night ({columns}) "
                             f"SELECT {columns} FROM linkage.{name}"))
    conn.execute(sa.text(
        "INSERT INTO meta.source_state (source, state_json, extract_date, updated_run_id) "
        "VALUES (:source, '{}', :extract_date, :run_id) ON CONFLICT (source) DO UPDATE SET "
        "extract_date = EXCLUDED.extract_date, updated_run_id = EXCLUDED.updated_run_id"),
        {"source": LINKAGE_STATE, "extract_date": extract_date, "run_id": run_id})


def read_linkage_state(engine: sa.Engine, extract_date: date | None = None
                       ) -> dict[str, pd.DataFrame]:
    """The linkage state night `extract_date` starts from, for key stability: the tables as
    last loaded, or, when that night is the one last loaded (a rerun, say after a re-sent
    delivery), as they were before its first run, so the rerun assigns keys as one run
    would and a retirement made by the superseded run is not kept."""
    out = {}
    with engine.connect() as conn:
        rerun = extract_date is not None and _linkage_night(conn) == extract_date
        for name in (*_KEPT, "caring_relationship"):
            qualified = (f"linkage.{name}_before_night" if rerun and name in _KEPT
                         else f"linkage.{name}")
            result = conn.execute(sa.text(f"SELECT * FROM {qualified}"))
            out[name] = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return out


__all__ = [
    "SCHEMAS", "StageResult", "append_rows", "conform_staged", "make_engine", "marts_loaded_by",
    "keep_linkage_start", "metadata", "query", "query_frame", "read_linkage_state",
    "read_source_state",
    "read_staging", "record_blocked", "replace_rows", "stage_extract", "table_row_history",
]
