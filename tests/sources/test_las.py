"""Tests for the LAS reporting-database reader, against a small SQLite copy of its views."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from carelink.errors import ExtractRejected, SourceError
from sources import las
from sources.tables import LAS_VIEWS

NIGHT = date(2026, 11, 24)
SINCE = datetime(2026, 11, 23, 23, 10)
VALID_NHS = "9434765919"

SCHEMA = """
CREATE TABLE person (person_id INTEGER, nhs_number VARCHAR(10), forename TEXT, surname TEXT,
    date_of_birth DATE, gender TEXT, address TEXT, postcode TEXT, district TEXT, ethnicity TEXT,
    date_of_death DATE, last_updated TIMESTAMP);
CREATE TABLE person_relationship (relationship_id INTEGER, person_id INTEGER,
    related_person_id INTEGER, relationship_type TEXT, carer_relationship TEXT,
    start_date DATE, end_date DATE, last_updated TIMESTAMP);
CREATE TABLE assessment (assessment_id INTEGER, person_id INTEGER, assessment_type TEXT,
    assessment_date DATE, carer_fatigue_noted BOOLEAN, carers_service_contact TEXT,
    last_updated TIMESTAMP);
CREATE TABLE care_package (package_id INTEGER, person_id INTEGER,
    primary_support_reason TEXT, setting TEXT, start_date DATE, end_date DATE,
    weekly_cost NUMERIC(10,2), includes_contingency BOOLEAN, funding TEXT,
    last_updated TIMESTAMP);
