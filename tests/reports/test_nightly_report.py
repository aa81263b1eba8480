"""The nightly report: one self-contained page built from analyst-visible tables only, with
its plots, opening offline — checked in a real headless Chromium where one is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

import warehouse
from carelink.config import Settings
from carelink.pipeline import stage_night
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
        write_linkage(root / "linkage", warehouse.read_staging(engine))
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


@pytest.mark.browser
def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    dom = rendered_dom(report)
    assert dom.count("<svg") >= 3 and "Row accounting" in dom
    shot = screenshot(report, tmp_path / "report.png")
    assert shot.exists() and shot.stat().st_size > 20_000  # a rendered page, not a blank one
