import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from carelink import codelists
from carelink.cli import build_parser
from carelink.config import Settings


def test_defaults_are_embedded_under_the_data_dir(tmp_path):
    s = Settings.from_env({"CARELINK_DATA_DIR": str(tmp_path)})
    assert s.warehouse_url == f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    assert s.las_url == f"sqlite:///{tmp_path / 'landing' / 'las' / 'las_reporting.db'}"
    assert s.reports_dir == tmp_path / "reports"


def test_landing_override_moves_the_default_las_database(tmp_path):
    s = Settings.from_env({"CARELINK_DATA_DIR": str(tmp_path)}, landing_dir=tmp_path / "elsewhere")
    assert "elsewhere/las/las_reporting.db" in s.las_url


def test_explicit_urls_win(tmp_path):
    s = Settings.from_env(
        {"CARELINK_DATA_DIR": str(tmp_path), "CARELINK_WAREHOUSE_URL": "postgresql://x/y"},
        las_url="sqlite:///las.db",
    )
    assert s.warehouse_url == "postgresql://x/y" and s.las_url == "sqlite:///las.db"


def test_person_key_secret_is_created_once_and_kept(tmp_path):
    s = Settings.from_env({"CARELINK_DATA_DIR": str(tmp_path)})
    first = s.person_key_secret()
    assert len(first) == 64 and s.person_key_secret() == first
    assert (tmp_path / ".person_key_secret").stat().st_mode & 0o077 == 0
    env = {"CARELINK_DATA_DIR": str(tmp_path), "CARELINK_PERSON_KEY_SECRET": "from-a-vault"}
    assert Settings.from_env(env).person_key_secret() == b"from-a-vault"
    # the compose file's example value is public, so it is refused rather than used
    with pytest.raises(ValueError, match="placeholder"):
        Settings.from_env({**env, "CARELINK_PERSON_KEY_SECRET": "change-me"}).person_key_secret()


def test_code_lists_ship_with_the_package():
    assert len(codelists.practices()) == 47
    assert codelists.breakdown_reason_for_label("Death of the cared-for person").code == (
        "CARED_FOR_DIED"
    )
    assert codelists.breakdown_reason_for_label("death of the  cared-for PERSON").category == (
        "unavoidable"
    )
    assert "King's Lynn and West Norfolk" in codelists.district_names()


def test_contract_subcommands_exist():
    parser = build_parser()
    args = parser.parse_args(["run", "--landing", "x", "--date", "2026-11-24"])
    assert args.command == "run"
    args = parser.parse_args(["link", "a.csv", "b.csv", "--out", "c.csv", "--pairs", "p.csv"])
    assert args.inputs == [Path("a.csv"), Path("b.csv")]


def test_help_is_fast_and_imports_nothing_heavy():
    code = (
        "import sys, carelink.cli; carelink.cli.build_parser();"
        "heavy = [m for m in ('pandas', 'splink', 'great_expectations', 'airflow')"
        " if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_run_on_a_locked_warehouse_says_so_in_one_line(tmp_path):
    """DuckDB allows one writer: a night started while an analyst holds the file open must
    say what is wrong, not print a traceback."""
    import duckdb

    db = tmp_path / "warehouse.duckdb"
    (tmp_path / "landing").mkdir()
    holder = duckdb.connect(str(db))
    try:
        proc = subprocess.run(
            [str(Path(sys.executable).with_name("carelink")), "run", "--landing",
             str(tmp_path / "landing"), "--date", "2026-11-24", "--warehouse", f"duckdb:///{db}"],
            capture_output=True, text=True, timeout=120,
            env={"PATH": "/usr/bin:/bin", "CARELINK_DATA_DIR": str(tmp_path)})
    finally:
        holder.close()
    assert proc.returncode == 2
    assert "carelink run: warehouse duckdb:///" in proc.stderr
    assert "cannot be opened to start the night: " in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_without_a_landing_folder_says_so_at_once(tmp_path):
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("carelink")), "run", "--date", "2026-11-24"],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "CARELINK_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"carelink run: landing folder {tmp_path / 'landing'} does "
                                   "not exist (--landing, or CARELINK_LANDING)")