CREATE TABLE person_merge (old_person_id INTEGER, new_person_id INTEGER, merged_at TIMESTAMP);
"""


def _person(pid, updated, dob="1950-03-07", nhs=VALID_NHS, gender="Female"):
    return (pid, nhs, "Ann", "Smith", dob, gender, "1 High St", "nr1 3qu", "Norwich",
            "White", None, updated)


@pytest.fixture
def las_db(tmp_path: Path) -> tuple[str, sqlite3.Connection]:
    path = tmp_path / "las.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.executemany(
        "INSERT INTO person VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            _person(1, "2026-01-05 10:00:00"),
            _person(2, "2026-11-23T22:40:00", gender="Male", nhs="1234567890"),  # 30 min early
            _person(3, "2026-11-24 08:00:00", gender="Unknown"),
            _person(4, "2026-11-25 00:00:01"),  # after the night: never seen
            _person(5, "2026-11-24 09:00:00", dob="31/02/1950"),  # bad date
            _person(6, "2026-11-24 09:30:00"),  # merged into 3
        ],
    )
    conn.executemany(
        "INSERT INTO person_relationship VALUES (?,?,?,?,?,?,?,?)",
        [(10, 1, 3, "Main informal carer", "Spouse", "2020-01-01", None,
          "2026-11-24 07:00:00")],
    )
    conn.executemany(
        "INSERT INTO assessment VALUES (?,?,?,?,?,?,?)",
        [
            (20, 1, "Care Act assessment", "2026-11-01", 1, "Yes", "2026-11-24 07:00:00"),
            (21, 1, "Review", "2026-11-02", 0, None, "2026-11-24 07:00:00"),
            (22, 1, "Review", "2026-11-03", "Y", None, "2026-11-24 07:00:00"),
            (23, 1, "Review", "2026-11-04", "N", None, "2026-11-24 07:00:00"),
            (24, 1, "Review", "2026-11-05", None, None, "2026-11-24 07:00:00"),
        ],
    )
    conn.executemany(
        "INSERT INTO care_package VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            (30, 1, "Physical support - personal care support", "Community", "2025-05-01",
             None, 312.5, 1, "Council funded", "2026-11-24 07:00:00"),
            (31, 1, "Something else", "Residential care", "2025-05-01", "2026-01-01",
             "100.00", 0, "Joint", "2026-11-24 07:00:00"),
            (None, 1, None, "Community", None, None, None, None, None, "2026-11-24 07:00:00"),
            (30, 1, None, "Community", None, None, None, None, None, "2026-11-24 06:30:00"),
        ],
    )
    conn.execute("INSERT INTO person_merge VALUES (6, 3, '2026-11-24 09:30:00')")
    conn.commit()
    yield f"sqlite:///{path}", conn
    conn.close()


def test_full_extract_maps_every_view(las_db, tmp_path):
    url, _ = las_db
    result = las.extract(url, NIGHT, landing_dir=tmp_path / "landing")
    assert result.status == "extracted"
    assert set(result.tables) == {t.name for t in LAS_VIEWS.values()}
    for table in LAS_VIEWS.values():
        assert list(result.tables[table.name].columns) == table.column_names
    people = result.tables["las_person"].set_index("person_id")
    assert sorted(people.index) == [1, 2, 3, 6]  # 4 is after the night, 5 quarantined
    assert people.loc[1, "date_of_birth"] == date(1950, 3, 7)
    assert people.loc[1, "postcode"] == "NR1 3QU" and people.loc[1, "postcode_valid"]
    assert people.loc[1, "nhs_number_valid"] and not people.loc[2, "nhs_number_valid"]
    assert (people.loc[1, "sex"], people.loc[2, "sex"], people.loc[3, "sex"]) == ("F", "M", "U")
    assert people.loc[2, "gender"] == "Male"
    assert people.loc[1, "source_file"] == "person"
    assert people.loc[1, "extract_date"] == NIGHT
    assert people["source_row"].isna().all()
    assert result.message.startswith("full extract (first run)")
    assert result.state["high_water_mark"] == "2026-11-24T09:30:00"
    for account in result.files:
        assert account.balanced, account


def test_incremental_uses_one_hour_overlap_and_ends_at_the_night(las_db):
    url, _ = las_db
    result = las.extract(url, NIGHT, since=SINCE)
    ids = list(result.tables["las_person"]["person_id"])
    assert ids == [2, 3, 6]  # 2 was updated 30 minutes before `since`; 1 is old; 4 is future
    assert "incremental since 2026-11-23T23:10:00 (1h overlap)" in result.message
    # 4 is stamped after the night: left for the night that covers it, and said so
    assert "1 row updated after 2026-11-24 left for a later night" in result.message


def test_nothing_new_keeps_the_previous_watermark(las_db):
    url, _ = las_db
    later = datetime(2026, 11, 30, 12, 0)
    result = las.extract(url, NIGHT, since=later)
    assert result.rows_staged == 0
    assert result.state["high_water_mark"] == later.isoformat()


def test_merges_set_merged_into(las_db):
    url, _ = las_db
    result = las.extract(url, NIGHT)
    people = result.tables["las_person"].set_index("person_id")
    assert people.loc[6, "merged_into"] == 3
    assert people["merged_into"].isna().sum() == 3
    merges = result.tables["las_person_merge"]
    assert list(merges["old_person_id"]) == [6] and list(merges["new_person_id"]) == [3]
    assert result.state["merges_applied"] == 1


def test_bad_date_null_key_and_duplicate_are_quarantined(las_db, tmp_path):
    url, _ = las_db
    landing = tmp_path / "landing"
    result = las.extract(url, NIGHT, landing_dir=landing)
    reasons = {(q.file, q.row_number): q.reason for q in result.quarantine}
    # person ordered by key: 1, 2, 3, 5 (4 outside the window) → 5 is row 4
    assert reasons[("person", 4)] == "bad date in date_of_birth"  # no key: no row content
    # care_package ordered by key, newest version first: NULL first in SQLite, then 30
    # (07:00), 30 (06:30), 31.
    assert "no package_id" in reasons[("care_package", 1)]
    assert reasons[("care_package", 3)] == "duplicate package_id (the latest version kept)"
    packages = result.tables["las_care_package"]
    assert list(packages["package_id"]) == [30, 31]
    assert packages.iloc[0]["setting"] == "Community" and packages.iloc[0]["funding"]
    account = {f.file: f for f in result.files}["care_package"]
    assert (account.rows_read, account.rows_staged, account.rows_quarantined) == (4, 2, 2)
    written = landing / "quarantine" / "las" / NIGHT.isoformat() / "person.csv"
    assert written.exists() and "_reason" in written.read_text().splitlines()[0]
    assert "31/02/1950" not in " ".join(q.reason for q in result.quarantine)


def test_a_row_without_last_updated_is_read_every_night(las_db):
    """It fits no night's window; left out of the query it would be neither staged nor
    quarantined, on the first night or any other."""
    url, conn = las_db
    conn.execute("INSERT INTO person VALUES (7, NULL, 'Bea', 'Null', '1940-01-01', 'Female', "
                 "'2 Low St', 'NR1 1AA', 'Norwich', 'White', NULL, NULL)")
    conn.commit()
    first = las.extract(url, NIGHT)
    assert 7 in set(first.tables["las_person"]["person_id"])
    assert "1 without a timestamp (read every night)" in first.message
    later = las.extract(url, NIGHT + timedelta(days=1),
                        since=datetime.fromisoformat(first.state["high_water_mark"]))
    assert 7 in set(later.tables["las_person"]["person_id"])


def test_a_key_read_twice_keeps_its_latest_version(las_db):
    """A view has no file order: of two versions of one person in a night's window (the
    older inserted first), the latest is staged and the older quarantined."""
    url, conn = las_db
    conn.execute("INSERT INTO person VALUES (8, NULL, 'Old', 'First', '1940-01-01', 'Female', "
                 "'2 Low St', 'NR1 1AA', 'Norwich', 'White', NULL, '2026-11-24 10:00:00')")
    conn.execute("INSERT INTO person VALUES (8, NULL, 'New', 'Second', '1940-01-01', 'Female', "
                 "'2 Low St', 'NR1 1AA', 'Norwich', 'White', NULL, '2026-11-24 10:30:00')")
    conn.commit()
    people = las.extract(url, NIGHT).tables["las_person"].set_index("person_id")
    assert people.loc[8, "surname"] == "Second"


def test_an_older_version_does_not_stand_in_for_a_quarantined_latest_one(las_db):
    """Of two versions of one person in the window, the latest has a bad date: both are
    quarantined (the older with its reason), and the superseded older values are not staged
    as tonight's."""
    url, conn = las_db
    conn.execute("INSERT INTO person VALUES (8, NULL, 'Old', 'First', '1940-01-01', 'Female', "
                 "'2 Low St', 'NR1 1AA', 'Norwich', 'White', NULL, '2026-11-24 10:00:00')")
    conn.execute("INSERT INTO person VALUES (8, NULL, 'New', 'Second', '01/01/1940', "
                 "'Female', '2 Low St', 'NR1 1AA', 'Norwich', 'White', NULL, "
                 "'2026-11-24 10:30:00')")
    conn.commit()
    result = las.extract(url, NIGHT)
    assert 8 not in set(result.tables["las_person"]["person_id"])
    reasons = sorted(q.reason for q in result.quarantine if q.file == "person")
    assert "bad date in date_of_birth" in reasons
    assert "older version of a person_id whose latest version is quarantined" in reasons
    account = {f.file: f for f in result.files}["person"]
    assert account.rows_read == account.rows_staged + account.rows_quarantined


