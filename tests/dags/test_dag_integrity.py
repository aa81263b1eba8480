"""DAG integrity and policy (after the Astronomer project template): every DAG file imports
without errors or secrets, meets the team's policy, and stays light to parse."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
HEAVY = ("pandas", "great_expectations", "splink", "duckdb", "sqlalchemy", "pyarrow", "numpy",
         "matplotlib")


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow_home")
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_expected_dags(dagbag):
    assert {"carers_nightly", "linkage_training"} <= set(dagbag.dag_ids)


@pytest.mark.parametrize("dag_id", ["carers_nightly", "linkage_training"])
def test_policy(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.tags, "every DAG has tags"
    assert dag.doc_md and len(dag.doc_md) > 200, "doc_md tells on-call what the DAG does"
    assert not dag.catchup
    for t in dag.tasks:
        assert t.owner and t.owner != "airflow", f"{t.task_id} has an owner"
        assert t.retries >= (2 if t.task_id.startswith("extract_") else 1), f"{t.task_id} retries"
        assert t.execution_timeout is not None, f"{t.task_id} has an execution_timeout"


def test_nightly_shape(dagbag):
    from sqlalchemy.exc import OperationalError

    from carelink.errors import GateBlocked

    dag = dagbag.dags["carers_nightly"]
    ids = set(dag.task_ids)
    for source in ("provider", "las", "gp"):
        assert {f"extract_{source}", f"validate_{source}", f"stage_{source}"} <= ids
        extract = dag.get_task(f"extract_{source}")
        assert extract.retries >= 3 and extract.retry_exponential_backoff
        assert extract.retry_policy is not None
        # bad data is not retried, a dropped warehouse connection is
        gate = dag.get_task(f"validate_{source}")
        assert gate.retries >= 1
        blocked = gate.retry_policy.evaluate(GateBlocked(source, "volume"), 1, 2)
        assert str(blocked.action).lower().endswith("fail"), blocked
        dropped = gate.retry_policy.evaluate(OperationalError("select", {}, Exception()), 1, 2)
        assert str(dropped.action).lower().endswith("retry"), dropped
    assert dag.get_task("link_persons").trigger_rule == "all_done"
    order = dag.get_task("check_night_order")  # nights in date order, before anything reads
    assert order.ignore_downstream_trigger_rules
    assert {f"extract_{s}" for s in ("provider", "las", "gp")} == order.downstream_task_ids
    # The cron's 02:00 is read in the DAG's zone: in UTC it would run at 03:00 all summer.
    assert str(dag.timezone) == "Europe/London"


def test_schedule_is_02_00_london():
    from datetime import date

    from carelink.airflow_runner import logical_date_for

    assert logical_date_for(date(2026, 11, 24)).isoformat() == "2026-11-25T02:00:00+00:00"
    assert logical_date_for(date(2026, 6, 30)).isoformat() == "2026-07-01T02:00:00+01:00"


@pytest.mark.parametrize("path", sorted(DAGS.glob("*.py")), ids=lambda p: p.name)
def test_no_heavy_imports_at_top_level(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in HEAVY, f"{path.name} imports {name} at top level"


def test_dag_folder_parses_quickly_without_heavy_modules(tmp_path):
    code = (
        "import sys, time; t = time.time();"
        "from airflow.dag_processing.dagbag import DagBag;"
        f"b = DagBag(dag_folder={str(DAGS)!r}); t2 = time.time();"
        "import json; print(json.dumps({'errors': len(b.import_errors),"
        " 'heavy': [m for m in ('pandas', 'great_expectations', 'splink') if m in sys.modules],"
        " 'parse_s': t2 - t}))"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    import json

    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["errors"] == 0
    assert report["heavy"] == [], f"parsing the DAG folder imported {report['heavy']}"
    assert report["parse_s"] < 10
