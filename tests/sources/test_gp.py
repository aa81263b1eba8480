"""Tests for the GP carer-register reader, with hand-made EMIS Web and SystmOne files."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from carelink.codelists import Practice
from sources import gp

NIGHT = date(2026, 11, 24)
PRACTICES = {
    "D82001": Practice("D82001", "Thetford Health Centre", "Breckland", "EMIS Web"),
    "D82002": Practice("D82002", "Dereham Medical Practice", "Breckland", "SystmOne"),
}
EMIS_HEADER = ",".join(gp.EMIS_COLUMNS)
S1_HEADER = ",".join(gp.SYSTMONE_COLUMNS)

EMIS_ROWS = [
    "943 476 5919,Mrs,Jane,Smith,07-Mar-1956,Female,nr1 3qu,224484003,Patient themselves "
    "providing care,12-Jan-2020,,,943 476 5919,John Smith (husband)",
    "123 456 7890,Mr,Bob,Jones,01-Feb-1940,Male,NR2 1AA,918a,Is a carer,01-Jan-2015,"
    "02-Feb-2020,03-Mar-2021,,",  # invalid NHS number: kept, flagged
    ",Ms,No,Number,01-Feb-1940,Female,NR2 1AA,918a,Is a carer,01-Jan-2015,,,,",  # no NHS
    "943 476 5919,Ms,Bad,Date,31-Feb-1940,Unknown,NR2 1AA,918a,Is a carer,01-Jan-2015,,,,",
    "943 476 5919,Mx,Ind,Sex,01-Feb-1980,Indeterminate,NR2 1AA,224484003,Patient themselves "
    "providing care,01-Jan-2015,,,,",
]
S1_ROWS = [
    "9434765919,Sam,Brown,1960-05-01,M,NR3 2BB,224484003,2021-06-01,,,,Pat,Brown,1935-01-02",
    "9434765919,Sue,Green,1962-05-01,F,NR3 2BB,224484003,2021-06-01,2022-01-01,,,,,",
]


def _write(folder: Path, name: str, header: str, rows: list[str], *, bom=False, crlf=False):
    folder.mkdir(parents=True, exist_ok=True)
    newline = "\r\n" if crlf else "\n"
    text = newline.join([header, *rows]) + newline
    data = text.encode("utf-8")
    (folder / name).write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return folder / name


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _landing(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    gp_dir = landing / "gp"
    _write(gp_dir, "D82001_202611.csv", EMIS_HEADER, EMIS_ROWS, bom=True, crlf=True)
    _write(gp_dir, "D82002_202611.csv", S1_HEADER, S1_ROWS)
    return landing


def _run(landing: Path, seen=None, night=NIGHT, registers=None):
    return gp.extract(landing, night, seen_files=seen, practices=PRACTICES, registers=registers)


def test_emis_layout_with_bom_and_crlf(tmp_path):
    result = _run(_landing(tmp_path))
    df = result.tables["gp_register_entry"]
    assert list(df.columns) == gp.GP_REGISTER_ENTRY.column_names
    emis = df[df.practice_ods == "D82001"].set_index("entry_number")
    assert list(emis.index) == [1, 2, 5]  # rows 3 and 4 quarantined; k matches the file
    first = emis.loc[1]
    assert first["layout"] == "EMIS Web"
    assert first["nhs_number"] == "9434765919" and first["nhs_number_valid"]
    assert first["date_of_birth"] == date(1956, 3, 7)
    assert first["date_recorded"] == date(2020, 1, 12)
    assert first["sex"] == "F" and first["title"] == "Mrs"
    assert first["postcode"] == "NR1 3QU" and first["postcode_valid"]
    assert first["cared_for_name"] == "John Smith (husband)"
    assert first["cared_for_nhs_number"] == "9434765919" and first["cared_for_nhs_number_valid"]
    assert first["snapshot_month"] == date(2026, 11, 1)
    assert first["source_file"] == "D82001_202611.csv" and first["source_row"] == 1
    assert first["carer_code_term"] == "Patient themselves providing care"
    assert pd.isna(first["last_review_date"])
    second = emis.loc[2]
    assert second["nhs_number"] == "1234567890" and not second["nhs_number_valid"]
    assert second["last_review_date"] == date(2020, 2, 2)
    assert second["no_longer_carer_date"] == date(2021, 3, 3)
    assert not second["cared_for_nhs_number_valid"]
    assert emis.loc[5, "sex"] == "X"


def test_systmone_layout_with_lf(tmp_path):
    result = _run(_landing(tmp_path))
    df = result.tables["gp_register_entry"]
    s1 = df[df.practice_ods == "D82002"].set_index("entry_number")
    assert list(s1.index) == [1, 2]
    first = s1.loc[1]
    assert first["layout"] == "SystmOne" and first["sex"] == "M"
    assert first["date_of_birth"] == date(1960, 5, 1)
    assert pd.isna(first["carer_code_term"]) and pd.isna(first["title"])
    assert (first["cared_for_first_name"], first["cared_for_last_name"]) == ("Pat", "Brown")
    assert first["cared_for_date_of_birth"] == date(1935, 1, 2)
    assert pd.isna(first["cared_for_name"])
    assert s1.loc[2, "last_review_date"] == date(2022, 1, 1)
    assert s1.loc[2, "sex"] == "F"


def test_row_faults_quarantined_with_row_numbers_and_accounts_balance(tmp_path):
    landing = _landing(tmp_path)
    result = _run(landing)
    reasons = {(q.file, q.row_number): q.reason for q in result.quarantine}
    assert reasons[("D82001_202611.csv", 3)] == (
        "row 3: no NHS number: the register entry cannot be keyed"
    )
    assert "row 4: bad date in Date of Birth" in reasons[("D82001_202611.csv", 4)]
    assert "31-Feb" not in " ".join(reasons.values())  # no row content in reasons
    accounts = {f.file: f for f in result.files}
    emis = accounts["D82001_202611.csv"]
    assert (emis.rows_read, emis.rows_staged, emis.rows_quarantined) == (5, 3, 2)
    assert all(f.balanced for f in result.files)
    copied = landing / "quarantine" / "gp" / NIGHT.isoformat() / "D82001_202611.csv"
    assert copied.exists() and "_reason" in copied.read_text().splitlines()[0]
    assert result.state["practices_replaced"] == ["D82001", "D82002"]
    assert result.status == "extracted"
    assert result.message.startswith("2 practice registers new or changed (0 unchanged)")


def test_newest_file_per_practice_wins_and_older_is_not_staged(tmp_path):
    landing = _landing(tmp_path)
    _write(landing / "gp", "D82002_202610.csv", S1_HEADER, S1_ROWS[:1])
    result = _run(landing)
    df = result.tables["gp_register_entry"]
    assert set(df[df.practice_ods == "D82002"]["source_file"]) == {"D82002_202611.csv"}
    accounts = {f.file: f for f in result.files}
    assert accounts["D82002_202610.csv"].status == "superseded"
    assert accounts["D82002_202610.csv"].rows_read == 0
    assert "D82002_202610.csv" in result.state["files"]


def test_future_month_ignored_on_a_backfill(tmp_path):
    landing = _landing(tmp_path)
    _write(landing / "gp", "D82002_202612.csv", S1_HEADER, S1_ROWS[:1])
    result = _run(landing)
    assert "D82002_202612.csv" not in {f.file for f in result.files}
    assert "D82002_202612.csv" not in result.state["files"]
    df = result.tables["gp_register_entry"]
    assert set(df["snapshot_month"]) == {date(2026, 11, 1)}


def test_second_night_skips_unchanged_and_reprocesses_resent_file(tmp_path):
    landing = _landing(tmp_path)
    first = _run(landing)
    seen = first.state["files"]
    assert set(seen) == {"D82001_202611.csv", "D82002_202611.csv"}

    second = _run(landing, seen=seen, night=date(2026, 11, 25))
    assert second.rows_staged == 0
    assert second.state["practices_replaced"] == []
    assert {f.status for f in second.files} == {"unchanged"}
    assert second.status == "extracted"
    assert "0 practice registers new or changed (2 unchanged)" in second.message

    resent = _write(landing / "gp", "D82002_202611.csv", S1_HEADER, S1_ROWS[:1])
    third = _run(landing, seen=second.state["files"], night=date(2026, 11, 26))
    assert third.state["practices_replaced"] == ["D82002"]
    assert len(third.tables["gp_register_entry"]) == 1
    assert third.state["files"]["D82002_202611.csv"] == _sha(resent)
    assert third.state["files"]["D82001_202611.csv"] == seen["D82001_202611.csv"]


def test_unknown_practice_unknown_layout_and_bad_name_quarantined(tmp_path):
    landing = _landing(tmp_path)
    gp_dir = landing / "gp"
    _write(gp_dir, "D99999_202611.csv", S1_HEADER, S1_ROWS)
    _write(gp_dir, "D82002_202611.csv", "NHS,Name,Born", ["9434765919,A B,1960-01-01"])
    _write(gp_dir, "register november.csv", S1_HEADER, S1_ROWS)
    result = _run(landing)
    whole = {q.file: q.reason for q in result.quarantine if q.row_number is None}
    assert whole == {
        "D99999_202611.csv": "practice D99999 not in the practice list",
        "D82002_202611.csv": "unknown layout: header matches neither EMIS Web nor SystmOne",
        "register november.csv": "file name not <practice_ods>_<YYYYMM>.csv",
    }
    assert result.state["practices_replaced"] == ["D82001"]
    accounts = {f.file: f for f in result.files}
    assert {accounts[n].status for n in whole} == {"rejected"}
    assert all(f.balanced for f in result.files)
    qdir = landing / "quarantine" / "gp" / NIGHT.isoformat()
    for name in whole:
        assert (qdir / name).read_bytes() == (gp_dir / name).read_bytes()
    assert "3 files quarantined" in result.message
    # the summary line names each file and why, so nobody has to dig in dq.quarantine
    assert "D82002_202611.csv (unknown layout: header matches neither" in result.message


def test_absent_when_folder_missing_or_empty(tmp_path):
    assert _run(tmp_path).status == "absent"
    # a landing area that is not there, or a gp folder gone after registers were read from
    # it, is an outage (retried), not a night with nothing new
    with pytest.raises(gp.SourceError, match="landing area .* is not available"):
        _run(tmp_path / "unmounted")
    with pytest.raises(gp.SourceError, match="1 practices' registers were read from it"):
        _run(tmp_path, registers={"D82001": "D82001_202611.csv"})
    (tmp_path / "gp").mkdir()
    result = _run(tmp_path)
    assert result.status == "absent"
    assert list(result.tables["gp_register_entry"].columns) == gp.GP_REGISTER_ENTRY.column_names


def test_default_practice_list_is_used(tmp_path):
    landing = _landing(tmp_path)
    result = gp.extract(landing, NIGHT)
    assert "D82001" in result.state["practices_replaced"]


def test_extract_round_trips_through_save_and_load(tmp_path):
    from sources.result import SourceExtract

    result = _run(_landing(tmp_path))
    loaded = SourceExtract.load(result.save(tmp_path / "out"))
    assert len(loaded.tables["gp_register_entry"]) == 5
    assert loaded.state == result.state


def test_unreadable_folder_raises_source_error(tmp_path, monkeypatch):
    from carelink.errors import SourceError

    landing = _landing(tmp_path)

    def refuse(self):
        raise PermissionError("denied")

    monkeypatch.setattr(Path, "iterdir", refuse)
    with pytest.raises(SourceError, match="unreadable"):
        _run(landing)


def test_an_unreadable_file_is_quarantined_alone(tmp_path, monkeypatch):
    landing = _landing(tmp_path)
    (landing / "gp" / "D82003_202611.csv").symlink_to(tmp_path / "gone.csv")  # broken link
    (landing / "gp" / "D82001_202612.csv").symlink_to(tmp_path / "gone.csv")  # future: unseen
    # D82002's November file cannot be opened: a practice with a register keeps it (its
    # older October file must not replace it); below, one with none yet gets October's
    _write(landing / "gp", "D82002_202610.csv", S1_HEADER, S1_ROWS)
    real_open = open

    def guarded(path, *args, **kwargs):
        if str(path).endswith("D82002_202611.csv"):
            raise PermissionError("denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded)
    result = _run(landing, registers={"D82001": "D82001_202611.csv",
                                      "D82002": "D82002_202611.csv"})
    whole = {q.file: q.reason for q in result.quarantine if q.row_number is None}
    assert whole == {"D82002_202611.csv": "file cannot be read (PermissionError)",
                     "D82003_202611.csv": "file cannot be read (FileNotFoundError)"}
    assert result.state["practices_replaced"] == ["D82001"]  # the readable practice loads
    for name in ("D82002_202611.csv", "D82002_202610.csv"):
        assert name not in result.state["files"]  # both looked at again tomorrow
    assert "2 files quarantined: D82002_202611.csv (file cannot be read" in result.message
    first_night = _run(landing)
    assert first_night.state["practices_replaced"] == ["D82001", "D82002"]
    rows = first_night.tables["gp_register_entry"]
    assert set(rows.loc[rows["practice_ods"] == "D82002", "source_file"]) == {
        "D82002_202610.csv"}
    assert first_night.state["registers"]["D82002"] == "D82002_202610.csv"


def test_a_practice_with_no_register_yet_gets_its_newest_usable_file(tmp_path):
    """A practice whose newest file is in an unknown layout on its first night gets the
    file that was its current register until then (the reviewer's D82013: a valid October
    file never loaded because November's could not be read); once it has a register, a
    later bad file leaves that register alone."""
    landing = _landing(tmp_path)
    _write(landing / "gp", "D82002_202609.csv", S1_HEADER, S1_ROWS[:1])
    _write(landing / "gp", "D82002_202610.csv", S1_HEADER, S1_ROWS)
    _write(landing / "gp", "D82002_202611.csv", "NHS,Name,Born", ["9434765919,A B,1960-01-01"])
    first = _run(landing)
    rows = first.tables["gp_register_entry"]
    assert set(rows.loc[rows["practice_ods"] == "D82002", "source_file"]) == {
        "D82002_202610.csv"}
    accounts = {f.file: f.status for f in first.files}
    assert accounts == {"D82001_202611.csv": "staged", "D82002_202609.csv": "superseded",
                        "D82002_202610.csv": "staged", "D82002_202611.csv": "rejected"}
    assert first.state["registers"] == {"D82001": "D82001_202611.csv",
                                        "D82002": "D82002_202610.csv"}
    # the next night: nothing changed, nothing restaged
    second = _run(landing, seen=first.state["files"], registers=first.state["registers"],
                  night=date(2026, 11, 25))
    assert second.state["practices_replaced"] == []
    # December's file is bad too: the practice keeps the register it has
    _write(landing / "gp", "D82002_202612.csv", "NHS,Name,Born", ["9434765919,A B,1960-01-01"])
    third = _run(landing, seen=second.state["files"], registers=second.state["registers"],
                 night=date(2026, 12, 2))
    assert third.state["practices_replaced"] == []
    assert third.state["registers"]["D82002"] == "D82002_202610.csv"
    # a state from before registers were recorded: a practice with files seen keeps its own
    legacy = _run(landing, seen={"D82002_202610.csv": "old"}, night=date(2026, 12, 2))
    assert "D82002" not in legacy.state["practices_replaced"]


def test_a_practice_added_to_the_list_is_read_without_a_resend(tmp_path):
    landing = _landing(tmp_path)
    _write(landing / "gp", "D82009_202611.csv", S1_HEADER, S1_ROWS)
    first = _run(landing)
    assert "D82009" not in first.state["practices_replaced"]
    again = _run(landing, seen=first.state["files"])  # still unlisted: not quarantined again
    assert not [q for q in again.quarantine if q.file == "D82009_202611.csv"]
    listed = {**PRACTICES, "D82009": Practice("D82009", "New Practice", "Breckland",
                                              "SystmOne")}
    joined = gp.extract(landing, NIGHT, seen_files=again.state["files"], practices=listed)
    assert joined.state["practices_replaced"] == ["D82009"]
    assert len(joined.tables["gp_register_entry"]) == len(S1_ROWS)


def test_quarantine_is_owner_only_whatever_the_umask(tmp_path):
    """Quarantined files hold names and NHS numbers: the folders are 0700 and the files 0600
    even when the process's umask would leave them readable by everyone."""
    import os
    import stat

    landing = _landing(tmp_path)
    _write(landing / "gp", "D82002_202611.csv", "NHS,Name,Born", ["9434765919,A B,1960-01-01"])
    old = os.umask(0o022)
    try:
        _run(landing)  # an unknown-layout file copied whole, and D82001's bad rows
    finally:
        os.umask(old)
    top = landing / "quarantine"
    paths = [top, *top.rglob("*")]
    assert {p.name for p in paths} >= {"D82001_202611.csv", "D82002_202611.csv"}
    for p in paths:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), (p, oct(mode))


