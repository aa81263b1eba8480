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
