"""Task callbacks: failure notification (off unless CARELINK_ALERT_WEBHOOK is set) and the
task-by-task progress lines `carelink run` prints (CARELINK_PROGRESS=1; under a scheduler the
UI shows progress, so they are silent there), and the handler that lets Ctrl-C or a TERM stop
`carelink run` (`held_signals`).

The alert names the DAG, task, run and exception type only — exception texts are written to
say file, row and reason, but an alert leaves the organisation, so it carries even less.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from carelink.config import Settings

log = logging.getLogger(__name__)


def alert_payload(context: dict[str, Any]) -> dict[str, str]:
    ti = context.get("task_instance") or context.get("ti")
    exc = context.get("exception")
    return {
        "dag_id": str(getattr(ti, "dag_id", "")),
        "task_id": str(getattr(ti, "task_id", "")),
        "run_id": str(context.get("run_id", "")),
        "error": type(exc).__name__ if exc is not None else "",
        "text": "carelink task failed: see the task log and docs/operations.md",
    }


# Why each task of this process's DAG runs failed (task id → "Type: first line"), for the
# summary `carelink run` prints at the end; runs under a scheduler keep it in the task log.
_FAILURES: dict[str, str] = {}


def failure_reason(exc: BaseException | None) -> str:
    """`SourceError: LAS database sqlite:///…: view person lacks column(s) ethnicity`.

    carelink's own exceptions are written to name the file, row and reason and never a
    name or number from a record, so their first line is printed (cut at 300 characters), as
    is an operating-system error's own text and path. Any other exception is a bug whose text
    may quote data: its type only.
    """
    from carelink.errors import BadDataError, NightOutOfOrder, SourceError

    if exc is None:
        return ""
    if isinstance(exc, OSError) and exc.strerror:
        # The operating system's words and the path: what on-call needs (a full disk, a
        # folder not writable), and never row content.
        where = f": {exc.filename}" if exc.filename else ""
        return f"{type(exc).__name__}: {exc.strerror}{where}"
    if not isinstance(exc, SourceError | BadDataError | NightOutOfOrder):
        return type(exc).__name__
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def failure_reasons() -> dict[str, str]:
    """Task id → reason for every task that failed since `forget_failures`."""
    return dict(_FAILURES)


def forget_failures() -> None:
    """Called before each DAG run, so a run reports only its own failures."""
    _FAILURES.clear()


def progress_line(context: dict[str, Any], state: str) -> str:
    """`  extract_provider            success    3.2 s` (plus the error type on failure)."""
    ti = context.get("task_instance") or context.get("ti")
    task_id = str(getattr(ti, "task_id", "?"))
    started = getattr(ti, "start_date", None)
    took = ""
    if isinstance(started, datetime):
        took = f"{(datetime.now(UTC) - started).total_seconds():7.1f} s"
    exc = context.get("exception")
    why = f"  ({failure_reason(exc)})" if exc is not None and state != "success" else ""
    return f"  {task_id:<28} {state:<10}{took}{why}"


# The process `carelink run` drives Airflow from (set by `held_signals`): only there may a
# signal end the process. Never in a scheduler's worker, whatever its environment says.
_STOP_PID: int | None = None


def _stop_now(signum: int, _frame: object) -> None:
    if os.getpid() != _STOP_PID:
        return
    sys.stderr.write(f"\ncarelink: stopped by {signal.Signals(signum).name}; nothing unfinished "
                     "was committed (every load is one transaction): rerun the night\n")
    sys.stderr.flush()
    os._exit(128 + signum)


def _stop_on_signals() -> None:
    if _STOP_PID == os.getpid():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _stop_now)


@contextmanager
def held_signals() -> Iterator[None]:
    """While `carelink run` drives a DAG in this process: Ctrl-C or a TERM stops it at once.

    Airflow's task runner sets its own TERM handler as each task starts and leaves it behind
    (in a worker it only tells the task to stop), so a night running a task, or waiting to
    retry a source, would otherwise ignore a TERM. The handler is put back as each task
    starts and ends; on leaving, the previous handlers return.
    """
    global _STOP_PID
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    _STOP_PID = os.getpid()
    try:
        _stop_on_signals()
        yield
    finally:
        _STOP_PID = None
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _progress(context: dict[str, Any], state: str) -> None:
    try:
        _stop_on_signals()
    except Exception:  # noqa: BLE001 - must never fail a task
        pass
    if not Settings.from_env().progress:
        return
    try:
        sys.stderr.write(progress_line(context, state) + "\n")
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - progress must never fail a task
        pass


def on_task_start(context: dict[str, Any]) -> None:
    """Airflow on_execute_callback: runs after the task runner set its TERM handler."""
    try:
        _stop_on_signals()
    except Exception:  # noqa: BLE001 - must never fail a task
        pass


def on_task_success(context: dict[str, Any]) -> None:
    _progress(context, "success")


def on_task_skipped(context: dict[str, Any]) -> None:
    _progress(context, "skipped")


def on_task_retry(context: dict[str, Any]) -> None:
    _progress(context, "retrying")


def on_task_failure(context: dict[str, Any]) -> None:
    """Airflow on_failure_callback. Never raises: a broken alert must not hide the failure."""
    _progress(context, "failed")
    try:
        ti = context.get("task_instance") or context.get("ti")
        if context.get("exception") is not None:
            _FAILURES[str(getattr(ti, "task_id", "?"))] = failure_reason(context["exception"])
    except Exception:  # noqa: BLE001 - bookkeeping must never fail a task
        pass
    url = Settings.from_env().alert_webhook
    if not url:
        return
    payload = alert_payload(context)
    try:
        request = urllib.request.Request(
            url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
        )
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - configured URL
    except Exception as exc:  # noqa: BLE001
        # Its type (and an HTTP status) only: urllib's texts quote the URL, which is a secret.
        status = getattr(exc, "code", None)
        log.warning("failure alert to the configured webhook did not go through: %s%s",
                    type(exc).__name__, f" (HTTP {status})" if isinstance(status, int) else "")


# Every carelink DAG's tasks report through these (default_args: **TASK_CALLBACKS).
TASK_CALLBACKS = {
    "on_execute_callback": on_task_start,
    "on_failure_callback": on_task_failure,
    "on_success_callback": on_task_success,
    "on_skipped_callback": on_task_skipped,
    "on_retry_callback": on_task_retry,
}