def test_a_patients_rows_are_numbered_as_in_the_file_quarantined_ones_included(tmp_path):
    """The contract's cared-for key is the patient's k-th row of the file. Jane's rows are
    file rows 1, 4 (a bad date: quarantined) and 5; row 5 is her third row, not her second,
    whether or not the practice ever corrects row 4."""
    from linkage.records import gp_cared_for_keys

    result = _run(_landing(tmp_path))
    rows = result.tables["gp_register_entry"]
    jane = rows[(rows["practice_ods"] == "D82001") & (rows["nhs_number"] == "9434765919")]
    assert dict(zip(jane["entry_number"], jane["patient_row"], strict=True)) == {1: 1, 5: 3}
    keys = gp_cared_for_keys(rows)[jane.index]
    assert keys.tolist() == ["gp:D82001:9434765919:cared_for:1",
                             "gp:D82001:9434765919:cared_for:3"]


def test_a_layout_with_a_column_missing_says_which(tmp_path):
    landing = _landing(tmp_path)
    header = ",".join(c for c in gp.SYSTMONE_COLUMNS if c != "CodeDate")
    _write(landing / "gp", "D82002_202611.csv", header, [])
    result = _run(landing)
    whole = {q.file: q.reason for q in result.quarantine if q.row_number is None}
    assert whole == {"D82002_202611.csv": "SystmOne layout with missing column(s) CodeDate"}


