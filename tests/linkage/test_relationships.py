"""Caring relationships: sources merged per person pair, earliest ending wins."""

from __future__ import annotations

import pandas as pd
from linkage_helpers import empty_staged, staged_frame, valid_nhs

from linkage.relationships import caring_relationships

GP_NHS = valid_nhs(9)


def _staged() -> dict[str, pd.DataFrame]:
    staged = empty_staged()
    staged["provider_carer"] = staged_frame("provider_carer", [
        {"carer_ref": "C1", "referral_date": "2020-01-01"},
        {"carer_ref": "C2", "referral_date": "2021-01-01"},
        {"carer_ref": "C3", "referral_date": "2022-01-01"}])
    staged["provider_cared_for"] = staged_frame("provider_cared_for", [
        {"cared_for_ref": "F1", "carer_ref": "C1", "date_of_death": "2025-06-01"},
        {"cared_for_ref": "F2", "carer_ref": "C2"},
        {"cared_for_ref": "F3", "carer_ref": "C3"}])
    staged["provider_sustainment_check"] = staged_frame("provider_sustainment_check", [
        {"check_ref": "S1", "carer_ref": "C1", "check_date": "2025-09-01", "still_caring": "No",
         "breakdown_reason": "Other"},
        {"check_ref": "S2", "carer_ref": "C2", "check_date": "2025-03-01", "still_caring": "No",
         "breakdown_reason": "Deterioration of relationship between carer and cared for"},
        {"check_ref": "S3", "carer_ref": "C3", "check_date": "2025-04-01",
         "still_caring": "Yes"}])
    staged["las_person"] = staged_frame("las_person", [
        {"person_id": 10}, {"person_id": 11, "date_of_death": "2024-02-02"},
        {"person_id": 12}, {"person_id": 13}])
    staged["las_person_relationship"] = staged_frame("las_person_relationship", [
        # person_id is the client cared for, related_person_id their carer
        {"relationship_id": 1, "person_id": 12, "related_person_id": 10,
         "relationship_type": "Main informal carer", "start_date": "2019-05-05",
         "end_date": "2024-12-12"},
        {"relationship_id": 2, "person_id": 13, "related_person_id": 11,
         "relationship_type": "Informal carer", "start_date": "2018-01-01"},
        {"relationship_id": 3, "person_id": 10, "related_person_id": 13,
         "relationship_type": "Next of kin", "start_date": "2018-01-01"}])
    staged["las_care_package"] = staged_frame("las_care_package", [
        {"package_id": 1, "person_id": 12, "setting": "Nursing care",
         "start_date": "2024-10-10"}])
    staged["gp_register_entry"] = staged_frame("gp_register_entry", [
        {"practice_ods": "D1", "entry_number": 1, "nhs_number": GP_NHS,
         "cared_for_name": "Mrs F Three", "date_recorded": "2015-01-01"}])
    return staged


def test_relationship_end_reasons() -> None:
    keys = {"provider:carer:C1": "A", "provider:cared_for:F1": "B",
            "provider:carer:C2": "C", "provider:cared_for:F2": "D",
            "provider:carer:C3": "E", "provider:cared_for:F3": "F",
            "las:10": "G", "las:12": "H", "las:11": "I", "las:13": "J",
            f"gp:D1:{GP_NHS}": "E", f"gp:D1:{GP_NHS}:cared_for:1": "F"}
    xref = pd.DataFrame({"source_record_key": list(keys), "person_key": list(keys.values())})
    rel = caring_relationships(_staged(), xref).set_index(["carer_key", "cared_for_key"])
    assert len(rel) == 5  # the Next of kin row is not a caring relationship
    assert rel.loc[("A", "B"), "end_reason"] == "cared_for_deceased"  # death before breakdown
    assert str(rel.loc[("A", "B"), "ended_on"]) == "2025-06-01"
    assert rel.loc[("C", "D"), "end_reason"] == "breakdown"
    assert rel.loc[("G", "H"), "end_reason"] == "residential_care"  # before the LAS end date
    assert rel.loc[("I", "J"), "end_reason"] == "carer_deceased"
    ef = rel.loc[("E", "F")]
    assert ef["sources"] == "provider,gp" and pd.isna(ef["end_reason"])
    assert str(ef["first_seen"]) == "2015-01-01"


