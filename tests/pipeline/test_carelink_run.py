"""`carelink run` through real Airflow (dag.test) on a generated county: three nights in
order (the second has no provider folder), stable person keys, a rerun that leaves the
warehouse's data as one run did, and marts free of identifiers after real linkage.

Each night runs as the real command in its own process: Airflow fixes its metadata database
when first imported, and other tests in this process have imported it already."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import warehouse
from carelink.config import Settings
from synthetic import generate_county
from tests.support.broken_exports import break_provider_export
from tests.support.browser import rendered_dom
from tests.support.privacy import marts_identifier_findings

FIRST = date(2026, 11, 22)


CARELINK = Path(sys.executable).with_name("carelink")


class Night:
    def __init__(self, proc: subprocess.CompletedProcess) -> None:
        self.exit_code = proc.returncode
        self.output = proc.stdout + proc.stderr


def run_night(settings: Settings, night: date) -> Night:
    env = {**os.environ, **settings.as_environment()}
    return Night(subprocess.run(
        [str(CARELINK), "run", "--landing", str(settings.landing_dir), "--date",
         night.isoformat()], capture_output=True, text=True, env=env, timeout=600))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    generate_county(root / "county", carers=300, seed=12, first_night=FIRST, nights=4)
    mp = pytest.MonkeyPatch()
    mp.setenv("AIRFLOW_HOME", str(root / "airflow"))
    mp.setenv("CARELINK_EXTRACT_RETRY_DELAY", "1")
    settings = Settings.from_env({"CARELINK_DATA_DIR": str(root / "data")},
                                 landing_dir=root / "county" / "landing")
    yield settings
    mp.undo()


def _data(settings: Settings) -> dict[str, list]:
    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        out = {}
        for t in ("linkage.person_xref", "marts.carers_known", "marts.star_change",
                  "marts.gp_register_staleness"):
            frame = warehouse.query_frame(engine, f"select * from {t}")
            frame = frame.drop(columns=[c for c in ("run_id",) if c in frame.columns])
            out[t] = sorted(map(str, frame.itertuples(index=False)))
        return out
    finally:
        engine.dispose()


def test_three_nights_then_a_rerun(world) -> None:
    first = run_night(world, FIRST)
    assert first.exit_code == 0, first.output[-3000:]
    # progress task by task, then the summary
    for task_id in ("extract_provider", "validate_las", "stage_gp", "link_persons",
                    "load_warehouse", "write_reports"):
        assert re.search(rf"^  {task_id}\s+success\s+\d+\.\d s$", first.output, re.M), task_id
    keys_1 = dict(row.split("|") for row in _xref(world))
    second = run_night(world, date(2026, 11, 23))
    assert second.exit_code == 0, second.output[-3000:]
    # a missing night is legitimate, and the summary says why the source did not load
    assert re.search(r"provider\s+absent .*no provider folder for 2026-11-23", second.output)
    keys_2 = dict(row.split("|") for row in _xref(world))
    unchanged = sum(keys_2.get(k) == v for k, v in keys_1.items())
    assert unchanged / len(keys_1) > 0.99  # the same people keep their keys
    third = run_night(world, date(2026, 11, 24))
    assert third.exit_code == 0, third.output[-3000:]
    before = _data(world)
    again = run_night(world, date(2026, 11, 24))
    assert again.exit_code == 0, again.output[-3000:]
    assert _data(world) == before
    # An older night after newer ones: one that ran stands as it is (its marts are not
    # rebuilt from newer data); one that never ran cannot be loaded now.
    older = run_night(world, date(2026, 11, 23))
    assert older.exit_code == 0, older.output[-3000:]
    assert "nothing run: 2026-11-23 ran before" in older.output
    never = run_night(world, date(2026, 11, 21))
    assert never.exit_code != 0, never.output[-3000:]
    assert "NightOutOfOrder: 2026-11-21 never ran and 2026-11-24 already has" in never.output
    assert _data(world) == before
    assert _rows(world, "select count(*) from meta.run_ledger "
                 "where extract_date = '2026-11-21'") == ["0"]
    night_reports = world.reports_dir / "2026-11-24"
    report = night_reports / "nightly.html"
    assert report.exists() and "<svg" in report.read_text()
    _pages_written(night_reports)
    # The privacy scan again, now on marts built from real linkage through the real DAG.
    engine = warehouse.make_engine(world.warehouse_url)
    try:
        assert marts_identifier_findings(engine, world.landing_dir.parent / "truth") == []
    finally:
        engine.dispose()


DEMO_PAGES = ("data_docs/provider.html", "data_docs/las.html", "data_docs/gp.html",
              "data_docs/cross_source.html", "restricted/linkage_report.html",
              # Great Expectations' own validation pages, one per suite
              "data_docs/provider/provider_carer.html", "data_docs/gp/gp_register_entry.html",
              "data_docs/cross_source/linkage_sanity.html")


def _pages_written(folder: Path) -> None:
    for page in DEMO_PAGES:
        assert (folder / page).exists(), page


@pytest.mark.browser
def test_demo_night_pages_render_in_headless_chromium(world) -> None:
    """Night three's Data Docs and IG report (written by the first test), opened as a
    reviewer would: offline, in a browser."""
    folder = world.reports_dir / "2026-11-24"
    for page in DEMO_PAGES:
        dom = rendered_dom(folder / page)
        if page.count("/") == 2:
            assert "Expectation Validation Result" in dom and "<table" in dom, page
            assert "Run Name" in dom and "2026-11-24" in dom, page
        elif page.startswith("data_docs"):
            assert "<table" in dom and "expectation" in dom.lower(), page
        else:
            assert "Threshold sensitivity" in dom and "<svg" in dom


def test_a_blocked_source_skips_only_its_branch(world) -> None:
    """Night four's provider export is cut to a tenth: the gate blocks the provider, the run
    exits non-zero naming it, the provider keeps night three's data, LAS and GP still load."""
    night = date(2026, 11, 25)
    carers_before = _carers(world)
    break_provider_export(world.landing_dir / "provider" / night.isoformat())
    result = run_night(world, night)
    assert result.exit_code != 0, result.output[-3000:]
    assert "provider" in result.output and "blocked" in result.output
    # the message names the file and says what was found against what was expected
    assert re.search(r"carers\.csv \(provider_carer\): volume_vs_previous_nights \(observed "
                     r"\d+; expected at least \d+ rows", result.output), result.output[-3000:]
    # the reason, not a screen of Airflow frames: an expected failure prints no traceback
    assert "Traceback" not in result.output, result.output[:3000]
    engine = warehouse.make_engine(world.warehouse_url)
    try:
        ledger = warehouse.query_frame(engine, "select source, status from meta.run_ledger "
                                       f"where extract_date = '{night.isoformat()}'")
    finally:
        engine.dispose()
    status = dict(zip(ledger["source"], ledger["status"], strict=True))
    assert status["provider"] == "blocked"
    assert status["las"] == "extracted" and status["gp"] == "extracted"
    assert _carers(world) == carers_before
    assert (world.reports_dir / night.isoformat() / "nightly.html").exists()