def test_an_unclosed_quote_makes_the_file_unusable_not_shorter(tmp_path):
    """A stray `"` opens a field that swallows every row up to the next quote: reading on
    would stage 1 of the 3 rows and shrink the practice's register silently. The file is
    refused, naming the row and line, and the practice keeps the register it had."""
    landing = _landing(tmp_path)
    first = _run(landing)
    good = [*S1_ROWS, "9434765919,Tim,Gray,1970-05-01,M,NR3 2BB,224484003,2021-06-01,,,,,,"]
    broken = [good[0], good[1].replace(",Sue,", ',"Sue,'), good[2]]
    _write(landing / "gp", "D82002_202612.csv", S1_HEADER, broken)
    second = _run(landing, seen=first.state["files"], registers=first.state["registers"],
                  night=date(2026, 12, 2))
    account = next(f for f in second.files if f.file == "D82002_202612.csv")
    assert account.status == "rejected" and account.balanced
    reason = next(q.reason for q in second.quarantine if q.file == "D82002_202612.csv")
    assert "row 2 (line 3): a quoted field runs over several lines" in reason
    assert second.state["registers"]["D82002"] == "D82002_202611.csv"
    assert "D82002" not in second.state["practices_replaced"]
    # past the csv module's field limit the run-away field is an error of its own: the same
    # refusal for that file, and every other practice still loads
    many = [good[0], good[1].replace(",Sue,", ',"Sue,'), *[good[2]] * 12_000]
    _write(landing / "gp", "D82002_202612.csv", S1_HEADER, many)
    huge = _run(landing, seen=first.state["files"], registers=first.state["registers"],
                night=date(2026, 12, 2))
    reason = next(q.reason for q in huge.quarantine if q.file == "D82002_202612.csv")
    assert "unreadable CSV after line" in reason and "field larger than field limit" in reason
    assert huge.state["registers"]["D82002"] == "D82002_202611.csv"
    # a quoted field with a comma in it, as EMIS writes names, is still one ordinary row
    _write(landing / "gp", "D82002_202612.csv", S1_HEADER,
           [good[0], good[1].replace(",Sue,Green,", ',"Green, Sue",,'), good[2]])
    third = _run(landing, seen=first.state["files"], registers=first.state["registers"],
                 night=date(2026, 12, 2))
    assert "D82002" in third.state["practices_replaced"]
    assert len(third.tables["gp_register_entry"].query("practice_ods == 'D82002'")) == 3


