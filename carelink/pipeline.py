"""The nightly pipeline as plain functions, one per task.

The Airflow DAG (`dags/carers_nightly.py`) calls these, and so does the CLI; there is one path
for the data. Tasks hand over through the night's work folder (`<data>/work/<date>/`) so that
each can be retried or rerun alone, and every function is keyed by the extract date, never by
the clock.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from carelink.config import Settings, mask_url
from carelink.errors import (
    ExtractRejected,
    NightOutOfOrder,
    SourceError,
    WarehouseUnreachable,
    driver_reason,
)
from carelink.private import private_dir

if TYPE_CHECKING:  # the stages' types, without importing pandas or SQLAlchemy here
    import pandas as pd
    import sqlalchemy as sa

    from sources.result import SourceExtract
    from warehouse.load import StageResult

log = logging.getLogger(__name__)

SOURCES: tuple[Literal["provider", "las", "gp"], ...] = ("provider", "las", "gp")


def night_dir(settings: Settings, extract_date: date) -> Path:
    """The night's work folder: extracts and linkage outputs between tasks, identifiers
    included, so the folder above every night's is owner-only."""
    return private_dir(settings.work_dir) / extract_date.isoformat()


def restricted_dir(settings: Settings, extract_date: date) -> Path:
    """Beside the night's report, owner-only: the IG linkage report and the practices'
    reconciliation lists, which hold identifiers."""
    return private_dir(report_dir(settings, extract_date) / "restricted")


def extract_dir(settings: Settings, source: str, extract_date: date) -> Path:
    return night_dir(settings, extract_date) / "extract" / source


# --- extract --------------------------------------------------------------------------------


@contextmanager
def open_warehouse(settings: Settings, purpose: str, *, create: bool = False
                   ) -> Iterator[sa.Engine]:
    """The warehouse for a first read: its schema checked (`WarehouseBehind` says how to
    upgrade; `create` builds a brand-new one), and an outage — a locked DuckDB file, a
    PostgreSQL server that refuses us — one line naming the warehouse (`WarehouseUnreachable`,
    which a task retries like an unreachable source)."""
    import sqlalchemy as sa

    import warehouse

    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        if create and warehouse.current_revision(engine) is None:
            log.info("creating the warehouse at %s", mask_url(settings.warehouse_url))
            warehouse.upgrade_engine(engine)
        warehouse.ensure_current(engine)
        yield engine
    except sa.exc.OperationalError as exc:
        raise WarehouseUnreachable(
            f"warehouse {mask_url(settings.warehouse_url)} cannot be opened to "
            f"{purpose}: {driver_reason(exc)}") from exc
    finally:
        engine.dispose()


def extract_source(settings: Settings, source: str, extract_date: date) -> SourceExtract:
    """Read one source for the night and save the typed result for the next task.

    Raises `sources.result.SourceError` when the source cannot be reached (worth a retry);
    bad data is a result (quarantined rows, a rejected extract), not an exception.
    """
    import warehouse

    with open_warehouse(settings, f"read the {source} state") as engine:
        state = warehouse.read_source_state(engine, source)

    if source == "provider":
        from sources import provider

        last = state.get("snapshot_date")
        extract = provider.extract(
            settings.landing_dir,
            extract_date,
            last_staged_snapshot=date.fromisoformat(last) if last else None,
            last_manifest_sha256=state.get("manifest_sha256"),
        )
    elif source == "las":
        from carelink.config import default_las_file, default_las_url
        from sources import las
        from sources.result import SourceExtract

        hwm = state.get("high_water_mark")
        default_file = default_las_file(settings.landing_dir)
        if settings.las_url == default_las_url(settings.landing_dir) and not hwm \
                and not default_file.exists():
            # No LAS configured and no database at the embedded default, on a warehouse that
            # has never read LAS: the source is not there (absent), not an outage to retry.
            # Once LAS has been read, a missing database is an outage again (retried).
            extract = SourceExtract(
                "las", extract_date, "absent",
                message=f"no LAS database configured and none at {default_file} "
                        "(--las-url or CARELINK_LAS_URL)")
            extract.save(extract_dir(settings, source, extract_date))
            log.info("las: %s", extract.message)
            return extract
        extract = las.extract(
            settings.las_url,
            extract_date,
            since=datetime.fromisoformat(hwm) if hwm else None,
            landing_dir=settings.landing_dir,
        )
    elif source == "gp":
        from sources import gp

        extract = gp.extract(settings.landing_dir, extract_date, seen_files=state.get("files"),
                             registers=state.get("registers"))
    else:
        raise ValueError(f"unknown source {source!r}")
    extract.save(extract_dir(settings, source, extract_date))
    for line in extract.accounting_lines():
        log.debug(line)
    if extract.message:
        log.info("%s: %s", source, extract.message)
    return extract