def test_a_timestamp_with_an_offset_is_read_as_uk_local_time(las_db):
    """One `last_updated` written with an offset among naive ones: read as the same instant
    in UK local time (here BST, +1h), staged, and counted in the watermark; it used to stop
    the whole extract with a TypeError comparing the two kinds."""
    url, conn = las_db
    conn.execute("INSERT INTO person VALUES (9, NULL, 'Zoe', 'Zone', '1940-01-01', 'Female', "
                 "'2 Low St', 'NR1 1AA', 'Norwich', 'White', NULL, "
                 "'2026-06-24T09:00:00+00:00')")
    conn.commit()
    result = las.extract(url, NIGHT)
    people = result.tables["las_person"].set_index("person_id")
    assert people.loc[9, "last_updated"] == pd.Timestamp("2026-06-24 10:00:00")
    assert datetime.fromisoformat(result.state["high_water_mark"]).tzinfo is None


def test_a_column_in_which_nothing_parses_rejects_the_night(las_db):
    """The view now gives dates as DD/MM/YYYY: quarantined row by row, the watermark would
    pass them and mending the view (which leaves last_updated alone) would never bring them
    back. The night is rejected, naming the view and column, and the watermark stays."""
    url, conn = las_db
    conn.executemany("INSERT INTO assessment VALUES (?,?,?,?,?,?,?)", [
        (40 + i, 1, "Review", f"0{i + 1}/11/2026", 0, None, "2026-11-24 07:00:00")
        for i in range(6)])
    conn.execute("DELETE FROM assessment WHERE assessment_id < 40")
    conn.commit()
    with pytest.raises(ExtractRejected) as rejected:
        las.extract(url, NIGHT)
    assert "view assessment: every one of its 6 values in assessment_date fails to parse " \
        "as date" in str(rejected.value)
    assert "/11/2026" not in str(rejected.value)  # no value from a row


def test_booleans_costs_and_support_reason_codes(las_db):
    url, _ = las_db
    result = las.extract(url, NIGHT)
    fatigue = list(result.tables["las_assessment"]["carer_fatigue_noted"])
    assert fatigue[:4] == [True, False, True, False]
    assert fatigue[4] is None or str(fatigue[4]) == "<NA>"
    packages = result.tables["las_care_package"].set_index("package_id")
    assert packages.loc[30, "weekly_cost"] == pytest.approx(312.5)
    assert packages.loc[31, "weekly_cost"] == pytest.approx(100.0)
    assert packages.loc[30, "includes_contingency"] == True  # noqa: E712 - pandas boolean
    assert packages.loc[30, "primary_support_reason_code"] == "PHYS_PERSONAL"
    assert pd.isna(packages.loc[31, "primary_support_reason_code"])
    rel = result.tables["las_person_relationship"].iloc[0]
    assert rel["start_date"] == date(2020, 1, 1) and rel["end_date"] is None


