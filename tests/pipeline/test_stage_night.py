"""A generated night extracted and staged end to end (no Airflow): every row of every file is
accounted for, and rerunning the night leaves staging exactly as one run did."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from carelink.config import Settings
from carelink.pipeline import stage_night
from synthetic import generate_county


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("county")
    generate_county(out, carers=400, seed=21, first_night=date(2026, 11, 22), nights=3)
    return out


def _settings(county: Path, data: Path) -> Settings:
    return Settings.from_env({"CARELINK_DATA_DIR": str(data)},
                             landing_dir=county / "landing")


def test_every_row_of_a_generated_night_is_staged_or_quarantined(county, tmp_path) -> None:
    outcome = stage_night(_settings(county, tmp_path), date(2026, 11, 22))
    assert not outcome.errors
    assert {s: e.status for s, e in outcome.extracts.items()} == {
        "provider": "extracted", "las": "extracted", "gp": "extracted"}
    for extract in outcome.extracts.values():
        for account in extract.files:
            assert account.rows_read == account.rows_staged + account.rows_quarantined, account
    reasons = [q.reason for e in outcome.extracts.values() for q in e.quarantine]
    # The generator plants a duplicate key, a bad date, an empty key, an unknown practice
    # and an unknown layout; each is quarantined with its reason.
    assert any("duplicate" in r for r in reasons)
    assert any("bad date" in r for r in reasons)
    assert any("not in the practice list" in r for r in reasons)
    assert any("unknown layout" in r for r in reasons)
    # dq.quarantine holds no row content: no source key, number or date from the row itself
    content = re.compile(r"\b(CR|CF|SA|ST|SC|SP)\d{6}\b|\d{10}|\d{1,2}/\d{1,2}/\d{4}|"
                         r"\d{4}-\d{2}-\d{2}|_id \d+")
    assert not [r for r in reasons if content.search(r)]


def test_missing_provider_night_is_absent_and_rerun_is_idempotent(county, tmp_path) -> None:
    import warehouse

    settings = _settings(county, tmp_path)
    stage_night(settings, date(2026, 11, 22))
    second = stage_night(settings, date(2026, 11, 23))
    assert second.extracts["provider"].status == "absent"
    assert second.ok

    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        before = {n: len(df) for n, df in warehouse.read_staging(engine).items()}
        stage_night(settings, date(2026, 11, 23))
        after = {n: len(df) for n, df in warehouse.read_staging(engine).items()}
        ledger = warehouse.query_frame(
            engine, "select extract_date, source, status from meta.run_ledger")
    finally:
        engine.dispose()
    assert before == after
    assert len(ledger) == 6  # two nights × three sources, reruns replace their row
    # Nights run in date order: the newest may run again, an older one that ran stands as
    # it is, an older one that never ran cannot be staged after a newer one.
    from carelink.errors import NightOutOfOrder
    from carelink.pipeline import check_night_order

    assert check_night_order(settings, date(2026, 11, 23)).go
    older = check_night_order(settings, date(2026, 11, 22))
    assert not older.go and "2026-11-22 ran before" in older.message
    with pytest.raises(NightOutOfOrder, match="2026-11-21 never ran and 2026-11-23 already"):
        check_night_order(settings, date(2026, 11, 21))
    with pytest.raises(NightOutOfOrder):
        stage_night(settings, date(2026, 11, 22))
    assert check_night_order(settings, date(2026, 11, 24)).go


def test_an_unreachable_warehouse_is_named_and_retried_like_a_source(county, tmp_path) -> None:
    from carelink.errors import SourceError, WarehouseUnreachable
    from carelink.pipeline import extract_source

    settings = Settings.from_env(
        {"CARELINK_DATA_DIR": str(tmp_path)}, landing_dir=county / "landing",
        warehouse_url="postgresql+psycopg://carelink:pw@127.0.0.1:1/carelink")
    with pytest.raises(WarehouseUnreachable, match=r"warehouse .*127\.0\.0\.1:1.* the gp state"
                       ) as caught:
        extract_source(settings, "gp", date(2026, 11, 22))
    assert isinstance(caught.value, SourceError)  # the extract task's retry policy retries it
    assert "pw" not in str(caught.value)


def test_a_night_ahead_of_the_clock_runs_with_a_warning(county, tmp_path) -> None:
    """The command-line contract runs the date it is given: data dated ahead of this
    machine's clock is still that night's data. The operator is warned, since the date
    becomes the newest night run."""
    from datetime import timedelta

    import warehouse
    from carelink.pipeline import check_night_order, future_night_warning, london_today

    today = london_today()
    settings = _settings(county, tmp_path)
    warehouse.upgrade(settings.warehouse_url)
    assert check_night_order(settings, today + timedelta(days=3)).go
    assert "has not ended yet" in future_night_warning(today)
    assert future_night_warning(today - timedelta(days=1)) == ""


def test_work_folders_are_deleted_after_the_days_kept(tmp_path) -> None:
    """The work folders hold identifiers between tasks: kept a few nights for diagnosis,
    then deleted; anything that is not a night's folder is left alone."""
    from carelink.pipeline import prune_work

    settings = Settings.from_env({"CARELINK_DATA_DIR": str(tmp_path),
                                  "CARELINK_WORK_KEEP_DAYS": "7"})
    for name in ("2026-11-10", "2026-11-16", "2026-11-17", "2026-11-24", "notes"):
        (settings.work_dir / name / "extract").mkdir(parents=True)
    assert prune_work(settings, date(2026, 11, 24)) == 2
    assert sorted(p.name for p in settings.work_dir.iterdir()) == [
        "2026-11-17", "2026-11-24", "notes"]


