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


def test_a_las_merge_of_two_valid_nhs_numbers_is_refused_and_shown() -> None:
    """LAS merged two records holding different valid NHS numbers (through a third with
    none, too). Following it would put two numbers under one person: the critical check
    would then block every source's load every night, since the merge stays. The records
    stay apart and the guard reports the refusal."""
    records = _records([
        _person("las:1", "las", nhs=valid_nhs(1)),
        _person("las:2", "las", first="Zebedee", dob="1990-01-01", nhs=valid_nhs(2)),
        _person("las:3", "las", first="Xavier", dob="1970-06-06"),
        _person("las:4", "las", first="Walter", dob="1930-02-02", nhs=valid_nhs(3)),
    ])
    result = cluster_records(records, fixed_settings(), 0.95,
                             forced=[("las:2", "las:1"), ("las:3", "las:1"), ("las:4", "las:3")])
    cluster = _cluster_of(result)
    assert cluster["las:3"] == cluster["las:1"]  # a merge that breaks nothing is followed
    assert cluster["las:2"] != cluster["las:1"] and cluster["las:4"] != cluster["las:1"]
    refusals = [a for a in result.guard_actions
                if a["reasons"] == "las_merge_of_two_valid_nhs_numbers"]
    assert len(refusals) == 2


def test_carer_and_cared_for_on_one_file_are_two_people() -> None:
    records = _records([
        _person("provider:carer:C1", "provider", carer_ref="C1", role="carer"),
        _person("provider:cared_for:F1", "provider", carer_ref="C1", role="cared_for",
                dob="1950-03-05"),
    ])
    assert "provider:cared_for:F1" in cannot_link(records)["provider:carer:C1"]
    cluster = _cluster_of(cluster_records(records, fixed_settings(), 0.95))
    assert cluster["provider:carer:C1"] != cluster["provider:cared_for:F1"]


# --- a record with no date of birth between a parent and child of one name ----------------


def _info(rows: list[tuple[str, str | None, str | None]]) -> pd.DataFrame:
    """(key, date of birth, NHS number) rows as the guard's info frame."""
    frame = pd.DataFrame([{"source_record_key": k, "date_of_birth": dob, "nhs_number": nhs,
                           "information_sharing_declined": False} for k, dob, nhs in rows])
    return frame.set_index("source_record_key", drop=False)