def test_extract_round_trips_through_save_and_load(las_db, tmp_path):
    from sources.result import SourceExtract

    url, _ = las_db
    result = las.extract(url, NIGHT)
    loaded = SourceExtract.load(result.save(tmp_path / "out"))
    assert len(loaded.tables["las_person"]) == len(result.tables["las_person"])


def test_unreachable_database_raises_source_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'las.sqlite'}"
    with pytest.raises(SourceError, match="LAS database"):
        las.extract(url, NIGHT)


@pytest.mark.parametrize("url", ["postgres://reader:s3cret@db/las",
                                 "mysql+nosuchdriver://reader:s3cret@db/las"])
def test_a_mistyped_url_is_a_configuration_error_not_an_outage(url):
    """`postgres://` (SQLAlchemy 2 knows only `postgresql://`) would otherwise be retried for
    a quarter of an hour as if the database were down."""
    with pytest.raises(ExtractRejected, match="the URL is not usable") as info:
        las.extract(url, NIGHT)
    assert "s3cret" not in str(info.value) and repr(url.split(":")[0]) in str(info.value)
    assert not isinstance(info.value, SourceError)  # the extract's retry policy skips it


def test_password_is_masked_in_the_error():
    url = "postgresql+psycopg://reader:s3cret@127.0.0.1:1/las"
    with pytest.raises(SourceError) as info:
        las.extract(url, NIGHT)
    assert "s3cret" not in str(info.value)
    assert "127.0.0.1" in str(info.value)


def test_missing_view_or_column_names_it_and_is_not_retried(las_db):
    # A schema change is not a lost connection: retrying for a quarter of an hour cannot help.
    url, conn = las_db
    conn.execute("DROP TABLE person_merge")
    conn.commit()
    with pytest.raises(ExtractRejected, match="person_merge"):
        las.extract(url, NIGHT)
    conn.execute("CREATE TABLE person_merge (old_person_id INTEGER, merged_at TIMESTAMP)")
    conn.commit()
    with pytest.raises(ExtractRejected, match="new_person_id"):
        las.extract(url, NIGHT)


def test_a_missing_sqlite_file_is_reported_and_not_created(tmp_path):
    path = tmp_path / "las_reporting.db"
    with pytest.raises(SourceError, match="file not found"):
        las.extract(f"sqlite:///{path}", NIGHT)
    assert not path.exists()


def test_a_corrupt_database_says_what_the_driver_says(tmp_path):
    path = tmp_path / "las_reporting.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with pytest.raises(SourceError, match="unreachable: DatabaseError: .+"):
        las.extract(f"sqlite:///{path}", NIGHT)


@pytest.mark.postgres
def test_postgres_typed_views(postgres_admin_url):
    """Real engines deliver date, datetime, bool and Decimal objects rather than text."""
    import uuid

    import sqlalchemy as sa

    schema = f"las_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_admin_url)
    ddl = SCHEMA.replace("BOOLEAN", "boolean").replace("TIMESTAMP", "timestamp")
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
            conn.execute(sa.text(f"SET search_path TO {schema}"))
            for statement in filter(str.strip, ddl.split(";")):
                conn.execute(sa.text(statement))
            conn.execute(sa.text(
                "INSERT INTO person VALUES (1, :nhs, 'Ann', 'Smith', '1950-03-07', 'Female',"
                " '1 High St', 'NR1 3QU', 'Norwich', 'White', NULL, '2026-11-23 22:40:00'),"
                " (2, NULL, 'Bo', 'Li', NULL, 'Other', NULL, NULL, NULL, NULL, NULL,"
                " '2026-11-25 01:00:00')"), {"nhs": VALID_NHS})
            conn.execute(sa.text(
                "INSERT INTO assessment VALUES (20, 1, 'Review', '2026-11-01', true, 'Yes',"
                " '2026-11-24 07:00:00')"))
            conn.execute(sa.text(
                "INSERT INTO care_package VALUES (30, 1, 'Physical support - personal care"
                " support', 'Community', '2025-05-01', NULL, 312.50, false, 'Joint',"
                " '2026-11-24 07:00:00')"))
        url = sa.engine.make_url(postgres_admin_url).update_query_dict(
            {"options": f"-csearch_path={schema}"}
        )
        result = las.extract(url.render_as_string(hide_password=False), NIGHT, since=SINCE)
        people = result.tables["las_person"]
        assert list(people["person_id"]) == [1]
        assert people.iloc[0]["date_of_birth"] == date(1950, 3, 7)
        assert bool(result.tables["las_assessment"].iloc[0]["carer_fatigue_noted"]) is True
        package = result.tables["las_care_package"].iloc[0]
        assert package["weekly_cost"] == pytest.approx(312.5)
        assert bool(package["includes_contingency"]) is False
        assert result.state["high_water_mark"] == "2026-11-24T07:00:00"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
