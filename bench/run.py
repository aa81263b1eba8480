"""`make bench`: time and peak memory of each stage at county scale, written to
docs/benchmarks.md (the section between the BENCH markers is replaced on each run).

Each step runs in a fresh subprocess so that its peak RSS is its own.

    python -m bench.run [--carers 25000] [--link-records 1000000] [--only STEP]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- BENCH:BEGIN -->", "<!-- BENCH:END -->"


def step_generate(work: Path, carers: int, **_: object) -> dict:
    from synthetic import generate_county

    summary = generate_county(work / "county", carers=carers, seed=1, nights=1)
    rows = sum(sum(c.values()) for c in summary.provider_nights.values())
    return {"what": f"generate a county of {carers:,} carers (1 night)",
            "rows": rows + sum(summary.las_rows.values())}


def step_stage(work: Path, carers: int, **_: object) -> dict:
    from carelink.config import Settings
    from carelink.pipeline import stage_night

    county = work / "county"
    if not county.exists():
        step_generate(work, carers)
    settings = Settings.from_env({"CARELINK_DATA_DIR": str(work / "data")},
                                 landing_dir=county / "landing")
    outcome = stage_night(settings, date(2026, 11, 22))
    rows = sum(e.rows_staged for e in outcome.extracts.values())
    return {"what": f"extract + stage one night of {carers:,} carers (DuckDB)", "rows": rows}


def step_link(work: Path, link_records: int, **_: object) -> dict:
    from linkage.cli_link import link_csv_files
    from synthetic import write_person_records

    folder = write_person_records(work, records=link_records, seed=1)
    started = time.perf_counter()
    summary = link_csv_files([folder / f"{s}.csv" for s in ("provider", "las", "gp")],
                             work / "clusters.csv", pairs=None, model=None)
    return {"what": f"carelink link on {link_records:,} person records (unsupervised)",
            "rows": link_records, "link_seconds": round(time.perf_counter() - started, 1),
            "detail": " ".join(summary.lines())[:200]}


STEPS = {"generate": step_generate, "stage": step_stage, "link": step_link}


def _child(name: str, work: str, kwargs: str) -> None:
    started = time.perf_counter()
    result = STEPS[name](Path(work), **json.loads(kwargs))
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print("BENCH " + json.dumps(result))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--carers", type=int, default=25000)
    parser.add_argument("--link-records", type=int, default=1_000_000)
    parser.add_argument("--only", choices=sorted(STEPS), action="append")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    kwargs = json.dumps({"carers": args.carers, "link_records": args.link_records})
    results = []
    with tempfile.TemporaryDirectory(prefix="carelink-bench-") as work:
        for name in args.only or list(STEPS):
            proc = subprocess.run([sys.executable, "-m", "bench.run", "--child", name, work,
                                   kwargs], cwd=ROOT, capture_output=True, text=True,
                                  env={**os.environ, "CARELINK_DATA_DIR": work})
            line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH ")), None)
            if proc.returncode or line is None:
                print(f"{name}: FAILED\n{proc.stderr[-3000:]}")
                return 1
            result = {"step": name, **json.loads(line[6:])}
            print(json.dumps(result))
            results.append(result)
    _record(results)
    return 0


def _record(results: list[dict]) -> None:
    lines = [BEGIN, "", f"Measured {time.strftime('%Y-%m-%d')} on {platform.node() or 'host'}"
             f" ({os.cpu_count()} cores, Python {platform.python_version()}) by `make bench`:",
             "", "| step | what | rows | seconds | peak RSS (MB) |",
             "| --- | --- | --- | --- | --- |"]
    for r in results:
        lines.append(f"| {r['step']} | {r['what']} | {r['rows']:,} | {r['seconds']} | "
                     f"{r['peak_rss_mb']:,} |")
    lines += ["", END]
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\n"
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + "\n".join(lines) + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + "\n".join(lines) + "\n"
    DOC.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
