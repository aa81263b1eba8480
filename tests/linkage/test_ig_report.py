"""The IG linkage report on two demo nights: every item IG needs is in the page and its JSON
twin, counts agree with the run, no identifier reaches the summary page, and all three
pages (the report and Splink's two) render offline in headless Chromium."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from linkage.evaluate import stage_county
from linkage.ig_report import MODEL_CHART_HTML, REPORT_HTML, REPORT_JSON, VIEWER_HTML
from linkage.nightly import link_night
from synthetic import generate_county
from tests.support.browser import rendered_dom, rendered_dom_until
from tests.support.privacy import COMMON_WORDS

NIGHT = date(2026, 11, 22)


@pytest.fixture(scope="module")
def nights(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("ig")
    generate_county(root / "county", carers=300, seed=21, first_night=NIGHT, nights=1)
    staged = stage_county(root / "county", extract_date=NIGHT, work_dir=root / "work")
    first = link_night(staged, {}, models_dir=root / "models", secret="s", run_id="n1",
                       extract_date=NIGHT, out_dir=root / "out1", report_dir=root / "r1")
    xref = pd.read_parquet(first.files["person_xref"])
    # Night two sees one record fewer: a record gone, and the change table must say so.
    dropped = staged["provider_cared_for"].iloc[1:]
    second = link_night({**staged, "provider_cared_for": dropped}, {"person_xref": xref},
                        models_dir=root / "models", secret="s", run_id="n2",
                        extract_date=date(2026, 11, 23), out_dir=root / "out2",
                        report_dir=root / "r2")
    return {"root": root, "staged": staged, "first": first, "second": second}


def test_report_holds_every_item(nights: dict) -> None:
    outcome = nights["second"]
    folder = outcome.report.parent
    assert outcome.report.name == REPORT_HTML
    report = json.loads((folder / REPORT_JSON).read_text())
    assert {s["source"] for s in report["sources"]} == {"provider", "las", "gp"}
    assert all(s["latest_extract"] == NIGHT.isoformat() for s in report["sources"])
    assert {(q["source"], q["role"]) for q in report["identifier_quality"]} >= {
        ("provider", "carer"), ("las", "person"), ("gp", "carer"), ("gp", "cared_for")}
    method = report["method"]
    assert method["blocking_rules"] and method["comparisons"]
    assert method["threshold"] == outcome.threshold
    assert report["run"]["model_version"] == outcome.model_version
    flow = {row["stage"]: row["count"] for row in report["flow"]}
    assert flow["person records in"] == outcome.records_in
    assert flow["persons out"] == outcome.persons_out
    quality = report["estimated_quality"]
    assert 0.9 < quality["estimated_precision"] <= 1 and 0.5 < quality["estimated_recall"] <= 1
    assert set(report["link_rates_by_group"]) == {"age_band", "sex", "ethnicity", "district"}
    implausible = report["implausible_links"]
    assert implausible["persons_with_two_valid_nhs_numbers"] == 0
    assert implausible["persons_with_incompatible_dates_of_birth"] == 0
    assert implausible["carer_linked_as_own_cared_for_person"] == 0
    assert implausible["persons_recorded_as_both_female_and_male"] >= 0

    assert sum(row["persons"] for row in report["cluster_sizes"]) == outcome.persons_out
    sensitivity = report["threshold_sensitivity"]
    assert [row["tonight"] for row in sensitivity].count(True) == 1
    counts = [row["pairs_linked"] for row in sensitivity]
    assert counts == sorted(counts, reverse=True)  # a higher threshold never links more
    change = report["changes_since_last_run"]
    assert change["previous_run"] and change["records_gone"] == 1
    opt = report["opt_outs"]
    assert opt["declined_records"] > 0
    assert opt["declined_persons_holding_las_or_gp_records"] == 0
    assert 0 < report["borderline_pairs_for_review"] <= report["borderline_pairs_in_band"]
    # the pair rows of the flow add up to the links kept
    assert (flow["pairs at or above the threshold"]
            + flow["+ pairs below it sharing a valid NHS number"]
            - flow["− links removed by the information-sharing opt-out"]
            - flow["− links between two records of one source file"]
            - flow["− links whose first names plainly disagree (no NHS number agrees)"]
            ) == flow["= links kept"] == outcome.pairs_linked
    page = outcome.report.read_text().lower()
    for heading in ("Sources", "Identifier completeness", "Method", "Blocking rules",
                    "Flow through each stage", "Link rate", "Estimated precision and recall",
                    "by age band", "by sex", "by ethnicity", "by district",
                    "Implausible links", "Cluster sizes", "Threshold sensitivity",
                    "Change since the last run", "opt-outs honoured", "Clerical review"):
        assert heading.lower() in page, heading
    assert MODEL_CHART_HTML.lower() in page and VIEWER_HTML.lower() in page


def test_summary_page_holds_no_identifiers(nights: dict) -> None:
    """Names and NHS numbers belong only in the clerical-review page, never in the page or
    JSON that summarise the run (they travel further: e-mails, minutes)."""
    staged = nights["staged"]
    folder = nights["second"].report.parent
    text = (folder / REPORT_HTML).read_text() + (folder / REPORT_JSON).read_text()
    carers = staged["provider_carer"]
    nhs = set(carers["nhs_number"].dropna()) | set(staged["las_person"]["nhs_number"].dropna())
    surnames = {s for s in carers["last_name"].dropna().str.upper()
                if len(s) > 4 and s not in COMMON_WORDS | {"BLACK", "ASIAN", "MIXED", "OTHER"}}
    assert not [n for n in nhs if n in text]
    assert not [s for s in surnames if s in text.upper()]
    viewer = (folder / VIEWER_HTML).read_text()
    assert any(s in viewer.upper() for s in surnames)  # the reviewer does see them


def test_no_page_fetches_anything_from_the_network(nights: dict) -> None:
    """Restricted pages must not call out: no stylesheet, font, script or image is loaded
    from elsewhere (Splink's viewer template asks for a web font; that link is removed)."""
    import re

    folder: Path = nights["second"].report.parent
    for page in (REPORT_HTML, MODEL_CHART_HTML, VIEWER_HTML):
        text = (folder / page).read_text()
        assert not re.findall(r"<(?:link|script|img)\b[^>]*(?:href|src)=[\"']?(?:https?:)?//",
                              text, re.I), page


def test_clerical_review_never_shows_a_pair_the_opt_out_forbids(nights: dict) -> None:
    import re

    staged = nights["staged"]
    carers = staged["provider_carer"]
    refs = set(carers.loc[carers["information_sharing"] == "Declined", "carer_ref"])
    cared = staged["provider_cared_for"]
    declined = {f"provider:carer:{r}" for r in refs} | {
        f"provider:cared_for:{r}" for r in cared.loc[cared["carer_ref"].isin(refs),
                                                     "cared_for_ref"]}
    viewer = (nights["first"].report.parent / VIEWER_HTML).read_text()
    pairs = re.findall(r'"unique_id_l": "([^"]+)", "unique_id_r": "([^"]+)"', viewer)
    assert pairs
    # the rule written out: a declined file's record meets only the provider's own records
    assert not [(left, right) for left, right in pairs
                if (left in declined and not right.startswith("provider:"))
                or (right in declined and not left.startswith("provider:"))]


@pytest.mark.browser
def test_pages_render_offline_in_headless_chromium(nights: dict) -> None:
    folder: Path = nights["second"].report.parent
    dom = rendered_dom(folder / REPORT_HTML)
    assert "Threshold sensitivity" in dom and dom.count("<svg") >= 5
    for splink_page in (MODEL_CHART_HTML, VIEWER_HTML):
        # vega draws its charts into a canvas: present only if the inline scripts ran
        dom = rendered_dom_until(folder / splink_page,
                                 lambda d: "<canvas" in d and 'class="marks"' in d)
        assert "<canvas" in dom and 'class="marks"' in dom, splink_page


def test_persons_recorded_as_both_sexes_are_counted() -> None:
    import pandas as pd

    from linkage.ig_report import sex_conflicts

    frame = pd.DataFrame({"person_key": ["p1", "p1", "p1", "p2", "p2", "p3"],
                          "sex": ["M", None, "F", "F", "F", "M"]})
    assert sex_conflicts(frame) == 1
