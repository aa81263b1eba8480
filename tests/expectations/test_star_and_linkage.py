"""Star scoring funnel and flags; linkage sanity; LAS service-contact agreement."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from exp_frames import NIGHT, frame, nhs

from expectations import star
from expectations.nightly import check_night, nhs_number_conflicts, service_contact
from sources import tables as t


def _stars(changes: dict[str, list[float]], seed: int = 0) -> pd.DataFrame:
    """Two readings per carer: reading 1 around 18, reading 2 = reading 1 + change, the
    latest scored by the practitioner named in `changes`."""
    rng = np.random.default_rng(seed)
    rows, n = [], 0
    for practitioner, deltas in changes.items():
        for delta in deltas:
            n += 1
            first = int(rng.integers(12, 24))
            day = date(2025, 1, 1) + timedelta(days=int(rng.integers(0, 300)))
            for reading, total, who in ((1, first, "P000"),
                                        (2, first + int(round(delta)), practitioner)):
                when = day + timedelta(days=180 * (reading - 1))
                rows.append({"star_ref": f"S{n}-{reading}", "carer_ref": f"CR{n:06d}",
                             "reading": reading, "assessment_date": when,
                             "recorded_at": datetime.combine(when, datetime.min.time()),
                             "practitioner_ref": who, "total_score": total})
    return frame(t.PROVIDER_STAR_SCORE, rows)


def _noise(rng: np.random.Generator, practitioners: int = 30) -> dict[str, list[float]]:
    return {f"P{100 + i}": list(rng.normal(3.0, 4.0, size=int(rng.integers(10, 60))))
            for i in range(practitioners)}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pure_noise_flags_nobody(seed: int) -> None:
    stars = _stars(_noise(np.random.default_rng(seed)), seed)
    bias, params = star.practitioner_bias(stars, run_id="r")
    assert len(bias) == 30 and list(bias.columns) == star.BIAS_COLUMNS
    assert not bias["flagged"].any()
    assert (bias["lower_limit"] < bias["centre"]).all()
    assert (bias["upper_limit"] > bias["centre"]).all()


def test_inflating_practitioner_is_flagged(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    changes = _noise(rng)
    changes["P999"] = list(rng.normal(3.0, 4.0, size=40) + 4.0)
    bias, params = star.practitioner_bias(_stars(changes, 7), run_id="r")
    flagged = bias.loc[bias["flagged"], "practitioner_ref"].tolist()
    assert flagged == ["P999"]
    row = bias.set_index("practitioner_ref").loc["P999"]
    assert row["carers"] == 40 and row["mean_change"] > row["upper_limit"]
    svg = star.write_funnel_svg(tmp_path / "funnel.svg", bias, params)
    assert svg is not None and svg.read_text().lstrip().startswith("<?xml")


def test_optimistic_practitioners_with_large_caseloads_do_not_hide_each_other() -> None:
    """Three optimistic practitioners holding a quarter of the carers pull the centre up;
    the honest majority's offset below it is not overdispersion, so all three are flagged
    and nobody else is."""
    rng = np.random.default_rng(2)
    changes = {f"P{100 + i}": list(rng.normal(6.0, 4.7, size=int(rng.integers(10, 25))))
               for i in range(27)}
    for ref in ("P901", "P902", "P903"):
        changes[ref] = list(rng.normal(10.0, 4.7, size=48))
    bias, params = star.practitioner_bias(_stars(changes, 2), run_id="r")
    assert sorted(bias.loc[bias["flagged"], "practitioner_ref"]) == ["P901", "P902", "P903"]


def test_funnel_limits_follow_spiegelhalter() -> None:
    """No overdispersion when z-scores are small: limits are centre ± 3.09·sd/√n."""
    means, counts = np.array([1.0, 1.1, 0.9, 1.0]), np.array([25.0, 25.0, 25.0, 100.0])
    lower, upper, tau2 = star.funnel_limits(means, counts, 1.0, 2.0)
    assert tau2 == 0.0
    assert upper == pytest.approx(1.0 + 3.09 * 2.0 / np.sqrt(counts))
    spread = np.array([-3.0, 5.0, -4.0, 6.0, 1.0])
    _, _, tau2 = star.funnel_limits(spread, np.full(5, 50.0), 1.0, 2.0)
    assert tau2 > 0


def test_sampling_spread_is_the_spread_within_practitioners() -> None:
    """A practitioner's mean varies by chance with single carers' spread about their own
    practitioner's mean; the difference between practitioners is tau²'s, not the SD's."""
    changes = pd.DataFrame({"practitioner_ref": ["A", "A", "B", "B", "C"],
                            "change": [0.0, 2.0, 10.0, 12.0, 40.0]})
    # (1 + 1 + 1 + 1 + 0) over 5 carers less 3 practitioners
    assert star.within_practitioner_sd(changes) == pytest.approx(np.sqrt(2.0))
    assert star.within_practitioner_sd(changes) < changes["change"].std(ddof=1)
    one_each = changes.drop_duplicates("practitioner_ref")
    assert star.within_practitioner_sd(one_each) == pytest.approx(
        one_each["change"].std(ddof=1))
    bias, params = star.practitioner_bias(_stars({"A": [0.0, 2.0], "B": [10.0, 12.0]}),
                                          run_id="r")
    assert params["sd"] == pytest.approx(np.sqrt(2.0))


