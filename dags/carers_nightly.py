"""
# carers_nightly

Every night at 02:00 (Europe/London) carelink takes the previous day's extracts from the three
sources, checks them, links people across them, flags stale GP registers and Carers Star
scoring bias, and loads the warehouse. The night's **extract date** is the day before the run
(the provider's export that ran at 01:00 on the 25th is the 24th's extract); a manual run or
backfill may set it with the `extract_date` parameter.

## Tasks

- `check_night_order`: nights run in date order. Rerunning the newest night is normal; an
  older night that ran before skips every task (its results stand, nothing is rebuilt from
  newer data); an older night that never ran fails (`NightOutOfOrder`).
- `extract_<source>` reads the provider snapshot folder, the LAS reporting database
  (incrementally) or the new GP register files; types rows, quarantines bad ones and accounts
  for every row. Retried with backoff when the source is unreachable; a rejected delivery (bad
  manifest or checksum, missing column) fails at once and only that source's branch stops.
- `validate_<source>` is the Great Expectations gate: results to `dq.validation_results`,
  Data Docs to the night's report folder. A critical failure blocks that source (the
  warehouse keeps its previous data) and is never retried; warnings load. A dropped warehouse
  connection is retried once.
- `stage_<source>` writes the extract to `staging.*` in one transaction with its quarantine
  rows and run-ledger entry.
- `link_persons` runs Splink with the approved model over everyone staged, keeps person keys
  stable, resolves caring relationships and writes the IG linkage report. It runs whatever
  happened to each source (trigger rule all_done).
- `cross_source_checks` finds stale GP register entries, Star scoring bias and linkage
  anomalies; a critical linkage-sanity failure stops the load.
- `load_warehouse` loads dimensions, facts and marts in one transaction.
- `write_reports` writes the nightly HTML report.

A source with nothing new tonight (no provider folder, no new GP files) is **skipped**, which is
not a failure.

## Rerun a night

    carelink run --date 2026-11-24            # same code path, in-process
    airflow dags trigger carers_nightly -c '{"extract_date": "2026-11-24"}'

Rerunning the newest night leaves the warehouse as one run would. Backfill extract dates
2026-11-01 .. 2026-11-07 (the runs at 02:00 on the 2nd .. 8th; `--to-date` is midnight):
`airflow backfill create --dag-id carers_nightly --from-date 2026-11-02 --to-date 2026-11-09`.
See docs/operations.md for reading a failed run.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pendulum
from airflow.sdk import (
    Asset,
    ExceptionRetryPolicy,
    Param,
    RetryAction,
    RetryRule,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowSkipException

from carelink import pipeline
from carelink.errors import ExtractRejected, GateBlocked
from carelink.notify import TASK_CALLBACKS

SOURCES = pipeline.SOURCES  # one list of sources: the DAG, the CLI and `carelink stage` agree
STAGED_ASSETS = {s: Asset(f"carelink://warehouse/staging/{s}") for s in SOURCES}
WAREHOUSE_ASSET = Asset("carelink://warehouse/marts")
log = logging.getLogger(__name__)


def _retry_only_on(exception: str, reason: str) -> ExceptionRetryPolicy:
    """Retry this exception (a transient one); fail at once on anything else, since retrying
    bad data or a bug would only repeat the answer and delay the alert."""
    return ExceptionRetryPolicy(
        rules=[RetryRule(exception=exception, action=RetryAction.RETRY, reason=reason)],
        default=RetryAction.FAIL,
    )


# Unreachable sources are retried with backoff; other tasks retry on a dropped connection.
EXTRACT_RETRY_POLICY = _retry_only_on("carelink.errors.SourceError",
                                      "source unreachable; retrying with backoff")
TRANSIENT_RETRY_POLICY = _retry_only_on("sqlalchemy.exc.OperationalError",
                                        "database connection problem; retrying")

default_args = {
    "owner": "carelink-data-engineering",
    "retries": 1,
    "retry_delay": timedelta(minutes=2),
    "retry_policy": TRANSIENT_RETRY_POLICY,
    "execution_timeout": timedelta(minutes=30),
    **TASK_CALLBACKS,
}


def _night() -> tuple[object, object, str]:
    """(settings, extract date, run id) for the running task."""
    ctx = get_current_context()
    extract_date = pipeline.extract_date_for(pipeline.run_moment(ctx),
                                            ctx["params"].get("extract_date"))
    return pipeline.task_settings(), extract_date, ctx["run_id"]


@dag(
    dag_id="carers_nightly",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),  # 02:00 is London's
    catchup=False,
    max_active_runs=1,
    tags=["carelink", "nightly", "linkage", "quality"],
    default_args=default_args,
    doc_md=__doc__,
    params={
        "extract_date": Param(
            None, type=["null", "string"], format="date",
            description="Extract date to process (default: the day before the run)",
        )
    },
)
def carers_nightly() -> None:
    @task.short_circuit(ignore_downstream_trigger_rules=True, retries=3,
                        retry_exponential_backoff=2.0, max_retry_delay=timedelta(minutes=30),
                        retry_delay=timedelta(seconds=pipeline.extract_retry_delay_seconds()),
                        retry_policy=EXTRACT_RETRY_POLICY)
    def check_night_order() -> bool:
        """Nights run in date order: an older night that ran before skips every task (its
        results stand); one that never ran fails here and in the tasks that run anyway."""
        settings, extract_date, _ = _night()
        if ahead := pipeline.future_night_warning(extract_date):
            log.warning("%s", ahead)
        order = pipeline.check_night_order(settings, extract_date)
        if not order.go:
            log.warning("%s", order.message)
        return order.go

    in_order = check_night_order()
    staged = []
    for source in SOURCES:

        @task(
            task_id=f"extract_{source}",
            retries=3,
            retry_exponential_backoff=2.0,
            max_retry_delay=timedelta(minutes=30),
            retry_delay=timedelta(seconds=pipeline.extract_retry_delay_seconds()),
            retry_policy=EXTRACT_RETRY_POLICY,
            execution_timeout=timedelta(minutes=45),
            doc_md=f"Extract the {source} source for the night (see the DAG docs).",
        )
        def extract(source: str = source) -> dict:
            settings, extract_date, run_id = _night()
            summary = pipeline.run_extract(settings, source, extract_date, run_id)
            if summary["status"] == "absent":
                raise AirflowSkipException(summary["message"] or f"no new {source} extract")
            if summary["status"] == "rejected":
                raise ExtractRejected(source, summary["message"])
            return summary

        # The DAG's default retry: a dropped warehouse connection is tried again, while a
        # blocked gate (GateBlocked) fails at once under the same policy.
        @task(task_id=f"validate_{source}",
              doc_md=f"Great Expectations gate for the {source} extract.")
        def validate(extract_summary: dict, source: str = source) -> dict:
            settings, extract_date, run_id = _night()
            gate = pipeline.run_gate(settings, source, extract_date, run_id)
            if gate["blocked"]:
                raise GateBlocked(source, gate["message"].removeprefix(f"{source}: "))
            return gate

        @task(task_id=f"stage_{source}", outlets=[STAGED_ASSETS[source]],
              doc_md=f"Write the {source} extract to staging in one transaction.")
        def stage(gate_summary: dict, source: str = source) -> dict:
            settings, extract_date, run_id = _night()
            return pipeline.run_stage(settings, source, extract_date, run_id)

        extracted = extract()
        in_order >> extracted
        staged.append(stage(validate(extracted)))

    @task(trigger_rule="all_done", execution_timeout=timedelta(hours=1))
    def link_persons() -> dict:
        """Link everyone staged (whatever happened to each source tonight)."""
        settings, extract_date, run_id = _night()
        return pipeline.run_linkage(settings, extract_date, run_id)

    @task
    def cross_source_checks() -> dict:
        settings, extract_date, run_id = _night()
        checks = pipeline.run_cross_source_checks(settings, extract_date, run_id)
        if checks["blocked"]:
            raise GateBlocked("cross-source checks",
                              checks["message"].removeprefix("cross-source checks: "))
        return checks

    @task(outlets=[WAREHOUSE_ASSET])
    def load_warehouse() -> dict:
        settings, extract_date, run_id = _night()
        return pipeline.run_load(settings, extract_date, run_id)

    @task(trigger_rule="all_done")
    def write_reports() -> dict:
        settings, extract_date, run_id = _night()
        return pipeline.run_reports(settings, extract_date, run_id)

    # Ordering only: each task reads what it needs from the warehouse and the night's work
    # folder, so a skipped or failed source never leaves a downstream task without input.
    linked = link_persons()
    staged >> linked
    linked >> cross_source_checks() >> load_warehouse() >> write_reports()


carers_nightly()