def load_extract(settings: Settings, source: str, extract_date: date) -> SourceExtract:
    from sources.result import SourceExtract

    return SourceExtract.load(extract_dir(settings, source, extract_date))


# --- stage ----------------------------------------------------------------------------------


def stage_source(settings: Settings, source: str, extract_date: date,
                 run_id: str) -> StageResult:
    """Write one source's validated extract to the warehouse's staging schema in one
    transaction (with its quarantine rows, ledger row and source state)."""
    import warehouse

    extract = load_extract(settings, source, extract_date)
    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        return warehouse.stage_extract(engine, extract, run_id)
    finally:
        engine.dispose()


# --- staging only (no Airflow, no linkage): `carelink stage` and the foundation demo --------


@dataclass
class StageOutcome:
    extract_date: date
    run_id: str
    extracts: dict[str, SourceExtract] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and all(
            getattr(e, "status", "") in ("extracted", "absent") for e in self.extracts.values()
        )

    def lines(self) -> list[str]:
        out = [f"night {self.extract_date} (run {self.run_id}): row accounting per file"]
        for source in SOURCES:
            extract = self.extracts.get(source)
            if source in self.errors:
                out.append(f"{source:8} FAILED: {self.errors[source]}")
            elif extract is not None:
                out.append(f"{source:8} {extract.status}: {extract.message}".rstrip(": "))
                out.extend("  " + line for line in extract.accounting_lines())
                for q in extract.quarantine[:20]:
                    where = f"row {q.row_number}" if q.row_number else "whole file"
                    out.append(f"    quarantined {q.file} {where}: {q.reason}")
                if len(extract.quarantine) > 20:
                    out.append(f"    … and {len(extract.quarantine) - 20} more (dq.quarantine)")
        return out


@dataclass(frozen=True)
class NightOrder:
    """Whether tonight's date may run: `go`, or (a night already run, with newer nights run
    since) leave the warehouse as it is, for the reason in `message`."""

    go: bool
    message: str = ""


def check_night_order(settings: Settings, extract_date: date) -> NightOrder:
    """Nights run in date order: every source's state moves forward only (LAS reads on from
    its watermark, a practice's newest file is its register, the provider's newest snapshot
    stands, person keys follow the night before), so an older night run after a newer one
    would rebuild that night's marts from the newer data.

    The newest night that ran may run again (it replaces its own results). An older night that
    ran before is left as it stands (`go` False: rerunning it changes nothing, as the
    command-line contract asks of a rerun). An older night that never ran cannot be loaded
    now: NightOutOfOrder.
    """
    import warehouse

    with open_warehouse(settings, "check the order of nights") as engine:
        nights = warehouse.nights_run(engine)
    newer = sorted(d for d in nights if d > extract_date)
    if not newer:
        return NightOrder(True)
    newest = newer[-1].isoformat()
    if extract_date in nights:
        return NightOrder(False, (
            f"{extract_date} ran before and newer nights have run since (the newest is "
            f"{newest}): rerunning it would rebuild its results from their newer data, so the "
            f"warehouse is left as it is. Rerun {newest} instead (docs/operations.md)."))
    raise NightOutOfOrder(
        f"{extract_date} never ran and {newest} already has: nights run in date order, and an "
        f"older night cannot be loaded after a newer one (docs/operations.md, 'Backfill a "
        f"range')")


