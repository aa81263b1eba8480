"""The nightly report: one self-contained page built from analyst-visible tables only, with
its plots, opening offline — checked in a real headless Chromium where one is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

import warehouse
from carelink.config import Settings
from carelink.pipeline import stage_night
from expectations.nightly import check_night
from reports.nightly import ReportInputs, build_nightly_report
from synthetic import generate_county
from tests.support.browser import rendered_dom, screenshot
from tests.support.stand_in_linkage import NIGHT, write_linkage


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report")
    generate_county(root / "county", carers=400, seed=4, first_night=NIGHT, nights=1)
    settings = Settings.from_env({"CARELINK_DATA_DIR": str(root / "data")},
                                 landing_dir=root / "county" / "landing")
    stage_night(settings, NIGHT, run_id="night-1")
    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        staged = warehouse.read_staging(engine)
        write_linkage(root / "linkage", staged)
        # The night's cross-source checks, as the DAG runs them before the load: without
        # them the marts hold no practitioner and the report draws no funnel plot.
        check_night(staged, root / "linkage", extract_date=NIGHT, run_id="night-1",
                    stale_share_threshold=settings.stale_share_threshold,
                    out_dir=root / "checks", restricted_dir=root / "restricted")
        warehouse.load_night(engine, extract_date=NIGHT, run_id="night-1",
                             linkage_dir=root / "linkage", checks_dir=root / "checks")
        return build_nightly_report(engine, ReportInputs(
            NIGHT, "night-1", settings.work_dir / NIGHT.isoformat(), root / "reports"))
    finally:
        engine.dispose()


def test_report_is_self_contained_with_plots(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert html.count("<svg") >= 3
    # Nothing fetched from the network (SVG namespace URIs are names, not loads).
    assert "<script" not in html and "<link" not in html
    for attribute in ('src="http', "src='http", 'href="http', "url(http", "@import"):
        assert attribute not in html, attribute
    for section in ("Row accounting", "carers.csv", "Carers known", "Star"):
        assert section in html, section


def test_report_draws_the_star_funnel_plot(report: Path) -> None:
    """The issue's "done when": the funnel plot drawn in the nightly report (inline SVG),
    beside each practitioner's retrospective share."""
    html = report.read_text(encoding="utf-8")
    section = html[html.index('id="bias"'):html.index('id="sustainment"')]
    assert "<svg" in section and "funnel plot" in section
    assert "keyed in &gt; 7 days later" in section


@pytest.mark.browser
def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    dom = rendered_dom(report)
    assert dom.count("<svg") >= 3 and "Row accounting" in dom
    shot = screenshot(report, tmp_path / "report.png")
    assert shot.exists() and shot.stat().st_size > 20_000  # a rendered page, not a blank one


def test_a_night_that_did_not_load_says_whose_figures_the_marts_hold(report: Path) -> None:
    """The marts hold the last night that loaded: a later run whose load failed must not
    present them as its own, in the page or in `carelink run`'s summary."""
    from carelink.airflow_runner import NightResult
    from carelink.summary import collect_night_summary

    root = report.parent.parent
    settings = Settings.from_env({"CARELINK_DATA_DIR": str(root / "data")},
                                 landing_dir=root / "county" / "landing")
    assert "was not loaded by this run" not in report.read_text(encoding="utf-8")
    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        failed = build_nightly_report(engine, ReportInputs(
            NIGHT, "night-1-rerun-failed", settings.work_dir / NIGHT.isoformat(),
            root / "failed-reports"))
    finally:
        engine.dispose()
    html = failed.read_text(encoding="utf-8")
    assert "was not loaded by this run" in html
    assert f"last night that loaded, {NIGHT.isoformat()} (run night-1)" in html

    loaded = collect_night_summary(settings, NIGHT, "night-1")
    assert loaded["marts_from"] is None
    assert any("stale of" in line for line in
               NightResult(NIGHT, "night-1", {}, summary=loaded).lines())
    other = collect_night_summary(settings, NIGHT, "night-1-rerun-failed")
    lines = NightResult(NIGHT, "night-1-rerun-failed", {}, summary=other).lines()
    assert f"  warehouse not loaded by this run: its marts still hold {NIGHT}" in lines
    assert not any("stale of" in line or "Carers Star" in line for line in lines)
