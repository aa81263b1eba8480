"""Tests for the provider extract reader, on small hand-made deliveries.

The fixtures mimic how the supplier's export really behaves (BOM, CRLF, NULL/N/A/- markers,
quoted fields) so that the reader is proven on the awkward cases, not just tidy CSV.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from sources import provider
from sources.tables import PROVIDER_FILES

DAY = date(2026, 11, 24)

CARERS = [
    {"carer_ref": "CR000001", "nhs_number": "943 476 5919", "title": "Mr",
     "first_name": "  Bob ", "last_name": "O'Neill", "date_of_birth": "07/03/1956",
     "sex": "M", "address_line_1": "1 High St", "town": "Norwich", "postcode": "nr13qu",
     "district": "Norwich", "phone": "NULL", "email": "N/A",
     "has_long_term_condition": "Yes", "employment_status": "Retired",
     "hours_caring_per_week": "-", "referral_date": "01/02/2024", "referral_source": "Self",
     "information_sharing": "Agreed", "status": "Open", "closed_date": "",
     "created_at": "2024-02-01T09:30:00", "updated_at": "2024-03-01T10:00:00"},
    {"carer_ref": "CR000002", "nhs_number": "1234567890", "title": "",
     "first_name": "Anne-Marie", "last_name": "Smith-Jones", "date_of_birth": "",
     "sex": "F", "address_line_1": "Flat 2, \"The Mews\"", "town": "Diss",
     "postcode": "IP22 4AB", "district": "South Norfolk", "phone": "01379 000000",
     "email": "", "has_long_term_condition": "No", "employment_status": "Working part time",
     "hours_caring_per_week": "20-34", "referral_date": "15/06/2023",
     "referral_source": "GP practice", "information_sharing": "Declined", "status": "Closed",
     "closed_date": "01/01/2025", "created_at": "2023-06-15T08:00:00", "updated_at": ""},
]
CARED_FOR = [
    {"cared_for_ref": "CF000001", "carer_ref": "CR000001", "first_name": "Jean",
     "last_name": "O'Neill", "date_of_birth": "N/A", "nhs_number": "", "postcode": "NR1 3QU",
     "carer_relationship": "Partner", "main_need": "Dementia", "receives_services": "Yes",
     "date_of_death": ""},
]
ASSESSMENTS = [
    {"assessment_ref": "A0001", "carer_ref": "CR000001", "stage": "Part B",
     "assessment_date": "10/03/2021", "practitioner_ref": "P001", "risk_level": "Cohort 3",
     "weighted_score": "", "outcome": "Action plan"},
    {"assessment_ref": "A0002", "carer_ref": "CR000002", "stage": "Self-assessment",
     "assessment_date": "10/03/2024", "practitioner_ref": "", "risk_level": "Low",
     "weighted_score": "72", "outcome": "Information and advice"},
]
STARS = [
    {"star_ref": "S0001", "carer_ref": "CR000001", "reading": "1",
     "assessment_date": "10/03/2021", "recorded_at": "2021-03-10T14:05:00",
     "practitioner_ref": "P001", "completed_with": "Carer and practitioner together",
     "total_score": "18", "carer_self_rating": "NULL"},
]
CHECKS = [
    {"check_ref": "K0001", "carer_ref": "CR000001", "plan_agreed_date": "10/03/2021",
     "check_type": "6 month", "due_date": "10/09/2021", "check_date": "12/09/2021",
     "still_caring": "No", "breakdown_reason": "Death of the cared-for person",
     "breakdown_category": "Avoidable"},
    {"check_ref": "K0002", "carer_ref": "CR000001", "plan_agreed_date": "10/03/2021",
     "check_type": "12 month", "due_date": "10/03/2022", "check_date": "",
     "still_caring": "", "breakdown_reason": "", "breakdown_category": ""},
]
PLANS = [
    {"plan_ref": "PL0001", "carer_ref": "CR000001", "plan_type": "Action plan",
     "agreed_date": "10/03/2021", "closed_date": "",
     "support_items": "Respite and breaks;Counselling"},
]
DEFAULT_ROWS = {
    "carers.csv": CARERS, "cared_for.csv": CARED_FOR, "assessments.csv": ASSESSMENTS,
    "star_scores.csv": STARS, "sustainment_checks.csv": CHECKS, "support_plans.csv": PLANS,
}  # fmt: skip


def csv_bytes(rows: list[dict[str, str]], columns: list[str] | None = None) -> bytes:
    """CSV as the supplier writes it: UTF-8 with BOM, CRLF, minimal quoting."""
    columns = columns or list(rows[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_delivery(
    landing: Path,
    day: date = DAY,
    overrides: dict[str, list[dict[str, str]]] | None = None,
    raw: dict[str, bytes] | None = None,
    manifest_rows: dict[str, int] | None = None,
) -> Path:
    """Write a dated provider folder with a manifest that matches what was written.

    `raw` replaces a file's bytes; `manifest_rows` overrides a declared row count.
    """
    folder = landing / "provider" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    contents = {name: csv_bytes(rows) for name, rows in {**DEFAULT_ROWS, **(overrides or {})}
                .items()}
    contents.update(raw or {})
    files = {}
    for name, data in contents.items():
        (folder / name).write_bytes(data)
        count = len(list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))) - 1
        files[name] = {"rows": count, "sha256": hashlib.sha256(data).hexdigest()}
    for name, rows in (manifest_rows or {}).items():
        files[name]["rows"] = rows
    manifest = {"extract_date": day.isoformat(), "generated_at": "2026-11-25T01:12:09",
                "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def assert_balanced(result) -> None:
    for account in result.files:
        assert account.rows_read == account.rows_staged + account.rows_quarantined, account


# --- happy path ------------------------------------------------------------------------------


def test_happy_path_types_and_normalisation(tmp_path: Path) -> None:
    write_delivery(tmp_path)
    result = provider.extract(tmp_path, DAY)

    assert result.status == "extracted", result.message
    assert result.state["snapshot_date"] == "2026-11-24" and result.state["manifest_sha256"]
    assert "snapshot 2026-11-24" in result.message
    assert set(result.tables) == {t.name for t in PROVIDER_FILES.values()}
    for spec in PROVIDER_FILES.values():
        assert list(result.tables[spec.name].columns) == spec.column_names
    assert_balanced(result)
    assert result.quarantine == []

    carers = result.tables["provider_carer"].set_index("carer_ref")
    bob = carers.loc["CR000001"]
    assert bob["first_name"] == "Bob"  # trimmed, nickname untouched
    assert bob["last_name"] == "O'Neill"
    assert bob["nhs_number"] == "9434765919" and bool(bob["nhs_number_valid"])
    assert bob["postcode"] == "NR1 3QU" and bool(bob["postcode_valid"])
    assert bob["date_of_birth"] == date(1956, 3, 7)
    assert bob["phone"] is None and bob["email"] is None
    assert bob["hours_caring_per_week"] is None
    assert bob["closed_date"] is None
    assert bob["created_at"] == datetime(2024, 2, 1, 9, 30)
    assert bob["extract_date"] == DAY and bob["source_file"] == "carers.csv"
    assert bob["source_row"] == 1

    anne = carers.loc["CR000002"]
    assert anne["nhs_number"] == "1234567890"  # invalid: kept, flagged
    assert not bool(anne["nhs_number_valid"])
    assert anne["first_name"] == "Anne-Marie" and anne["last_name"] == "Smith-Jones"
    assert anne["address_line_1"] == 'Flat 2, "The Mews"'
    assert anne["date_of_birth"] is None and anne["title"] is None
    assert pd.isna(anne["updated_at"])
    assert anne["information_sharing"] == "Declined"
    assert anne["source_row"] == 2

    frame = result.tables["provider_carer"]
    assert frame["nhs_number_valid"].dtype == bool
    assert frame["source_row"].dtype == "Int64"
    assert pd.api.types.is_datetime64_any_dtype(frame["created_at"])


def test_legacy_cohort_and_breakdown_mapping(tmp_path: Path) -> None:
    write_delivery(tmp_path)
    result = provider.extract(tmp_path, DAY)

    assessments = result.tables["provider_assessment"].set_index("assessment_ref")
    assert assessments.loc["A0001", "risk_level"] == "High"
    assert assessments.loc["A0001", "risk_level_as_recorded"] == "Cohort 3"
    assert assessments.loc["A0002", "risk_level"] == "Low"
    assert pd.isna(assessments.loc["A0001", "weighted_score"])
    assert assessments.loc["A0002", "weighted_score"] == 72
    assert result.tables["provider_assessment"]["weighted_score"].dtype == "Int64"

    checks = result.tables["provider_sustainment_check"].set_index("check_ref")
    assert checks.loc["K0001", "breakdown_reason_code"] == "CARED_FOR_DIED"
    assert checks.loc["K0001", "breakdown_category"] == "unavoidable"
    assert checks.loc["K0001", "breakdown_category_as_recorded"] == "Avoidable"
    assert checks.loc["K0002", "breakdown_reason_code"] is None
    assert checks.loc["K0002", "check_date"] is None

    stars = result.tables["provider_star_score"]
    assert stars.loc[0, "total_score"] == 18 and pd.isna(stars.loc[0, "carer_self_rating"])


def test_unknown_value_set_values_are_kept_not_quarantined(tmp_path: Path) -> None:
    """The quality gate, not the reader, judges value sets; the reader keeps what came."""
    rows = [dict(ASSESSMENTS[0], risk_level="Cohort 9", stage="Part Z")]
    write_delivery(tmp_path, overrides={"assessments.csv": rows})
    result = provider.extract(tmp_path, DAY)
    frame = result.tables["provider_assessment"]
    assert frame.loc[0, "risk_level"] == "Cohort 9" and frame.loc[0, "stage"] == "Part Z"
    assert result.quarantine == []


def test_lf_without_bom_and_extra_column_read_too(tmp_path: Path) -> None:
    data = csv_bytes(CARERS, list(CARERS[0]) + ["unexpected"]).decode("utf-8-sig")
    data = data.replace("\r\n", "\n").encode("utf-8")
    write_delivery(tmp_path, raw={"carers.csv": data})
    result = provider.extract(tmp_path, DAY)
    assert result.status == "extracted", result.message
    assert len(result.tables["provider_carer"]) == 2
    assert list(result.tables["provider_carer"].columns) == PROVIDER_FILES[
        "carers.csv"].column_names


def test_quoted_newline_counts_as_one_row(tmp_path: Path) -> None:
    rows = [dict(CARERS[0], address_line_1="Rose Cottage\r\nThe Lane")]
    write_delivery(tmp_path, overrides={"carers.csv": rows})
    result = provider.extract(tmp_path, DAY)
    assert result.status == "extracted", result.message
    assert result.tables["provider_carer"].loc[0, "address_line_1"] == "Rose Cottage The Lane"


# --- row quarantine --------------------------------------------------------------------------


def test_a_date_of_birth_with_day_and_month_swapped_is_read_the_right_way_round(
        tmp_path: Path) -> None:
    """The spec: day and month are sometimes swapped. `08/27/1952` can only be 27 August;
    quarantined, it took the carer and every row of their file out of the warehouse."""
    rows = [CARERS[0], dict(CARERS[1], date_of_birth="08/27/1952")]
    write_delivery(tmp_path, overrides={"carers.csv": rows})
    result = provider.extract(tmp_path, DAY)
    carers = result.tables["provider_carer"].set_index("carer_ref")
    assert carers.loc["CR000002", "date_of_birth"] == date(1952, 8, 27)
    assert not result.quarantine


def test_bad_date_row_quarantined_with_row_number(tmp_path: Path) -> None:
    rows = [CARERS[0], dict(CARERS[1], date_of_birth="31/02/1970")]
    write_delivery(tmp_path, overrides={"carers.csv": rows})
    result = provider.extract(tmp_path, DAY)

    assert result.status == "extracted"
    assert list(result.tables["provider_carer"]["carer_ref"]) == ["CR000001"]
    bad, *orphans = result.quarantine
    assert (bad.file, bad.row_number) == ("carers.csv", 2)
    assert bad.reason == "bad date in date_of_birth"  # no value: dq holds no row content
    assert "Anne" not in bad.reason and "Smith" not in bad.reason
    account = next(f for f in result.files if f.file == "carers.csv")
    assert (account.rows_read, account.rows_staged, account.rows_quarantined) == (2, 1, 1)
    # the rows hanging off that carer's file are held back too, never silently orphaned
    assert orphans and all(o.reason.startswith("its carer_ref is not staged")
                           for o in orphans)
    for table in result.tables.values():
        if "carer_ref" in table.columns:
            assert "CR000002" not in set(table["carer_ref"])
    assert_balanced(result)

    kept = tmp_path / "quarantine" / "provider" / "2026-11-24" / "carers.csv"
    with open(kept, newline="", encoding="utf-8") as handle:
        rows_back = list(csv.DictReader(handle))
    assert rows_back[0]["carer_ref"] == "CR000002"
    assert rows_back[0]["_row_number"] == "2"
    assert rows_back[0]["_reason"] == bad.reason


def test_bad_integer_and_timestamp_quarantined(tmp_path: Path) -> None:
    stars = [STARS[0], dict(STARS[0], star_ref="S0002", total_score="eighteen"),
             dict(STARS[0], star_ref="S0003", recorded_at="yesterday")]
    write_delivery(tmp_path, overrides={"star_scores.csv": stars})
    result = provider.extract(tmp_path, DAY)
    reasons = {q.row_number: q.reason for q in result.quarantine}
    assert reasons == {2: "bad integer in total_score",
                       3: "bad timestamp in recorded_at"}
    assert list(result.tables["provider_star_score"]["star_ref"]) == ["S0001"]
    assert_balanced(result)


def test_duplicate_and_empty_keys_quarantined(tmp_path: Path) -> None:
    rows = [CARERS[0], dict(CARERS[1], carer_ref="NULL"), CARERS[1],
            dict(CARERS[0], first_name="Robert")]
    write_delivery(tmp_path, overrides={"carers.csv": rows})
    result = provider.extract(tmp_path, DAY)

    reasons = {q.row_number: q.reason for q in result.quarantine}
    assert reasons == {2: "empty carer_ref",
                       4: "duplicate carer_ref (first at row 1)"}
    staged = result.tables["provider_carer"]
    assert list(staged["carer_ref"]) == ["CR000001", "CR000002"]
    assert staged.loc[0, "first_name"] == "Bob"  # the first is kept
    assert list(staged["source_row"]) == [1, 3]
    assert_balanced(result)


def test_empty_carer_ref_on_child_row_quarantined(tmp_path: Path) -> None:
    rows = [CARED_FOR[0], dict(CARED_FOR[0], cared_for_ref="CF000002", carer_ref="")]
    write_delivery(tmp_path, overrides={"cared_for.csv": rows})
    result = provider.extract(tmp_path, DAY)
    assert [(q.file, q.row_number, q.reason) for q in result.quarantine] == [
        ("cared_for.csv", 2, "empty carer_ref")]


# --- whole-extract rejection -----------------------------------------------------------------


def _assert_rejected(result, file_name: str) -> None:
    assert result.status == "rejected"
    assert result.tables == {}
    assert result.state == {}
    assert {f.file for f in result.files} >= set(PROVIDER_FILES)
    assert all(f.status == "rejected" for f in result.files)
    assert any(q.file == file_name and q.row_number is None for q in result.quarantine)
    # every file of the delivery is in dq.quarantine: the sound ones were not loaded either
    assert {q.file for q in result.quarantine} >= set(PROVIDER_FILES)


def test_truncated_file_rejects_whole_extract_and_keeps_copy(tmp_path: Path) -> None:
    folder = write_delivery(tmp_path, manifest_rows={"carers.csv": 3})
    result = provider.extract(tmp_path, DAY)

    _assert_rejected(result, "carers.csv")
    problem, *others = result.quarantine
    assert problem.reason == "carers.csv: 2 data rows, manifest says 3 (truncated in transfer?)"
    assert {q.reason for q in others} == {"not loaded: the delivery was rejected (carers.csv)"}
    assert "rejected" in result.message
    copy = tmp_path / "quarantine" / "provider" / "2026-11-24"
    assert (copy / "manifest.json").exists() and (copy / "carers.csv").exists()
    assert (folder / "carers.csv").exists()  # originals left in place


def test_checksum_mismatch_rejects(tmp_path: Path) -> None:
    folder = write_delivery(tmp_path)
    data = (folder / "support_plans.csv").read_bytes().replace(b"Counselling", b"Counsellinf")
    (folder / "support_plans.csv").write_bytes(data)
    result = provider.extract(tmp_path, DAY)
    _assert_rejected(result, "support_plans.csv")
    assert "sha256 mismatch" in result.quarantine[0].reason


def test_a_file_not_in_utf8_names_the_line_and_byte(tmp_path: Path) -> None:
    """A cp1252 export (`é` as one byte 0xE9): the supplier is told where to look."""
    folder = write_delivery(tmp_path)
    lines = (folder / "carers.csv").read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b",", b"\xe9,", 1)
    (folder / "carers.csv").write_bytes(b"\n".join(lines))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["carers.csv"]["sha256"] = hashlib.sha256(
        (folder / "carers.csv").read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    result = provider.extract(tmp_path, DAY)
    _assert_rejected(result, "carers.csv")
    assert result.quarantine[0].reason == (
        "carers.csv: not UTF-8 at line 3 (byte 0xE9): ask for the file re-exported as UTF-8")


@pytest.mark.parametrize("damage", ["missing_manifest", "bad_json", "unlisted", "missing_file"])
def test_manifest_problems_reject(tmp_path: Path, damage: str) -> None:
    folder = write_delivery(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    if damage == "missing_manifest":
        (folder / "manifest.json").unlink()
    elif damage == "bad_json":
        (folder / "manifest.json").write_text("{not json")
    elif damage == "unlisted":
        del manifest["files"]["cared_for.csv"]
        (folder / "manifest.json").write_text(json.dumps(manifest))
    else:
        (folder / "cared_for.csv").unlink()
    result = provider.extract(tmp_path, DAY)
    assert result.status == "rejected" and result.tables == {}
    assert all(f.status == "rejected" for f in result.files)
    assert result.quarantine and all(q.row_number is None for q in result.quarantine)
    assert (tmp_path / "quarantine" / "provider" / "2026-11-24").is_dir()


def test_missing_column_rejects(tmp_path: Path) -> None:
    columns = [c for c in ASSESSMENTS[0] if c != "risk_level"]
    write_delivery(tmp_path, raw={"assessments.csv": csv_bytes(ASSESSMENTS, columns)})
    result = provider.extract(tmp_path, DAY)
    _assert_rejected(result, "assessments.csv")
    assert "risk_level" in result.quarantine[0].reason


def test_a_repeated_column_rejects(tmp_path: Path) -> None:
    """Two `postcode` columns, the data in the second: reading the first would stage every
    carer without a postcode and report nothing, so the delivery is rejected, named."""
    header = list(CARERS[0]) + ["postcode"]
    text = csv_bytes(CARERS).decode("utf-8").splitlines()
    rows = [",".join(header)] + [line + "," for line in text[1:]]
    write_delivery(tmp_path, raw={"carers.csv": ("\r\n".join(rows) + "\r\n").encode()})
    result = provider.extract(tmp_path, DAY)
    _assert_rejected(result, "carers.csv")
    assert result.quarantine[0].reason == (
        "carers.csv: schema changed, repeated column(s) postcode")


def test_a_column_in_which_nothing_parses_rejects_the_delivery(tmp_path: Path) -> None:
    """Every self-assessment's weighted_score written as `72.0` (the export library now
    writes integers as floats): not a few typing slips but a format change. Row by row it
    would quarantine every self-assessment and load the rest as the whole snapshot; the
    delivery is rejected instead, naming the file and column."""
    rows = [ASSESSMENTS[0]] + [
        {**ASSESSMENTS[1], "assessment_ref": f"A1{i:03d}", "weighted_score": f"{60 + i}.0"}
        for i in range(6)]
    write_delivery(tmp_path, raw={"assessments.csv": csv_bytes(rows)})
    result = provider.extract(tmp_path, DAY)
    _assert_rejected(result, "assessments.csv")
    assert result.quarantine[0].reason == (
        "assessments.csv: every one of its 6 values in weighted_score fails to parse as "
        "integer (the export's format changed?)")


def test_a_few_unparseable_values_stay_row_faults(tmp_path: Path) -> None:
    """One value that parses among the failures: the failing rows are quarantined one by
    one and the rest loads (the command-line contract's bad-date rule)."""
    rows = [ASSESSMENTS[1]] + [
        {**ASSESSMENTS[1], "assessment_ref": f"A1{i:03d}", "weighted_score": f"{60 + i}.0"}
        for i in range(6)]
    write_delivery(tmp_path, raw={"assessments.csv": csv_bytes(rows)})
    result = provider.extract(tmp_path, DAY)
    assert result.status == "extracted"
    assert [q.reason for q in result.quarantine] == ["bad integer in weighted_score"] * 6


# --- choosing the folder ---------------------------------------------------------------------


def test_missing_night_is_absent(tmp_path: Path) -> None:
    (tmp_path / "provider").mkdir()
    result = provider.extract(tmp_path, DAY)
    assert result.status == "absent"
    assert result.message.startswith(
        "no provider folder for 2026-11-24; a missing night is legitimate")
    assert result.tables == {} and result.state == {}


def test_late_folder_used_when_newer_than_last_snapshot(tmp_path: Path) -> None:
    write_delivery(tmp_path, day=date(2026, 11, 23))
    result = provider.extract(tmp_path, DAY, last_staged_snapshot=date(2026, 11, 22))
    assert result.status == "extracted"
    assert result.state["snapshot_date"] == "2026-11-23"
    assert "late" in result.message
    assert set(result.tables["provider_carer"]["extract_date"]) == {date(2026, 11, 23)}


def test_late_folder_not_used_when_already_staged(tmp_path: Path) -> None:
    write_delivery(tmp_path, day=date(2026, 11, 23))
    result = provider.extract(tmp_path, DAY, last_staged_snapshot=date(2026, 11, 23))
    assert result.status == "absent"
    assert "no provider folder for 2026-11-24" in result.message


def test_staged_folder_re_sent_before_a_night_with_no_folder_is_loaded(tmp_path: Path) -> None:
    """Night 23 staged folder 23; the service re-sent folder 23 (a carer added) and sent no
    folder 24: night 24 loads the re-sent export as a late folder, not "already staged"."""
    night_before = date(2026, 11, 23)
    write_delivery(tmp_path, day=night_before)
    first = provider.extract(tmp_path, night_before)
    same = provider.extract(tmp_path, DAY, last_staged_snapshot=night_before,
                            last_manifest_sha256=first.state["manifest_sha256"])
    assert same.status == "absent"
    rows = [*CARERS, dict(CARERS[0], carer_ref="CR000003", first_name="Robert")]
    write_delivery(tmp_path, day=night_before, overrides={"carers.csv": rows})
    resent = provider.extract(tmp_path, DAY, last_staged_snapshot=night_before,
                              last_manifest_sha256=first.state["manifest_sha256"])
    assert resent.status == "extracted" and "late" in resent.message
    assert "CR000003" in set(resent.tables["provider_carer"]["carer_ref"])
    assert resent.state["manifest_sha256"] != first.state["manifest_sha256"]


def test_folder_more_than_two_days_old_not_used(tmp_path: Path) -> None:
    write_delivery(tmp_path, day=date(2026, 11, 21))
    assert provider.extract(tmp_path, DAY).status == "absent"


def test_folder_older_than_last_snapshot_not_reloaded(tmp_path: Path) -> None:
    write_delivery(tmp_path)
    result = provider.extract(tmp_path, DAY, last_staged_snapshot=date(2026, 11, 25))
    assert result.status == "absent"


def test_resent_folder_replaces_earlier_delivery(tmp_path: Path) -> None:
    """A re-sent export (same date) is loaded again even though it was already staged."""
    write_delivery(tmp_path)
    first = provider.extract(tmp_path, DAY)
    assert len(first.tables["provider_carer"]) == 2

    rows = [*CARERS, dict(CARERS[0], carer_ref="CR000003", first_name="Robert")]
    write_delivery(tmp_path, overrides={"carers.csv": rows})
    again = provider.extract(tmp_path, DAY, last_staged_snapshot=DAY)
    assert again.status == "extracted"
    assert list(again.tables["provider_carer"]["carer_ref"]) == [
        "CR000001", "CR000002", "CR000003"]


def test_missing_landing_area_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(provider.SourceError):
        provider.extract(tmp_path / "not-mounted", DAY)


# --- scale -----------------------------------------------------------------------------------


def test_reads_a_county_sized_extract_quickly(tmp_path: Path) -> None:
    """25,000 carers with their related rows (~150k rows) must stay within a few seconds."""
    import time

    n = 25_000
    carers = [dict(CARERS[i % 2], carer_ref=f"CR{i:06d}") for i in range(n)]
    star = [dict(STARS[0], star_ref=f"S{i:06d}", carer_ref=f"CR{i % n:06d}")
            for i in range(2 * n)]
    checks = [dict(CHECKS[i % 2], check_ref=f"K{i:06d}") for i in range(n)]
    cared = [dict(CARED_FOR[0], cared_for_ref=f"CF{i:06d}") for i in range(n)]
    assessments = [dict(ASSESSMENTS[i % 2], assessment_ref=f"A{i:06d}") for i in range(n)]
    write_delivery(tmp_path, overrides={"carers.csv": carers, "star_scores.csv": star,
                                        "sustainment_checks.csv": checks,
                                        "cared_for.csv": cared, "assessments.csv": assessments})
    start = time.perf_counter()
    result = provider.extract(tmp_path, DAY)
    elapsed = time.perf_counter() - start
    assert result.status == "extracted"
    assert result.rows_staged == 6 * n + 1
    assert_balanced(result)
    assert elapsed < 10, f"took {elapsed:.1f}s"


def test_a_later_duplicate_is_quarantined_even_when_the_first_row_is_quarantined(
        tmp_path: Path) -> None:
    # command-line.md: "Within a file, the first row with a key is kept and later duplicates
    # are quarantined." The first row with CR000001 has a bad date (quarantined for it); the
    # second is still a later duplicate, not a replacement for the first.
    rows = [dict(CARERS[0], referral_date="31/02/2024"), CARERS[1],
            dict(CARERS[0], first_name="Robert")]
    write_delivery(tmp_path, overrides={"carers.csv": rows})
    result = provider.extract(tmp_path, DAY)

    reasons = {q.row_number: q.reason for q in result.quarantine if q.file == "carers.csv"}
    assert reasons[1] == "bad date in referral_date"
    assert reasons[3] == "duplicate carer_ref (first at row 1)"
    assert list(result.tables["provider_carer"]["carer_ref"]) == ["CR000002"]