def future_night_warning(extract_date: date) -> str:
    """A warning for an extract date that has not ended on this machine's clock ("" when it
    has). Not a refusal: the date is the operator's (or a test's) to choose, and data dated
    ahead of the clock is still that night's data; but a mistyped date becomes the newest
    night run, and real nights older than it are then refused as out of order."""
    today = london_today()
    if extract_date < today:
        return ""
    return (f"extract date {extract_date} has not ended yet ({today} in London): running it "
            "makes it the newest night, and older nights cannot run after it")


def require_night_in_order(settings: Settings, extract_date: date) -> None:
    """Every task that writes checks again, not only the DAG's first: linkage and reports run
    whatever happened upstream, and a task cleared on its own in the UI skips the first
    check. Nothing is read or rebuilt for a night the order check would not let run."""
    order = check_night_order(settings, extract_date)
    if not order.go:
        raise NightOutOfOrder(order.message)


def stage_night(settings: Settings, extract_date: date, run_id: str | None = None, *,
                gate: bool = True) -> StageOutcome:
    """Extract, check and stage every source for one night: the DAG's extract, validate and
    stage tasks in one process, without linkage. A source its gate blocks is recorded as
    blocked and not staged, as in the night. `gate=False` is for measurement harnesses only
    (linkage evaluation, benchmarks), which stage generated counties many times over."""
    import warehouse

    run_id = run_id or f"stage__{extract_date.isoformat()}"
    warehouse.upgrade(settings.warehouse_url)
    if ahead := future_night_warning(extract_date):
        log.warning("%s", ahead)
    require_night_in_order(settings, extract_date)
    outcome = StageOutcome(extract_date, run_id)
    for source in SOURCES:
        try:
            extract = outcome.extracts[source] = extract_recorded(
                settings, source, extract_date, run_id)
            if gate and extract.status == "extracted":
                checked = run_gate(settings, source, extract_date, run_id)
                if checked["blocked"]:
                    outcome.errors[source] = checked["message"]
                    continue
            stage_source(settings, source, extract_date, run_id)
        except (ExtractRejected, SourceError) as exc:
            outcome.errors[source] = str(exc)
    return outcome


# --- task context ---------------------------------------------------------------------------


def run_moment(context: dict) -> datetime:
    """When a run counts as having run: its logical date, or (a manual trigger in Airflow 3
    has none) the moment it was queued for."""
    return context.get("logical_date") or context["dag_run"].run_after


def london_today() -> date:
    """Today's date in the county (only to refuse extract dates that have not ended)."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/London")).date()


def extract_date_for(logical_date: datetime, override: str | None = None) -> date:
    """The extract date a run processes: the `extract_date` parameter when given, else the day
    before the run's logical date in UK local time (the 02:00 run on the 25th takes the 24th)."""
    if override:
        return date.fromisoformat(str(override))
    from zoneinfo import ZoneInfo

    local = logical_date.astimezone(ZoneInfo("Europe/London"))
    return local.date() - timedelta(days=1)


def extract_retry_delay_seconds() -> int:
    return Settings.from_env().extract_retry_delay_seconds


def task_settings() -> Settings:
    """Settings inside an Airflow task: Airflow connections `carelink_las` and
    `carelink_warehouse`, when defined, win over the CARELINK_* URLs."""
    overrides = {}
    for conn_id, field_name in (("carelink_las", "las_url"),
                                ("carelink_warehouse", "warehouse_url")):
        url = _airflow_connection_url(conn_id)
        if url:
            overrides[field_name] = url
    return Settings.from_env(**overrides)