def test_a_second_run_on_one_data_folder_stops_at_once_saying_why(tmp_path):
    """Two runs on one embedded Airflow database and warehouse trip over each other's
    records (a second `carelink run` died in Airflow with a traceback): the second stops
    before Airflow starts, naming the run that holds the folder, and the lock goes with it."""
    import fcntl
    import os

    (tmp_path / "landing").mkdir()
    command = [str(Path(sys.executable).with_name("carelink")), "run", "--date", "2026-11-24"]
    env = {"PATH": "/usr/bin:/bin", "CARELINK_DATA_DIR": str(tmp_path)}
    lock = tmp_path / ".carelink-run.lock"
    with lock.open("a+") as held:  # another run: this process, holding the lock
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write(f"pid {os.getpid()}")
        held.flush()
        proc = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
        assert proc.returncode == 2
        assert proc.stderr.strip() == (
            f"carelink run: another carelink run or model train (pid {os.getpid()}) is using "
            f"{tmp_path}; wait for it to finish, then run again")
        train = subprocess.run([*command[:1], "model", "train", "--date", "2026-11-24"],
                               capture_output=True, text=True, timeout=60, env=env)
        assert train.returncode == 2 and "is using" in train.stderr
    from carelink.airflow_runner import one_run_at_a_time
    from carelink.config import Settings

    with one_run_at_a_time(Settings.from_env(env)):  # free again once the holder lets go
        pass


def test_progress_lines_only_under_carelink_run(monkeypatch, capsys):
    """`carelink run` sets CARELINK_PROGRESS; under a scheduler the callbacks stay silent."""
    from datetime import UTC, datetime, timedelta

    from carelink import notify

    class TI:
        task_id = "stage_gp"
        start_date = datetime.now(UTC) - timedelta(seconds=3)

    from carelink.errors import SourceError

    context = {"task_instance": TI(), "exception": SourceError("row 7: bad date")}
    monkeypatch.delenv("CARELINK_PROGRESS", raising=False)
    notify.on_task_skipped(context)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("CARELINK_PROGRESS", "1")
    notify.on_task_success({"task_instance": TI()})
    notify.on_task_failure(context)
    err = capsys.readouterr().err.splitlines()
    assert err[0].split() == ["stage_gp", "success", "3.0", "s"]
    assert err[1].split()[:2] == ["stage_gp", "failed"]
    # carelink's exceptions name file, row and reason, never a record's values: say why
    assert err[1].endswith("(SourceError: row 7: bad date)")


def test_a_failure_reason_is_the_exception_type_and_first_line_only() -> None:
    from carelink.errors import ExtractRejected, SourceError
    from carelink.notify import failure_reason

    exc = ExtractRejected("las", "view person lacks column(s) ethnicity\nTraceback detail")
    assert failure_reason(exc) == "ExtractRejected: las: view person lacks column(s) ethnicity"
    assert len(failure_reason(SourceError("x" * 1000))) == 300
    # anything else is a bug whose text may quote a record: its type only
    assert failure_reason(KeyError("SMITH")) == "KeyError"
    assert failure_reason(None) == ""
    # the operating system's words and the path: a full disk, a folder not writable
    denied = PermissionError(13, "Permission denied", "/srv/carelink/reports/2026-11-24")
    assert failure_reason(denied) == (
        "PermissionError: Permission denied: /srv/carelink/reports/2026-11-24")


