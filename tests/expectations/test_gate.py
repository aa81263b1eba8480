"""The per-source gate: clean data passes, broken extracts block, findings warn."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from exp_frames import NIGHT, clean_gp, clean_las, clean_provider, frame, gp_row, nhs

from expectations.gate import GateResult, validate_source
from expectations.runner import RESULT_COLUMNS
from sources import tables as t


def _run(tables: dict[str, pd.DataFrame], source: str, **kwargs) -> GateResult:
    return validate_source(tables, source, extract_date=NIGHT, run_id="run1",
                           history=kwargs.pop("history", {}), docs_dir=kwargs.pop("docs", None))


def _failed(result: GateResult) -> dict[tuple[str, str], str]:
    return {(o.suite, o.expectation): o.severity for o in result.failures}


@pytest.mark.parametrize(("source", "builder"), [("provider", clean_provider),
                                                 ("las", clean_las), ("gp", clean_gp)])
def test_clean_extract_passes(source, builder, tmp_path: Path) -> None:
    result = _run(builder(), source, docs=tmp_path, history={
        name: [len(df)] * 5 for name, df in builder().items()})
    assert not result.blocked
    assert result.failures == []
    assert len(result.outcomes) > 20
    frame_ = result.results_frame()
    assert list(frame_.columns) == RESULT_COLUMNS
    assert set(frame_["severity"]) == {"critical", "warning"}
    assert (frame_["run_date"] == NIGHT).all() and (frame_["source"] == source).all()
    page = (tmp_path / f"{source}.html").read_text()
    assert "<script" not in page and "http" not in page  # opens offline
    assert "column_exists:" in page


def test_missing_column_blocks() -> None:
    tables = clean_provider()
    tables["provider_carer"] = tables["provider_carer"].drop(columns=["sex"])
    result = _run(tables, "provider")
    assert result.blocked
    assert _failed(result) == {("provider_carer", "column_exists:sex"): "critical"}


def test_missing_table_blocks() -> None:
    tables = clean_provider()
    del tables["provider_support_plan"]
    result = _run(tables, "provider")
    assert result.blocked
    assert all(o.suite == "provider_support_plan" for o in result.critical_failures)


def test_duplicate_and_null_keys_block() -> None:
    tables = clean_provider()
    tables["provider_carer"].loc[1, "carer_ref"] = "CR000001"
    tables["provider_assessment"].loc[0, "assessment_ref"] = None
    result = _run(tables, "provider")
    assert result.blocked
    failed = _failed(result)
    assert failed[("provider_carer", "unique:carer_ref")] == "critical"
    assert failed[("provider_assessment", "not_null:assessment_ref")] == "critical"


def test_duplicate_compound_gp_key_blocks() -> None:
    tables = clean_gp()
    tables["gp_register_entry"].loc[1, "entry_number"] = 1
    result = _run(tables, "gp")
    assert _failed(result) == {
        ("gp_register_entry", "unique:practice_ods+entry_number"): "critical"}


def test_volume_collapse_blocks() -> None:
    history = {"provider_carer": [100, 9, 110, 100, 104]}  # median 100: 2 rows is a collapse
    result = _run(clean_provider(), "provider", history=history)
    assert result.blocked
    (failure,) = result.critical_failures
    assert (failure.suite, failure.expectation) == ("provider_carer",
                                                    "volume_vs_previous_nights")
    assert failure.element_count == 2
    # half the median is still fine
    assert not _run(clean_provider(), "provider", history={"provider_carer": [4, 4]}).blocked


def test_incremental_sources_are_not_volume_checked() -> None:
    result = _run(clean_las(), "las", history={"las_person": [1000] * 7})
    assert not result.blocked


def test_a_practice_register_that_collapses_is_flagged_not_blocked() -> None:
    """GP files are incremental, but each replaces its practice's whole register: a practice
    whose 2-entry register replaces one of 40 is a snapshot's volume collapse. A warning
    (the file may be right), never a block; a practice with no earlier register, or one
    that kept half, is fine."""
    tables = clean_gp()
    ods = tables["gp_register_entry"]["practice_ods"].iloc[0]
    result = _run(tables, "gp", history={f"gp_register:{ods}": [40]})
    assert not result.blocked
    assert _failed(result) == {
        ("gp_register_entry", "practice_register_kept_its_size"): "warning"}
    assert not _run(tables, "gp", history={f"gp_register:{ods}": [4]}).failures
    assert not _run(tables, "gp", history={"gp_register:Z99999": [40]}).failures


def test_bad_value_set_is_a_warning_only() -> None:
    tables = clean_provider()
    tables["provider_carer"].loc[0, "sex"] = "Q"
    tables["provider_cared_for"].loc[0, "main_need"] = "Gardening"
    result = _run(tables, "provider")
    assert not result.blocked
    assert _failed(result) == {("provider_carer", "in_set:sex"): "warning",
                               ("provider_cared_for", "in_set:main_need"): "warning"}
    row = result.results_frame().query("expectation == 'in_set:sex'").iloc[0]
    assert (row["unexpected_count"], row["element_count"]) == (1, 2)


def test_identifier_quality_uses_mostly() -> None:
    tables = clean_provider()
    carers = pd.concat([tables["provider_carer"]] * 10, ignore_index=True)
    carers["carer_ref"] = [f"CR{i:06d}" for i in range(1, 21)]
    carers["nhs_number"] = [nhs(i) for i in range(20)]
    carers["nhs_number_valid"] = pd.array([True] * 19 + [False], dtype="boolean")
    tables["provider_carer"] = carers
    assert _failed(_run(tables, "provider")) == {}  # 95 % valid ≥ 90 %
    carers["nhs_number_valid"] = pd.array([True] * 17 + [False] * 3, dtype="boolean")
    assert _failed(_run(tables, "provider")) == {
        ("provider_carer", "nhs_number_valid_when_present"): "warning"}


def test_provider_date_and_score_rules_are_flagged() -> None:
    tables = clean_provider()
    tables["provider_carer"].loc[0, "referral_date"] = NIGHT + timedelta(days=3)
    tables["provider_cared_for"].loc[0, "date_of_death"] = date(1929, 1, 1)  # before birth
    tables["provider_assessment"].loc[0, "weighted_score"] = 101
    stars = tables["provider_star_score"]
    stars.loc[1, "reading"] = 3  # gap: 1, 3
    stars.loc[1, "total_score"] = 41
    stars.loc[0, "carer_self_rating"] = 4
    stars.loc[0, "recorded_at"] = datetime(2025, 1, 31, 9)  # before the conversation
    checks = tables["provider_sustainment_check"]
    checks.loc[0, "due_date"] = date(2025, 9, 1)  # should be plan + 6 months
    checks.loc[0, "check_date"] = date(2025, 1, 1)  # before the plan
    checks.loc[1, "breakdown_category_as_recorded"] = "Avoidable"
    result = _run(tables, "provider")
    assert not result.blocked
    assert _failed(result) == {
        ("provider_carer", "not_future:referral_date"): "warning",
        ("provider_cared_for", "date_of_death>=date_of_birth"): "warning",
        ("provider_assessment", "between:weighted_score"): "warning",
        ("provider_star_score", "reading_sequence_ok"): "warning",
        ("provider_star_score", "between:total_score"): "warning",
        ("provider_star_score", "between:carer_self_rating"): "warning",
        ("provider_star_score", "recorded_at>=assessment_date"): "warning",
        ("provider_sustainment_check", "due_date_ok"): "warning",
        ("provider_sustainment_check", "check_date>=plan_agreed_date"): "warning",
        ("provider_sustainment_check", "breakdown_category_agrees"): "warning",
    }


def test_unmapped_breakdown_reason_is_a_warning() -> None:
    tables = clean_provider()
    checks = tables["provider_sustainment_check"]
    checks.loc[1, "breakdown_reason"] = "Moved to Spain"
    checks.loc[1, "breakdown_reason_code"] = None
    checks.loc[1, "breakdown_category"] = None
    assert _failed(_run(tables, "provider")) == {
        ("provider_sustainment_check", "breakdown_reason_maps_to_code"): "warning"}


def test_absurd_dates_in_bulk_and_unparseable_dates_block() -> None:
    tables = clean_provider()
    tables["provider_assessment"]["assessment_date"] = date(2206, 2, 1)
    failed = _failed(_run(tables, "provider"))
    assert failed[("provider_assessment", "not_absurd:assessment_date")] == "critical"
    # one slip in a small file is over 1 % of it, but a slip, not a format fault: it loads,
    # flagged, and never blocks a small service's whole extract
    tables = clean_provider()
    many = pd.concat([tables["provider_assessment"]] * 80, ignore_index=True)
    many["assessment_ref"] = [f"AS{i:06d}" for i in range(len(many))]
    many.loc[0, "assessment_date"] = date(2206, 2, 1)
    tables["provider_assessment"] = many
    assert _failed(_run(tables, "provider")) == {
        ("provider_assessment", "not_future:assessment_date"): "warning"}
    tables = clean_provider()
    tables["provider_carer"]["referral_date"] = None
    failed = _failed(_run(tables, "provider"))
    assert failed == {("provider_carer", "some_parseable:referral_date"): "critical"}


def test_las_rules() -> None:
    tables = clean_las()
    tables["las_person_relationship"].loc[0, "end_date"] = date(2023, 1, 1)
    tables["las_care_package"].loc[0, "weekly_cost"] = -5.0
    tables["las_assessment"].loc[0, "carers_service_contact"] = "Maybe"
    tables["las_person"].loc[0, "date_of_death"] = date(1920, 1, 1)
    result = _run(tables, "las")
    assert not result.blocked
    assert _failed(result) == {
        ("las_person_relationship", "end_date>=start_date"): "warning",
        ("las_care_package", "between:weekly_cost"): "warning",
        ("las_assessment", "in_set:carers_service_contact"): "warning",
        ("las_person", "date_of_death>=date_of_birth"): "warning",
    }


def test_gp_rules() -> None:
    rows = [gp_row(entry_number=1, nhs_number=nhs(1), last_review_date=date(2024, 1, 1)),
            gp_row(entry_number=2, nhs_number=nhs(2), layout="Vision", carer_code="XYZ")]
    result = _run({"gp_register_entry": frame(t.GP_REGISTER_ENTRY, rows)}, "gp")
    assert not result.blocked
    assert _failed(result) == {
        ("gp_register_entry", "last_review_date>=date_recorded"): "warning",
        ("gp_register_entry", "in_set:layout"): "warning",
        ("gp_register_entry", "regex:carer_code"): "warning",
    }


def test_gate_is_fast_on_a_large_table() -> None:
    import time

    carers = clean_provider()["provider_carer"]
    big = carers.loc[carers.index.repeat(50_000)].reset_index(drop=True)
    big["carer_ref"] = [f"CR{i:06d}" for i in range(len(big))]
    tables = {**clean_provider(), "provider_carer": big}
    start = time.perf_counter()
    result = _run(tables, "provider")
    assert time.perf_counter() - start < 15
    assert not result.blocked


@pytest.mark.parametrize(("source", "builder"), [("las", clean_las), ("gp", clean_gp)])
def test_empty_incremental_extract_passes(source, builder) -> None:
    """LAS and GP deliver only what changed: a quiet night is not a broken one."""
    tables = {name: df.iloc[0:0] for name, df in builder().items()}
    result = _run(tables, source)
    assert not result.blocked and result.failures == []


def test_every_date_a_source_delivers_is_checked_against_the_extract_date() -> None:
    """The issue: nothing in the future of the extract date. A cared-for person's date of
    birth on a GP register and a care package's end date are dates like the others (a
    package's end_date is null while open, so a future one is a slip, not a plan)."""
    rows = [gp_row(entry_number=1, nhs_number=nhs(1), cared_for_date_of_birth=NIGHT
                   + timedelta(days=30))]
    assert _failed(_run({"gp_register_entry": frame(t.GP_REGISTER_ENTRY, rows)}, "gp")) == {
        ("gp_register_entry", "not_future:cared_for_date_of_birth"): "warning"}
    tables = clean_las()
    tables["las_care_package"].loc[0, "end_date"] = NIGHT + timedelta(days=30)
    assert _failed(_run(tables, "las")) == {
        ("las_care_package", "not_future:end_date"): "warning"}


