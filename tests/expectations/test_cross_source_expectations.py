"""Each cross-source expectation that `check_night` validates can pass and can fail.

The per-source suites are walked rule by rule in test_every_expectation; these four are the
night's cross-source rules, each run through `check_night` on a hand-made night once with data
that satisfies it and once with data that breaks it, and read back from the GX outcomes that
go to dq.validation_results.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from exp_frames import NIGHT
from test_staleness import _linkage_outputs, _world
from test_star_and_linkage import _linkage_world, _noise, _stars

from expectations.nightly import check_night


def _outcome(staged: dict[str, pd.DataFrame], linkage: Path, root: Path, expectation: str,
             threshold: float = 0.25):
    checks = check_night(staged, linkage, extract_date=NIGHT, run_id="r",
                         stale_share_threshold=threshold, out_dir=root / "out",
                         restricted_dir=root / "restricted", docs_dir=None)
    (outcome,) = [o for o in checks.outcomes if o.expectation == expectation]
    assert expectation in set(checks.results_frame()["expectation"])
    return outcome


@pytest.mark.parametrize(("threshold", "success"), [(1.0, True), (0.3, False)])
def test_stale_share_threshold(tmp_path: Path, threshold: float, success: bool) -> None:
    staged, xref, rel = _world()  # D82001: 4 of 11 stale; D82002: 1 of 1
    outcome = _outcome(staged, _linkage_outputs(tmp_path, xref, rel), tmp_path,
                       "stale_share_within_threshold", threshold)
    assert (outcome.success, outcome.severity) == (success, "warning")


@pytest.mark.parametrize("inflated", [False, True])
def test_no_practitioner_flagged(tmp_path: Path, inflated: bool) -> None:
    rng = np.random.default_rng(7)
    changes = _noise(rng)
    if inflated:
        changes["P999"] = list(rng.normal(3.0, 4.0, size=40) + 4.0)
    staged = {"provider_star_score": _stars(changes, 7)}
    linkage = _linkage_outputs(tmp_path, pd.DataFrame(columns=["source_record_key", "person_key",
                                                           "run_id"], dtype=str),
                           pd.DataFrame(columns=["carer_key", "cared_for_key", "ended_on",
                                                 "end_reason"]))
    outcome = _outcome(staged, linkage, tmp_path, "no_practitioner_flagged")
    assert (outcome.success, outcome.severity) == (not inflated, "warning")
    assert outcome.unexpected_count == (1 if inflated else 0)


def _relationship() -> pd.DataFrame:
    return pd.DataFrame({"carer_key": ["KP"], "cared_for_key": ["KQ"], "sources": ["las"],
                         "first_seen": [NIGHT], "ended_on": [None], "end_reason": [None]})


@pytest.mark.parametrize("conflict", [False, True])
def test_one_valid_nhs_number_per_person_key(tmp_path: Path, conflict: bool) -> None:
    staged, xref = _linkage_world(conflict=conflict)
    outcome = _outcome(staged, _linkage_outputs(tmp_path, xref, _relationship()), tmp_path,
                       "one_valid_nhs_number_per_person_key")
    assert (outcome.success, outcome.severity) == (not conflict, "critical")


@pytest.mark.parametrize("recorded", [None, "Yes"])
def test_service_contact_agrees_with_linkage(tmp_path: Path, recorded: str | None) -> None:
    """Assessment 3's carer is known to the provider: LAS saying nothing disagrees (1 of 2
    agree, below the 80 % expected); LAS saying `Yes` agrees (2 of 2)."""
    staged, xref = _linkage_world(conflict=False)
    assessments = staged["las_assessment"].copy()
    assessments.loc[assessments["assessment_id"] == 3, "carers_service_contact"] = recorded
    staged["las_assessment"] = assessments
    outcome = _outcome(staged, _linkage_outputs(tmp_path, xref, _relationship()), tmp_path,
                       "service_contact_agrees_with_linkage")
    assert (outcome.success, outcome.severity) == (recorded == "Yes", "warning")
    assert outcome.details["agreement_rate"] == (1.0 if recorded == "Yes" else 0.5)
