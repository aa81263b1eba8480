"""The analyst marts, computed from staging and the night's linkage and quality outputs.

Pure pandas so that each mart can be tested without a database; `warehouse.load_night` writes
the results in the same transaction as the linkage tables. Every frame here is pseudonymous:
person keys, event references and codes, never a source's identifiers (a test scans them).

Carers whose provider file says information sharing was *Declined* are counted in aggregate
marts (`carers_known`, the practitioner funnel) but get no person-level rows: "no person-level
row about them leaves the provider's own data".
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import product

import pandas as pd

from carelink.codelists import LAS_CARER_ASSESSMENTS, declined_carer_refs
from linkage.relationships import LAS_CARING_TYPES

WEEKS_PER_YEAR = 52.143
# Every non-empty combination of the three sources (a carer known to none is not known).
_SOURCE_COMBINATIONS = [frozenset(c for c, on in zip(("provider", "las", "gp"), flags,
                                                     strict=True) if on)
                        for flags in product((True, False), repeat=3) if any(flags)]


def _frame(staged: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    df = staged.get(name)
    return df.copy() if df is not None else pd.DataFrame()


def _key_map(xref: pd.DataFrame) -> dict[str, str]:
    if xref.empty:
        return {}
    return dict(zip(xref["source_record_key"], xref["person_key"], strict=False))


def _declined_refs(staged: dict[str, pd.DataFrame], xref: pd.DataFrame) -> set[str]:
    """Carer files whose person-level rows stay out of the marts: every file that declined
    sharing, and every other file of the same carer (an older file of a re-referred carer,
    marked Agreed): the carer's refusal is about them, not about one file."""
    carers = _frame(staged, "provider_carer")
    refs = declined_carer_refs(carers)
    if not refs or xref.empty:
        return refs
    keys = _key_map(xref)
    people = {keys.get(f"provider:carer:{r}") for r in refs} - {None}
    return refs | {str(r) for r in carers["carer_ref"]
                   if keys.get(f"provider:carer:{r}") in people}


def carer_keys_by_ref(staged: dict[str, pd.DataFrame], xref: pd.DataFrame) -> pd.Series:
    """carer_ref → person key, for carers who allowed their information to be shared."""
    keys = _key_map(xref)
    carers = _frame(staged, "provider_carer")
    if carers.empty:
        return pd.Series(dtype="object")
    declined = _declined_refs(staged, xref)
    refs = [r for r in carers["carer_ref"] if r not in declined]
    return pd.Series({r: keys.get(f"provider:carer:{r}") for r in refs}, dtype="object")


def las_caring_records(staged: dict[str, pd.DataFrame]) -> tuple[set[str], set[str]]:
    """(LAS records of informal carers, LAS records of the people they care for), from LAS's
    caring relationships and its carer assessments: LAS person records carry no role of
    their own."""
    carers: set[str] = set()
    cared_for: set[str] = set()
    rels = _frame(staged, "las_person_relationship")
    if not rels.empty:
        caring = rels[rels["relationship_type"].astype(str).str.strip().str.lower().isin(
            LAS_CARING_TYPES)].dropna(subset=["person_id", "related_person_id"])
        carers |= {f"las:{int(p)}" for p in caring["related_person_id"]}
        cared_for |= {f"las:{int(p)}" for p in caring["person_id"]}
    assessments = _frame(staged, "las_assessment")
    if not assessments.empty:
        assessed = assessments[assessments["assessment_type"].astype(str).str.strip()
                               .str.lower().isin({a.lower() for a in LAS_CARER_ASSESSMENTS})
                               ].dropna(subset=["person_id"])
        carers |= {f"las:{int(p)}" for p in assessed["person_id"]}
    return carers, cared_for


# --- identification ---------------------------------------------------------------------------


