"""Stale GP register entries, judged with evidence from every source (contract rules)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from exp_frames import MONTH, NIGHT, frame, gp_row, nhs

from expectations.nightly import check_night
from expectations.staleness import RECONCILIATION_COLUMNS, STALENESS_COLUMNS
from sources import tables as t

NHS = {p: nhs(1000 + 37 * i) for i, p in enumerate("ABCDEFGHIJKL")}


def _gp(patient: str, entry: int, practice: str = "D82001", **values) -> dict:
    return gp_row(practice_ods=practice, entry_number=entry, nhs_number=NHS[patient],
                  first_name=f"Pat{patient}", last_name="Carer", title="Ms", **values)


def _world() -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
    """Staged tables, person_xref and caring relationships for patients A–L."""
    gp = [
        _gp("A", 1, last_review_date=date(2026, 10, 20)),                      # carer died
        _gp("B", 2, last_review_date=date(2026, 1, 1), cared_for_name="Mrs J B"),
        _gp("C", 3, last_review_date=date(2026, 7, 1), cared_for_name="Mr C C"),
        _gp("D", 4, last_review_date=date(2025, 1, 1), cared_for_name="Mr D D"),
        _gp("E", 5, last_review_date=date(2025, 12, 1)),                       # caring ended
        _gp("F", 6, last_review_date=date(2025, 12, 1)),                       # one still open
        _gp("G", 7, date_recorded=date(2024, 6, 1)),                           # review overdue
        _gp("H", 8, date_recorded=date(2024, 11, 15)),
        _gp("I", 9, date_recorded=date(2020, 1, 1), no_longer_carer_date=date(2026, 2, 1)),
        _gp("J", 1, practice="D82002", last_review_date=date(2026, 9, 20)),    # check: carer died
        _gp("K", 10, last_review_date=date(2025, 6, 1)),           # known cared-for died
        _gp("L", 11, last_review_date=date(2025, 6, 1), cared_for_first_name="Lx",
            cared_for_last_name="One"),
        _gp("L", 12, last_review_date=date(2025, 6, 1), cared_for_first_name="Ly",
            cared_for_last_name="Two"),
    ]
    staged = {
        "gp_register_entry": frame(t.GP_REGISTER_ENTRY, gp),
        "las_person": frame(t.LAS_PERSON, [
            {"person_id": 1, "sex": "F", "date_of_death": date(2026, 10, 15)},   # A
            {"person_id": 3, "sex": "M", "date_of_death": date(2026, 6, 1)},     # C's cared-for
            {"person_id": 9, "sex": "F", "date_of_death": date(2026, 1, 1)},     # I
        ]),
        "provider_carer": frame(t.PROVIDER_CARER, [
            {"carer_ref": "CR000010", "sex": "M", "information_sharing": "Agreed"}]),
        "provider_cared_for": frame(t.PROVIDER_CARED_FOR, [
            {"cared_for_ref": "CF000002", "carer_ref": "CR000099",
             "date_of_death": date(2026, 6, 1)},                                 # B's
            {"cared_for_ref": "CF000004", "carer_ref": "CR000099",
             "date_of_death": date(2026, 9, 15)},                                # D's
            {"cared_for_ref": "CF000011", "carer_ref": "CR000099",
             "date_of_death": date(2026, 5, 1)},                                 # K's
            {"cared_for_ref": "CF000012", "carer_ref": "CR000099",
             "date_of_death": date(2026, 4, 1)},                                 # L's first
        ]),
        "provider_sustainment_check": frame(t.PROVIDER_SUSTAINMENT_CHECK, [
            {"check_ref": "SC1", "carer_ref": "CR000010", "check_type": "6 month",
             "check_date": date(2026, 9, 1), "still_caring": "No",
             "breakdown_reason": "Death of the carer", "breakdown_reason_code": "CARER_DIED"}]),
    }
    xref = {f"gp:{'D82002' if p == 'J' else 'D82001'}:{NHS[p]}": f"K{p}" for p in NHS}
    xref.update({
        # a mention's key counts its patient's own rows (B's only row is file row 2)
        "las:1": "KA", f"gp:D82001:{NHS['B']}:cared_for:1": "KB1",
        "provider:cared_for:CF000002": "KB1", f"gp:D82001:{NHS['C']}:cared_for:1": "KC1",
        "las:3": "KC1", f"gp:D82001:{NHS['D']}:cared_for:1": "KD1",
        "provider:cared_for:CF000004": "KD1", "las:9": "KI", "provider:carer:CR000010": "KJ",
        "provider:cared_for:CF000011": "KK1", f"gp:D82001:{NHS['L']}:cared_for:1": "KL1",
        "provider:cared_for:CF000012": "KL1", f"gp:D82001:{NHS['L']}:cared_for:2": "KL2",
    })
    xref_frame = pd.DataFrame({"source_record_key": list(xref), "person_key": list(xref.values()),
                               "run_id": "run1"})
    rel = pd.DataFrame([
        ("KC", "KC1", "gp,las", date(2026, 6, 1), "cared_for_deceased"),
        ("KE", "KE1", "las", date(2026, 3, 1), "ended_in_las"),
        ("KE", "KE2", "provider", date(2026, 5, 1), "breakdown"),
        ("KF", "KF1", "las", date(2026, 3, 1), "ended_in_las"),
        ("KF", "KF2", "las", None, None),
        ("KK", "KK1", "provider", None, None),
    ], columns=["carer_key", "cared_for_key", "sources", "ended_on", "end_reason"])
    rel["first_seen"] = date(2020, 1, 1)
    return staged, xref_frame, rel


EXPECTED = {  # carer_key: (is_stale, reasons, evidence_date, review_overdue, last_review)
    "KA": (True, "carer_deceased", date(2026, 10, 15), False, date(2026, 10, 20)),
    "KB": (True, "cared_for_deceased", date(2026, 6, 1), False, date(2026, 1, 1)),
    "KC": (False, "", None, False, date(2026, 7, 1)),   # reviewed after the death
    "KD": (False, "", None, False, date(2025, 1, 1)),   # death less than 90 days ago
    "KE": (True, "caring_ended", date(2026, 5, 1), False, date(2025, 12, 1)),
    "KF": (False, "", None, False, date(2025, 12, 1)),  # one relationship still current
    "KG": (False, "", None, True, date(2024, 6, 1)),    # never reviewed, added > 24 months ago
    "KH": (False, "", None, False, date(2024, 11, 15)),
    "KI": (False, "", None, True, date(2020, 1, 1)),    # ceased: never stale, but its
    # code was last reviewed in 2020: review_overdue is by the dates alone (the contract)
    "KJ": (True, "carer_deceased", date(2026, 9, 1), False, date(2026, 9, 20)),
    "KK": (True, "cared_for_deceased", date(2026, 5, 1), False, date(2025, 6, 1)),
    "KL": (False, "", None, False, date(2025, 6, 1)),   # one of two named cared-for alive
}


def _linkage_outputs(root, xref: pd.DataFrame, rel: pd.DataFrame):
    """The linkage stage's parquet outputs the cross-source checks read."""
    linkage = root / "linkage"
    linkage.mkdir(parents=True)
    xref.to_parquet(linkage / "person_xref.parquet")
    rel.to_parquet(linkage / "caring_relationship.parquet")
    records = xref.assign(role="carer", source=xref["source_record_key"].str.split(":").str[0])
    records[["source_record_key", "person_key", "role", "source"]].to_parquet(
        linkage / "records.parquet")
    return linkage


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("night")
    staged, xref, rel = _world()
    linkage = _linkage_outputs(root, xref, rel)
    checks = check_night(staged, linkage, extract_date=NIGHT, run_id="run1",
                         stale_share_threshold=0.3, out_dir=root / "checks",
                         restricted_dir=root / "restricted", docs_dir=root / "docs")
    return root, checks


