"""Every setting carelink uses, read from the environment in one place.

Nothing else in the project reads environment variables: stages receive a `Settings`
(or the individual values) from the CLI or the DAG. Defaults give an embedded set-up under
`./data/` that needs nothing installed or started, which is what a new user's clone runs.

| variable | default | meaning |
| --- | --- | --- |
| CARELINK_DATA_DIR | ./data | root of everything the pipeline writes locally |
| CARELINK_LANDING | $CARELINK_DATA_DIR/landing | where the three sources deliver |
| CARELINK_LAS_URL | sqlite:///$CARELINK_LANDING/las/las_reporting.db | LAS reporting database |
| CARELINK_WAREHOUSE_URL | duckdb:///$CARELINK_DATA_DIR/warehouse.duckdb | the warehouse |
| CARELINK_WORK_KEEP_DAYS | 7 | nights' work folders (identifiers) kept this many days |
| CARELINK_REPORTS_DIR | $CARELINK_DATA_DIR/reports | nightly, IG and Data Docs output |
| CARELINK_MODELS_DIR | $CARELINK_DATA_DIR/models | versioned linkage models + approval pointer |
| CARELINK_PERSON_KEY_SECRET | random, kept in $CARELINK_DATA_DIR | keeps person keys opaque |
| CARELINK_STALE_SHARE_THRESHOLD | 0.25 | practice stale share above which the gate warns |
| CARELINK_ALERT_WEBHOOK | (none: alerts off) | URL that receives a JSON note when a task fails |
| CARELINK_EXTRACT_RETRY_DELAY | 120 | seconds before an unreachable source is retried (doubling) |
| CARELINK_DUCKDB_MEMORY_LIMIT | 4GB | memory bound of each linkage DuckDB (it spills beyond) |
| CARELINK_PROGRESS | (off; `carelink run` sets 1) | print each task's end on the console |
| AIRFLOW_HOME | $CARELINK_DATA_DIR/airflow | embedded Airflow (`carelink run`) |
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    value = env.get(name)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. Build with `Settings.from_env()`; override fields in tests."""

    data_dir: Path
    landing_dir: Path
    las_url: str
    warehouse_url: str
    reports_dir: Path
    models_dir: Path
    stale_share_threshold: float = 0.25
    alert_webhook: str | None = None
    extract_retry_delay_seconds: int = 120
    duckdb_memory_limit: str = "4GB"
    progress: bool = False
    work_keep_days: int = 7
    person_key_secret_value: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        data_dir = _path(env, "CARELINK_DATA_DIR", Path.cwd() / "data")
        landing = _path(env, "CARELINK_LANDING", data_dir / "landing")
        values: dict[str, object] = {
            "data_dir": data_dir,
            "landing_dir": landing,
            "las_url": env.get("CARELINK_LAS_URL") or default_las_url(landing),
            "warehouse_url": env.get("CARELINK_WAREHOUSE_URL")
            or f"duckdb:///{data_dir / 'warehouse.duckdb'}",
            "reports_dir": _path(env, "CARELINK_REPORTS_DIR", data_dir / "reports"),
            "models_dir": _path(env, "CARELINK_MODELS_DIR", data_dir / "models"),
            "stale_share_threshold": float(env.get("CARELINK_STALE_SHARE_THRESHOLD", "0.25")),
            "person_key_secret_value": env.get("CARELINK_PERSON_KEY_SECRET") or None,
            "alert_webhook": env.get("CARELINK_ALERT_WEBHOOK") or None,
            "extract_retry_delay_seconds": int(env.get("CARELINK_EXTRACT_RETRY_DELAY", "120")),
            "duckdb_memory_limit": env.get("CARELINK_DUCKDB_MEMORY_LIMIT") or "4GB",
            "progress": env.get("CARELINK_PROGRESS") == "1",
            "work_keep_days": int(env.get("CARELINK_WORK_KEEP_DAYS", "7")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if overrides.get("landing_dir") is not None and overrides.get("las_url") is None \
                and not env.get("CARELINK_LAS_URL"):
            values["las_url"] = default_las_url(Path(str(values["landing_dir"])))
        return cls(**values)  # type: ignore[arg-type]

    def as_environment(self) -> dict[str, str]:
        """These settings as CARELINK_* variables, for processes (Airflow tasks) that rebuild
        them with `from_env()`. The person-key secret is not included: it stays where it is
        (its own variable or the file under the data folder)."""
        return {
            "CARELINK_DATA_DIR": str(self.data_dir),
            "CARELINK_LANDING": str(self.landing_dir),
            "CARELINK_LAS_URL": self.las_url,
            "CARELINK_WAREHOUSE_URL": self.warehouse_url,
            "CARELINK_REPORTS_DIR": str(self.reports_dir),
            "CARELINK_MODELS_DIR": str(self.models_dir),
            "CARELINK_STALE_SHARE_THRESHOLD": str(self.stale_share_threshold),
            "CARELINK_EXTRACT_RETRY_DELAY": str(self.extract_retry_delay_seconds),
            "CARELINK_WORK_KEEP_DAYS": str(self.work_keep_days),
        }

    @property
    def airflow_home(self) -> Path:
        return self.data_dir / "airflow"

    @property
    def work_dir(self) -> Path:
        """Per-night intermediate files (extracts between tasks). They hold identifiers, so
        `pipeline.prune_work` deletes each night's after `work_keep_days`."""
        return self.data_dir / "work"

    def person_key_secret(self) -> bytes:
        """The secret behind person keys.

        Production sets CARELINK_PERSON_KEY_SECRET (an Airflow Variable or secret backend).
        A local set-up gets a random one created on first use and kept beside the data, never in
        the repository, so keys stay stable across nights on that machine.
        """
        if self.person_key_secret_value:
            if self.person_key_secret_value.lower().startswith("change-me"):
                # .env.example's placeholder is public: keys made with it are guessable.
                raise ValueError("CARELINK_PERSON_KEY_SECRET is still the .env.example "
                                 "placeholder; set it from a secret store")
            return self.person_key_secret_value.encode()
        path = self.data_dir / ".person_key_secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written owner-only (mkstemp's 0600) and put in place whole: never readable by
            # others, and never seen half-written by a task starting alongside.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".person_key_secret.")
            try:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_hex(32))
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process created it first: theirs is the secret
            finally:
                os.unlink(tmp)
        return path.read_text().strip().encode()


def mask_url(url: str) -> str:
    """A database URL safe for logs and messages: any password replaced by `***`."""
    import sqlalchemy as sa  # here, not at the top: the DAG files import this module

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparseable URL: mask crudely rather than fail
        return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)


WAREHOUSE_ROLES = ("carelink_etl", "carelink_ig", "carelink_analyst")


def role_passwords(env: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Login passwords for the warehouse roles (`CARELINK_ROLE_PASSWORD_ETL`, `_IG`,
    `_ANALYST`), from a secret store through the environment; a role without one gets no
    login."""
    env = os.environ if env is None else env
    return {role: env.get(f"CARELINK_ROLE_PASSWORD_{role.split('_')[1].upper()}") or None
            for role in WAREHOUSE_ROLES}


def default_las_file(landing_dir: Path) -> Path:
    """Where the landing area holds the LAS reporting database when none is configured."""
    return landing_dir / "las" / "las_reporting.db"


def default_las_url(landing_dir: Path) -> str:
    return f"sqlite:///{default_las_file(landing_dir)}"