@pytest.mark.parametrize(("source", "builder"), [("las", clean_las), ("gp", clean_gp)])
def test_a_quiet_night_records_every_expectation(source, builder) -> None:
    """dq.validation_results holds one row per expectation per run (warehouse contract): a
    night with no new rows records the same expectations as a busy one, each with the rows
    it looked at, so that nights compare row for row."""
    busy = _run(builder(), source).results_frame()
    quiet = _run({name: df.iloc[0:0] for name, df in builder().items()}, source
                 ).results_frame()
    assert sorted(zip(quiet["suite"], quiet["expectation"], strict=True)) == sorted(
        zip(busy["suite"], busy["expectation"], strict=True))
    assert quiet["success"].all()
    assert busy["element_count"].notna().all() and (quiet["element_count"] == 0).all()


def test_great_expectations_pages_open_offline_and_hold_no_values(tmp_path: Path) -> None:
    """GX renders a page per suite (its Data Docs validation page) beside the night's
    summary page. The page is shared unrestricted, so it carries counts, never a failing
    row's values, and nothing it would fetch from the internet."""
    tables = clean_provider()
    carers = pd.concat([tables["provider_carer"]] * 10, ignore_index=True)
    carers["carer_ref"] = [f"CR{i:06d}" for i in range(1, 21)]
    bad = [f"99{i:08d}" for i in range(6)]  # the values that fail the NHS number rule
    carers["nhs_number"] = [nhs(i) for i in range(14)] + bad
    carers["nhs_number_valid"] = pd.array([True] * 14 + [False] * 6, dtype="boolean")
    tables["provider_carer"] = carers
    result = _run(tables, "provider", docs=tmp_path)
    summary = (tmp_path / "provider.html").read_text()
    page = tmp_path / "provider" / "provider_carer.html"
    assert 'href="provider/provider_carer.html"' in summary
    text = page.read_text()
    assert "Expectation Validation Result" in text and "provider_carer" in text
    assert "6 unexpected values found" in text  # the failure, as a count
    assert not any(b in text for b in bad) and "partial_unexpected" not in text
    assert "<script" not in text and 'src="http' not in text
    assert not re.search(r"<link[^>]*href=\"https?://", text)
    assert '<a href="../provider.html">Home</a>' in text
    # a rerun of the night replaces the pages, leaving none from the earlier run
    (tmp_path / "provider" / "provider_gone.html").write_text("old")
    _run(tables, "provider", docs=tmp_path)
    assert not (tmp_path / "provider" / "provider_gone.html").exists()
    assert {p.name for p in (tmp_path / "provider").iterdir()} == {
        f"{s}.html" for s in {o.suite for o in result.outcomes}}


def test_great_expectations_renders_every_result_without_error(tmp_path: Path, caplog) -> None:
    """GX's renderer takes Python numbers only: a numpy observed value (a share of
    non-null dates, a row count) made it log a traceback and drop that page section."""
    tables = clean_provider()
    history = {name: [len(df) * 10] * 5 for name, df in tables.items()}  # volume fails
    with caplog.at_level(logging.ERROR):
        result = _run(tables, "provider", docs=tmp_path, history=history)
    assert result.blocked
    assert [r.getMessage()[:80] for r in caplog.records if r.levelno >= logging.ERROR] == []
