"""The short summary `carelink run` prints at the end of a night: what each source did, how
many people were linked, what was flagged, and where the reports are.

Read back from the warehouse's run ledger and dq tables (what the night actually recorded),
not from the tasks' return values, so that it is also right for a night whose tasks ran in
separate processes.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from carelink.config import Settings

if TYPE_CHECKING:
    from carelink.airflow_runner import NightResult


def report_paths(settings: Settings, extract_date: date) -> dict[str, str]:
    base = settings.reports_dir / extract_date.isoformat()
    return {
        "nightly report": str(base / "nightly.html"),
        "IG linkage report": str(base / "restricted" / "linkage_report.html"),
        "Data Docs": str(base / "data_docs"),
        "GP reconciliation lists": str(base / "restricted" / "reconciliation"),
    }


def collect_night_summary(settings: Settings, extract_date: date, run_id: str) -> dict[str, Any]:
    import warehouse

    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        ledger = warehouse.query_frame(
            engine,
            "select source, status, rows_staged, rows_quarantined, message "
            "from meta.run_ledger where run_id = :run_id order by source",
            {"run_id": run_id},
        )
        linkage = warehouse.query_frame(
            engine,
            "select records_in, persons_out, pairs_linked, keys_new, keys_retired "
            "from dq.linkage_runs where run_id = :run_id",
            {"run_id": run_id},
        )
        loaded_on, loaded_by = warehouse.marts_loaded_by(engine)
        stale = warehouse.query_frame(
            engine,
            "select coalesce(sum(stale_entries), 0) as stale, coalesce(sum(entries), 0) as entries"
            " from marts.gp_register_practice_summary",
        )
        flagged = warehouse.query_frame(
            engine,
            "select practitioner_ref from marts.star_bias_practitioner where flagged"
            " order by practitioner_ref",
        )
        failures = warehouse.query_frame(
            engine,
            "select source, suite, expectation from dq.validation_results"
            " where run_id = :run_id and severity = 'critical' and not success",
            {"run_id": run_id},
        )
    finally:
        engine.dispose()
    return {
        "sources": ledger.to_dict("records"),
        "linkage": linkage.to_dict("records")[0] if len(linkage) else None,
        "stale_entries": int(stale["stale"].iloc[0]) if len(stale) else 0,
        "register_entries": int(stale["entries"].iloc[0]) if len(stale) else 0,
        "flagged_practitioners": flagged["practitioner_ref"].tolist(),
        # The night the marts (stale entries, flags) hold, when it is not this run's.
        "marts_from": None if loaded_by == run_id else str(loaded_on or "no night"),
        "critical_failures": failures.to_dict("records"),
        "reports": report_paths(settings, extract_date),
    }


def _unrecorded_source(result: NightResult, source: str) -> str:
    """A source the ledger has nothing on: the first of its tasks that did not succeed and
    why, so a night that staged nothing never reads as the extract's "success"."""
    for task in (f"extract_{source}", f"validate_{source}", f"stage_{source}"):
        state = result.task_states.get(task, "not run")
        if state != "success":
            reason = result.failure_reasons.get(task)
            return f"not staged — {task} {state}" + (f": {reason}" if reason else "")
    return "not recorded"


def night_summary_lines(result: NightResult) -> list[str]:
    from carelink.airflow_runner import FAILED_STATES, ORDER_TASK

    s = result.summary
    out = [f"carelink run {result.extract_date} ({result.run_id}) in {result.seconds:.0f} s"]
    if result.superseded:
        return [*out, f"  nothing run: {result.superseded}", f"  exit status {result.exit_code}"]
    if result.task_states.get(ORDER_TASK) in FAILED_STATES:
        reason = result.failure_reasons.get(ORDER_TASK) or "see the task log"
        return [*out, f"  refused, nothing run: {reason}", f"  exit status {result.exit_code}"]
    by_source = {row["source"]: row for row in s.get("sources", [])}
    for source in ("provider", "las", "gp"):
        row = by_source.get(source)
        if row is None:
            out.append(f"  {source:8} {_unrecorded_source(result, source)}")
            continue
        out.append(
            f"  {source:8} {row['status']:8} staged {row['rows_staged'] or 0:>7}"
            f"  quarantined {row['rows_quarantined'] or 0:>5}"
            + (f"  — {row['message']}" if row.get("message") else "")
        )
    for f in s.get("critical_failures", []):
        out.append(f"  BLOCKED {f['source']}: {f['suite']} / {f['expectation']}")
    link = s.get("linkage")
    if link:
        out.append(
            f"  linkage: {link['records_in']} records → {link['persons_out']} persons"
            f" ({link['keys_new']} new keys, {link['keys_retired']} retired)"
        )
    if s.get("marts_from"):
        out.append(f"  warehouse not loaded by this run: its marts still hold {s['marts_from']}")
    else:
        out.append(f"  GP registers: {s.get('stale_entries', 0)} stale of"
                   f" {s.get('register_entries', 0)} entries")
        flagged = s.get("flagged_practitioners") or []
        out.append(f"  Carers Star: {len(flagged)} practitioner(s) flagged"
                   + (f" ({', '.join(flagged)})" if flagged else ""))
    if result.failed_tasks:
        failed = [t for t in result.failed_tasks if result.task_states[t] == "failed"]
        waiting = [t for t in result.failed_tasks if t not in failed]
        out.append(f"  FAILED tasks: {', '.join(failed)}")
        if waiting:
            out.append(f"  not run because of them: {', '.join(waiting)}")
        # reasons already on a source's line: an unrecorded source's, or a blocked gate's
        shown = {f"{step}_{source}" for source in ("provider", "las", "gp")
                 if source not in by_source for step in ("extract", "validate", "stage")}
        shown |= {f"validate_{source}" for source, row in by_source.items()
                  if row["status"] == "blocked"}
        for task, reason in sorted(result.failure_reasons.items()):
            if task not in shown:
                out.append(f"    {task}: {reason}")
    for name, path in s.get("reports", {}).items():
        out.append(f"  {name}: {path}")
    out.append("  exit status " + str(result.exit_code))
    return out
