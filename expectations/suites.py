"""Expectation suites for the staged tables, defined in code so that a reviewer can read every
rule in one place.

A suite is a list of `Spec`s per staged table (suite name = table name). Each spec names one
Great Expectations built-in and its arguments, plus a severity:

- `critical`: the extract cannot be trusted (missing columns, null or duplicate business keys,
  a volume collapse, a date column with nothing parseable, absurd dates in bulk). A critical
  failure blocks the source for the night; the warehouse keeps the previous night's data.
- `warning`: a data-quality finding worth reporting but not worth stopping the night for.

Rules GX cannot express directly are computed first as a clearly named derived column
(`_<rule>`: True = fine, False = broken, null = not applicable) and then expected to hold
with a custom expectation class of `expectations.custom` (`ExpectRuleToHold`,
`ExpectIdentifiersMostlyValid`). Derived columns live only on the copy of the frame that is
validated.

Volume: provider extracts are full snapshots, so a table with fewer than half the rows of the
median of its last nights means a broken export (critical). LAS and GP extracts are
incremental (changed rows / new files only), so their nightly counts legitimately swing and
are not volume-checked; but a GP file replaces its practice's whole register, so a practice
whose new register has fewer than half the entries of the one it replaces is a warning.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from carelink import codelists as cl
from sources import tables as t

Severity = Literal["critical", "warning"]

VOLUME_CHECKED_SOURCES = frozenset({"provider"})
VOLUME_NIGHTS = 7  # the last nights whose median row count is the yardstick
VOLUME_MIN_SHARE = 0.5  # fewer rows than this share of the median: a broken export
EARLIEST_PLAUSIBLE_DATE = date(1900, 1, 1)
ABSURD_FUTURE = timedelta(days=366)  # beyond extract date + a year: a parse/format fault
ABSURD_MOSTLY = 0.99  # more than 1 % absurd dates in a column: the extract is suspect
ABSURD_TOLERATED_ROWS = 5  # ... and more than a handful: a format fault hits most rows


@dataclass(frozen=True)
class Spec:
    """One expectation: the GX class name, its keyword arguments and its severity.
    `columns` are the columns it needs; when one is missing the spec is not run (the missing
    column is already a critical failure of its own)."""

    name: str
    expectation: str
    kwargs: dict[str, Any]
    severity: Severity
    columns: tuple[str, ...] = ()
    doc: str = ""
    needs_rows: bool = False  # meaningless on an empty table (e.g. a night with no new files)
    # A few rows are a typing slip, not a fault of the extract: `mostly` is loosened so that
    # this many failing rows never fail it, however small the table (one slip in 80 rows is
    # over 1 %, and must not block a small service's whole extract).
    tolerated_rows: int = 0


@dataclass(frozen=True)
class Derived:
    """A derived column computed before validation for a rule GX cannot express."""

    column: str
    needs: tuple[str, ...]
    compute: Callable[[pd.DataFrame, SuiteContext], pd.Series]
    doc: str = ""


@dataclass(frozen=True)
class SuiteContext:
    """What the rules may depend on besides the table itself."""

    extract_date: date
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    history: dict[str, list[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    name: str
    derived: tuple[Derived, ...]
    specs: tuple[Spec, ...]


# --- helpers that build specs -------------------------------------------------------------


def _schema(table: t.StagedTable) -> list[Spec]:
    return [Spec(f"column_exists:{c}", "ExpectColumnToExist", {"column": c}, "critical")
            for c in table.column_names]


def _keys(table: t.StagedTable) -> list[Spec]:
    out = [Spec(f"not_null:{k}", "ExpectColumnValuesToNotBeNull", {"column": k}, "critical",
                (k,)) for k in table.key]
    if len(table.key) == 1:
        k = table.key[0]
        out.append(Spec(f"unique:{k}", "ExpectColumnValuesToBeUnique", {"column": k},
                        "critical", (k,)))
    else:
        out.append(Spec("unique:" + "+".join(table.key), "ExpectCompoundColumnsToBeUnique",
                        {"column_list": list(table.key)}, "critical", tuple(table.key)))
    return out


def _required(table: t.StagedTable) -> list[Spec]:
    """Non-nullable columns that are not keys (e.g. sex, *_valid flags): warning."""
    return [Spec(f"not_null:{c.name}", "ExpectColumnValuesToNotBeNull", {"column": c.name},
                 "warning", (c.name,))
            for c in table.columns
            if not c.nullable and c.name not in table.key and c.name != "source_row"]


def _in_set(column: str, values, severity: Severity = "warning", mostly: float | None = None
            ) -> Spec:
    kwargs: dict[str, Any] = {"column": column, "value_set": sorted(values)}
    if mostly is not None:
        kwargs["mostly"] = mostly
    return Spec(f"in_set:{column}", "ExpectColumnValuesToBeInSet", kwargs, severity, (column,))


def _true(column: str, severity: Severity = "warning", mostly: float | None = None,
          doc: str = "", expectation: str = "ExpectRuleToHold") -> Spec:
    """Expect a derived boolean column to be True wherever it is not null (a custom class of
    `expectations.custom`, named here so that this module never imports GX)."""
    kwargs: dict[str, Any] = {"column": column}
    if mostly is not None:
        kwargs["mostly"] = mostly
    return Spec(column.lstrip("_"), expectation, kwargs, severity, (column,), doc)


def _between(column: str, low, high, severity: Severity = "warning") -> Spec:
    return Spec(f"between:{column}", "ExpectColumnValuesToBeBetween",
                {"column": column, "min_value": low, "max_value": high}, severity, (column,))


def _regex(column: str, pattern: str, severity: Severity = "warning") -> Spec:
    return Spec(f"regex:{column}", "ExpectColumnValuesToMatchRegex",
                {"column": column, "regex": pattern}, severity, (column,))


def _after(later: str, earlier: str, severity: Severity = "warning") -> Spec:
    """`later` ≥ `earlier` wherever both are present."""
    return Spec(f"{later}>={earlier}", "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": later, "column_B": earlier, "or_equal": True,
                 "ignore_row_if": "either_value_is_missing"}, severity, (later, earlier))


def _dates(column: str, ctx: SuiteContext, *, key_date: bool = False) -> list[Spec]:
    """Date sanity for one column: not after the extract date (warning: typing slips happen),
    not absurd in bulk (critical), and for a key date column at least something parseable
    (critical: an all-null date column means the reader could not parse the format)."""
    out = [
        Spec(f"not_future:{column}", "ExpectColumnValuesToBeBetween",
             {"column": column, "max_value": ctx.extract_date}, "warning", (column,)),
        Spec(f"not_absurd:{column}", "ExpectColumnValuesToBeBetween",
             {"column": column, "min_value": EARLIEST_PLAUSIBLE_DATE,
              "max_value": ctx.extract_date + ABSURD_FUTURE, "mostly": ABSURD_MOSTLY},
             "critical", (column,), tolerated_rows=ABSURD_TOLERATED_ROWS),
    ]
    if key_date:
        out.append(Spec(f"some_parseable:{column}",
                        "ExpectColumnProportionOfNonNullValuesToBeBetween",
                        {"column": column, "min_value": 1e-9, "max_value": 1.0}, "critical",
                        (column,), "nothing parseable: the date format changed",
                        needs_rows=True))
    return out


def _volume(table: t.StagedTable, ctx: SuiteContext) -> list[Spec]:
    if table.source not in VOLUME_CHECKED_SOURCES:
        return []
    previous = [n for n in ctx.history.get(table.name, [])[-VOLUME_NIGHTS:] if n > 0]
    if not previous:
        return []
    median = statistics.median(previous)
    floor = math.ceil(median * VOLUME_MIN_SHARE)
    return [Spec("volume_vs_previous_nights", "ExpectTableRowCountToBeBetween",
                 {"min_value": floor}, "critical", (),
                 f"at least {floor} rows: {VOLUME_MIN_SHARE:.0%} of the median ({median:g}) of "
                 f"the last {len(previous)} nights")]


def _common(table: t.StagedTable, ctx: SuiteContext) -> list[Spec]:
    return [*_schema(table), *_keys(table), *_required(table), *_volume(table, ctx)]


# --- derived-column functions ---------------------------------------------------------------


def _dt(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce")


def _valid_if_present(value_col: str, valid_col: str) -> Derived:
    """Share of valid identifiers among the present ones: the flag, null where absent."""

    def compute(df: pd.DataFrame, ctx: SuiteContext) -> pd.Series:
        flag = df[valid_col].astype("boolean")
        return flag.where(df[value_col].notna(), pd.NA)

    return Derived(f"_{valid_col}_when_present", (value_col, valid_col), compute,
                   f"{valid_col} where {value_col} is given")


def _references(column: str, other_table: str, other_column: str) -> Derived:
    """Every reference points at a row of another table of the same extract."""

    def compute(df: pd.DataFrame, ctx: SuiteContext) -> pd.Series:
        other = ctx.tables.get(other_table)
        if other is None or other_column not in other.columns:
            return pd.Series(pd.NA, index=df.index, dtype="boolean")
        ok = df[column].isin(set(other[other_column].dropna()))
        return ok.astype("boolean").where(df[column].notna(), pd.NA)

    return Derived(f"_{column}_in_{other_table}", (column,), compute,
                   f"{column} exists in {other_table}.{other_column}")


def _due_date_ok(df: pd.DataFrame, ctx: SuiteContext) -> pd.Series:
    """due_date = plan_agreed_date + 6 or 12 months (by check_type)."""
    plan = _dt(df["plan_agreed_date"])
    due = _dt(df["due_date"])
    out = pd.Series(pd.NA, index=df.index, dtype="boolean")
    for label, months in cl.CHECK_TYPES.items():
        rows = (df["check_type"] == label) & plan.notna() & due.notna()
        if rows.any():
            expected = plan[rows] + pd.DateOffset(months=months)
            out[rows] = (expected == due[rows]).to_numpy()
    return out


def _reading_sequence_ok(df: pd.DataFrame, ctx: SuiteContext) -> pd.Series:
    """Per carer, the readings are exactly 1..n (no gap, no repeat); all the carer's rows
    take the verdict."""
    reading = pd.to_numeric(df["reading"], errors="coerce")
    frame = pd.DataFrame({"carer": df["carer_ref"], "reading": reading})
    grouped = frame.dropna().groupby("carer")["reading"]
    stats = pd.DataFrame({"n": grouped.size(), "max": grouped.max(), "min": grouped.min(),
                          "distinct": grouped.nunique()})
    good = (stats["min"] == 1) & (stats["max"] == stats["n"]) & (stats["distinct"] == stats["n"])
    verdict = frame["carer"].map(good)
    return verdict.astype("boolean").where(reading.notna() & frame["carer"].notna(), pd.NA)


def _recorded_date(df: pd.DataFrame, ctx: SuiteContext) -> pd.Series:
    """The day a Star score was keyed in, comparable with assessment_date."""
    return _dt(df["recorded_at"]).dt.normalize()


def _assessment_day(df: pd.DataFrame, ctx: SuiteContext) -> pd.Series:
    return _dt(df["assessment_date"])


def _category_agrees(df: pd.DataFrame, ctx: SuiteContext) -> pd.Series:
    """Staff-typed category agrees with the category of the reason's code list entry."""
    typed = df["breakdown_category_as_recorded"]
    listed = df["breakdown_category"]
    both = typed.notna() & listed.notna()
    agree = typed.astype("string").str.lower() == listed.astype("string").str.lower()
    return agree.astype("boolean").where(both, pd.NA)


