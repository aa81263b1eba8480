"""The analyst marts that rebuild the evaluation's tables, on hand-made staged rows."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from expectations import star
from expectations.nightly import service_contact
from tests.support.staged import frame
from warehouse.marts import build_marts, care_packages, star_change

NIGHT = date(2026, 11, 24)


def _xref(pairs: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"source_record_key": list(pairs), "person_key": list(pairs.values())})


def _star(ref: str, carer: str, reading: int, on: date, total: int,
          recorded: datetime | None = None) -> dict:
    return {"star_ref": ref, "carer_ref": carer, "reading": reading, "assessment_date": on,
            "recorded_at": pd.Timestamp(recorded or on), "total_score": total,
            "practitioner_ref": "P1"}


def test_star_change_keeps_the_re_referred_carers_latest_file() -> None:
    # One person, two files. The file with the *lower* reference is the later referral: the
    # mart follows the date of reading 1, not the order of the references.
    staged = {
        "provider_carer": frame("provider_carer", [
            {"carer_ref": "CR900", "information_sharing": "Agreed"},
            {"carer_ref": "CR100", "information_sharing": "Agreed"}]),
        "provider_star_score": frame("provider_star_score", [
            _star("S1", "CR900", 1, date(2023, 4, 20), 38),
            _star("S2", "CR900", 2, date(2023, 10, 20), 36),
            _star("S3", "CR100", 1, date(2025, 3, 26), 22),
            _star("S4", "CR100", 2, date(2025, 9, 26), 30)]),
    }
    xref = _xref({"provider:carer:CR900": "pk_a", "provider:carer:CR100": "pk_a"})
    row = star_change(staged, xref).set_index("carer_key").loc["pk_a"]
    assert (row["reading_1"], row["reading_2"], row["change_1_2"]) == (22, 30, 8)


def test_a_carer_who_declined_on_a_new_file_has_no_rows_from_an_older_one() -> None:
    """The refusal is the carer's, not one file's: a re-referred carer whose new file says
    Declined leaves no person-level row from their older, Agreed file either."""
    staged = {
        "provider_carer": frame("provider_carer", [
            {"carer_ref": "CR100", "information_sharing": "Agreed"},
            {"carer_ref": "CR900", "information_sharing": "Declined"},
            {"carer_ref": "CR500", "information_sharing": "Agreed"}]),
        "provider_star_score": frame("provider_star_score", [
            _star("S1", "CR100", 1, date(2023, 4, 20), 20),
            _star("S2", "CR100", 2, date(2023, 10, 20), 26),
            _star("S3", "CR500", 1, date(2023, 4, 20), 20),
            _star("S4", "CR500", 2, date(2023, 10, 20), 25)]),
    }
    xref = _xref({"provider:carer:CR100": "pk_a", "provider:carer:CR900": "pk_a",
                  "provider:carer:CR500": "pk_b"})
    assert star_change(staged, xref)["carer_key"].tolist() == ["pk_b"]


def test_a_reading_scored_again_counts_as_its_latest_version_in_both_places() -> None:
    staged = {
        "provider_carer": frame("provider_carer", [
            {"carer_ref": "CR1", "information_sharing": "Agreed"}]),
        "provider_star_score": frame("provider_star_score", [
            _star("S1", "CR1", 1, date(2025, 1, 6), 20),
            _star("S3", "CR1", 2, date(2025, 7, 6), 29, datetime(2025, 7, 9, 10)),
            _star("S2", "CR1", 2, date(2025, 7, 6), 24, datetime(2025, 7, 6, 10))]),
    }
    mart = star_change(staged, _xref({"provider:carer:CR1": "pk_a"}))
    assert mart.loc[0, "change_1_2"] == 9
    assert star.carer_changes(staged["provider_star_score"])["change"].tolist() == [9]


def _package(pid: int, person: int, start: date, weekly: float,
             contingency: bool | None) -> dict:
    return {"package_id": pid, "person_id": person, "setting": "Community",
            "start_date": start, "end_date": None, "weekly_cost": weekly,
            "includes_contingency": contingency, "primary_support_reason": "Personal care"}


def test_care_packages_are_the_cared_for_people_of_known_carers_latest_package_whole() -> None:
    staged = {"las_care_package": frame("las_care_package", [
        _package(1, 10, date(2025, 12, 1), 100.0, True),
        _package(2, 10, date(2026, 6, 1), 200.0, None),  # the latest says nothing of it
        _package(3, 11, date(2026, 1, 1), 50.0, False)])}  # nobody is known to care for 11
    xref = _xref({"las:10": "pk_cf", "las:11": "pk_alone"})
    relationships = pd.DataFrame({"carer_key": ["pk_c"], "cared_for_key": ["pk_cf"]})
    mart = care_packages(staged, xref, pd.DataFrame(columns=["source_record_key", "person_key"]),
                         relationships, NIGHT)
    assert mart["cared_for_key"].tolist() == ["pk_cf"]
    assert mart.loc[0, "annual_cost"] == round(200.0 * 52.143, 2)
    assert pd.isna(mart.loc[0, "includes_contingency"])  # not the earlier package's True


def test_care_packages_same_start_day_pick_does_not_depend_on_row_order() -> None:
    """Two packages starting the same day: the later-recorded one (higher package_id) is the
    latest, in this year and the year before, however staging orders its rows; a rerun of
    the night must leave the mart exactly as it was."""
    rows = [_package(7, 10, date(2024, 1, 1), 100.0, None),
            _package(8, 10, date(2024, 1, 1), 150.0, None)]
    relationships = pd.DataFrame({"carer_key": ["pk_c"], "cared_for_key": ["pk_cf"]})
    xref = _xref({"las:10": "pk_cf"})
    empty = pd.DataFrame(columns=["source_record_key", "person_key"])
    marts = [care_packages({"las_care_package": frame("las_care_package", order)}, xref,
                           empty, relationships, NIGHT)
             for order in (rows, rows[::-1])]
    for mart in marts:
        assert mart.loc[0, "annual_cost"] == round(150.0 * 52.143, 2)
        assert mart.loc[0, "change_from_previous_year"] == 0
    pd.testing.assert_frame_equal(marts[0], marts[1])


def test_care_packages_count_a_package_in_any_setting() -> None:
    """The contract: "per cared-for person with a package in the year", no setting named;
    someone whose only package is in a care home has a row."""
    home = {**_package(4, 12, date(2026, 2, 1), 900.0, None), "setting": "Residential care"}
    staged = {"las_care_package": frame("las_care_package", [home])}
    relationships = pd.DataFrame({"carer_key": ["pk_c"], "cared_for_key": ["pk_home"]})
    mart = care_packages(staged, _xref({"las:12": "pk_home"}),
                         pd.DataFrame(columns=["source_record_key", "person_key"]),
                         relationships, NIGHT)
    assert mart["cared_for_key"].tolist() == ["pk_home"]
    assert mart.loc[0, "annual_cost"] == round(900.0 * 52.143, 2)


def test_service_contact_mart_counts_carer_assessments_as_the_quality_gate_does() -> None:
    # Table 11/12: a carer assessment assesses the carer, so its carer is the assessed
    # person; a Care Act assessment's carers are the people linked as caring for them.
    staged = {"las_assessment": frame("las_assessment", [
        {"assessment_id": 1, "person_id": 20, "assessment_type": "Carer assessment",
         "assessment_date": date(2026, 3, 1), "carers_service_contact": "Yes"},
        {"assessment_id": 2, "person_id": 21, "assessment_type": "Care Act assessment",
         "assessment_date": date(2026, 4, 1), "carers_service_contact": "No"},
        {"assessment_id": 3, "person_id": 22, "assessment_type": "Care Act assessment",
         "assessment_date": date(2026, 5, 1), "carers_service_contact": "No"}])}
    xref = _xref({"las:20": "pk_carer", "las:21": "pk_cf", "las:22": "pk_nobody",
                  "provider:carer:CR1": "pk_carer"})
    relationships = pd.DataFrame({"carer_key": ["pk_carer"], "cared_for_key": ["pk_cf"]})
    contact = service_contact(staged, xref, pd.DataFrame(), relationships)
    marts = build_marts(staged, {"person_xref": xref, "caring_relationship": relationships},
                        {"service_contact": contact}, NIGHT)
    mart = marts["marts.service_contact_in_las"]
    assert mart["assessment_type"].tolist() == ["Carer assessment", "Care Act assessment"]
    assert mart["carer_known_to_service"].tolist() == [True, True]
    assert mart["assessment_date"].tolist() == [date(2026, 3, 1), date(2026, 4, 1)]