def test_las_end_date_alone_is_ended_in_las() -> None:
    staged = _staged()
    staged["las_care_package"] = staged_frame("las_care_package", [])
    xref = pd.DataFrame({"source_record_key": ["las:10", "las:12"], "person_key": ["G", "H"]})
    rel = caring_relationships(staged, xref)
    assert rel.iloc[0]["end_reason"] == "ended_in_las"


def _ended_then_restated(second_start: str) -> pd.DataFrame:
    """LAS relates client 12 to carer 10 twice: a row ended on 2023-05-31, then a current
    one (no end date) from `second_start`."""
    return staged_frame("las_person_relationship", [
        {"relationship_id": 1, "person_id": 12, "related_person_id": 10,
         "relationship_type": "Informal carer", "start_date": "2019-05-05",
         "end_date": "2023-05-31"},
        {"relationship_id": 2, "person_id": 12, "related_person_id": 10,
         "relationship_type": "Main informal carer", "start_date": second_start}])


def _re_referred(staged: dict[str, pd.DataFrame], referrals: tuple[str, str], check: str,
                 reason: str) -> None:
    """Carer file C1 names F1; a sustainment check on C1 says they stopped, for `reason`;
    the carer is re-referred as C2, whose file names the same person again (F2)."""
    staged["provider_carer"] = staged_frame("provider_carer", [
        {"carer_ref": "C1", "referral_date": referrals[0]},
        {"carer_ref": "C2", "referral_date": referrals[1]}])
    staged["provider_cared_for"] = staged_frame("provider_cared_for", [
        {"cared_for_ref": "F1", "carer_ref": "C1"},
        {"cared_for_ref": "F2", "carer_ref": "C2"}])
    staged["provider_sustainment_check"] = staged_frame("provider_sustainment_check", [
        {"check_ref": "S1", "carer_ref": "C1", "check_date": check, "still_caring": "No",
         "breakdown_reason": reason}])


def test_a_relationship_restated_after_its_end_is_current_again() -> None:
    # warehouse-contract.md: ended_on is "null while the relationship is believed current".
    # LAS records a change of relationship type by ending one row and starting another;
    # the provider re-refers a carer under a new carer_ref after closure (provider-extract.md)
    # and "a re-referred carer's new file repeats" the people they care for. The later
    # statement, begun after the earlier one ended, says the caring goes on.
    staged = empty_staged()
    staged["las_person_relationship"] = _ended_then_restated("2023-06-01")
    _re_referred(staged, ("2020-01-01", "2024-02-01"), "2022-09-01", "Other")
    keys = {"las:10": "G", "las:12": "H", "provider:carer:C1": "A", "provider:carer:C2": "A",
            "provider:cared_for:F1": "B", "provider:cared_for:F2": "B"}
    xref = pd.DataFrame({"source_record_key": list(keys), "person_key": list(keys.values())})
    rel = caring_relationships(staged, xref).set_index(["carer_key", "cared_for_key"])
    assert pd.isna(rel.loc[("G", "H"), "ended_on"]) and pd.isna(rel.loc[("G", "H"), "end_reason"])
    assert pd.isna(rel.loc[("A", "B"), "ended_on"]) and pd.isna(rel.loc[("A", "B"), "end_reason"])
    assert str(rel.loc[("A", "B"), "first_seen"]) == "2020-01-01"


def test_a_death_stands_though_a_later_file_repeats_the_person() -> None:
    """A sustainment check says the cared-for person died; the carer's re-referral file
    repeats them (a copied list, or support in bereavement): the death still ends it."""
    staged = empty_staged()
    _re_referred(staged, ("2023-11-19", "2026-06-09"), "2024-06-26",
                 "Death of the cared-for person")
    keys = {"provider:carer:C1": "A", "provider:carer:C2": "A",
            "provider:cared_for:F1": "B", "provider:cared_for:F2": "B"}
    xref = pd.DataFrame({"source_record_key": list(keys), "person_key": list(keys.values())})
    rel = caring_relationships(staged, xref).set_index(["carer_key", "cared_for_key"])
    assert str(rel.loc[("A", "B"), "ended_on"]) == "2024-06-26"
    assert rel.loc[("A", "B"), "end_reason"] == "cared_for_deceased"