def test_a_register_not_in_utf8_names_the_line_and_byte(tmp_path):
    landing = _landing(tmp_path)
    path = landing / "gp" / "D82002_202611.csv"
    path.write_bytes(path.read_bytes().replace(b"Brown,1935", b"Brown\xe9,1935"))
    result = _run(landing)
    reason = next(q.reason for q in result.quarantine if q.file == "D82002_202611.csv")
    assert reason.endswith("not UTF-8 at line 2 (byte 0xE9): ask for the file re-exported "
                           "as UTF-8")


def test_a_file_whose_every_row_is_bad_does_not_empty_the_register(tmp_path):
    """A practice's export changes its date format: every row would be quarantined. That is
    the file's fault, not a register with nobody on it; the practice keeps its register."""
    landing = _landing(tmp_path)
    first = _run(landing)
    mangled = [r.replace("2021-06-01", "06/01/2021") for r in S1_ROWS]
    _write(landing / "gp", "D82002_202612.csv", S1_HEADER, mangled)
    second = _run(landing, seen=first.state["files"], registers=first.state["registers"],
                  night=date(2026, 12, 2))
    account = next(f for f in second.files if f.file == "D82002_202612.csv")
    assert account.status == "rejected"
    reason = next(q.reason for q in second.quarantine if q.file == "D82002_202612.csv")
    assert reason.startswith("every one of its 2 rows would be quarantined (row 1: ")
    assert second.state["registers"]["D82002"] == "D82002_202611.csv"
    assert "D82002" not in second.state["practices_replaced"]