def _airflow_connection_url(conn_id: str) -> str | None:
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - not defined (the normal local case)
        return None
    uri = conn.get_uri()
    # Airflow writes `postgresql+psycopg` connection types back as `postgresql-psycopg`.
    scheme, sep, rest = uri.partition("://")
    return scheme.replace("-", "+") + sep + rest


# --- the nightly DAG's tasks ------------------------------------------------------------------
# Each returns a small JSON-able summary (it becomes the task's XCom) and raises the
# carelink.errors exceptions the DAG maps onto retry / fail / skip.


def report_dir(settings: Settings, extract_date: date) -> Path:
    return settings.reports_dir / extract_date.isoformat()


def run_extract(settings: Settings, source: str, extract_date: date, run_id: str) -> dict:
    """Extract one source. A rejected or absent delivery is recorded (ledger, and a rejected
    one's quarantine rows) at once, because its stage task will never run: the night's
    summary then says why, as `carelink stage` does."""
    require_night_in_order(settings, extract_date)
    extract = extract_recorded(settings, source, extract_date, run_id)
    if extract.status in ("rejected", "absent"):
        _record_without_staging(settings, extract, run_id)
    return {
        "source": source,
        "status": extract.status,
        "message": extract.message,
        "rows_staged": extract.rows_staged,
        "rows_quarantined": len(extract.quarantine),
    }


def _record_without_staging(settings: Settings, extract: SourceExtract, run_id: str) -> None:
    import warehouse

    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        warehouse.stage_extract(engine, extract, run_id)  # ledger + quarantine only
    finally:
        engine.dispose()


def extract_recorded(settings: Settings, source: str, extract_date: date,
                     run_id: str) -> SourceExtract:
    """`extract_source`, and a source that could not be extracted at all (unreachable, or
    a schema change) recorded in the ledger before the error goes on: the task fails (an
    unreachable source is retried) but the ledger and the nightly report, which the morning
    reads, say what is missing and why."""
    # A rerun rewrites these; one that fails before it does must not leave an earlier run's
    # extract or Data Docs page to be reported (or staged) as tonight's.
    shutil.rmtree(extract_dir(settings, source, extract_date), ignore_errors=True)
    docs = report_dir(settings, extract_date) / "data_docs"
    (docs / f"{source}.html").unlink(missing_ok=True)
    shutil.rmtree(docs / source, ignore_errors=True)
    try:
        return extract_source(settings, source, extract_date)
    except WarehouseUnreachable:
        raise  # nowhere to record it; the task log and the alert name the warehouse
    except (ExtractRejected, SourceError) as exc:
        status = "rejected" if isinstance(exc, ExtractRejected) else "failed"
        _record_failure(settings, source, extract_date, run_id, status, str(exc))
        raise


def _record_failure(settings: Settings, source: str, extract_date: date, run_id: str,
                    status: str, message: str) -> None:
    import warehouse

    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        warehouse.record_source_failure(engine, source, extract_date, run_id, status, message)
    except Exception as exc:  # noqa: BLE001 - the source's own error is the one to raise
        log.warning("%s: could not record the failure in meta.run_ledger (%s)", source,
                    driver_reason(exc))
    finally:
        engine.dispose()


def _source_history(engine, source: str, extract_date: date) -> dict[str, list[int]]:
    """Rows per staged table on previous loaded nights (for the volume expectations); for
    GP also each practice's current register size, since a GP file replaces its practice's
    whole register (`gp_register:<ods>`)."""
    import warehouse
    from expectations.suites import PRACTICE_REGISTER

    history = warehouse.table_row_history(engine, source, before=extract_date)
    if source == "gp":
        history.update({f"{PRACTICE_REGISTER}{ods}": [n]
                        for ods, n in warehouse.gp_register_sizes(engine).items()})
    return history