def test_an_las_row_still_current_keeps_the_relationship_current() -> None:
    # las-reporting-db.md: end_date "null while current". Two rows for one pair, the
    # overlapping second one current: LAS itself says the caring goes on.
    staged = empty_staged()
    staged["las_person_relationship"] = _ended_then_restated("2021-01-01")
    xref = pd.DataFrame({"source_record_key": ["las:10", "las:12"], "person_key": ["G", "H"]})
    rel = caring_relationships(staged, xref)
    assert pd.isna(rel.iloc[0]["ended_on"]) and pd.isna(rel.iloc[0]["end_reason"])


def test_a_respite_stay_is_not_a_move_into_care() -> None:
    """las-reporting-db.md: a move into *permanent* residential or nursing care ends the
    home caring. A fortnight's respite in a care home, ended with the person alive, does not;
    a stay that lasted until the death, or is still open, does, from the day it began (a
    residential stay followed at once by nursing care is one stay)."""
    staged = empty_staged()
    staged["las_person"] = staged_frame("las_person", [
        {"person_id": 10}, {"person_id": 12}, {"person_id": 20},
        {"person_id": 22, "date_of_death": "2025-03-01"}, {"person_id": 30},
        {"person_id": 32}])
    staged["las_person_relationship"] = staged_frame("las_person_relationship", [
        {"relationship_id": n, "person_id": client, "related_person_id": carer,
         "relationship_type": "Informal carer", "start_date": "2018-01-01"}
        for n, (client, carer) in enumerate(((12, 10), (22, 20), (32, 30)), start=1)])
    staged["las_care_package"] = staged_frame("las_care_package", [
        {"package_id": 1, "person_id": 12, "setting": "Residential care",
         "start_date": "2024-06-01", "end_date": "2024-06-15"},          # respite, home again
        {"package_id": 2, "person_id": 22, "setting": "Residential care",
         "start_date": "2024-10-01", "end_date": "2025-03-01"},          # until the death
        {"package_id": 3, "person_id": 32, "setting": "Residential care",
         "start_date": "2024-01-10", "end_date": "2024-05-01"},
        {"package_id": 4, "person_id": 32, "setting": "Nursing care",
         "start_date": "2024-05-02"}])                                   # one stay, still open
    keys = {f"las:{p}": f"P{p}" for p in (10, 12, 20, 22, 30, 32)}
    xref = pd.DataFrame({"source_record_key": list(keys), "person_key": list(keys.values())})
    rel = caring_relationships(staged, xref).set_index(["carer_key", "cared_for_key"])
    assert pd.isna(rel.loc[("P10", "P12"), "ended_on"])
    assert (str(rel.loc[("P20", "P22"), "ended_on"]),
            rel.loc[("P20", "P22"), "end_reason"]) == ("2024-10-01", "residential_care")
    assert (str(rel.loc[("P30", "P32"), "ended_on"]),
            rel.loc[("P30", "P32"), "end_reason"]) == ("2024-01-10", "residential_care")


def test_every_standing_ending_is_kept_beside_the_earliest() -> None:
    """The relationship row has the earliest ending; the endings table has each one, so the
    stale check can pass over the carer's own death and still see the care-home move."""
    from linkage.relationships import resolve_relationships

    staged = empty_staged()
    staged["las_person"] = staged_frame("las_person", [
        {"person_id": 10, "date_of_death": "2025-01-05"}, {"person_id": 12}])
    staged["las_person_relationship"] = staged_frame("las_person_relationship", [
        {"relationship_id": 1, "person_id": 12, "related_person_id": 10,
         "relationship_type": "Informal carer", "start_date": "2018-01-01"}])
    staged["las_care_package"] = staged_frame("las_care_package", [
        {"package_id": 1, "person_id": 12, "setting": "Residential care",
         "start_date": "2025-02-01"}])
    xref = pd.DataFrame({"source_record_key": ["las:10", "las:12"],
                         "person_key": ["P10", "P12"]})
    rel, endings = resolve_relationships(staged, xref)
    assert rel[["ended_on", "end_reason"]].astype(str).values.tolist() == [
        ["2025-01-05", "carer_deceased"]]
    assert endings[["ended_on", "end_reason"]].astype(str).values.tolist() == [
        ["2025-01-05", "carer_deceased"], ["2025-02-01", "residential_care"]]
    assert rel.equals(caring_relationships(staged, xref))