def test_a_source_that_cannot_be_extracted_is_in_the_ledger_with_why(county, tmp_path) -> None:
    """An unreachable LAS ("failed") and a LAS view that lost a column ("rejected") stop only
    LAS, and the run ledger says so with the reason: the nightly report is built from it."""
    import shutil
    import sqlite3

    import warehouse

    night = date(2026, 11, 22)
    changed = tmp_path / "changed.db"
    shutil.copy(county / "landing" / "las" / "las_reporting.db", changed)
    with sqlite3.connect(changed) as conn:
        conn.execute("ALTER TABLE person DROP COLUMN ethnicity")
    expected = {
        "postgresql+psycopg://carelink:pw@127.0.0.1:1/las": ("failed", "unreachable"),
        f"sqlite:///{changed}": ("rejected", "view person lacks column(s) ethnicity"),
    }
    for las_url, (status, reason) in expected.items():
        settings = Settings.from_env({"CARELINK_DATA_DIR": str(tmp_path / "data"),
                                      "CARELINK_EXTRACT_RETRY_DELAY": "1"},
                                     landing_dir=county / "landing", las_url=las_url)
        outcome = stage_night(settings, night)
        assert reason in outcome.errors["las"]
        engine = warehouse.make_engine(settings.warehouse_url)
        try:
            ledger = warehouse.query_frame(engine, "select source, status, message from "
                                           "meta.run_ledger order by source")
        finally:
            engine.dispose()
        rows = {r.source: (r.status, r.message) for r in ledger.itertuples()}
        assert rows["provider"][0] == "extracted" and rows["gp"][0] == "extracted"
        assert rows["las"][0] == status and reason in rows["las"][1]
        assert "pw@" not in rows["las"][1]


