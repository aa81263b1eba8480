"""Failure notification for DAG tasks: off unless CARELINK_ALERT_WEBHOOK is set.

The message names the DAG, task, run and exception type only — exception texts are written to
say file, row and reason, but an alert leaves the organisation, so it carries even less.
"""

from __future__ import annotations

import json
import logging
import urllib.request
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


def on_task_failure(context: dict[str, Any]) -> None:
    """Airflow on_failure_callback. Never raises: a broken alert must not hide the failure."""
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
        log.warning("failure alert to the configured webhook did not go through: %s", exc)