def test_staleness_rows_are_exact(night) -> None:
    root, checks = night
    stale = pd.read_parquet(root / "checks" / "gp_register_staleness.parquet")
    assert list(stale.columns) == STALENESS_COLUMNS
    assert len(stale) == len(EXPECTED)  # patient L's two rows are one entry
    assert (stale["snapshot_month"] == MONTH).all() and (stale["run_id"] == "run1").all()
    got = {r.carer_key: (bool(r.is_stale), r.reasons,
                         None if pd.isna(r.evidence_date) else r.evidence_date,
                         bool(r.review_overdue), r.last_review_date)
           for r in stale.itertuples()}
    assert got == EXPECTED


def test_practice_summary_and_threshold_warning(night) -> None:
    root, checks = night
    summary = pd.read_parquet(root / "checks" / "gp_register_practice_summary.parquet")
    by_practice = summary.set_index("practice_ods")
    assert by_practice.loc["D82001", ["entries", "stale_entries", "review_overdue_entries"]
                           ].tolist() == [11, 4, 2]  # KG and the ceased KI
    assert by_practice.loc["D82002", "stale_share"] == 1.0
    outcome = next(o for o in checks.outcomes if o.expectation == "stale_share_within_threshold")
    assert (outcome.success, outcome.severity, outcome.unexpected_count) == (False, "warning", 2)
    s = checks.summary()
    assert (s["stale_entries"], s["practices_flagged"], s["critical_failures"]) == (5, 2, 0)