def _reason_maps(df: pd.DataFrame, ctx: SuiteContext) -> pd.Series:
    """A breakdown reason given must map to a code of breakdown_reasons.csv."""
    return df["breakdown_reason_code"].notna().astype("boolean").where(
        df["breakdown_reason"].notna(), pd.NA)


def _reason_when_not_caring(df: pd.DataFrame, ctx: SuiteContext) -> pd.Series:
    """still_caring = No needs a reason; any other answer must not carry one."""
    no = df["still_caring"] == "No"
    has = df["breakdown_reason"].notna()
    return (no == has).astype("boolean").where(df["still_caring"].notna() | has, pd.NA)


def _support_items_ok(df: pd.DataFrame, ctx: SuiteContext) -> pd.Series:
    def ok(text) -> bool | None:
        if text is None or (isinstance(text, float) and math.isnan(text)):
            return None
        items = [i.strip() for i in str(text).split(";") if i.strip()]
        return all(i in cl.SUPPORT_ITEMS for i in items)

    return pd.Series([ok(v) for v in df["support_items"]], index=df.index, dtype="boolean")


def _reason_code_known(df: pd.DataFrame, ctx: SuiteContext) -> pd.Series:
    return df["primary_support_reason_code"].notna().astype("boolean").where(
        df["primary_support_reason"].notna(), pd.NA)