def _replace_run_rows(engine: sa.Engine, qualified_table: str, frame: pd.DataFrame,
                      **key: str) -> None:
    """A task's rows in a dq table, in place of any it wrote before under the same run (the
    tables hold one set per run): Airflow retries a task after a dropped connection, and a
    task cleared in the UI runs again under its run id."""
    import warehouse

    with engine.begin() as conn:
        warehouse.replace_rows(conn, qualified_table, frame, where=key)


def run_gate(settings: Settings, source: str, extract_date: date, run_id: str) -> dict:
    """Great Expectations gate for one source's extract; results go to dq.validation_results.
    When a critical expectation fails the source is recorded as blocked and the caller stops
    its branch (the warehouse keeps the previous night's data for it)."""
    import warehouse
    from expectations.gate import validate_source

    require_night_in_order(settings, extract_date)
    extract = load_extract(settings, source, extract_date)
    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        result = validate_source(
            extract.tables, source, extract_date=extract_date, run_id=run_id,
            history=_source_history(engine, source, extract_date),
            docs_dir=report_dir(settings, extract_date) / "data_docs",
        )
        _replace_run_rows(engine, "dq.validation_results", result.results_frame(),
                          run_id=run_id, source=source)
        if result.blocked:
            message = f"{source}: critical expectations failed — " + "; ".join(
                failed_expectation_text(f, extract.tables) for f in result.critical_failures)
            warehouse.record_blocked(engine, extract, run_id, message)
            return {"blocked": True, "message": message}
    finally:
        engine.dispose()
    return {"blocked": False, "warnings": len(result.failures), "message": ""}


def failed_expectation_text(failure, tables: dict) -> str:
    """`carers.csv: volume_vs_previous_nights (observed 10; expected at least 21 rows: …)`:
    the file (or LAS view) the staged table came from, the expectation, and what was found
    against what was expected — counts and figures only, never a value from a row."""
    frame = tables.get(failure.suite)
    files = (sorted(set(frame["source_file"].dropna().astype(str)))
             if frame is not None and "source_file" in frame.columns else [])
    where = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    if failure.unexpected_count is not None:
        found = f"{failure.unexpected_count} of {failure.element_count} rows"
    elif "observed_value" in failure.details:
        found = f"observed {failure.details['observed_value']}"
    else:
        found = "failed"
    expected = f"; expected {failure.doc}" if failure.doc else ""
    return f"{where or failure.suite} ({failure.suite}): {failure.expectation} ({found}{expected})"


def run_stage(settings: Settings, source: str, extract_date: date, run_id: str) -> dict:
    require_night_in_order(settings, extract_date)
    result = stage_source(settings, source, extract_date, run_id)
    return {"source": source, "status": result.status, "rows": result.rows_written}


def run_linkage(settings: Settings, extract_date: date, run_id: str) -> dict:
    """Link everyone currently staged with the approved model, keep keys stable, resolve caring
    relationships; outputs go to the night's work folder (loaded later, in one transaction)
    and the IG linkage report is written."""
    import warehouse
    from linkage.nightly import link_night

    require_night_in_order(settings, extract_date)
    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        staged = warehouse.read_staging(engine)
        previous = warehouse.read_linkage_state(engine, extract_date)
        outcome = link_night(
            staged, previous, models_dir=settings.models_dir,
            secret=settings.person_key_secret(), run_id=run_id, extract_date=extract_date,
            out_dir=night_dir(settings, extract_date) / "linkage",
            report_dir=restricted_dir(settings, extract_date),
        )
        _replace_run_rows(engine, "dq.linkage_runs", outcome.linkage_run_frame(), run_id=run_id)
    finally:
        engine.dispose()
    return outcome.summary()