def carers_known(staged: dict[str, pd.DataFrame], records: pd.DataFrame,
                 extract_date: date) -> pd.DataFrame:
    """Distinct carers (person keys with a carer role in any source) by the combination of
    sources that know them — the evaluation's central finding was how little these overlap."""
    columns = ["snapshot_date", "in_provider", "in_las", "in_gp", "carers"]
    counts: dict[frozenset, int] = {}
    if not records.empty:
        las_carers, _ = las_caring_records(staged)
        carer_keys = set(records.loc[(records["role"] == "carer")
                                     | records["source_record_key"].isin(las_carers),
                                     "person_key"])
        mine = records[records["person_key"].isin(carer_keys)]
        known = mine.groupby("person_key")["source"].agg(lambda s: frozenset(s))
        counts = {combo: int(n) for combo, n in known.value_counts().items()}
    # The contract's grain is one row per combination of sources: a combination nobody is
    # known to is a row with 0 carers, not a missing row.
    rows = []
    for combo in _SOURCE_COMBINATIONS:
        rows.append({"snapshot_date": extract_date, "in_provider": "provider" in combo,
                     "in_las": "las" in combo, "in_gp": "gp" in combo,
                     "carers": counts.get(combo, 0)})
    out = pd.DataFrame(rows, columns=columns)
    out["carers"] = out["carers"].astype("int64")
    return out.sort_values(["in_provider", "in_las", "in_gp"], ascending=False,
                           ignore_index=True)


# --- the carers' service ----------------------------------------------------------------------