def test_a_las_schema_change_fails_at_once_and_says_why(world, tmp_path) -> None:
    """A view the specification names has lost a column: not worth a quarter of an hour of
    retries. The run fails at once, the summary names the source, view and column, and GP
    still loads."""
    import shutil
    import sqlite3

    night = date(2026, 11, 25)
    las_db = Path(world.las_url.removeprefix("sqlite:///"))
    changed = tmp_path / "las_reporting.db"
    shutil.copy(las_db, changed)
    with sqlite3.connect(changed) as conn:
        conn.execute("ALTER TABLE person DROP COLUMN ethnicity")
    env = {**os.environ, **world.as_environment()}
    proc = subprocess.run(
        [str(CARELINK), "run", "--landing", str(world.landing_dir), "--date", night.isoformat(),
         "--las-url", f"sqlite:///{changed}"], capture_output=True, text=True, env=env,
        timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    las_line = next(line for line in proc.stdout.splitlines() if line.startswith("  las "))
    assert "rejected" in las_line and "view person lacks column(s) ethnicity" in las_line
    assert "retrying" not in output
    ledger = dict(row.split("|", 1) for row in _rows(
        world, "select source, status || '|' || message from meta.run_ledger where "
               f"extract_date = '{night.isoformat()}'"))
    assert ledger["gp"].startswith("extracted|")
    assert ledger["las"].startswith("rejected|") and "lacks column(s) ethnicity" in ledger["las"]
    # The morning reads the report, not the console: it says LAS is missing and why, and
    # links no LAS Data Docs (the earlier run's page of this date is gone).
    report = (world.reports_dir / night.isoformat() / "nightly.html").read_text()
    assert "not extracted (rejected)" in report and "lacks column(s) ethnicity" in report
    assert "data_docs/las.html" not in report and "data_docs/gp.html" in report


def _rows(settings: Settings, sql: str) -> list[str]:
    """Read and let go: the night runs in another process and DuckDB allows one writer."""
    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        frame = warehouse.query_frame(engine, sql)
    finally:
        engine.dispose()
    return ["|".join(map(str, row)) for row in frame.itertuples(index=False)]


def _carers(settings: Settings) -> list[str]:
    return _rows(settings, "select carer_ref, extract_date from staging.provider_carer "
                 "order by carer_ref")


def _xref(settings: Settings) -> list[str]:
    return _rows(settings, "select source_record_key, person_key from linkage.person_xref")


def _carelink(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **settings.as_environment()}
    return subprocess.run([str(CARELINK), *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_training_dag_leaves_a_candidate_for_ig(world) -> None:
    """The linkage_training DAG through Airflow on what the nights staged: a candidate with
    its evaluation recorded, not current until IG approves it; approval is recorded."""
    before = {p.name for p in world.models_dir.glob("model-*.json")}
    trained = _carelink(world, "model", "train", "--date", "2026-11-29")
    assert trained.returncode == 0, (trained.stdout + trained.stderr)[-3000:]
    assert "train_candidate" in trained.stdout and "evaluate_candidate" in trained.stdout
    (candidate,) = {p.name for p in world.models_dir.glob("model-*.json")} - before
    meta = json.loads((world.models_dir / candidate).read_text())["carelink"]
    assert meta["trained_on"] == "2026-11-29" and not meta.get("approved_by")
    assert meta.get("evaluation"), "the evaluation step records its figures in the model"
    listed = _carelink(world, "model", "list").stdout
    assert f"{candidate}  candidate" in listed
    approved = _carelink(world, "model", "approve", candidate, "--by", "IG Reviewer",
                         "--on", "2026-11-30")
    assert approved.returncode == 0, approved.stderr
    assert f"{candidate}  CURRENT" in _carelink(world, "model", "list").stdout
    meta = json.loads((world.models_dir / candidate).read_text())["carelink"]
    assert meta["approved_by"] == "IG Reviewer" and meta["approved_at"] == "2026-11-30"


def _term_when(proc: subprocess.Popen, ready) -> tuple[float, str]:
    """Send TERM once a progress line satisfies `ready`; (seconds to exit, rest of stderr)."""
    import signal
    import time

    try:
        for line in proc.stderr:
            if ready(line):
                break
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        rest = proc.communicate(timeout=30)[1]
        return time.monotonic() - started, rest
    finally:
        if proc.poll() is None:
            proc.kill()


def _night_process(tmp_path: Path, landing: Path, *extra: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(CARELINK), "run", "--landing", str(landing), "--date", "2026-11-22", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "CARELINK_DATA_DIR": str(tmp_path / "data"),
             "AIRFLOW_HOME": str(tmp_path / "airflow"), **env})


def test_a_night_waiting_to_retry_stops_on_a_term(tmp_path) -> None:
    """Airflow's in-process runner leaves its task's TERM handler behind: a night waiting to
    retry an unreachable source must still stop when asked, at once and saying why."""
    (tmp_path / "landing" / "gp").mkdir(parents=True)
    proc = _night_process(tmp_path, tmp_path / "landing", "--las-url",
                          f"sqlite:///{tmp_path / 'missing.db'}",
                          CARELINK_EXTRACT_RETRY_DELAY="300")
    took, rest = _term_when(proc, lambda line: line.startswith("  extract_las")
                            and "retrying" in line)
    assert proc.returncode == 143 and took < 10
    assert "carelink: stopped by SIGTERM" in rest


def test_a_running_task_stops_on_a_term(tmp_path) -> None:
    """The same while a task runs (linkage trains its model here): the runner's own TERM
    handler would only tell the task to stop, and the night would go on."""
    generate_county(tmp_path / "county", carers=300, seed=3, nights=1)
    proc = _night_process(tmp_path, tmp_path / "county" / "landing")
    staged: set[str] = set()

    def all_staged(line: str) -> bool:
        staged.update(s for s in ("provider", "las", "gp") if line.startswith(f"  stage_{s}"))
        return len(staged) == 3

    took, rest = _term_when(proc, all_staged)  # link_persons is running now
    assert proc.returncode == 143 and took < 10, rest[-2000:]
    assert "carelink: stopped by SIGTERM" in rest
    assert "  link_persons" not in rest.split("carelink: stopped")[0]