def test_reconciliation_lists_hold_only_the_practice_own_data(night) -> None:
    root, _ = night
    folder = root / "restricted" / "reconciliation"
    assert sorted(p.name for p in folder.iterdir()) == ["D82001.csv", "D82002.csv"]
    d1 = pd.read_csv(folder / "D82001.csv", dtype=str)
    assert list(d1.columns) == RECONCILIATION_COLUMNS
    assert sorted(d1["nhs_number"]) == sorted(NHS[p] for p in "ABEK")
    row = d1.set_index("first_name").loc["PatE"]
    assert (row["reasons"], row["evidence_source"], row["evidence_date"]) == (
        "caring_ended", "provider", "2026-05-01")
    assert d1.set_index("first_name").loc["PatA", "evidence_source"] == "las"
    d2 = pd.read_csv(folder / "D82002.csv", dtype=str)
    assert d2[["nhs_number", "reasons", "evidence_source"]].values.tolist() == [
        [NHS["J"], "carer_deceased", "provider"]]


def test_night_writes_results_and_docs(night) -> None:
    root, checks = night
    results = checks.results_frame()
    assert set(results["source"]) == {"cross_source"}
    assert "linkage_sanity" in set(results["suite"])
    assert (root / "docs" / "cross_source.html").exists()


def test_a_carer_death_on_record_is_not_caring_ended(tmp_path) -> None:
    """The contract's `caring_ended` endings are the cared-for person's death, a sustainment
    check, an LAS end date and residential care. A carer whose own death LAS records is
    `carer_deceased` alone; one a sustainment check says died ("Death of the carer": the
    check says they no longer care) is both."""
    staged, xref, rel = _world()
    numbers = {"M": nhs(2001), "N": nhs(2038)}
    gp = pd.concat([staged["gp_register_entry"], frame(t.GP_REGISTER_ENTRY, [
        gp_row(practice_ods="D82003", entry_number=n, nhs_number=numbers[p],
               first_name=f"Pat{p}", last_name="Carer", last_review_date=date(2025, 6, 1))
        for n, p in ((1, "M"), (2, "N"))])], ignore_index=True)
    staged["gp_register_entry"] = gp
    staged["las_person"] = pd.concat([staged["las_person"], frame(t.LAS_PERSON, [
        {"person_id": 13, "sex": "F", "date_of_death": date(2026, 3, 1)}])],
        ignore_index=True)
    staged["provider_carer"] = pd.concat([staged["provider_carer"], frame(
        t.PROVIDER_CARER, [{"carer_ref": "CR000014", "sex": "M",
                            "information_sharing": "Agreed"}])], ignore_index=True)
    staged["provider_sustainment_check"] = pd.concat([
        staged["provider_sustainment_check"], frame(t.PROVIDER_SUSTAINMENT_CHECK, [
            {"check_ref": "SC2", "carer_ref": "CR000014", "check_type": "6 month",
             "check_date": date(2026, 3, 1), "still_caring": "No",
             "breakdown_reason": "Death of the carer",
             "breakdown_reason_code": "CARER_DIED"}])], ignore_index=True)
    xref = pd.concat([xref, pd.DataFrame({
        "source_record_key": [f"gp:D82003:{numbers['M']}", "las:13",
                              f"gp:D82003:{numbers['N']}", "provider:carer:CR000014"],
        "person_key": ["KM", "KM", "KN", "KN"], "run_id": "run1"})], ignore_index=True)
    rel = pd.concat([rel, pd.DataFrame([
        ("KM", "KM1", "las", date(2026, 3, 1), "carer_deceased", date(2020, 1, 1)),
        ("KN", "KN1", "provider", date(2026, 3, 1), "carer_deceased", date(2020, 1, 1)),
    ], columns=rel.columns)], ignore_index=True)
    linkage = _linkage_outputs(tmp_path, xref, rel)
    check_night(staged, linkage, extract_date=NIGHT, run_id="run1",
                stale_share_threshold=0.3, out_dir=tmp_path / "checks",
                restricted_dir=tmp_path / "restricted", docs_dir=tmp_path / "docs")
    stale = pd.read_parquet(tmp_path / "checks" / "gp_register_staleness.parquet")
    reasons = dict(zip(stale["carer_key"], stale["reasons"], strict=True))
    assert (reasons["KM"], reasons["KN"]) == ("carer_deceased", "carer_deceased,caring_ended")