def test_an_upper_case_extension_is_the_same_file_name(tmp_path):
    """`D82002_202611.CSV`, as Windows upload tools write it, is that practice's register."""
    landing = tmp_path / "landing"
    _write(landing / "gp", "D82002_202611.CSV", S1_HEADER, S1_ROWS)
    result = _run(landing)
    assert result.state["practices_replaced"] == ["D82002"]
    assert not result.quarantine


def test_two_digit_years_are_bad_dates_not_the_first_century(tmp_path):
    """A register re-saved through Excel has `07-Mar-56`: quarantined as a bad date, never
    staged as 0056-03-07 (which would pass into the warehouse as a real date of birth)."""
    gp_dir = tmp_path / "landing" / "gp"
    short = EMIS_ROWS[0].replace("07-Mar-1956", "07-Mar-56")
    _write(gp_dir, "D82001_202611.csv", EMIS_HEADER, [EMIS_ROWS[1], short])
    result = _run(tmp_path / "landing")
    df = result.tables["gp_register_entry"]
    assert list(df["entry_number"]) == [1]
    assert all(d is None or d.year >= 1900 for d in df["date_of_birth"])
    (fault,) = [q for q in result.quarantine if q.row_number == 2]
    assert "bad date in Date of Birth (expected DD-Mon-YYYY)" in fault.reason