def _readings(staged: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """carer_ref → reading 1, 2, 3 totals (the latest row per reading number) and the date of
    reading 1's conversation."""
    stars = _frame(staged, "provider_star_score")
    if stars.empty:
        return pd.DataFrame(columns=["carer_ref", "reading_1", "reading_2", "reading_3",
                                     "reading_1_on"])
    stars = stars.dropna(subset=["reading", "total_score"])
    # the latest version of a reading scored again; star_ref breaks a tie in recorded_at, so
    # that a rerun of the night (staging read back in any order) gives the same mart
    stars = stars.sort_values(["recorded_at", "star_ref"], kind="stable").drop_duplicates(
        ["carer_ref", "reading"], keep="last")
    wide = stars.pivot(index="carer_ref", columns="reading", values="total_score")
    out = pd.DataFrame(index=wide.index)
    for n in (1, 2, 3):
        out[f"reading_{n}"] = wide[n] if n in wide.columns else pd.NA
    first = stars[stars["reading"] == 1].set_index("carer_ref")["assessment_date"]
    out["reading_1_on"] = pd.to_datetime(out.index.map(first), errors="coerce")
    return out.reset_index()


def star_change(staged: dict[str, pd.DataFrame], xref: pd.DataFrame) -> pd.DataFrame:
    """Per carer with a reading: readings 1–3 and the changes the evaluation's Figures 5–6
    show, with the carer's risk level, main need and district."""
    columns = ["carer_key", "reading_1", "reading_2", "reading_3", "change_1_2", "change_1_3",
               "risk_level", "main_need", "district"]
    keys = carer_keys_by_ref(staged, xref)
    readings = _readings(staged)
    readings = readings[readings["carer_ref"].isin(keys.index)]
    if readings.empty:
        return pd.DataFrame(columns=columns)
    assessments = _frame(staged, "provider_assessment")
    risk = (assessments.dropna(subset=["risk_level"])
            .sort_values(["assessment_date", "assessment_ref"], kind="stable")
            .groupby("carer_ref")["risk_level"].last()) if not assessments.empty else {}
    cared_for = _frame(staged, "provider_cared_for")
    need = (cared_for.sort_values("cared_for_ref").groupby("carer_ref")["main_need"].first()
            if not cared_for.empty else {})
    carers = _frame(staged, "provider_carer").set_index("carer_ref")
    out = readings.copy()
    out["carer_key"] = out["carer_ref"].map(keys)
    out["change_1_2"] = out["reading_2"] - out["reading_1"]
    out["change_1_3"] = out["reading_3"] - out["reading_1"]
    out["risk_level"] = out["carer_ref"].map(risk)
    out["main_need"] = out["carer_ref"].map(need)
    out["district"] = out["carer_ref"].map(carers["district"])
    # A re-referred carer has two files: keep the one whose first reading is latest (a file
    # without reading 1 counts as earliest; the file reference breaks a tie).
    out = (out.dropna(subset=["carer_key"])
           .sort_values(["reading_1_on", "carer_ref"], na_position="first", kind="stable")
           .drop_duplicates("carer_key", keep="last"))
    for c in ("reading_1", "reading_2", "reading_3", "change_1_2", "change_1_3"):
        out[c] = out[c].astype("Int64")
    return out[columns].reset_index(drop=True)


def sustainment(staged: dict[str, pd.DataFrame], xref: pd.DataFrame) -> pd.DataFrame:
    """Per completed 6/12-month check, with the reason's category from the code list beside
    the category staff typed (Table 8) and the carer's Star readings (Tables 9–10)."""
    columns = ["carer_key", "check_type", "still_caring", "breakdown_reason_code", "category",
               "category_as_recorded", "star_1", "star_2", "check_date"]
    checks = _frame(staged, "provider_sustainment_check")
    keys = carer_keys_by_ref(staged, xref)
    if checks.empty:
        return pd.DataFrame(columns=columns)
    checks = checks[checks["check_date"].notna() & checks["carer_ref"].isin(keys.index)]
    readings = _readings(staged).set_index("carer_ref")
    out = pd.DataFrame({
        "carer_key": checks["carer_ref"].map(keys),
        "check_type": checks["check_type"],
        "still_caring": checks["still_caring"],
        "breakdown_reason_code": checks["breakdown_reason_code"],
        "category": checks["breakdown_category"],
        "category_as_recorded": checks["breakdown_category_as_recorded"],
        "star_1": checks["carer_ref"].map(readings["reading_1"]) if not readings.empty else None,
        "star_2": checks["carer_ref"].map(readings["reading_2"]) if not readings.empty else None,
        "check_date": checks["check_date"],
    })
    for c in ("star_1", "star_2"):
        out[c] = out[c].astype("Int64")
    return out[columns].reset_index(drop=True)


# --- the council ------------------------------------------------------------------------------


def _cared_for_carers(relationships: pd.DataFrame) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for cared_for, carer in zip(relationships["cared_for_key"], relationships["carer_key"],
                                strict=False):
        out.setdefault(cared_for, set()).add(carer)
    return out


def _provider_carer_keys(records: pd.DataFrame) -> set[str]:
    mask = records["source_record_key"].str.startswith("provider:carer:")
    return set(records.loc[mask, "person_key"])


def _las_key(xref_map: dict[str, str], person_id: object) -> str | None:
    if person_id is None or pd.isna(person_id):
        return None
    return xref_map.get(f"las:{int(person_id)}")


def care_packages(staged: dict[str, pd.DataFrame], xref: pd.DataFrame, records: pd.DataFrame,
                  relationships: pd.DataFrame, extract_date: date) -> pd.DataFrame:
    """Tables 14–17: per cared-for person (someone a carer is known, by any source, to care
    for: the evaluation's cases) with a package in the year to the extract date, its annual
    cost, the change from the year before, contingency and carer fatigue."""
    columns = ["cared_for_key", "primary_support_reason", "annual_cost",
               "change_from_previous_year", "includes_contingency", "carer_fatigue_noted",
               "carer_known_to_service", "year_ending"]
    packages = _frame(staged, "las_care_package")
    if packages.empty:
        return pd.DataFrame(columns=columns)
    keys = _key_map(xref)
    packages = packages.copy()
    packages["cared_for_key"] = [_las_key(keys, p) for p in packages["person_id"]]
    cared_for = set(relationships["cared_for_key"]) if not relationships.empty else set()
    packages = packages.dropna(subset=["cared_for_key", "start_date"])
    packages = packages[packages["cared_for_key"].isin(cared_for)]
    year_start = extract_date - timedelta(days=365)
    prev_start = year_start - timedelta(days=365)

    def in_window(df: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
        ends = df["end_date"].where(df["end_date"].notna(), date.max)
        return df[(df["start_date"] <= end) & (ends >= start)]

    # Two packages may start the same day (one replaced by another, or two records merged
    # onto one person): the package id, the order LAS recorded them in, decides which is the
    # latest. Sorted on the start date alone, the pick followed the order staging happened
    # to return its rows in, so rerunning a night changed annual costs in this mart.
    order = ["start_date", "package_id"]
    this_year = in_window(packages, year_start, extract_date).sort_values(order, kind="stable")
    last_year = in_window(packages, prev_start, year_start).sort_values(order, kind="stable")
    # The latest package as a whole (`last()` would mix in an earlier package's value
    # wherever the latest has none).
    current = this_year.groupby("cared_for_key").tail(1).set_index("cared_for_key")
    previous = last_year.groupby("cared_for_key").tail(1).set_index("cared_for_key")[
        "weekly_cost"]
    assessments = _frame(staged, "las_assessment")
    fatigue: dict[str, bool] = {}
    if not assessments.empty:
        recent = assessments[assessments["assessment_date"].notna()
                             & (assessments["assessment_date"] >= year_start)]
        for person_id, noted in zip(recent["person_id"], recent["carer_fatigue_noted"],
                                    strict=False):
            key = _las_key(keys, person_id)
            if key:
                fatigue[key] = fatigue.get(key, False) or bool(noted)
    carers_of = _cared_for_carers(relationships) if not relationships.empty else {}
    provider_carers = _provider_carer_keys(records) if not records.empty else set()
    out = pd.DataFrame({
        "cared_for_key": current.index,
        "primary_support_reason": current["primary_support_reason"].to_numpy(),
        "annual_cost": (current["weekly_cost"].astype(float) * WEEKS_PER_YEAR).round(2)
        .to_numpy(),
        "includes_contingency": current["includes_contingency"].astype("boolean").to_numpy(),
    })
    prev = out["cared_for_key"].map(previous).astype(float) * WEEKS_PER_YEAR
    out["change_from_previous_year"] = (out["annual_cost"] - prev).round(2)
    out["carer_fatigue_noted"] = out["cared_for_key"].map(lambda k: fatigue.get(k, False))
    out["carer_known_to_service"] = out["cared_for_key"].map(
        lambda k: bool(carers_of.get(k, set()) & provider_carers))
    out["year_ending"] = extract_date
    return out[columns]


def build_marts(staged: dict[str, pd.DataFrame], linkage: dict[str, pd.DataFrame],
                checks: dict[str, pd.DataFrame], extract_date: date) -> dict[str, pd.DataFrame]:
    """Every analyst mart for the night, keyed by its qualified table name."""
    xref = linkage.get("person_xref", pd.DataFrame(columns=["source_record_key", "person_key"]))
    records = linkage.get("records", pd.DataFrame(
        columns=["source_record_key", "person_key", "role", "source"]))
    relationships = linkage.get("caring_relationship", pd.DataFrame(
        columns=["carer_key", "cared_for_key"]))
    marts = {
        "marts.carers_known": carers_known(staged, records, extract_date),
        "marts.star_change": star_change(staged, xref),
        "marts.sustainment": sustainment(staged, xref),
        "marts.care_packages": care_packages(staged, xref, records, relationships,
                                             extract_date),
    }
    for name in ("gp_register_staleness", "gp_register_practice_summary",
                 "star_bias_practitioner", "star_score_flags"):
        if name in checks:
            marts[f"marts.{name}"] = checks[name]
    if "service_contact" in checks:  # Table 11: the rows the quality gate's agreement counts
        marts["marts.service_contact_in_las"] = checks["service_contact"]
    if "marts.star_score_flags" in marts:
        marts["marts.star_score_flags"] = _without_declined(staged, xref,
                                                            marts["marts.star_score_flags"])
    return marts


def _without_declined(staged: dict[str, pd.DataFrame], xref: pd.DataFrame,
                      flags: pd.DataFrame) -> pd.DataFrame:
    """Record-level Star flags are person-level rows: none for carers who declined sharing."""
    declined = _declined_refs(staged, xref)
    stars = _frame(staged, "provider_star_score")
    if not declined or stars.empty or flags.empty:
        return flags
    hidden = set(stars.loc[stars["carer_ref"].isin(declined), "star_ref"])
    return flags[~flags["star_ref"].isin(hidden)].reset_index(drop=True)
