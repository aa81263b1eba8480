"""marts.carers_known against the warehouse contract: "One row per combination of sources,
for each snapshot date: how many distinct carers ... are known to exactly that combination"."""

from __future__ import annotations

from datetime import date

import pandas as pd

from warehouse.marts import carers_known

NIGHT = date(2026, 11, 24)


def test_every_combination_has_a_row_even_when_no_carer_is_known_to_it() -> None:
    # Two carers: one known to the provider only, one to the provider and a GP practice.
    records = pd.DataFrame({
        "source_record_key": ["provider:carer:CR000001", "provider:carer:CR000002",
                              "gp:D82001:9434765919"],
        "person_key": ["pk_a", "pk_b", "pk_b"],
        "role": ["carer", "carer", "carer"],
        "source": ["provider", "provider", "gp"],
    })
    mart = carers_known({}, records, NIGHT)
    combos = {(r.in_provider, r.in_las, r.in_gp): r.carers for r in mart.itertuples()}
    # the seven combinations of the three sources (a known carer is known to at least one)
    assert len(mart) == 7 and len(combos) == 7
    assert combos[(True, False, False)] == 1
    assert combos[(True, False, True)] == 1
    assert combos[(False, True, False)] == 0
    assert combos[(True, True, True)] == 0
    assert set(mart["snapshot_date"]) == {NIGHT}


def test_a_night_with_no_carers_still_reports_every_combination_as_zero() -> None:
    empty = pd.DataFrame(columns=["source_record_key", "person_key", "role", "source"])
    mart = carers_known({}, empty, NIGHT)
    assert len(mart) == 7
    assert mart["carers"].tolist() == [0] * 7


def test_a_person_las_assessed_as_a_carer_is_a_carer_known_to_las() -> None:
    # las-reporting-db.md: `Carer assessment` is "a carer assessed on their own" (and the
    # delegated `Carer assessment by carers service` the same): the assessed person is a
    # carer the council knows, whether or not a person_relationship row names them.
    from tests.support.staged import frame

    staged = {
        "las_assessment": frame("las_assessment", [
            {"assessment_id": 1, "person_id": 7, "assessment_type": "Carer assessment"},
            {"assessment_id": 2, "person_id": 8,
             "assessment_type": "Carer assessment by carers service"},
            {"assessment_id": 3, "person_id": 9, "assessment_type": "Care Act assessment"}]),
    }
    records = pd.DataFrame({
        "source_record_key": ["las:7", "las:8", "las:9"],
        "person_key": ["pk_a", "pk_b", "pk_c"],
        "role": ["person", "person", "person"],
        "source": ["las", "las", "las"],
    })
    mart = carers_known(staged, records, NIGHT)
    las_only = mart[~mart["in_provider"] & mart["in_las"] & ~mart["in_gp"]]
    assert las_only["carers"].tolist() == [2]
