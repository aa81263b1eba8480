"""Every expectation of every per-source suite can pass and can fail.

The issue's "done when" asks for proof that *each* expectation can fail and pass. The other
gate tests break a chosen few; this one walks every `Spec` the suites build for the hand-made
clean extracts, checks it passes on them, breaks its input in the way its rule describes, and
checks it fails. A rule added without a way to break it here fails `test_..._can_fail` with
"no failing case", so a new expectation cannot arrive untested, and an expectation that can
never fail (a rule on a column nothing fills, a value set that accepts anything) is caught.

Each spec is run on its own (one GX validation per spec, on two-row frames): a few seconds for
the whole walk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from exp_frames import NIGHT, clean_gp, clean_las, clean_provider

from expectations.runner import add_derived, run_specs
from expectations.suites import PRACTICE_REGISTER, Spec, SuiteContext, build_suite
from sources import tables as t

BUILDERS = {"provider": clean_provider, "las": clean_las, "gp": clean_gp}
Tables = dict[str, pd.DataFrame]


def _history(tables: Tables) -> dict[str, list[int]]:
    """Previous nights just like tonight: the volume rule is built and passes."""
    return {name: [len(df)] * 5 for name, df in tables.items()}


def _cases() -> list[tuple[str, str, str]]:
    out = []
    for source, builder in BUILDERS.items():
        tables = builder()
        ctx = SuiteContext(extract_date=NIGHT, tables=tables, history=_history(tables))
        for table in t.TABLES_BY_SOURCE[source]:
            for spec in build_suite(table, ctx).specs:
                out.append((source, table.name, spec.name))
    return out


CASES = _cases()


def _verdict(source: str, table_name: str, spec_name: str, tables: Tables,
             history: dict[str, list[int]]) -> bool | None:
    """Success of one named spec on `tables` (None: the spec was not run)."""
    ctx = SuiteContext(extract_date=NIGHT, tables=tables, history=history)
    table = next(tb for tb in t.TABLES_BY_SOURCE[source] if tb.name == table_name)
    suite = build_suite(table, ctx)
    spec = next(s for s in suite.specs if s.name == spec_name)
    frame = add_derived(tables[table_name], suite.derived, ctx)
    outcomes = run_specs(frame, table_name, [spec])
    return outcomes[0].success if outcomes else None


# --- how to break each rule -------------------------------------------------------------------


def _set(df: pd.DataFrame, column: str, value, rows=None) -> pd.DataFrame:
    df = df.copy()
    index = df.index if rows is None else df.index[rows]
    df[column] = df[column].astype(object)
    for i in index:
        df.at[i, column] = value
    return df


def _shift(value):
    """Just beyond a bound: a day for dates, one for numbers."""
    if isinstance(value, datetime | pd.Timestamp):
        return value + pd.Timedelta(days=1)
    if isinstance(value, date):
        return value + timedelta(days=1)
    return value + 1


def _generic(spec: Spec, df: pd.DataFrame) -> pd.DataFrame | None:
    """Break a spec on a plain (not derived) column from its own arguments."""
    kw = spec.kwargs
    column = kw.get("column")
    if column is not None and column.startswith("_"):
        return None
    match spec.expectation:
        case "ExpectColumnToExist":
            return df.drop(columns=[column])
        case "ExpectColumnValuesToNotBeNull":
            return _set(df, column, None, [0])
        case "ExpectColumnValuesToBeUnique" | "ExpectCompoundColumnsToBeUnique":
            columns = kw.get("column_list") or [column]
            df = pd.concat([df, df.iloc[[0]]], ignore_index=True)
            return df.assign(**{c: df[c].where(df.index != len(df) - 1, df.at[0, c])
                                for c in columns})
        case "ExpectColumnValuesToBeInSet":
            return _set(df, column, "not a listed value", [0])
        case "ExpectColumnValuesToMatchRegex":
            return _set(df, column, "!!", [0])
        case "ExpectColumnProportionOfNonNullValuesToBeBetween":
            return _set(df, column, None)
        case "ExpectColumnValuesToBeBetween":
            if kw.get("max_value") is not None:
                bad = _shift(kw["max_value"])
                if "mostly" in kw:  # a bulk rule: the whole column out of bounds
                    return _set(df, column, date(2206, 2, 1))
            else:
                bad = kw["min_value"] - 1
            return _set(df, column, bad, [0])
        case "ExpectColumnPairValuesAToBeGreaterThanB":
            df = _set(df, kw["column_B"], date(2020, 6, 1), [0])
            return _set(df, kw["column_A"], date(2020, 5, 1), [0])
    return None


def _all_invalid(value_col: str, valid_col: str, value: str
                 ) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Every present identifier invalid: below any `mostly` a source normally meets."""

    def breaks(df: pd.DataFrame) -> pd.DataFrame:
        broken = _set(_set(df, value_col, value), valid_col, False)
        return broken.astype({valid_col: "boolean"})

    return breaks


