"""The nightly report: one self-contained page built from analyst-visible tables only, with
its plots, opening offline — checked in a real headless Chromium where one is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import warehouse
from carelink.config import Settings
from carelink.pipeline import stage_night
from reports.nightly import ReportInputs, build_nightly_report
from synthetic import generate_county
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


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("headless Chromium not installed (Debian package `chromium`; .ci/run "
                    "installs it)")
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--allow-file-access-from-files"]
    dom = subprocess.run([*base, "--dump-dom", report.as_uri()], capture_output=True,
                         text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") >= 3 and "Row accounting" in dom.stdout
    shot = tmp_path / "report.png"
    subprocess.run([*base, f"--screenshot={shot}", "--window-size=1280,2400", report.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.exists() and shot.stat().st_size > 20_000  # a rendered page, not a blank one
