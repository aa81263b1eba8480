"""`make demo` / `carelink demo`: a synthetic county, three consecutive nights through the real
nightly DAG, and where to look afterwards.

Safe to run again: the county is regenerated identically from its seed, and rerunning the
nights leaves the warehouse as one run would (person keys included).
"""

from __future__ import annotations

import logging
import shutil
from datetime import date, timedelta
from pathlib import Path

from carelink.config import Settings

log = logging.getLogger(__name__)

FIRST_NIGHT = date(2026, 11, 22)
NIGHTS = 3
SEED = 20261122


def run_demo(data_dir: Path | None = None, *, carers: int = 3000,
             full_pipeline: bool = True) -> int:
    """Every night through the real Airflow DAG (gate, linkage, checks, load, reports);
    `full_pipeline=False` stops after staging (no Airflow)."""
    from carelink.airflow_runner import run_night
    from carelink.pipeline import stage_night
    from synthetic import generate_county

    settings = Settings.from_env()
    if data_dir is not None:
        settings = Settings.from_env({"CARELINK_DATA_DIR": str(data_dir.resolve())})
    county = settings.data_dir / "county"
    settings = Settings.from_env(
        {"CARELINK_DATA_DIR": str(settings.data_dir)}, landing_dir=county / "landing",
    )
    if county.exists():
        shutil.rmtree(county)  # regenerated identically from the seed
    print(f"generating a synthetic county of {carers} carers in {county} …", flush=True)
    summary = generate_county(county, carers=carers, seed=SEED, first_night=FIRST_NIGHT,
                              nights=NIGHTS)
    for line in summary.lines():
        print("  " + line)

    exit_code = 0
    for offset in range(NIGHTS):
        night = FIRST_NIGHT + timedelta(days=offset)
        if full_pipeline:
            print(f"\n=== night {night}: carelink run --landing {settings.landing_dir} "
                  f"--date {night}", flush=True)
            result = run_night(settings, night)
            lines, code = result.lines(), result.exit_code
        else:
            print(f"\n=== night {night}: carelink stage --landing {settings.landing_dir} "
                  f"--date {night}", flush=True)
            outcome = stage_night(settings, night)
            lines, code = outcome.lines(), 0 if outcome.ok else 1
        for line in lines:
            print(line)
        exit_code = max(exit_code, code)

    print("\nOutputs")
    print(f"  warehouse:       {settings.warehouse_url}")
    print(f"  reports:         {settings.reports_dir}")
    print(f"  ground truth:    {county / 'truth'}")
    print('  query it:        .venv/bin/carelink sql "select * from marts.carers_known"')
    if exit_code:
        print("\nSome nights exited non-zero: the synthetic county plants bad deliveries on "
              "purpose (see the summaries above and docs/operations.md).")
    # The demo succeeds when the pipeline behaved as designed; planted faults are expected.
    return 0