def test_caring_ended_after_the_carer_death_is_still_seen(tmp_path) -> None:
    """The relationship row keeps its earliest ending, here the carer's death on a death
    record, which `caring_ended` does not count. The cared-for person's later move into a
    care home ended the caring too: the linkage's endings table carries it, and the entry
    lists both reasons, with the death as its evidence date."""
    staged, xref, rel = _world()
    number = nhs(2075)
    staged["gp_register_entry"] = pd.concat([staged["gp_register_entry"], frame(
        t.GP_REGISTER_ENTRY, [gp_row(practice_ods="D82003", entry_number=1, nhs_number=number,
                                     first_name="PatO", last_name="Carer",
                                     last_review_date=date(2025, 6, 1))])], ignore_index=True)
    staged["las_person"] = pd.concat([staged["las_person"], frame(t.LAS_PERSON, [
        {"person_id": 15, "sex": "F", "date_of_death": date(2026, 2, 1)}])],
        ignore_index=True)
    xref = pd.concat([xref, pd.DataFrame({
        "source_record_key": [f"gp:D82003:{number}", "las:15"], "person_key": ["KO", "KO"],
        "run_id": "run1"})], ignore_index=True)
    rel = pd.concat([rel, pd.DataFrame([
        ("KO", "KO1", "las", date(2026, 2, 1), "carer_deceased", date(2020, 1, 1))],
        columns=rel.columns)], ignore_index=True)
    endings = rel.dropna(subset=["ended_on"])[["carer_key", "cared_for_key", "ended_on",
                                               "end_reason"]]
    with_move = pd.concat([endings, pd.DataFrame([
        {"carer_key": "KO", "cared_for_key": "KO1", "ended_on": date(2026, 4, 1),
         "end_reason": "residential_care"}])], ignore_index=True)
    found = {}
    for name, table in (("earliest only", endings), ("every ending", with_move)):
        linkage = _linkage_outputs(tmp_path / name, xref, rel)
        table.to_parquet(linkage / "caring_relationship_ending.parquet")
        check_night(staged, linkage, extract_date=NIGHT, run_id="run1",
                    stale_share_threshold=0.3, out_dir=tmp_path / name / "checks",
                    restricted_dir=tmp_path / name / "restricted", docs_dir=None)
        stale = pd.read_parquet(tmp_path / name / "checks" / "gp_register_staleness.parquet")
        row = stale.set_index("carer_key").loc["KO"]
        found[name] = (row["reasons"], str(row["evidence_date"])[:10])
    assert found == {"earliest only": ("carer_deceased", "2026-02-01"),
                     "every ending": ("carer_deceased,caring_ended", "2026-02-01")}


def test_a_rerun_of_the_night_replaces_the_reconciliation_lists(tmp_path) -> None:
    """The lists go to the practices, names and NHS numbers on them. A rerun of the night
    that finds nothing stale at a practice (a corrected sustainment check, a linkage fix)
    must not leave the first run's list for that practice behind to be sent."""
    staged, xref, rel = _world()
    linkage = _linkage_outputs(tmp_path, xref, rel)

    def run(staged: dict[str, pd.DataFrame]) -> list[str]:
        check_night(staged, linkage, extract_date=NIGHT, run_id="run1",
                    stale_share_threshold=0.3, out_dir=tmp_path / "checks",
                    restricted_dir=tmp_path / "restricted", docs_dir=None)
        return sorted(p.name for p in (tmp_path / "restricted" / "reconciliation").iterdir())

    assert run(staged) == ["D82001.csv", "D82002.csv"]
    # J (D82002's only stale entry) rests on the sustainment check; without it, nothing there
    staged["provider_sustainment_check"] = staged["provider_sustainment_check"].iloc[0:0]
    assert run(staged) == ["D82001.csv"]
