"""Small hand-made frames in the staged-table shape (every column present, None by default)."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from sources import tables as t
from tests.support.identifiers import valid_nhs as nhs  # noqa: F401 - the fixtures' name

NIGHT = date(2026, 11, 24)
MONTH = date(2026, 11, 1)


def frame(table: t.StagedTable, rows: list[dict]) -> pd.DataFrame:
    """Rows in the shape of `table`: all its columns, None where not given, lineage filled."""
    lineage = {"extract_date": NIGHT, "source_file": f"{table.name}.csv", "source_row": 1}
    data = []
    for i, row in enumerate(rows, start=1):
        full = {c: None for c in table.column_names}
        full.update({**lineage, "source_row": i})
        full.update(row)
        data.append(full)
    df = pd.DataFrame(data, columns=table.column_names)
    for col in table.columns:
        if col.type == "timestamp":
            df[col.name] = pd.to_datetime(df[col.name])
        elif col.type == "integer":
            df[col.name] = pd.array(df[col.name], dtype="Int64")
        elif col.type == "boolean":
            df[col.name] = pd.array(df[col.name], dtype="boolean")
        elif col.type == "numeric":
            df[col.name] = pd.to_numeric(df[col.name]).astype("float64")
        else:
            df[col.name] = df[col.name].astype(object)
    return df


def clean_provider() -> dict[str, pd.DataFrame]:
    """One clean row per provider table (plus a second carer), passing every expectation."""
    carer = {"title": "Mrs", "first_name": "Ann", "last_name": "Smith",
             "date_of_birth": date(1960, 3, 1), "sex": "F", "postcode": "AB1 2CD",
             "postcode_valid": True, "nhs_number": nhs(1), "nhs_number_valid": True,
             "district": None, "has_long_term_condition": "No",
             "employment_status": "Retired", "hours_caring_per_week": "20-34",
             "referral_date": date(2025, 1, 10), "referral_source": "Self",
             "information_sharing": "Agreed", "status": "Open",
             "created_at": datetime(2025, 1, 10, 9), "updated_at": datetime(2025, 6, 1, 9)}
    return {
        "provider_carer": frame(t.PROVIDER_CARER, [
            {**carer, "carer_ref": "CR000001"},
            {**carer, "carer_ref": "CR000002", "nhs_number": None, "nhs_number_valid": False},
        ]),
        "provider_cared_for": frame(t.PROVIDER_CARED_FOR, [{
            "cared_for_ref": "CF000001", "carer_ref": "CR000001", "first_name": "Bob",
            "last_name": "Smith", "date_of_birth": date(1930, 1, 1), "nhs_number_valid": False,
            "postcode_valid": False, "carer_relationship": "Child", "main_need": "Dementia",
            "receives_services": "Yes"}]),
        "provider_assessment": frame(t.PROVIDER_ASSESSMENT, [{
            "assessment_ref": "AS000001", "carer_ref": "CR000001", "stage": "Part B",
            "assessment_date": date(2025, 2, 1), "practitioner_ref": "P101",
            "risk_level": "High", "risk_level_as_recorded": "High", "weighted_score": None,
            "outcome": "Action plan"}]),
        "provider_star_score": frame(t.PROVIDER_STAR_SCORE, [
            {"star_ref": "ST000001", "carer_ref": "CR000001", "reading": 1,
             "assessment_date": date(2025, 2, 1), "recorded_at": datetime(2025, 2, 1, 15),
             "practitioner_ref": "P101", "completed_with": "Carer and practitioner together",
             "total_score": 18, "carer_self_rating": 17},
            {"star_ref": "ST000002", "carer_ref": "CR000001", "reading": 2,
             "assessment_date": date(2025, 8, 1), "recorded_at": datetime(2025, 8, 2, 10),
             "practitioner_ref": "P101", "completed_with": "Carer alone",
             "total_score": 22, "carer_self_rating": None},
        ]),
        "provider_sustainment_check": frame(t.PROVIDER_SUSTAINMENT_CHECK, [
            {"check_ref": "SC000001", "carer_ref": "CR000001",
             "plan_agreed_date": date(2025, 2, 1), "check_type": "6 month",
             "due_date": date(2025, 8, 1), "check_date": date(2025, 8, 3),
             "still_caring": "Yes"},
            {"check_ref": "SC000002", "carer_ref": "CR000001",
             "plan_agreed_date": date(2025, 2, 1), "check_type": "12 month",
             "due_date": date(2026, 2, 1), "check_date": date(2026, 2, 5),
             "still_caring": "No", "breakdown_reason": "Death of the cared-for person",
             "breakdown_reason_code": "CARED_FOR_DIED", "breakdown_category": "unavoidable",
             "breakdown_category_as_recorded": "Unavoidable"},
        ]),
        "provider_support_plan": frame(t.PROVIDER_SUPPORT_PLAN, [{
            "plan_ref": "PL000001", "carer_ref": "CR000001", "plan_type": "Action plan",
            "agreed_date": date(2025, 2, 1),
            "support_items": "Counselling;Respite and breaks"}]),
    }


def clean_las() -> dict[str, pd.DataFrame]:
    return {
        "las_person": frame(t.LAS_PERSON, [
            {"person_id": 1, "nhs_number": nhs(10), "nhs_number_valid": True, "forename": "Bob",
             "surname": "Smith", "date_of_birth": date(1930, 1, 1), "gender": "Male",
             "sex": "M", "postcode": "AB1 2CD", "postcode_valid": True, "ethnicity": "White",
             "last_updated": datetime(2026, 11, 23, 8)},
            {"person_id": 2, "nhs_number": nhs(20), "nhs_number_valid": True,
             "forename": "Ann", "surname": "Smith", "date_of_birth": date(1960, 3, 1),
             "gender": "Female", "sex": "F", "postcode_valid": False,
             "last_updated": datetime(2026, 11, 23, 8)},
        ]),
        "las_person_relationship": frame(t.LAS_PERSON_RELATIONSHIP, [{
            "relationship_id": 1, "person_id": 1, "related_person_id": 2,
            "relationship_type": "Main informal carer", "carer_relationship": "Child",
            "start_date": date(2024, 1, 1), "last_updated": datetime(2026, 11, 23, 8)}]),
        "las_assessment": frame(t.LAS_ASSESSMENT, [{
            "assessment_id": 1, "person_id": 2, "assessment_type": "Carer assessment",
            "assessment_date": date(2025, 5, 1), "carer_fatigue_noted": True,
            "carers_service_contact": "Yes", "last_updated": datetime(2026, 11, 23, 8)}]),
        "las_care_package": frame(t.LAS_CARE_PACKAGE, [{
            "package_id": 1, "person_id": 1, "primary_support_reason": "Physical support",
            "primary_support_reason_code": "PS", "setting": "Community",
            "start_date": date(2024, 1, 1), "weekly_cost": 250.0,
            "includes_contingency": False, "funding": "Council funded",
            "last_updated": datetime(2026, 11, 23, 8)}]),
        "las_person_merge": frame(t.LAS_PERSON_MERGE, [{
            "old_person_id": 7, "new_person_id": 1, "merged_at": datetime(2026, 11, 23, 8)}]),
    }


def gp_row(**values) -> dict:
    base = {"practice_ods": "D82001", "snapshot_month": MONTH, "layout": "SystmOne",
            "nhs_number_valid": True, "sex": "F", "postcode": "AB1 2CD", "postcode_valid": True,
            "carer_code": "224484003", "date_recorded": date(2024, 12, 1),
            "cared_for_nhs_number_valid": False}
    base.update(values)
    return base


def clean_gp() -> dict[str, pd.DataFrame]:
    return {"gp_register_entry": frame(t.GP_REGISTER_ENTRY, [
        gp_row(entry_number=1, nhs_number=nhs(100), first_name="Ann", last_name="Smith",
               last_review_date=date(2026, 1, 5)),
        gp_row(entry_number=2, nhs_number=nhs(200), first_name="Cy", last_name="Jones",
               carer_code="918a"),
    ])}
