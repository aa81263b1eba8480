"""`make bench`: time and peak memory of each stage at county scale, written to
docs/benchmarks.md (the section between the BENCH markers is replaced on each run).

Each step runs in a fresh subprocess so that its peak RSS is its own. The machine may be shared,
so the load average when each step starts is recorded beside it.

    python -m bench.run [--carers 25000] [--link-records 1000000] [--only STEP ...]
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
    outcome = stage_night(settings, date(2026, 11, 22), gate=False)
    rows = sum(e.rows_staged for e in outcome.extracts.values())
    return {"what": f"extract + stage one night of {carers:,} carers (DuckDB)", "rows": rows}


def step_link(work: Path, link_records: int, **_: object) -> dict:
    """`carelink link` on generated person records with no saved model (it estimates one),
    scored against the generator's truth. Generating the input is not timed (and peaks at
    well under 100 MB, so the peak RSS is the command's)."""
    import pandas as pd

    from linkage.cli_link import link_csv_files
    from linkage.evaluate import evaluate_links
    from synthetic.person_records import write_person_records

    folder = write_person_records(work, records=link_records, seed=1)
    started = time.perf_counter()
    out = work / "clusters.csv"
    link_csv_files([folder / f"{s}.csv" for s in ("provider", "las", "gp")], out,
                   pairs=None, model=None)
    seconds = round(time.perf_counter() - started, 1)
    got = pd.read_csv(out, dtype=str)
    truth = pd.read_csv(folder / "truth.csv", dtype=str)
    scores = evaluate_links(
        pd.DataFrame({"source_record_key": got["source"] + ":" + got["record_id"],
                      "person_key": got["person_id"]}),
        pd.DataFrame({"source_record_key": truth["source"] + ":" + truth["record_id"],
                      "person": truth["person"]}))["pairwise"]["overall"]
    return {"what": f"carelink link on {link_records:,} person records (no --model: "
                    f"estimate, score, cluster; pairwise precision {scores['precision']:.4f}, "
                    f"recall {scores['recall']:.4f})",
            "rows": link_records, "timed_seconds": seconds}


def step_run(work: Path, carers: int, **_: object) -> dict:
    """One night of the county through `carelink run`'s path: the real DAG via dag.test(),
    every task from extract to reports, on a fresh warehouse. Generating the county and
    creating Airflow's metadata database (first use only) are not timed."""
    from carelink.airflow_runner import ensure_metadata_db, prepare_airflow_environment, run_night
    from carelink.config import Settings

    county = work / "county"  # staging leaves the landing area as delivered
    if not county.exists():
        step_generate(work, carers)
    settings = Settings.from_env({"CARELINK_DATA_DIR": str(work / "run-data")},
                                 landing_dir=county / "landing")
    prepare_airflow_environment(settings)
    ensure_metadata_db(settings)
    started = time.perf_counter()
    result = run_night(settings, date(2026, 11, 22))
    seconds = round(time.perf_counter() - started, 1)
    if result.exit_code:
        raise RuntimeError(f"night failed: {result.failed_tasks}")
    linkage = result.summary.get("linkage") or {}
    return {"what": f"carelink run: one night of {carers:,} carers through the nightly DAG "
                    f"(dag.test; {linkage.get('records_in', 0):,} person records linked into "
                    f"{linkage.get('persons_out', 0):,} persons)",
            "rows": sum(int(s.get("rows_staged") or 0)
                        for s in result.summary.get("sources", [])),
            "timed_seconds": seconds}


STEPS = {"generate": step_generate, "stage": step_stage, "link": step_link, "run": step_run}


def _child(name: str, work: str, kwargs: str) -> None:
    started = time.perf_counter()
    load = os.getloadavg()[0]
    result = STEPS[name](Path(work), **json.loads(kwargs))
    # A step may time only its own work (the link step leaves out generating its input).
    result["seconds"] = result.pop("timed_seconds", round(time.perf_counter() - started, 1))
    result["load"] = round(load, 1)
    # Airflow may run a task in a child process: the larger of the two peaks is the step's.
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    result["peak_rss_mb"] = round(peak / 1024)
    print("BENCH " + json.dumps(result))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--carers", type=int, default=25000)
    parser.add_argument("--link-records", type=int, default=int(
        os.environ.get("CARELINK_BENCH_LINK_RECORDS", 1_000_000)),
                        help="records for the link step (or CARELINK_BENCH_LINK_RECORDS)")
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
             "", "| step | what | rows | seconds | peak RSS (MB) | load (1 min) at start |",
             "| --- | --- | --- | --- | --- | --- |"]
    rows = {r["step"]: f"| {r['step']} | {r['what']} | {r['rows']:,} | {r['seconds']} | "
                       f"{r['peak_rss_mb']:,} | {r.get('load', '')} |" for r in results}
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\n"
    kept = _rows_not_rerun(text, set(rows))
    if kept:
        lines[2] = lines[2].rstrip(":") + " (rows of steps not re-run kept from an earlier run):"
    rows.update(kept)
    lines += [rows[step] for step in STEPS if step in rows]
    lines += ["", END]
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + "\n".join(lines) + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + "\n".join(lines) + "\n"
    DOC.write_text(text)


def _rows_not_rerun(text: str, steps: set[str]) -> dict[str, str]:
    """Table rows of the recorded block for steps this run did not repeat (`--only`), so
    that benchmarking one step does not erase the others' figures."""
    if BEGIN not in text:
        return {}
    block = text.split(BEGIN, 1)[1].split(END, 1)[0]
    kept = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] in STEPS and cells[0] not in steps:
            kept[cells[0]] = line if len(cells) >= 6 else line.rstrip() + "  |"
    return kept


if __name__ == "__main__":
    raise SystemExit(main())