def _edges(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unique_id_l", "unique_id_r", "match_weight"])


PARENT_CHILD = [("las:1", "1958-09-09", None), ("las:2", "1981-04-12", None),
                ("provider:carer:C1", None, None)]


def test_no_dob_record_joins_the_better_side_not_both() -> None:
    from linkage.clusters import constrained_clusters

    info = _info(PARENT_CHILD)
    edges = [("provider:carer:C1", "las:2", 9.0), ("las:1", "provider:carer:C1", 20.0),
             ("las:1", "las:2", 3.0)]
    for order in (edges, edges[::-1], edges[1:] + edges[:1]):
        cluster = constrained_clusters(sorted(info.index), _edges(order), info, [])
        assert cluster["provider:carer:C1"] == cluster["las:1"]
        assert cluster["las:2"] != cluster["las:1"]


def test_no_dob_record_equally_like_both_joins_neither() -> None:
    from linkage.clusters import constrained_clusters

    info = _info(PARENT_CHILD)
    edges = _edges([("las:1", "provider:carer:C1", 12.0),
                    ("provider:carer:C1", "las:2", 11.0)])
    cluster = constrained_clusters(sorted(info.index), edges, info, [])
    assert len({cluster["las:1"], cluster["las:2"], cluster["provider:carer:C1"]}) == 3


def test_shared_nhs_number_cannot_bridge_dates_years_apart() -> None:
    """The NHS number pins the no-DOB record to the parent; the child stays apart."""
    parent_nhs = valid_nhs(7)
    records = _records([
        {**_person("las:1", "las", nhs=parent_nhs, first="Susan", dob="1958-09-09")},
        {**_person("las:2", "las", first="Susan", dob="1981-04-12")},
        {**_person("gp:D1:" + valid_nhs(8) + ":cared_for:1", "gp", nhs=parent_nhs,
                   first="Susan", dob=None, role="cared_for")},
        {**_person("provider:carer:C1", "provider", first="Susan", dob=None,
                   carer_ref="C1", role="carer")},
    ])
    result = cluster_records(records, fixed_settings(), 0.95)
    cluster = _cluster_of(result)
    gp_key = "gp:D1:" + valid_nhs(8) + ":cared_for:1"
    assert cluster[gp_key] == cluster["las:1"]
    assert cluster["las:2"] != cluster["las:1"]
    for cid in set(cluster.values()):
        members = [k for k, c in cluster.items() if c == cid]
        dobs = set(records.set_index("source_record_key").loc[members, "date_of_birth"]
                   .dropna())
        assert len(dobs) <= 1, members


def test_no_dob_mention_is_not_ambiguous_with_its_own_carer() -> None:
    """Timothy Turner (no date of birth) on the file of his father Timothy Turner: the file
    says the two are different people, so the father is no rival and the son's LAS record
    is the only person the mention can be."""
    from linkage.clusters import constrained_clusters

    info = _info([("provider:carer:C1", "1968-02-01", None), ("gp:D1:" + valid_nhs(3), "1968-02-01",
                   valid_nhs(3)), ("las:2", "2005-10-12", valid_nhs(4)),
                  ("provider:cared_for:F1", None, None)])
    edges = _edges([("provider:carer:C1", "gp:D1:" + valid_nhs(3), 15.0),
                    ("provider:cared_for:F1", "provider:carer:C1", 11.1),
                    ("gp:D1:" + valid_nhs(3), "provider:cared_for:F1", 11.1),
                    ("las:2", "provider:cared_for:F1", 11.1)])
    cannot = {"provider:carer:C1": {"provider:cared_for:F1"},
              "provider:cared_for:F1": {"provider:carer:C1"}}
    cluster = constrained_clusters(sorted(info.index), edges, info, [], cannot)
    assert cluster["provider:cared_for:F1"] == cluster["las:2"]
    assert cluster["provider:carer:C1"] != cluster["las:2"]


def test_an_nhs_number_no_other_record_holds_does_not_settle_a_jr_sr_choice() -> None:
    """Peter Wright senior (no date of birth) and his son Peter (born 1983): a `Peter Wrght`
    with no date of birth and an NHS number nobody else records fits both about equally, and
    joins neither."""
    from linkage.clusters import constrained_clusters

    info = _info([("provider:carer:C1", None, None), ("provider:carer:C2", "1959-03-11", None),
                  ("provider:cared_for:F1", "1983-10-16", None),
                  ("provider:cared_for:F2", None, valid_nhs(5))])
    edges = _edges([("provider:carer:C1", "provider:carer:C2", 21.0),
                    ("provider:cared_for:F2", "provider:carer:C1", 9.9),
                    ("provider:cared_for:F2", "provider:carer:C2", 9.9),
                    ("provider:cared_for:F1", "provider:cared_for:F2", 8.2)])
    cluster = constrained_clusters(sorted(info.index), edges, info, [])
    assert cluster["provider:carer:C1"] == cluster["provider:carer:C2"]
    assert cluster["provider:cared_for:F2"] not in (cluster["provider:carer:C1"],
                                                   cluster["provider:cared_for:F1"])


def test_two_no_dob_records_of_one_file_do_not_place_each_other() -> None:
    """Victoria Dixon (carer, no date of birth) cares for her daughter `Vicky` Dixon (no date
    of birth); LAS holds both, with dates. Neither record's place is settled, so neither may
    decide the other's: both stay apart rather than each joining the wrong Victoria."""
    from linkage.clusters import constrained_clusters

    info = _info([("las:1", "1957-03-30", None), ("las:2", "1996-09-07", valid_nhs(6)),
                  ("provider:carer:C1", None, None), ("provider:cared_for:F1", None, None)])
    edges = _edges([("las:1", "provider:carer:C1", 16.4), ("las:2", "provider:carer:C1", 16.0),
                    ("las:1", "provider:cared_for:F1", 9.0),
                    ("las:2", "provider:cared_for:F1", 9.2)])
    cannot = {"provider:carer:C1": {"provider:cared_for:F1"},
              "provider:cared_for:F1": {"provider:carer:C1"}}
    cluster = constrained_clusters(sorted(info.index), edges, info, [], cannot)
    assert cluster["provider:carer:C1"] not in (cluster["las:1"], cluster["las:2"])
    assert cluster["provider:cared_for:F1"] not in (cluster["las:1"], cluster["las:2"])


def test_a_transposed_date_of_birth_on_a_record_without_a_postcode_is_compared() -> None:
    """Andrew Jackson's provider file gives 1943-08-10 and postcode `NULL`; LAS gives
    1943-10-08 and a postcode. No date, postcode or district is shared, yet the name and the
    transposed date are one person: a blocking rule must put the pair in front of the model."""
    records = _records([
        {**_person("provider:carer:C1", "provider", first="Andrew", dob="1943-08-10",
                   carer_ref="C1", role="carer"), "postcode": "NULL", "address": None,
         "last": "Jackson"},
        {**_person("las:1", "las", nhs=valid_nhs(4), first="Andrew", dob="1943-10-08"),
         "last": "Jackson"},
        # others, so that a name's frequency is a county's and not one in two
        *({**_person(f"las:{100 + i}", "las", first=first,
                     dob=f"19{40 + i}-0{1 + i % 9}-1{i % 10}"), "last": last}
          for i, (first, last) in enumerate((f, s) for f in ("Alan", "Betty", "Carl", "Dora",
                                                              "Eric", "Fay")
                                            for s in ("Moss", "Pike", "Rudd", "Tait", "Vane"))),
    ])
    cluster = _cluster_of(cluster_records(records, fixed_settings(), 0.95))
    assert cluster["provider:carer:C1"] == cluster["las:1"]


def test_a_declined_siblings_mention_does_not_cost_the_consenting_siblings_links() -> None:
    """A mother cared for by two children: one declined sharing, one agreed. The declined
    file's mention of her may not reach LAS or GP records; the agreed file's may. Whatever
    the scores, the agreed mention keeps its council and GP links and the declined one stays
    with the provider's records (seen on two independently written counties, where the
    strongest link, the two provider mentions, used to come first)."""
    from linkage.clusters import constrained_clusters

    info = _info([("provider:cared_for:CF1", "1940-03-01", None),  # on the declined file
                  ("provider:cared_for:CF2", None, None),          # on the agreed file
                  ("gp:D82001:9434765919:cared_for:1", "1940-03-01", None),
                  ("las:7", "1940-03-01", "9434765870")])
    info.loc["provider:cared_for:CF1", "information_sharing_declined"] = True
    edges = _edges([("provider:cared_for:CF1", "provider:cared_for:CF2", 25.0),
                    ("provider:cared_for:CF2", "gp:D82001:9434765919:cared_for:1", 14.0),
                    ("gp:D82001:9434765919:cared_for:1", "las:7", 18.0),
                    ("provider:cared_for:CF1", "las:7", 20.0)])
    cluster = constrained_clusters(sorted(info.index), edges, info, [])
    agreed = cluster["provider:cared_for:CF2"]
    assert cluster["gp:D82001:9434765919:cared_for:1"] == agreed == cluster["las:7"]
    assert cluster["provider:cared_for:CF1"] != agreed

    # A carer who declined on one file and agreed on another is one person who declined:
    # the strongest link (their two files) still comes first and keeps them from LAS.
    carer = _info([("provider:carer:C1", "1960-01-01", None),
                   ("provider:carer:C2", "1960-01-01", None),
                   ("las:8", "1960-01-01", None)])
    carer.loc["provider:carer:C1", "information_sharing_declined"] = True
    cluster = constrained_clusters(sorted(carer.index), _edges([
        ("provider:carer:C1", "provider:carer:C2", 25.0),
        ("provider:carer:C2", "las:8", 15.0)]), carer, [])
    assert cluster["provider:carer:C1"] == cluster["provider:carer:C2"] != cluster["las:8"]
