"""The night's load: linkage tables, dimensions, facts and marts in one transaction.

Inputs are the files the link and check tasks left in the night's work folder; nothing is
written unless everything is, so a failure mid-load leaves the warehouse as the previous
night left it, and rerunning a night replaces exactly that night's results.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from warehouse.dimensional import build_dimensional
from warehouse.load import keep_linkage_start, read_staging, replace_rows
from warehouse.marts import build_marts
from warehouse.migrate import ensure_current
from warehouse.schema import DIMENSIONAL, table

log = logging.getLogger(__name__)

LINKAGE_TABLES = ("person_xref", "person_key_history", "person_key_dormant",
                  "caring_relationship")
CHECK_TABLES = ("gp_register_staleness", "gp_register_practice_summary",
                "star_bias_practitioner", "star_score_flags", "service_contact")
# Marts that keep one set of rows per snapshot date (history); the rest are current-state.
DATED_MARTS = {"marts.carers_known": "snapshot_date"}


class LoadInputMissing(RuntimeError):
    """The night's linkage outputs are not there: the link task did not finish."""


def read_parquet_folder(folder: Path, names: tuple[str, ...],
                        required: bool) -> dict[str, pd.DataFrame]:
    out = {}
    for name in names:
        path = folder / f"{name}.parquet"
        if path.exists():
            out[name] = pd.read_parquet(path)
        elif required:
            raise LoadInputMissing(f"{path} is missing: rerun the link task for this night")
    return out


def load_night(engine: sa.Engine, *, extract_date: date, run_id: str, linkage_dir: Path,
               checks_dir: Path) -> dict:
    """Write the night's linkage, dimensional layer and marts; returns rows per table."""
    ensure_current(engine)
    linkage = read_parquet_folder(linkage_dir, (*LINKAGE_TABLES, "records"), required=True)
    checks = read_parquet_folder(checks_dir, CHECK_TABLES, required=False)
    staged = read_staging(engine)
    frames: dict[str, pd.DataFrame] = {}
    for name in LINKAGE_TABLES:
        frames[f"linkage.{name}"] = linkage[name]
    frames.update(build_dimensional(staged, linkage, extract_date))
    frames.update(build_marts(staged, linkage, checks, extract_date))
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        keep_linkage_start(conn, extract_date, run_id)
        for qualified, df in frames.items():
            # Project onto the table's own columns: the builders pass whole staged frames
            # through, and only what the (pseudonymous) table defines may be written.
            wanted = [c for c in table(qualified).c.keys() if c in df.columns]
            df = df[wanted].copy()
            if "run_id" not in df.columns or not qualified.startswith("linkage."):
                df["run_id"] = run_id  # linkage rows keep the run that last wrote them
            if qualified in DATED_MARTS:
                column = DATED_MARTS[qualified]
                counts[qualified] = replace_rows(conn, qualified, df,
                                                 where={column: extract_date})
            else:
                counts[qualified] = replace_rows(conn, qualified, df)
        for qualified in DIMENSIONAL:
            if qualified not in frames:  # nothing of that kind tonight: empty, not stale
                replace_rows(conn, qualified, pd.DataFrame())
    log.info("loaded %d tables for %s (run %s)", len(counts), extract_date, run_id)
    return {"tables": len(counts), "rows": sum(counts.values()),
            "persons": int(frames["linkage.person_xref"]["person_key"].nunique())
            if not frames["linkage.person_xref"].empty else 0}
