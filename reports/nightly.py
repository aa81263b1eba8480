"""The nightly report: one self-contained HTML page per night for analysts and managers.

Built only from what analysts may see — the run ledger, `dq.*` and `marts.*` — plus the night's
per-file row accounting, so it can be shared without information-governance review. Plots are
inline SVG; the page has no scripts and loads nothing from the network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from reports import charts

TEMPLATES = Path(__file__).resolve().parent / "templates"
SOURCES = ("provider", "las", "gp")
COMBINATIONS = [
    (True, False, False, "provider only"), (False, True, False, "LAS only"),
    (False, False, True, "GP only"), (True, True, False, "provider + LAS"),
    (True, False, True, "provider + GP"), (False, True, True, "LAS + GP"),
    (True, True, True, "all three"),
]


# Pages beside the report, linked only when tonight wrote them (a source that failed to
# extract has no Data Docs page).
LINKS = {"Data Docs: provider": "data_docs/provider.html", "Data Docs: LAS": "data_docs/las.html",
         "Data Docs: GP": "data_docs/gp.html",
         "Data Docs: cross-source checks": "data_docs/cross_source.html",
         "IG linkage report (restricted)": "restricted/linkage_report.html"}


@dataclass(frozen=True)
class ReportInputs:
    extract_date: date
    run_id: str
    work_dir: Path  # the night's work folder (per-file accounting)
    report_dir: Path  # where nightly.html goes; Data Docs and restricted/ sit beside it


def _file_accounting(work_dir: Path, ledger_status: dict[str, str]) -> list[dict]:
    """Per file: read = staged + quarantined. A source not extracted tonight has no files to
    balance; its row says why (the ledger's failed / rejected) rather than a reassuring yes."""
    rows = []
    for source in SOURCES:
        summary_path = work_dir / "extract" / source / "extract.json"
        if not summary_path.exists():
            status = ledger_status.get(source, "not run")
            rows.append({"source": source, "file": "—", "rows_read": None, "rows_staged": None,
                         "rows_quarantined": None, "status": f"not extracted ({status})",
                         "balanced": None})
            continue
        summary = json.loads(summary_path.read_text())
        if not summary["files"]:
            rows.append({"source": source, "file": "—", "rows_read": 0, "rows_staged": 0,
                         "rows_quarantined": 0, "status": summary["status"], "balanced": True})
        for f in summary["files"]:
            rows.append({**f, "source": source,
                         "balanced": f["rows_read"] == f["rows_staged"] + f["rows_quarantined"]})
    return rows


def build_nightly_report(engine, inputs: ReportInputs) -> Path:  # engine: sqlalchemy Engine
    import warehouse

    q = lambda sql, **p: warehouse.query_frame(engine, sql, p)  # noqa: E731
    ledger = q("select source, status, rows_staged, rows_quarantined, message from meta.run_ledger"
               " where run_id = :r order by source", r=inputs.run_id)
    gate = q("select source, suite, expectation, severity, success, unexpected_count,"
             " element_count from dq.validation_results where run_id = :r"
             " order by source, suite, expectation", r=inputs.run_id)
    # The marts hold the last night that loaded; a night whose load failed says so rather
    # than showing the night before's figures as its own.
    loaded_on, loaded_by = warehouse.marts_loaded_by(engine)
    marts_from = (None if loaded_by == inputs.run_id
                  else {"snapshot_date": loaded_on, "run_id": loaded_by})
    known = q("select in_provider, in_las, in_gp, carers from marts.carers_known"
              " where snapshot_date = (select max(snapshot_date) from marts.carers_known)")
    star = q("select change_1_2, change_1_3 from marts.star_change")
    sustain = q("select check_type, breakdown_reason_code, category, count(*) as n"
                " from marts.sustainment where still_caring = 'No'"
                " group by check_type, breakdown_reason_code, category"
                " order by check_type, n desc")
    checks = q("select check_type, count(*) as n, sum(case when still_caring = 'Yes' then 1"
               " else 0 end) as caring from marts.sustainment group by check_type")
    practices = q("select practice_ods, snapshot_month, entries, stale_entries,"
                  " review_overdue_entries, stale_share from marts.gp_register_practice_summary"
                  " order by stale_share desc, practice_ods")
    bias = q("select practitioner_ref, carers, mean_change, centre, lower_limit, upper_limit,"
             " flagged, retrospective_share from marts.star_bias_practitioner"
             " order by practitioner_ref")

    combos = []
    for p, la, g, label in COMBINATIONS:
        match = known[(known.in_provider == p) & (known.in_las == la) & (known.in_gp == g)]
        combos.append((label, int(match["carers"].sum()) if len(match) else 0))

    plots = {
        "known": charts.bar_chart([c[0] for c in combos], [c[1] for c in combos],
                                  title="Carers known to each combination of sources",
                                  horizontal=True, xlabel="carers"),
        "star_1_2": charts.histogram_percent(
            star["change_1_2"].dropna().astype(float).tolist(),
            title="Improvement between Star 1 and Star 2", xlabel="change in total score"),
        "star_1_3": charts.histogram_percent(
            star["change_1_3"].dropna().astype(float).tolist(),
            title="Improvement between Star 1 and Star 3", xlabel="change in total score"),
    }
    if len(practices):
        top = practices.head(20)
        plots["stale"] = charts.bar_chart(
            top["practice_ods"].tolist(), (top["stale_share"].astype(float) * 100).tolist(),
            title="Stale GP register entries by practice (highest 20)", xlabel="% of entries",
            horizontal=True)
    if len(bias):
        plots["funnel"] = charts.funnel_plot(
            bias["carers"].astype(int).tolist(), bias["mean_change"].astype(float).tolist(),
            bias["flagged"].astype(bool).tolist(), bias["practitioner_ref"].tolist(),
            centre=float(bias["centre"].iloc[0]), limit_n=bias["carers"].astype(int).tolist(),
            lower=bias["lower_limit"].astype(float).tolist(),
            upper=bias["upper_limit"].astype(float).tolist())

    gate_summary = []
    for source, group in gate.groupby("source", sort=True):
        failed = group[~group["success"].astype(bool)]
        gate_summary.append({
            "source": source, "checked": len(group),
            "critical_failed": int((failed["severity"] == "critical").sum()),
            "warnings": int((failed["severity"] == "warning").sum()),
            "failures": failed.to_dict("records"),
        })

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    html = env.get_template("nightly.html.j2").render(
        extract_date=inputs.extract_date, run_id=inputs.run_id, marts_from=marts_from,
        ledger=ledger.to_dict("records"),
        files=_file_accounting(inputs.work_dir, dict(zip(ledger["source"], ledger["status"],
                                                         strict=True))),
        gate=gate_summary, combos=combos, plots=plots,
        sustain=sustain.to_dict("records"), checks=checks.to_dict("records"),
        practices=practices.to_dict("records"), bias=bias.to_dict("records"),
        links={label: href for label, href in LINKS.items()
               if (inputs.report_dir / href).exists()},
    )
    inputs.report_dir.mkdir(parents=True, exist_ok=True)
    path = inputs.report_dir / "nightly.html"
    path.write_text(html, encoding="utf-8")
    return path
