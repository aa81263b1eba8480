"""The guards: over-linking split, opt-out honoured, LAS merges forced, households apart."""

from __future__ import annotations

import pandas as pd
from linkage_helpers import fixed_settings, valid_nhs

from linkage.clusters import cannot_link, cluster_records
from linkage.records import RECORD_COLUMNS, make_record


def _records(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([make_record(**r) for r in rows], columns=RECORD_COLUMNS)


def _person(key: str, source: str, *, nhs: str | None = None, declined: bool = False,
            first: str = "John", dob: str = "1950-03-04", carer_ref: str | None = None,
            role: str = "person") -> dict:
    return {"key": key, "source": source, "role": role, "first": first, "last": "Smithson",
            "dob": dob, "nhs": nhs, "postcode": "NR1 3QU", "address": "12 High Street",
            "sex": "M", "declined": declined, "carer_ref": carer_ref}


def _cluster_of(result) -> dict[str, str]:
    return dict(zip(result.clusters.source_record_key, result.clusters.cluster_id, strict=True))


def test_guard_splits_cluster_with_two_nhs_numbers() -> None:
    records = _records([
        _person("las:1", "las", nhs=valid_nhs(1)),
        _person("provider:carer:C1", "provider", carer_ref="C1"),
        _person("las:2", "las", nhs=valid_nhs(2)),
    ])
    result = cluster_records(records, fixed_settings(), 0.95)
    cluster = _cluster_of(result)
    assert cluster["las:1"] != cluster["las:2"]
    assert result.guard_actions and "conflicting_nhs_numbers" in result.guard_actions[0]["reasons"]


def test_declined_records_never_share_a_person_with_las_or_gp() -> None:
    records = _records([
        _person("provider:carer:C1", "provider", declined=True, carer_ref="C1"),
        _person("provider:carer:C2", "provider", carer_ref="C2"),
        _person("las:1", "las"),
        _person("gp:D1:" + valid_nhs(5), "gp"),
    ])
    result = cluster_records(records, fixed_settings(), 0.95)
    cluster = _cluster_of(result)
    declined = cluster["provider:carer:C1"]
    assert declined not in {cluster["las:1"], cluster["gp:D1:" + valid_nhs(5)]}
    assert cluster["las:1"] == cluster["gp:D1:" + valid_nhs(5)]
    assert result.optout_edges_removed >= 2


def test_las_merge_is_forced_and_twins_stay_apart() -> None:
    records = _records([
        _person("las:1", "las"),
        _person("las:2", "las", first="Zebedee", dob="1990-01-01"),
        _person("las:3", "las", first="Jane"),  # twin: same everything but first name
    ])
    result = cluster_records(records, fixed_settings(), 0.95, forced=[("las:2", "las:1")])
    cluster = _cluster_of(result)
    assert cluster["las:1"] == cluster["las:2"]
    assert cluster["las:3"] != cluster["las:1"]


def test_carer_and_cared_for_on_one_file_are_two_people() -> None:
    records = _records([
        _person("provider:carer:C1", "provider", carer_ref="C1", role="carer"),
        _person("provider:cared_for:F1", "provider", carer_ref="C1", role="cared_for",
                dob="1950-03-05"),
    ])
    assert "provider:cared_for:F1" in cannot_link(records)["provider:carer:C1"]
    cluster = _cluster_of(cluster_records(records, fixed_settings(), 0.95))
    assert cluster["provider:carer:C1"] != cluster["provider:cared_for:F1"]