def test_what_holds_identifiers_outside_the_warehouse_is_owner_only(county, tmp_path) -> None:
    """With the Linux default umask every file would be world-readable: the work folders, the
    embedded DuckDB warehouse and the restricted report folder are owner-only regardless."""
    import os
    import stat

    from carelink.pipeline import restricted_dir

    settings = _settings(county, tmp_path)
    old = os.umask(0o022)
    try:
        stage_night(settings, date(2026, 11, 22))
        restricted = restricted_dir(settings, date(2026, 11, 22))
    finally:
        os.umask(old)
    warehouse_file = Path(settings.warehouse_url.removeprefix("duckdb:///"))
    modes = {p: stat.S_IMODE(p.stat().st_mode)
             for p in (settings.work_dir, restricted, warehouse_file)}
    assert modes == {settings.work_dir: 0o700, restricted: 0o700, warehouse_file: 0o600}
    assert any(settings.work_dir.rglob("*.parquet"))  # the night's extracts are inside it


def test_no_las_database_at_the_embedded_default_is_an_absent_source(tmp_path) -> None:
    # command-line.md: exit 0 "when every source either loaded or was legitimately absent";
    # without --las-url or configuration, "embedded defaults under a local data folder".
    # A landing with provider and GP deliveries but no LAS database at the default place,
    # on a warehouse that has never read LAS, is a LAS that is not there (not an outage to
    # retry for a quarter of an hour and then fail the night).
    from carelink.pipeline import extract_source

    (tmp_path / "landing").mkdir()
    settings = Settings.from_env({"CARELINK_DATA_DIR": str(tmp_path / "data")},
                                 landing_dir=tmp_path / "landing")
    import warehouse

    warehouse.upgrade(settings.warehouse_url)
    extract = extract_source(settings, "las", date(2026, 11, 22))
    assert extract.status == "absent"
    assert "las_reporting.db" in extract.message


def test_a_retried_gate_task_records_its_results_once(county, tmp_path) -> None:
    """dq.validation_results holds one row per expectation per run: a gate task that Airflow
    retries (a dropped connection after the results were written) or that is cleared and run
    again in the same run replaces its rows rather than adding a second set."""
    import warehouse
    from carelink.pipeline import extract_recorded, run_gate

    settings = _settings(county, tmp_path)
    night = date(2026, 11, 22)
    warehouse.upgrade(settings.warehouse_url)
    extract_recorded(settings, "gp", night, "run1")

    def rows() -> int:
        return int(warehouse.query(settings.warehouse_url,
                                   "select count(*) as n from dq.validation_results "
                                   "where run_id = 'run1'")["n"].iloc[0])

    run_gate(settings, "gp", night, "run1")
    once = rows()
    assert once > 0
    run_gate(settings, "gp", night, "run1")
    assert rows() == once


def test_carelink_stage_checks_each_source_as_the_night_does(county, tmp_path) -> None:
    """`carelink stage` runs the same gate as the DAG's validate tasks: a provider export cut
    short is blocked and not staged (staging keeps the night before's), the others stage."""
    import shutil

    import warehouse
    from tests.support.broken_exports import break_provider_export

    landing = tmp_path / "landing"
    shutil.copytree(county / "landing", landing)
    settings = Settings.from_env({"CARELINK_DATA_DIR": str(tmp_path / "data")},
                                 landing_dir=landing)
    for night in (date(2026, 11, 22), date(2026, 11, 23)):
        assert stage_night(settings, night).ok
    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        carers_before = len(warehouse.read_staging(engine)["provider_carer"])
        break_provider_export(landing / "provider" / "2026-11-24")
        outcome = stage_night(settings, date(2026, 11, 24))
        carers_after = len(warehouse.read_staging(engine)["provider_carer"])
        ledger = warehouse.query_frame(engine, "select source, status from meta.run_ledger"
                                       " where extract_date = '2026-11-24'")
    finally:
        engine.dispose()
    assert not outcome.ok
    assert "critical expectations failed" in outcome.errors["provider"]
    assert "volume_vs_previous_nights" in outcome.errors["provider"]
    assert dict(zip(ledger["source"], ledger["status"], strict=True)) == {
        "provider": "blocked", "las": "extracted", "gp": "extracted"}
    assert carers_after == carers_before