def test_systmone_dates_in_another_iso_shape_are_bad_dates(tmp_path):
    """`19600501` is not `YYYY-MM-DD`, though `date.fromisoformat` reads it."""
    gp_dir = tmp_path / "landing" / "gp"
    compact = S1_ROWS[0].replace("1960-05-01", "19600501")
    _write(gp_dir, "D82002_202611.csv", S1_HEADER, [compact, S1_ROWS[1]])
    result = _run(tmp_path / "landing")
    df = result.tables["gp_register_entry"]
    assert list(df["entry_number"]) == [2]
    (fault,) = [q for q in result.quarantine if q.row_number == 1]
    assert "bad date in DOB (expected YYYY-MM-DD)" in fault.reason


def test_a_header_only_file_does_not_empty_the_practice_register(tmp_path):
    """A register file with its header and no rows is quarantined whole with the reason; the
    practice keeps the register it had (here: its older, readable file on its first night),
    instead of every carer of the practice silently leaving the warehouse."""
    gp_dir = tmp_path / "landing" / "gp"
    _write(gp_dir, "D82001_202610.csv", EMIS_HEADER, [EMIS_ROWS[0]])
    _write(gp_dir, "D82001_202611.csv", EMIS_HEADER, [], crlf=True)
    result = _run(tmp_path / "landing")
    df = result.tables["gp_register_entry"]
    assert df["source_file"].tolist() == ["D82001_202610.csv"]
    (fault,) = [q for q in result.quarantine if q.file == "D82001_202611.csv"]
    assert fault.row_number is None and "header but no data rows" in fault.reason
    assert (tmp_path / "landing" / "quarantine" / "gp").exists()
    # A practice that already has a register keeps it: nothing staged, nothing replaced.
    again = _run(tmp_path / "landing", registers={"D82001": "D82001_202610.csv"})
    assert again.tables["gp_register_entry"].empty
    assert again.state["practices_replaced"] == []