def test_retrospective_share() -> None:
    stars = _stars({"P101": [2.0, 3.0]})
    stars.loc[stars["star_ref"] == "S1-2", "recorded_at"] += pd.Timedelta(days=8)
    bias, _ = star.practitioner_bias(stars, run_id="r")
    assert bias.set_index("practitioner_ref").loc["P101", "retrospective_share"] == 0.5


def test_star_score_flags() -> None:
    base = datetime(2025, 3, 1, 10)
    rows = [
        {"star_ref": "A1", "carer_ref": "CR1", "reading": 1, "total_score": 10},
        {"star_ref": "A2", "carer_ref": "CR1", "reading": 2, "total_score": 23,
         "recorded_at": base + timedelta(days=8)},
        {"star_ref": "A3", "carer_ref": "CR1", "reading": 3, "total_score": 24,
         "carer_self_rating": 18},
        {"star_ref": "A4", "carer_ref": "CR1", "reading": 4, "total_score": 41},
        {"star_ref": "B1", "carer_ref": "CR2", "reading": 1, "total_score": 10,
         "carer_self_rating": 30},
        {"star_ref": "C1", "carer_ref": "CR3", "reading": 1, "total_score": 20},
    ]
    for r in rows:
        r.setdefault("recorded_at", base)
        r.update(assessment_date=date(2025, 3, 1), practitioner_ref="P101")
    flags = star.score_flags(frame(t.PROVIDER_STAR_SCORE, rows),
                             {"provider:carer:CR1": "K1", "provider:carer:CR2": "K2"},
                             run_id="r", exclude_carers={"CR2"})
    assert list(flags.columns) == star.FLAG_COLUMNS
    got = {r.star_ref: (r.carer_key, r.reading, r.flags) for r in flags.itertuples()}
    assert got == {"A2": ("K1", 2, "retrospective,implausible_jump"),
                   "A3": ("K1", 3, "self_rating_gap"),
                   "A4": ("K1", 4, "implausible_jump,out_of_range")}


def _linkage_world(conflict: bool) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    staged = {
        "provider_carer": frame(t.PROVIDER_CARER, [
            {"carer_ref": "CR1", "nhs_number": nhs(1), "nhs_number_valid": True,
             "sex": "F", "information_sharing": "Agreed"},
            {"carer_ref": "CR2", "nhs_number": "1234567890", "nhs_number_valid": False,
             "sex": "F", "information_sharing": "Agreed"}]),
        "las_person": frame(t.LAS_PERSON, [
            {"person_id": 5, "nhs_number": nhs(2) if conflict else nhs(1),
             "nhs_number_valid": True, "sex": "F"}]),
        "las_assessment": frame(t.LAS_ASSESSMENT, [
            {"assessment_id": 1, "person_id": 5, "assessment_type": "Carer assessment",
             "carers_service_contact": "Yes"},
            {"assessment_id": 2, "person_id": 5, "assessment_type": "Review",
             "carers_service_contact": "Yes"},   # KP has no known carer: not counted
            {"assessment_id": 3, "person_id": 6, "assessment_type": "Care Act assessment",
             "carers_service_contact": None},    # carer KC is known to the provider
        ]),
    }
    xref = pd.DataFrame({"source_record_key": ["provider:carer:CR1", "provider:carer:CR2",
                                               "las:5", "las:6"],
                         "person_key": ["KP", "KP", "KP", "KQ"], "run_id": "r"})
    return staged, xref


