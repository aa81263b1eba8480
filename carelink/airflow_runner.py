"""`carelink run`: one night through the production DAG, in-process, via Airflow's own runner.

Uses `dag.test()` on an embedded Airflow metadata database (SQLite under the data folder,
created on first use) unless AIRFLOW__DATABASE__SQL_ALCHEMY_CONN points elsewhere. The DAG's
tasks read their settings from the environment, so the CLI's flags are passed by setting the
CARELINK_* variables for this process before Airflow is imported.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from carelink.config import PROJECT_ROOT, Settings
from carelink.errors import BadDataError, NightOutOfOrder, RunInProgress, SourceError

log = logging.getLogger(__name__)

DAG_ID = "carers_nightly"
TRAINING_DAG_ID = "linkage_training"
DAGS_FOLDER = PROJECT_ROOT / "dags"
LONDON = ZoneInfo("Europe/London")
FAILED_STATES = {"failed", "upstream_failed"}
ORDER_TASK = "check_night_order"  # the nightly's first task: nights run in date order


@dataclass
class NightResult:
    extract_date: date
    run_id: str
    task_states: dict[str, str]
    summary: dict = field(default_factory=dict)
    seconds: float = 0.0
    failure_reasons: dict[str, str] = field(default_factory=dict)  # task id → reason
    superseded: str = ""  # why an older night was left as it stands (nothing ran)

    @property
    def failed_tasks(self) -> list[str]:
        return sorted(t for t, s in self.task_states.items() if s in FAILED_STATES)

    @property
    def exit_code(self) -> int:
        """0 when every source loaded or was legitimately absent and the night completed."""
        return 1 if self.failed_tasks or not self.task_states else 0

    def lines(self) -> list[str]:
        from carelink.summary import night_summary_lines

        return night_summary_lines(self)


def prepare_airflow_environment(settings: Settings) -> None:
    """Point Airflow at the project's DAGs and an embedded metadata DB (if none configured),
    and pass the CLI's choices to the tasks through CARELINK_* variables."""
    home = Path(os.environ.setdefault("AIRFLOW_HOME", str(settings.airflow_home)))
    home.mkdir(parents=True, exist_ok=True)
    embedded = f"sqlite:///{home / 'airflow.db'}"
    if os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", embedded) != embedded:
        # dag.test replaces a run of the same logical date there: on a scheduler's
        # database that is the scheduler's own record of the night (docs/operations.md)
        log.warning("using the Airflow metadata database AIRFLOW__DATABASE__SQL_ALCHEMY_CONN "
                    "names: a run of the same night recorded there is replaced; on a "
                    "scheduler host rerun with `airflow dags trigger` instead")
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_FOLDER))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    os.environ.update(settings.as_environment())
    os.environ["CARELINK_PROGRESS"] = "1"  # task-by-task lines on the console


def ensure_metadata_db(settings: Settings) -> None:
    marker = Path(os.environ["AIRFLOW_HOME"]) / ".carelink-db-migrated"
    if marker.exists():
        return
    log.info("creating the embedded Airflow metadata database (first run only)")
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        capture_output=True, text=True, env=os.environ.copy(),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{proc.stderr[-2000:]}")
    marker.write_text("ok\n")


def logical_date_for(extract_date: date) -> datetime:
    """The scheduled run that processes an extract date fires at 02:00 London the day after."""
    return datetime.combine(extract_date + timedelta(days=1), dtime(2, 0), tzinfo=LONDON)


def ensure_warehouse(settings: Settings) -> None:
    """Create a brand-new warehouse on first use; refuse one whose schema is behind (an
    upgrade is a deliberate act: `carelink warehouse upgrade`) or that cannot be opened,
    before any task starts."""
    from carelink.pipeline import open_warehouse

    with open_warehouse(settings, "start the night", create=True):
        pass


