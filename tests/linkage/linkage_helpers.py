"""Staged-shaped frames built by hand, for linkage tests that need exact control."""

from __future__ import annotations

import pandas as pd

from sources.tables import TABLES_BY_NAME
from tests.support.identifiers import valid_nhs  # noqa: F401 - re-exported for the tests


def staged_frame(name: str, rows: list[dict]) -> pd.DataFrame:
    """A staged table with every contract column (missing ones null)."""
    columns = TABLES_BY_NAME[name].column_names
    return pd.DataFrame(rows, columns=columns).astype(object)


def empty_staged() -> dict[str, pd.DataFrame]:
    return {name: staged_frame(name, []) for name in TABLES_BY_NAME}


def fixed_settings() -> dict:
    """Model settings with hand-set m/u: agreement strongly positive, disagreement strongly
    negative, partial levels mildly positive. For tests that must not depend on training."""
    from linkage.model import base_settings

    settings = base_settings()
    for comparison in settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for i, level in enumerate(levels):
            if i == 0:
                level["m_probability"], level["u_probability"] = 0.9, 0.001
            elif level["sql_condition"] == "ELSE":
                level["m_probability"], level["u_probability"] = 0.01, 0.95
            else:
                level["m_probability"], level["u_probability"] = 0.05, 0.01
    settings["probability_two_random_records_match"] = 0.001
    return settings
