"""The conformed layer: dimensions and facts built from staging and the night's person keys.

Every row is pseudonymous (person keys, event references, codes, dates of events — never
names, NHS numbers, dates of birth, addresses, full postcodes or a source's person ids), and
carers who declined information sharing contribute no person-level rows.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from carelink.codelists import breakdown_reasons, las_primary_support_reasons, practices
from carelink.identity import age_band
from linkage.records import gp_cared_for
from warehouse.marts import _declined_refs, _frame, _key_map, las_caring_records


def dim_date(first: date = date(2005, 1, 1), last: date = date(2035, 12, 31)) -> pd.DataFrame:
    days = pd.date_range(first, last, freq="D")
    fy_start = days.year - (days.month < 4)
    return pd.DataFrame({
        "date_key": days.date, "year": days.year, "month": days.month,
        "quarter": days.quarter, "month_start": days.to_period("M").start_time.date,
        "financial_year": [f"{y}/{str(y + 1)[-2:]}" for y in fy_start],
    })


def dim_person(staged: dict[str, pd.DataFrame], records: pd.DataFrame,
               extract_date: date) -> pd.DataFrame:
    """One row per person key: age band, sex and district from the best source that has them
    (LAS, then GP, then the carers' service), roles and which sources know them."""
    columns = ["person_key", "age_band", "sex", "district", "is_carer", "is_cared_for",
               "in_provider", "in_las", "in_gp", "deceased"]
    if records.empty:
        return pd.DataFrame(columns=columns)
    declined = _declined_refs(staged, records)
    attrs: dict[str, dict] = {}

    def take(key: str | None, dob, sex, district, died) -> None:
        if key is None:
            return
        a = attrs.setdefault(key, {"dob": None, "sex": None, "district": None,
                                   "deceased": False})
        if a["dob"] is None and dob is not None and not pd.isna(dob):
            a["dob"] = dob
        if a["sex"] in (None, "U") and sex:
            a["sex"] = sex
        if a["district"] is None and district is not None and not pd.isna(district):
            a["district"] = district
        a["deceased"] = a["deceased"] or (died is not None and not pd.isna(died))

    keys = dict(zip(records["source_record_key"], records["person_key"], strict=False))
    las = _frame(staged, "las_person")
    for r in las.itertuples(index=False):
        take(keys.get(f"las:{r.person_id}"), r.date_of_birth, r.sex, r.district,
             r.date_of_death)
    gp = _frame(staged, "gp_register_entry")
    practice_district = {p.practice_ods: p.district for p in practices().values()}
    for r in gp.itertuples(index=False):
        take(keys.get(f"gp:{r.practice_ods}:{r.nhs_number}"), r.date_of_birth, r.sex,
             practice_district.get(r.practice_ods), None)
    carers = _frame(staged, "provider_carer")
    for r in carers.itertuples(index=False):
        if r.carer_ref not in declined:
            take(keys.get(f"provider:carer:{r.carer_ref}"), r.date_of_birth, r.sex,
                 r.district, None)
    cared_for = _frame(staged, "provider_cared_for")
    for r in cared_for.itertuples(index=False):
        if r.carer_ref not in declined:
            take(keys.get(f"provider:cared_for:{r.cared_for_ref}"), r.date_of_birth, None,
                 None, r.date_of_death)
    # Nothing a declined file says reaches a person-level row: not the carer, and not the
    # people recorded as cared for there. Someone another record knows keeps the row that
    # record gives them (its roles and sources only).
    on_declined = {f"provider:carer:{r}" for r in declined} | {
        f"provider:cared_for:{r.cared_for_ref}" for r in cared_for.itertuples(index=False)
        if r.carer_ref in declined}
    hidden = {keys.get(f"provider:carer:{r}") for r in declined}
    frame = records[~records["person_key"].isin(hidden)
                    & ~records["source_record_key"].isin(on_declined)]
    las_carers, las_cared_for = las_caring_records(staged)
    frame = frame.assign(
        _carer=(frame["role"] == "carer") | frame["source_record_key"].isin(las_carers),
        _cared_for=(frame["role"] == "cared_for")
        | frame["source_record_key"].isin(las_cared_for))
    roles = frame.groupby("person_key").agg(
        is_carer=("_carer", "any"),
        is_cared_for=("_cared_for", "any"),
        in_provider=("source", lambda s: (s == "provider").any()),
        in_las=("source", lambda s: (s == "las").any()),
        in_gp=("source", lambda s: (s == "gp").any()),
    ).reset_index()
    roles["age_band"] = [age_band(attrs.get(k, {}).get("dob"), extract_date)
                         for k in roles["person_key"]]
    roles["sex"] = [attrs.get(k, {}).get("sex") or "U" for k in roles["person_key"]]
    roles["district"] = [attrs.get(k, {}).get("district") for k in roles["person_key"]]
    roles["deceased"] = [attrs.get(k, {}).get("deceased", False) for k in roles["person_key"]]
    return roles[columns]


def _carer_key_column(df: pd.DataFrame, keys: dict[str, str], declined: set[str]) -> pd.DataFrame:
    df = df[~df["carer_ref"].isin(declined)].copy()
    df["carer_key"] = [keys.get(f"provider:carer:{r}") for r in df["carer_ref"]]
    return df


def build_dimensional(staged: dict[str, pd.DataFrame], linkage: dict[str, pd.DataFrame],
                      extract_date: date) -> dict[str, pd.DataFrame]:
    """Every dimension and fact, keyed by qualified table name."""
    xref = linkage.get("person_xref", pd.DataFrame(columns=["source_record_key", "person_key"]))
    records = linkage.get("records", pd.DataFrame(
        columns=["source_record_key", "person_key", "role", "source"]))
    keys = _key_map(xref)
    declined = _declined_refs(staged, xref)
    out: dict[str, pd.DataFrame] = {
        "marts.dim_date": dim_date(),
        "marts.dim_person": dim_person(staged, records, extract_date),
        "marts.dim_practice": pd.DataFrame([vars(p) for p in practices().values()]),
        "marts.dim_breakdown_reason": pd.DataFrame([vars(r) for r in breakdown_reasons()]),
        "marts.dim_need": pd.DataFrame(
            [{"need": n, "source": "provider", "code": None} for n in sorted(
                {"Autism", "Dementia", "Frail elderly", "Learning disability", "Mental health",
                 "Physical disability", "Other"})]
            + [{"need": label, "source": "las", "code": code}
               for label, code in las_primary_support_reasons().items()]),
    }
    carers = _frame(staged, "provider_carer")
    if not carers.empty:
        out["marts.fact_referral"] = _carer_key_column(carers, keys, declined)
    assessments = _frame(staged, "provider_assessment")
    if not assessments.empty:
        out["marts.fact_pathway_assessment"] = _carer_key_column(assessments, keys, declined)
    stars = _frame(staged, "provider_star_score")
    if not stars.empty:
        stars = _carer_key_column(stars, keys, declined)
        recorded = pd.to_datetime(stars["recorded_at"]).dt.normalize()
        assessed = pd.to_datetime(stars["assessment_date"])
        stars["days_to_record"] = (recorded - assessed).dt.days.astype("Int64")
        out["marts.fact_star_reading"] = stars
        all_stars = _frame(staged, "provider_star_score")
        out["marts.dim_practitioner"] = all_stars.dropna(subset=["practitioner_ref"]).groupby(
            "practitioner_ref").agg(readings=("star_ref", "count"),
                                    carers=("carer_ref", "nunique")).reset_index()
    checks = _frame(staged, "provider_sustainment_check")
    if not checks.empty:
        checks = _carer_key_column(checks, keys, declined)
        checks["category"] = checks["breakdown_category"]
        checks["category_as_recorded"] = checks["breakdown_category_as_recorded"]
        out["marts.fact_sustainment_check"] = checks
    plans = _frame(staged, "provider_support_plan")
    if not plans.empty:
        out["marts.fact_support_plan"] = _carer_key_column(plans, keys, declined)
    for name, fact in (("las_assessment", "marts.fact_las_assessment"),
                       ("las_care_package", "marts.fact_care_package")):
        df = _frame(staged, name)
        if not df.empty:
            df["person_key"] = [keys.get(f"las:{p}") if p is not None and not pd.isna(p)
                                else None for p in df["person_id"]]
            out[fact] = df
    gp = _frame(staged, "gp_register_entry")
    if not gp.empty:
        gp["carer_key"] = [keys.get(f"gp:{o}:{n}") for o, n in
                           zip(gp["practice_ods"], gp["nhs_number"], strict=False)]
        # the stale-register check's own test: a number or a name (`wife` alone is neither)
        gp["names_cared_for"] = [gp_cared_for(row) is not None for row in
                                 gp.astype(object).where(gp.notna(), None).to_dict("records")]
        out["marts.fact_gp_register_entry"] = gp
    return out