def _first_of_month(df: pd.DataFrame, ctx: SuiteContext) -> pd.Series:
    month = _dt(df["snapshot_month"])
    return (month.dt.day == 1).astype("boolean").where(month.notna(), pd.NA)


PRACTICE_REGISTER = "gp_register:"  # history key prefix: a practice's staged register size


def _register_kept_its_size(df: pd.DataFrame, ctx: SuiteContext) -> pd.Series:
    """A practice's new register has at least half the entries of the register it replaces.

    GP files arrive incrementally, so the source's nightly row count proves nothing; but each
    file replaces its practice's whole register, so a practice whose register shrinks to a
    fraction overnight is the volume collapse of a snapshot (a search cut short, a filter
    left on). Null where the practice has no earlier register."""
    previous = {key.removeprefix(PRACTICE_REGISTER): counts[-1]
                for key, counts in ctx.history.items()
                if key.startswith(PRACTICE_REGISTER) and counts and counts[-1] > 0}
    sizes = df.groupby("practice_ods")["practice_ods"].transform("size")
    before = df["practice_ods"].map(previous)
    ok = sizes >= np.ceil(before * VOLUME_MIN_SHARE)  # no earlier register: NaN, masked
    return ok.astype("boolean").where(before.notna(), pd.NA)


def _practice_known(df: pd.DataFrame, ctx: SuiteContext) -> pd.Series:
    return df["practice_ods"].isin(set(cl.practices())).astype("boolean").where(
        df["practice_ods"].notna(), pd.NA)