def run_dag(settings: Settings, dag_id: str, logical_date: datetime,
            conf: dict | None = None) -> tuple[str, dict[str, str]]:
    """Run one DAG once through Airflow's own runner; returns the run id and task states.

    The one place carelink drives Airflow, so the nightly and training DAGs run exactly as
    the scheduler would run them (same task code, retries, trigger rules)."""
    from carelink.notify import forget_failures, held_signals

    prepare_airflow_environment(settings)
    ensure_metadata_db(settings)
    forget_failures()
    # Airflow's in-process API client imports starlette's test client, which warns about its
    # own dependency: nothing a carelink user can act on, printed before every night.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

    from airflow.dag_processing.dagbag import DagBag

    # The folder Airflow itself was told to use: a non-editable install (the Docker image)
    # has no dags/ beside the package, and the image points Airflow at its copy.
    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    bag = DagBag(dag_folder=str(folder))
    if bag.import_errors:
        raise RuntimeError(f"DAG folder has import errors: {bag.import_errors}")
    if dag_id not in bag.dags:
        raise RuntimeError(f"no DAG {dag_id!r} in {folder} (AIRFLOW__CORE__DAGS_FOLDER)")
    # dag.test() warns once a second while a task waits for its retry; the progress lines
    # already say "retrying" and why
    logging.getLogger("airflow.sdk.definitions.dag").setLevel(logging.ERROR)
    _quiet_expected_failures()
    with held_signals():
        dag_run = bag.dags[dag_id].test(logical_date=logical_date, run_conf=conf or {})
    states = {ti.task_id: str(getattr(ti.state, "value", ti.state) or "none")
              for ti in dag_run.get_task_instances()}
    return dag_run.run_id, states


# Failures whose message is the whole story (bad data, a source away, nights out of order):
# their progress line already gives the reason, and a screen of Airflow frames would bury it.
# Anything else (a bug) keeps its traceback.
EXPECTED_FAILURES = (BadDataError, SourceError, NightOutOfOrder)


def _drop_expected_tracebacks(logger: object, method_name: str, event: dict) -> dict:
    """structlog processor: drop Airflow's "task failed" record when the exception is one of
    carelink's own expected failures."""
    import structlog

    exc_info = event.get("exc_info")
    if exc_info is True:
        exc_info = sys.exc_info()
    error = exc_info[1] if isinstance(exc_info, tuple) else exc_info
    if isinstance(error, EXPECTED_FAILURES):
        raise structlog.DropEvent
    return event


def _quiet_expected_failures() -> None:
    """Put `_drop_expected_tracebacks` first in Airflow's logging chain (once per process)."""
    import structlog

    processors = list(structlog.get_config()["processors"])
    if _drop_expected_tracebacks not in processors:
        structlog.configure(processors=[_drop_expected_tracebacks, *processors])


@contextmanager
def one_run_at_a_time(settings: Settings) -> Iterator[None]:
    """Hold the data folder's run lock for a night or a training run (`RunInProgress` when
    another process holds it). The lock is the operating system's and goes with the process,
    so a run that was killed leaves nothing to clear by hand."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / ".carelink-run.lock"
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunInProgress(
                f"another carelink run or model train ({holder}) is using {settings.data_dir};"
                " wait for it to finish, then run again") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_night(settings: Settings, extract_date: date) -> NightResult:
    with one_run_at_a_time(settings):
        return _run_night(settings, extract_date)


def _run_night(settings: Settings, extract_date: date) -> NightResult:
    ensure_warehouse(settings)
    started = time.monotonic()
    run_id, states = run_dag(settings, DAG_ID, logical_date_for(extract_date),
                             {"extract_date": extract_date.isoformat()})
    from carelink.notify import failure_reasons

    result = NightResult(extract_date, run_id, states, seconds=time.monotonic() - started,
                         failure_reasons={t: r for t, r in failure_reasons().items()
                                          if states.get(t) in FAILED_STATES})
    if states.get(ORDER_TASK) == "success" and all(
            state == "skipped" for task, state in states.items() if task != ORDER_TASK):
        from carelink.pipeline import check_night_order

        result.superseded = check_night_order(settings, extract_date).message
        return result
    if states.get(ORDER_TASK) in FAILED_STATES:
        return result  # refused before anything ran: the warehouse says nothing about it
    from carelink.summary import collect_night_summary

    result.summary = collect_night_summary(settings, extract_date, run_id)
    return result


def run_training(settings: Settings, on: date) -> tuple[str, dict[str, str]]:
    """The `linkage_training` DAG for one date (its weekly slot, 05:00 London): a candidate
    model trained on what is staged, evaluated, and left for IG to approve."""
    with one_run_at_a_time(settings):
        ensure_warehouse(settings)
        return run_dag(settings, TRAINING_DAG_ID,
                       datetime.combine(on, dtime(5, 0), tzinfo=LONDON))