def run_cross_source_checks(settings: Settings, extract_date: date, run_id: str) -> dict:
    """Stale GP registers, Star scoring bias and linkage sanity over the linked night."""
    import warehouse
    from expectations.nightly import SOURCE as CROSS_SOURCE
    from expectations.nightly import check_night

    require_night_in_order(settings, extract_date)
    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        staged = warehouse.read_staging(engine)
        outcome = check_night(
            staged, night_dir(settings, extract_date) / "linkage",
            extract_date=extract_date, run_id=run_id,
            stale_share_threshold=settings.stale_share_threshold,
            out_dir=night_dir(settings, extract_date) / "checks",
            restricted_dir=restricted_dir(settings, extract_date),
            docs_dir=report_dir(settings, extract_date) / "data_docs",
        )
        _replace_run_rows(engine, "dq.validation_results", outcome.results_frame(),
                          run_id=run_id, source=CROSS_SOURCE)
    finally:
        engine.dispose()
    summary = dict(outcome.summary())
    critical = outcome.critical_failures
    summary["blocked"] = bool(critical)
    summary["message"] = ("cross-source checks: critical expectations failed, the load is "
                          "stopped — " + "; ".join(f"{f.suite}/{f.expectation} "
                                                  f"({f.unexpected_count} rows)"
                                                  for f in critical)) if critical else ""
    return summary


def run_load(settings: Settings, extract_date: date, run_id: str) -> dict:
    """Linkage tables, dimensions, facts and marts in one transaction."""
    import warehouse

    require_night_in_order(settings, extract_date)
    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        return warehouse.load_night(
            engine, extract_date=extract_date, run_id=run_id,
            linkage_dir=night_dir(settings, extract_date) / "linkage",
            checks_dir=night_dir(settings, extract_date) / "checks",
        )
    finally:
        engine.dispose()


def run_reports(settings: Settings, extract_date: date, run_id: str) -> dict:
    import warehouse
    from reports.nightly import ReportInputs, build_nightly_report

    require_night_in_order(settings, extract_date)
    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        path = build_nightly_report(engine, ReportInputs(
            extract_date, run_id, night_dir(settings, extract_date),
            report_dir(settings, extract_date)))
    finally:
        engine.dispose()
    return {"nightly_report": str(path), "work_folders_deleted": prune_work(settings, extract_date)}


def prune_work(settings: Settings, extract_date: date) -> int:
    """Delete the work folders of nights more than `work_keep_days` before this one.

    They hold the extracts between tasks (names, NHS numbers, dates of birth): worth keeping
    for a few nights to look into a failure, never indefinitely. The warehouse and the
    reports are the record; nothing reads an older night's work folder.
    """
    import shutil

    if not settings.work_dir.is_dir():
        return 0
    cutoff = extract_date - timedelta(days=settings.work_keep_days)
    deleted = 0
    for folder in settings.work_dir.iterdir():
        try:
            night = date.fromisoformat(folder.name)
        except ValueError:
            continue  # not a night's folder: not ours to delete
        if night < cutoff and folder.is_dir():
            shutil.rmtree(folder)
            deleted += 1
    if deleted:
        log.info("deleted %d work folders from before %s", deleted, cutoff)
    return deleted


# --- the linkage_training DAG's tasks -----------------------------------------------------


def _staged(settings: Settings):
    import warehouse

    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        warehouse.ensure_current(engine)
        return warehouse.read_staging(engine)
    finally:
        engine.dispose()


def run_training(settings: Settings, trained_on: date, run_id: str) -> dict:
    """Train a candidate model on everything staged; it stays a candidate until IG approves
    it (`carelink model approve`)."""
    from linkage.training import train_candidate

    path = train_candidate(_staged(settings), models_dir=settings.models_dir,
                           trained_on=trained_on)
    log.info("run %s trained candidate linkage model %s", run_id, path.name)
    return {"version": path.name}


def run_candidate_evaluation(settings: Settings, version: str) -> dict:
    """Score the candidate on tonight's staged records and record the figures in its file
    for IG's decision (no truth exists in production; the figures are volumes and sizes)."""
    from linkage.training import evaluate_candidate

    result = evaluate_candidate(settings.models_dir / version, _staged(settings))
    return {"version": version, **{k: v for k, v in result.items()
                                   if isinstance(v, int | float | str)}}