# --- the suites -----------------------------------------------------------------------------

PRACTITIONER = r"^P[0-9]{3}$"
CARER_CODE = rf"(?:{cl.SNOMED_ID_PATTERN})|(?:^{cl.READ_CARER}$)"
ODS = r"^[A-Z][0-9]{5}$"


# Identifier quality: the share of *present* identifiers that must be valid (an absent one
# is not counted). Each is set below what the source normally delivers, so that a night
# fails only when a column stops holding identifiers (shifted, truncated, another number):
# - staff type the provider's NHS numbers from letters, and the specification says they are
#   "sometimes mistyped"; LAS holds numbers traced for clients but typed for carers: a few
#   per cent fail Modulus 11 on a normal night, so 90 %;
# - a GP register's numbers come from the clinical system, traced against the NHS spine:
#   nearly all valid, so 98 %, which leaves room for a handful of test or temporary
#   patients;
# - postcodes are typed everywhere, but the format is simple: 95 %.
NHS_VALID_SHARE = {"provider": 0.90, "las": 0.90, "gp": 0.98}
POSTCODE_VALID_SHARE = 0.95


def _nhs_rules(mostly: float, value_col: str = "nhs_number",
               valid_col: str = "nhs_number_valid") -> tuple[list[Derived], list[Spec]]:
    d = _valid_if_present(value_col, valid_col)
    return [d], [_true(d.column, mostly=mostly, expectation="ExpectIdentifiersMostlyValid",
                       doc=f"at least {mostly:.0%} of present NHS numbers are valid")]


def _postcode_rules() -> tuple[list[Derived], list[Spec]]:
    d = _valid_if_present("postcode", "postcode_valid")
    return [d], [_true(d.column, mostly=POSTCODE_VALID_SHARE,
                       expectation="ExpectIdentifiersMostlyValid",
                       doc=f"at least {POSTCODE_VALID_SHARE:.0%} of present postcodes valid")]