def _col(column: str, value, rows=(0,)) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda df: _set(df, column, value, list(rows))


# Rules on derived columns: broken through the inputs they are derived from.
DERIVED_BREAKS: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "nhs_number_valid_when_present": _all_invalid("nhs_number", "nhs_number_valid",
                                                  "1234567890"),
    "postcode_valid_when_present": _all_invalid("postcode", "postcode_valid", "XX9"),
    "carer_ref_in_provider_carer": _col("carer_ref", "CR999999"),
    "reading_sequence_ok": _col("reading", 3, rows=(1,)),              # readings 1, 3
    "not_future:recorded_at": _col("recorded_at", datetime(2026, 11, 27, 9)),
    "recorded_at>=assessment_date": _col("recorded_at", datetime(2025, 1, 31, 9)),
    "due_date_ok": _col("due_date", date(2025, 7, 1)),                 # plan + 5 months
    "breakdown_category_agrees": _col("breakdown_category_as_recorded", "Avoidable", (1,)),
    "breakdown_reason_maps_to_code": lambda df: _set(
        _set(df, "breakdown_reason", "Moved to Spain", [1]), "breakdown_reason_code", None,
        [1]),
    "breakdown_reason_iff_not_caring": _col("breakdown_reason", "Death of the carer"),
    "support_items_known": _col("support_items", "Counselling;Gardening"),
    "primary_support_reason_coded": _col("primary_support_reason_code", None),
    "merge_not_to_itself": lambda df: df.assign(new_person_id=df["old_person_id"]),
    "snapshot_month_first_day": _col("snapshot_month", date(2026, 11, 2)),
    "practice_in_practice_list": lambda df: _set(df, "practice_ods", "Z99999"),
}


@pytest.mark.parametrize(("source", "table", "name"), CASES,
                         ids=[f"{s}-{tb}-{n}" for s, tb, n in CASES])
def test_every_expectation_passes_on_the_clean_extract(source, table, name) -> None:
    tables = BUILDERS[source]()
    assert _verdict(source, table, name, tables, _history(tables)) is True


@pytest.mark.parametrize(("source", "table", "name"), CASES,
                         ids=[f"{s}-{tb}-{n}" for s, tb, n in CASES])
def test_every_expectation_can_fail(source, table, name) -> None:
    tables = BUILDERS[source]()
    history = _history(tables)
    ctx = SuiteContext(extract_date=NIGHT, tables=tables, history=history)
    spec = next(s for s in build_suite(
        next(tb for tb in t.TABLES_BY_SOURCE[source] if tb.name == table), ctx).specs
        if s.name == name)
    if spec.expectation == "ExpectTableRowCountToBeBetween":
        history = {**history, table: [len(tables[table]) * 10] * 5}  # tonight is a tenth
    elif name == "practice_register_kept_its_size":
        # each practice's register last time was ten times tonight's
        sizes = tables[table].groupby("practice_ods").size()
        history = {**history, **{f"{PRACTICE_REGISTER}{ods}": [int(n) * 10]
                                 for ods, n in sizes.items()}}
    elif name in DERIVED_BREAKS:
        tables[table] = DERIVED_BREAKS[name](tables[table])
    else:
        broken = _generic(spec, tables[table])
        assert broken is not None, f"no failing case for {table}:{name}"
        tables[table] = broken
    assert _verdict(source, table, name, tables, history) is False, f"{table}:{name}"