def test_linkage_sanity_catches_two_nhs_numbers(tmp_path: Path) -> None:
    staged, xref = _linkage_world(conflict=False)
    per_key, conflicts = nhs_number_conflicts(staged, xref)
    assert conflicts.empty and per_key["_single_nhs_number"].all()
    staged, xref = _linkage_world(conflict=True)
    _, conflicts = nhs_number_conflicts(staged, xref)
    assert conflicts["person_key"].tolist() == ["KP"]

    linkage = tmp_path / "linkage"
    linkage.mkdir()
    xref.to_parquet(linkage / "person_xref.parquet")
    pd.DataFrame({"carer_key": ["KP"], "cared_for_key": ["KQ"], "sources": ["las"],
                  "first_seen": [date(2024, 1, 1)], "ended_on": [None], "end_reason": [None]}
                 ).to_parquet(linkage / "caring_relationship.parquet")
    checks = check_night(staged, linkage, extract_date=NIGHT, run_id="r",
                         stale_share_threshold=0.2, out_dir=tmp_path / "out",
                         restricted_dir=tmp_path / "restricted", docs_dir=None)
    (critical,) = checks.critical_failures
    assert (critical.suite, critical.expectation, critical.unexpected_count) == (
        "linkage_sanity", "one_valid_nhs_number_per_person_key", 1)
    assert checks.summary()["nhs_conflicts"] == 1
    contact = next(o for o in checks.outcomes if o.suite == "las_service_contact")
    assert contact.details["agreement_rate"] == 0.5 and contact.severity == "warning"
    # the check tables exist even on a night with no GP register or Star readings
    for name in ("gp_register_staleness", "gp_register_practice_summary",
                 "star_bias_practitioner", "star_score_flags"):
        assert (tmp_path / "out" / f"{name}.parquet").exists()


def test_service_contact_agreement() -> None:
    staged, xref = _linkage_world(conflict=False)
    rel = pd.DataFrame({"carer_key": ["KP"], "cared_for_key": ["KQ"]})
    table = service_contact(staged, xref, pd.DataFrame(), rel)
    got = {r.assessment_id: (r.recorded_contact, r.carer_known_to_service, r.agrees)
           for r in table.itertuples()}
    assert got == {1: (True, True, True), 3: (False, True, False)}


def test_retrospective_is_more_than_seven_days_after_the_assessment_date() -> None:
    """warehouse-contract.md: `retrospective` (recorded_at more than 7 days after
    assessment_date): keyed 7 days and 10 hours after the conversation's date is; exactly
    7 days after (midnight) is not."""
    rows = [{"star_ref": ref, "carer_ref": f"C{ref}", "reading": 1, "total_score": 20,
             "assessment_date": date(2025, 3, 1), "recorded_at": when,
             "practitioner_ref": "P101"}
            for ref, when in (("R1", datetime(2025, 3, 8, 10)), ("R2", datetime(2025, 3, 8)))]
    flags = star.score_flags(frame(t.PROVIDER_STAR_SCORE, rows), {}, run_id="r")
    assert dict(zip(flags["star_ref"], flags["flags"], strict=True)) == {"R1": "retrospective"}


def test_implausible_jump_is_measured_from_the_previous_reading_not_a_rescore() -> None:
    # warehouse-contract.md: `implausible_jump` (a rise of 12 or more since the previous
    # reading). Reading 2 scored twice (15, then 25 two days later): the previous reading of
    # both versions is reading 1 (10), so the rescore's rise is 15.
    day = date(2025, 9, 1)
    rows = [
        {"star_ref": "A1", "carer_ref": "CR1", "reading": 1, "total_score": 10,
         "assessment_date": date(2025, 3, 1), "recorded_at": datetime(2025, 3, 1, 10)},
        {"star_ref": "A2", "carer_ref": "CR1", "reading": 2, "total_score": 15,
         "assessment_date": day, "recorded_at": datetime(2025, 9, 1, 10)},
        {"star_ref": "A3", "carer_ref": "CR1", "reading": 2, "total_score": 25,
         "assessment_date": day, "recorded_at": datetime(2025, 9, 3, 10)},
        {"star_ref": "A4", "carer_ref": "CR1", "reading": 3, "total_score": 38,
         "assessment_date": date(2026, 3, 1), "recorded_at": datetime(2026, 3, 1, 10)},
    ]
    for r in rows:
        r["practitioner_ref"] = "P101"
    flags = star.score_flags(frame(t.PROVIDER_STAR_SCORE, rows), {}, run_id="r")
    got = dict(zip(flags["star_ref"], flags["flags"], strict=True))
    # A4: 38 − 25 (reading 2's latest version) = 13
    assert got == {"A3": "implausible_jump", "A4": "implausible_jump"}


def test_a_reading_scored_twice_at_one_instant_is_read_the_same_in_any_row_order() -> None:
    """Two versions of one reading keyed in at the same time: star_ref decides, not the
    order staging is read back in, so a rerun of the night gives the same funnel."""
    stars = _stars({"P101": [4.0]})
    again = stars[stars["reading"] == 2].assign(star_ref="S1-2b", total_score=30)
    both = pd.concat([stars, again], ignore_index=True)
    forward = star.carer_changes(both)
    backward = star.carer_changes(both.iloc[::-1].reset_index(drop=True))
    assert forward.equals(backward)
    first = int(stars.loc[stars["reading"] == 1, "total_score"].iloc[0])
    assert forward["change"].tolist() == [30 - first]  # S1-2b sorts after S1-2
