"""The production-like stack: docker-compose.yml must validate and keep to the deployment
policy (Airflow 3 services, a separate warehouse database, an image built from this repo,
credentials only from the environment)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rendered() -> dict:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose (Debian package docker-compose) is not installed here; "
                    ".ci/run installs it")
    out = subprocess.run(
        [tool, "--env-file", str(ROOT / ".env.example"), "-f", str(ROOT / "docker-compose.yml"),
         "config"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


def test_airflow_3_services_and_separate_warehouse(rendered):
    services = rendered["services"]
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                 "airflow-triggerer", "airflow-init", "airflow-db", "warehouse-db"):
        assert name in services, name
    assert services["airflow-apiserver"]["command"] in ("api-server", ["api-server"])
    assert services["airflow-dag-processor"]["command"] in ("dag-processor", ["dag-processor"])


def test_image_built_from_the_repo_with_pinned_requirements(rendered):
    for name in ("airflow-scheduler", "airflow-init"):
        assert rendered["services"][name]["build"]["context"] in (str(ROOT), ".")
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile


def test_landing_volume_and_connections(rendered):
    scheduler = rendered["services"]["airflow-scheduler"]
    targets = [v["target"] if isinstance(v, dict) else v.split(":")[1]
               for v in scheduler["volumes"]]
    assert "/data/landing" in targets
    env = scheduler["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW_CONN_CARELINK_LAS"] and "warehouse-db" in env["CARELINK_WAREHOUSE_URL"]


def test_no_credentials_in_the_compose_file():
    text = (ROOT / "docker-compose.yml").read_text()
    # Every password/secret value is an ${VARIABLE} reference, never a literal.
    for match in re.finditer(r"^\s*[A-Z_]*(PASSWORD|SECRET|FERNET_KEY)[A-Z_]*:\s*(\S+)", text,
                             re.M):
        assert match.group(2).startswith("${"), match.group(0)
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_the_stack_refuses_to_start_without_its_secrets(tmp_path):
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose (Debian package docker-compose) is not installed here; "
                    ".ci/run installs it")
    empty = tmp_path / "empty.env"
    empty.write_text("")
    out = subprocess.run([tool, "--env-file", str(empty), "-f", str(ROOT / "docker-compose.yml"),
                          "config", "--quiet"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode != 0
    assert "in .env" in out.stderr
