"""Staged-table frames for tests: every contract column present, typed as staging types it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from sources.tables import TABLES_BY_NAME

_DEFAULTS = {"text": "x", "boolean": False, "date": date(2025, 1, 1), "integer": 0,
             "timestamp": pd.Timestamp("2025-01-01 00:00"), "numeric": 0.0}


def frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A staged-table frame with every contract column; required columns get a filler."""
    spec = TABLES_BY_NAME[table]
    full = []
    for row in rows:
        out = {}
        for col in spec.columns:
            if col.name in row:
                out[col.name] = row[col.name]
            else:
                out[col.name] = None if col.nullable else _DEFAULTS[col.type]
        full.append(out)
    df = pd.DataFrame(full, columns=spec.column_names)
    for col in spec.columns:
        if col.type == "integer":
            df[col.name] = df[col.name].astype("Int64")
        elif col.type == "boolean":
            df[col.name] = df[col.name].astype("boolean")
    return df