def build_suite(table: t.StagedTable, ctx: SuiteContext) -> Suite:
    """The suite for one staged table, given tonight's extract date and history."""
    specs = _common(table, ctx)
    derived: list[Derived] = []

    def add(rules: tuple[list[Derived], list[Spec]]) -> None:
        derived.extend(rules[0])
        specs.extend(rules[1])

    name = table.name
    if name == "provider_carer":
        add(_nhs_rules(NHS_VALID_SHARE["provider"]))
        add(_postcode_rules())
        specs += [
            _in_set("sex", cl.PROVIDER_SEX), _in_set("title", cl.PROVIDER_TITLES),
            _in_set("information_sharing", cl.INFORMATION_SHARING),
            _in_set("status", cl.CARER_STATUSES),
            _in_set("has_long_term_condition", cl.YES_NO_NOT_RECORDED),
            _in_set("employment_status", cl.EMPLOYMENT_STATUSES),
            _in_set("hours_caring_per_week", cl.HOURS_CARING),
            _in_set("referral_source", cl.REFERRAL_SOURCES),
            _in_set("district", cl.district_names()),
            *_dates("referral_date", ctx, key_date=True), *_dates("date_of_birth", ctx),
            *_dates("closed_date", ctx),
            _after("closed_date", "referral_date"), _after("referral_date", "date_of_birth"),
        ]
    elif name == "provider_cared_for":
        add(_nhs_rules(NHS_VALID_SHARE["provider"]))
        add(_postcode_rules())
        ref = _references("carer_ref", "provider_carer", "carer_ref")
        derived.append(ref)
        specs += [
            _true(ref.column, doc="the carer file exists in carers.csv"),
            _in_set("carer_relationship", cl.CARER_RELATIONSHIPS),
            _in_set("main_need", cl.MAIN_NEEDS),
            _in_set("receives_services", cl.RECEIVES_SERVICES),
            *_dates("date_of_birth", ctx), *_dates("date_of_death", ctx),
            _after("date_of_death", "date_of_birth"),
        ]
    elif name == "provider_assessment":
        ref = _references("carer_ref", "provider_carer", "carer_ref")
        derived.append(ref)
        specs += [
            _true(ref.column, doc="the carer file exists in carers.csv"),
            _in_set("stage", cl.ASSESSMENT_STAGES),
            _in_set("risk_level", set(cl.RISK_LEVEL_MAP.values())),
            _in_set("risk_level_as_recorded", cl.RISK_LEVEL_MAP),
            _in_set("outcome", cl.ASSESSMENT_OUTCOMES),
            _between("weighted_score", 0, 100), _regex("practitioner_ref", PRACTITIONER),
            *_dates("assessment_date", ctx, key_date=True),
        ]
    elif name == "provider_star_score":
        ref = _references("carer_ref", "provider_carer", "carer_ref")
        seq = Derived("_reading_sequence_ok", ("carer_ref", "reading"), _reading_sequence_ok,
                      "readings numbered 1..n per carer without gaps")
        rec = Derived("_recorded_date", ("recorded_at",), _recorded_date)
        day = Derived("_assessment_day", ("assessment_date",), _assessment_day)
        derived += [ref, seq, rec, day]
        specs += [
            _true(ref.column, doc="the carer file exists in carers.csv"),
            _true(seq.column, doc=seq.doc),
            _in_set("completed_with", cl.COMPLETED_WITH),
            _between("total_score", 5, 40), _between("carer_self_rating", 5, 40),
            _between("reading", 1, None), _regex("practitioner_ref", PRACTITIONER),
            *_dates("assessment_date", ctx, key_date=True),
            Spec("not_future:recorded_at", "ExpectColumnValuesToBeBetween",
                 {"column": "_recorded_date",
                  "max_value": pd.Timestamp(ctx.extract_date) + pd.Timedelta(days=1)},
                 "warning", ("_recorded_date",)),
            Spec("recorded_at>=assessment_date", "ExpectColumnPairValuesAToBeGreaterThanB",
                 {"column_A": "_recorded_date", "column_B": "_assessment_day",
                  "or_equal": True, "ignore_row_if": "either_value_is_missing"}, "warning",
                 ("_recorded_date", "_assessment_day"),
                 "a score cannot be keyed in before the conversation"),
        ]
    elif name == "provider_sustainment_check":
        ref = _references("carer_ref", "provider_carer", "carer_ref")
        due = Derived("_due_date_ok", ("plan_agreed_date", "due_date", "check_type"),
                      _due_date_ok, "due_date = plan_agreed_date + 6/12 months")
        agree = Derived("_breakdown_category_agrees",
                        ("breakdown_category", "breakdown_category_as_recorded"),
                        _category_agrees, "typed category = the reason's listed category")
        maps = Derived("_breakdown_reason_maps_to_code",
                       ("breakdown_reason", "breakdown_reason_code"), _reason_maps)
        only_no = Derived("_breakdown_reason_iff_not_caring",
                          ("still_caring", "breakdown_reason"), _reason_when_not_caring)
        derived += [ref, due, agree, maps, only_no]
        specs += [
            _true(ref.column, doc="the carer file exists in carers.csv"),
            _true(due.column, doc=due.doc), _true(agree.column, doc=agree.doc),
            _true(maps.column, doc="a breakdown reason must be a label of the code list"),
            _true(only_no.column, doc="a reason only (and always) when still_caring is No"),
            _in_set("check_type", cl.CHECK_TYPES), _in_set("still_caring", cl.STILL_CARING),
            _in_set("breakdown_category_as_recorded", cl.BREAKDOWN_CATEGORIES),
            *_dates("plan_agreed_date", ctx, key_date=True), *_dates("check_date", ctx),
            _after("check_date", "plan_agreed_date"), _after("due_date", "plan_agreed_date"),
        ]
    elif name == "provider_support_plan":
        ref = _references("carer_ref", "provider_carer", "carer_ref")
        items = Derived("_support_items_known", ("support_items",), _support_items_ok)
        derived += [ref, items]
        specs += [
            _true(ref.column, doc="the carer file exists in carers.csv"),
            _true(items.column, doc="every support item is one of the listed items"),
            _in_set("plan_type", cl.PLAN_TYPES),
            *_dates("agreed_date", ctx, key_date=True), *_dates("closed_date", ctx),
            _after("closed_date", "agreed_date"),
        ]
    elif name == "las_person":
        add(_nhs_rules(NHS_VALID_SHARE["las"]))
        add(_postcode_rules())
        specs += [
            _in_set("gender", cl.LAS_GENDERS), _in_set("sex", cl.PROVIDER_SEX),
            _in_set("ethnicity", cl.LAS_ETHNICITIES), _in_set("district", cl.district_names()),
            *_dates("date_of_birth", ctx), *_dates("date_of_death", ctx),
            _after("date_of_death", "date_of_birth"),
        ]
    elif name == "las_person_relationship":
        specs += [
            _in_set("relationship_type", cl.LAS_RELATIONSHIP_TYPES),
            _in_set("carer_relationship", cl.CARER_RELATIONSHIPS),
            *_dates("start_date", ctx), *_dates("end_date", ctx),
            _after("end_date", "start_date"),
        ]
    elif name == "las_assessment":
        specs += [
            _in_set("assessment_type", cl.LAS_ASSESSMENT_TYPES),
            _in_set("carers_service_contact", cl.LAS_SERVICE_CONTACT),
            *_dates("assessment_date", ctx),
        ]
    elif name == "las_care_package":
        code = Derived("_primary_support_reason_coded",
                       ("primary_support_reason", "primary_support_reason_code"),
                       _reason_code_known)
        derived.append(code)
        specs += [
            _true(code.column, doc="the support reason is a label of the LAS code list"),
            _in_set("setting", cl.LAS_SETTINGS), _in_set("funding", cl.LAS_FUNDING),
            _between("weekly_cost", 0, None), *_dates("start_date", ctx),
            # end_date is null while the package is open (las-reporting-db.md): a future
            # one is a slip like any other date, not a planned end.
            *_dates("end_date", ctx), _after("end_date", "start_date"),
        ]
    elif name == "las_person_merge":
        # GX has no "pair values differ"; a derived column says it plainly.
        derived.append(Derived(
            "_merge_not_to_itself", ("old_person_id", "new_person_id"),
            lambda df, ctx: (df["old_person_id"] != df["new_person_id"]).astype("boolean")))
        specs.append(_true("_merge_not_to_itself"))
    elif name == "gp_register_entry":
        add(_nhs_rules(NHS_VALID_SHARE["gp"]))
        add(_postcode_rules())
        month = Derived("_snapshot_month_first_day", ("snapshot_month",), _first_of_month)
        known = Derived("_practice_in_practice_list", ("practice_ods",), _practice_known)
        kept = Derived("_practice_register_kept_its_size", ("practice_ods",),
                       _register_kept_its_size)
        derived += [month, known, kept]
        specs += [
            _true(kept.column, doc=f"a practice's new register has at least "
                  f"{VOLUME_MIN_SHARE:.0%} of the entries of the one it replaces"),
            _in_set("layout", cl.GP_LAYOUTS), _in_set("sex", cl.PROVIDER_SEX),
            _regex("practice_ods", ODS), _regex("carer_code", CARER_CODE),
            _true(month.column), _true(known.column, doc="practice is in gp_practices.csv"),
            *_dates("date_recorded", ctx, key_date=True), *_dates("last_review_date", ctx),
            *_dates("no_longer_carer_date", ctx), *_dates("date_of_birth", ctx),
            *_dates("cared_for_date_of_birth", ctx),
            _after("last_review_date", "date_recorded"),
            _after("no_longer_carer_date", "date_recorded"),
        ]
    return Suite(name, tuple(derived), tuple(specs))


def suites_for_source(source: str, ctx: SuiteContext) -> list[tuple[t.StagedTable, Suite]]:
    return [(table, build_suite(table, ctx)) for table in t.TABLES_BY_SOURCE[source]]