def test_a_night_summary_separates_failures_from_what_they_stopped() -> None:
    from carelink.airflow_runner import NightResult
    from carelink.errors import NightOutOfOrder, SourceError
    from carelink.notify import failure_reason

    states = {"check_night_order": "success", "extract_las": "failed",
              "validate_las": "upstream_failed", "stage_las": "upstream_failed",
              "link_persons": "success"}
    result = NightResult(date(2026, 11, 21), "manual__x", states, failure_reasons={
        "extract_las": failure_reason(SourceError("LAS database x: file not found"))})
    lines = result.lines()
    assert "  FAILED tasks: extract_las" in lines
    assert "  not run because of them: stage_las, validate_las" in lines
    assert ("  las      not staged — extract_las failed: SourceError: LAS database x: "
            "file not found") in lines
    # the extract ran but nothing was staged (the gate's Data Docs could not be written):
    # never "success" for a source that did not load
    full = NightResult(date(2026, 11, 21), "manual__w", {
        "check_night_order": "success", "extract_gp": "success", "validate_gp": "failed",
        "stage_gp": "upstream_failed"}, failure_reasons={"validate_gp": failure_reason(
            OSError(28, "No space left on device", "/srv/reports/2026-11-21/data_docs"))})
    assert ("  gp       not staged — validate_gp failed: OSError: No space left on device: "
            "/srv/reports/2026-11-21/data_docs") in full.lines()
    assert not [line for line in full.lines() if line.startswith("    validate_gp")]
    # a blocked gate's reasons are on the source's line once, not again under FAILED tasks
    blocked = NightResult(date(2026, 11, 21), "manual__b", {
        "check_night_order": "success", "validate_provider": "failed",
        "stage_provider": "upstream_failed"}, failure_reasons={
        "validate_provider": "GateBlocked: provider: critical expectations failed — x"},
        summary={"sources": [{"source": "provider", "status": "blocked", "rows_staged": 0,
                              "rows_quarantined": 3, "message": "provider: critical "
                              "expectations failed — x"}]})
    assert "  FAILED tasks: validate_provider" in blocked.lines()
    assert sum("critical expectations failed" in line for line in blocked.lines()) == 1
    assert lines[-1] == "  exit status 1"
    # refused before anything ran: only why (the marts belong to another night)
    reason = failure_reason(NightOutOfOrder("2026-11-21 never ran and 2026-11-24 already has"))
    refused = NightResult(date(2026, 11, 21), "manual__y", {
        "check_night_order": "failed", "extract_las": "upstream_failed",
        "link_persons": "failed"}, failure_reasons={"check_night_order": reason})
    assert refused.lines()[1:] == [
        "  refused, nothing run: NightOutOfOrder: 2026-11-21 never ran and 2026-11-24 already "
        "has", "  exit status 1"]
    left = NightResult(date(2026, 11, 23), "manual__z", {"check_night_order": "success",
                                                           "extract_las": "skipped"},
                       superseded="2026-11-23 ran before")
    assert left.lines()[1:] == ["  nothing run: 2026-11-23 ran before", "  exit status 0"]


def test_a_manual_trigger_without_a_logical_date_runs_for_when_it_was_queued() -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from carelink.pipeline import extract_date_for, run_moment

    queued = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    ctx = {"logical_date": None, "dag_run": SimpleNamespace(run_after=queued)}
    assert run_moment(ctx) == queued
    assert extract_date_for(run_moment(ctx)) == date(2026, 11, 24)
    scheduled = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    assert run_moment({"logical_date": scheduled, "dag_run": None}) == scheduled


def test_carelink_run_drops_tracebacks_of_expected_failures_only() -> None:
    """A blocked gate's reason is on its progress line; a bug keeps its traceback."""
    import pytest
    import structlog

    from carelink.airflow_runner import _drop_expected_tracebacks
    from carelink.errors import GateBlocked

    event = {"event": "Task failed with exception", "exc_info": True}
    try:
        raise GateBlocked("provider", "critical expectations failed")
    except GateBlocked:
        with pytest.raises(structlog.DropEvent):
            _drop_expected_tracebacks(None, "exception", dict(event))
    try:
        raise KeyError("carer_ref")
    except KeyError:
        assert _drop_expected_tracebacks(None, "exception", dict(event)) == event
    assert _drop_expected_tracebacks(None, "info", {"event": "x"}) == {"event": "x"}


def test_an_alert_that_cannot_be_sent_does_not_log_the_webhook(monkeypatch, caplog):
    """The webhook URL is a secret (it carries the token that lets anyone post): a mistyped or
    unreachable one is logged by the error's type, never by a text that quotes the URL."""
    import logging

    from carelink import notify

    secret = "hooks.example.org/services/T000/B000/s3cr3t-token"
    monkeypatch.setenv("CARELINK_ALERT_WEBHOOK", secret)  # no scheme: urllib quotes it back
    monkeypatch.delenv("CARELINK_PROGRESS", raising=False)
    with caplog.at_level(logging.WARNING, logger="carelink.notify"):
        notify.on_task_failure({"run_id": "r1", "exception": ValueError("x")})
    assert "did not go through" in caplog.text
    assert "s3cr3t-token" not in caplog.text


def test_person_key_secret_is_never_on_disk_readable_by_others(tmp_path, monkeypatch):
    """The secret is what keeps person keys opaque. Written first and restricted after, it
    would be readable by every account (umask 022) until the chmod, and for good if the
    process died in between: it is created owner-only. (The chmod is skipped here to stand
    for that death.)"""
    import os
    from pathlib import Path

    monkeypatch.setattr(Path, "chmod", lambda self, mode: None)
    previous = os.umask(0o022)
    try:
        Settings.from_env({"CARELINK_DATA_DIR": str(tmp_path)}).person_key_secret()
    finally:
        os.umask(previous)
    assert (tmp_path / ".person_key_secret").stat().st_mode & 0o077 == 0
