"""Relationship context: cared-for mentions of one linked carer that name one person."""

from __future__ import annotations

import pandas as pd
from linkage_helpers import fixed_settings, valid_nhs

from linkage.clusters import cluster_records, dobs_compatible
from linkage.context import caring_mentions, context_links, mention_score
from linkage.records import RECORD_COLUMNS, make_record

PATIENT = "gp:D1:" + valid_nhs(1)


def _carer(key: str, source: str, **kw: object) -> dict:
    return make_record(key, source, "carer", first="Jane", last="Doe", dob="1960-02-03",
                       nhs=None, postcode="NR1 3QU", address="1 High Street", sex="F",
                       carer_ref=kw.pop("carer_ref", None), **kw)


def _cared(key: str, source: str, first: str | None, last: str | None, *,
           dob: str | None = None, carer_ref: str | None = None,
           postcode: str = "NR9 9ZZ") -> dict:
    return make_record(key, source, "cared_for", first=first, last=last, dob=dob, nhs=None,
                       postcode=postcode, carer_ref=carer_ref, first_is_parsed=True,
                       postcode_guessed=source == "gp")


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=RECORD_COLUMNS)


def _county(gp_first: str | None = "L", extra: list[dict] | None = None) -> pd.DataFrame:
    return _frame([
        _carer("provider:carer:C1", "provider", carer_ref="C1"),
        _cared("provider:cared_for:F1", "provider", "LINDA", "EDWARDS", dob="1930-05-06",
               carer_ref="C1", postcode="NR2 1AA"),
        _carer(PATIENT, "gp"),
        _cared(PATIENT + ":cared_for:1", "gp", gp_first, "EDWARDS", postcode="NR1 3QU"),
        *(extra or []),
    ])


def _one_carer(records: pd.DataFrame) -> dict[str, str]:
    """Every record its own cluster except the two carer records, which are linked."""
    cluster = {k: k for k in records["source_record_key"]}
    cluster[PATIENT] = "provider:carer:C1"
    return cluster


def test_mentions_come_from_every_source() -> None:
    records = _county()
    assert caring_mentions(records) == [
        (PATIENT, PATIENT + ":cared_for:1"), ("provider:carer:C1", "provider:cared_for:F1")]


def test_linked_carers_mentions_of_one_name_are_one_person() -> None:
    records = _county()
    links = context_links(records, _one_carer(records), caring_mentions(records),
                          dobs_compatible)
    assert [(a, b) for a, b, _ in links] == [(PATIENT + ":cared_for:1",
                                             "provider:cared_for:F1")]


def test_a_mention_keyed_surname_first_with_a_nickname_is_the_formal_name() -> None:
    """`MARTIN TED` (surname first, and Martin is also a given name, so the records step
    leaves it as typed) is Ted Martin: Edward Martin, whom the same carer's other source
    names."""
    records = _frame([
        _carer("provider:carer:C1", "provider", carer_ref="C1"),
        _cared("provider:cared_for:F1", "provider", "MARTIN", "TED", dob="1929-10-28",
               carer_ref="C1"),
        _carer(PATIENT, "gp"),
        _cared(PATIENT + ":cared_for:1", "gp", "EDWARD", "MARTIN", postcode="NR1 3QU"),
    ])
    links = context_links(records, _one_carer(records), caring_mentions(records),
                          dobs_compatible)
    assert [(a, b) for a, b, _ in links] == [(PATIENT + ":cared_for:1",
                                             "provider:cared_for:F1")]


def test_a_slip_of_the_other_mentions_formal_name_is_compatible() -> None:
    """`PATRICA` (Patricia, a letter dropped) and `PAT` (Patricia or Patrick)."""
    records = _county(gp_first="PAT", extra=[])
    records.loc[records["source_record_key"] == "provider:cared_for:F1",
                ["first_name", "first_name_alt"]] = ["PATRICA", "PATRICA"]
    links = context_links(records, _one_carer(records), caring_mentions(records),
                          dobs_compatible)
    assert [(a, b) for a, b, _ in links] == [(PATIENT + ":cared_for:1",
                                             "provider:cared_for:F1")]


def _sole_mention_county(extra: list[dict] | None = None) -> pd.DataFrame:
    """The GP register names the patient's cared-for person by NHS number alone."""
    nameless = make_record(PATIENT + ":cared_for:1", "gp", "cared_for", first=None, last=None,
                           dob=None, nhs=valid_nhs(7), postcode="NR1 3QU",
                           first_is_parsed=True, postcode_guessed=True)
    return _frame([
        _carer("provider:carer:C1", "provider", carer_ref="C1"),
        _cared("provider:cared_for:F1", "provider", "LINDA", "EDWARDS", dob="1930-05-06",
               carer_ref="C1", postcode="NR2 1AA"),
        _carer(PATIENT, "gp"), nameless, *(extra or [])])


def test_a_nameless_mention_is_the_carers_only_person_in_the_other_sources() -> None:
    records = _sole_mention_county()
    links = context_links(records, _one_carer(records), caring_mentions(records),
                          dobs_compatible)
    assert [(a, b) for a, b, _ in links] == [(PATIENT + ":cared_for:1",
                                             "provider:cared_for:F1")]


def test_a_nameless_mention_of_a_carer_of_two_people_is_no_link() -> None:
    records = _sole_mention_county(extra=[_cared(
        "provider:cared_for:F2", "provider", "ROY", "EDWARDS", dob="1931-01-01",
        carer_ref="C1")])
    assert context_links(records, _one_carer(records), caring_mentions(records),
                         dobs_compatible) == []


def test_a_nameless_mention_is_compared_as_the_person_its_cluster_already_is() -> None:
    """A carer on two practices' registers (moved; the old practice has not removed him):
    one row names the cared-for person by NHS number alone, which linked it to her LAS
    record; the other names her with nothing else. Compared as Christine D'Souza, the
    nameless mention is the named one, though the carer's register names two mentions."""
    other = "gp:D2:" + valid_nhs(1)
    nameless = make_record(PATIENT + ":cared_for:1", "gp", "cared_for", first=None,
                           last=None, dob=None, nhs=valid_nhs(7), postcode="NR1 3QU",
                           postcode_guessed=True)
    records = _frame([
        _carer(PATIENT, "gp"), nameless, _carer(other, "gp"),
        _cared(other + ":cared_for:1", "gp", "CHRISTINE", "DSOUZA", postcode="NR1 3QU"),
        make_record("las:5", "las", "client", first="Christine", last="D'Souza",
                    dob="1938-04-01", nhs=valid_nhs(7), postcode="NR4 4AA", sex="F"),
    ])
    cluster = {k: k for k in records["source_record_key"]}
    cluster[other] = PATIENT
    cluster["las:5"] = PATIENT + ":cared_for:1"  # the model linked them by NHS number
    links = context_links(records, cluster, caring_mentions(records), dobs_compatible)
    assert [(a, b) for a, b, _ in links] == [(PATIENT + ":cared_for:1",
                                             other + ":cared_for:1")]


def test_no_link_when_the_carers_are_not_linked() -> None:
    records = _county()
    records.loc[records["source_record_key"] == PATIENT, "postcode"] = "IP1 1AA"
    cluster = {k: k for k in records["source_record_key"]}
    assert context_links(records, cluster, caring_mentions(records), dobs_compatible) == []


def test_two_carers_of_one_household_mentioning_one_name_is_one_person() -> None:
    """Different people (not linked) at one postcode, each recorded caring for a Linda
    Edwards: a household's one cared-for person."""
    records = _county()
    cluster = {k: k for k in records["source_record_key"]}
    links = context_links(records, cluster, caring_mentions(records), dobs_compatible)
    assert [(a, b) for a, b, _ in links] == [(PATIENT + ":cared_for:1",
                                             "provider:cared_for:F1")]


def test_two_candidates_of_one_source_is_no_link() -> None:
    """A carer caring for Linda and Lily Edwards: `L Edwards` could be either."""
    records = _county(extra=[_cared("provider:cared_for:F2", "provider", "LILY", "EDWARDS",
                                    dob="1999-01-01", carer_ref="C1")])
    assert context_links(records, _one_carer(records), caring_mentions(records),
                         dobs_compatible) == []


def test_contradictions_veto() -> None:
    a = {"first_name": "LINDA", "first_name_alt": "LINDA", "last_name": "EDWARDS"}
    assert mention_score(a, {**a}, dobs_compatible) > 0
    assert mention_score(a, {**a, "first_name": "MARY", "first_name_alt": "MARY"},
                         dobs_compatible) == 0
    assert mention_score({**a, "sex": "F"}, {**a, "sex": "M"}, dobs_compatible) == 0
    assert mention_score({**a, "nhs_number": valid_nhs(2)}, {**a, "nhs_number": valid_nhs(3)},
                         dobs_compatible) == 0
    from datetime import date
    assert mention_score({**a, "date_of_birth_d": date(1930, 1, 1)},
                         {**a, "date_of_birth_d": date(1981, 6, 1)}, dobs_compatible) == 0
    # an initial agrees with the nickname's formal name: R Clark may be Bob Clark
    bob = {"first_name": "BOB", "first_name_alt": "ROBERT", "last_name": "CLARK"}
    r = {"first_name": "R", "first_name_alt": "R", "last_name": "CLARK"}
    assert mention_score(bob, r, dobs_compatible) > 0



def test_an_initial_may_be_that_of_the_name_the_person_goes_by() -> None:
    """`Mrs B Dunard` for Elizabeth (Betty), `Mr T Evans` for Anthony (Tony), `P Moore` for
    Margaret (Peggy): seen unjoined on an independent county at evaluation scale."""
    for formal, initial in (("ELIZABETH", "B"), ("ANTHONY", "T"), ("MARGARET", "P"),
                            ("PATRICIA", "T"), ("ELIZABETH", "L")):
        full = {"first_name": formal, "first_name_alt": formal, "last_name": "DUNARD"}
        init = {"first_name": initial, "first_name_alt": initial, "last_name": "DUNARD"}
        assert mention_score(full, init, dobs_compatible) > 0, (formal, initial)
        assert mention_score(init, full, dobs_compatible) > 0, (formal, initial)
    # an initial that is no form of the name still disagrees
    mary = {"first_name": "MARY", "first_name_alt": "MARY", "last_name": "DUNARD"}
    z = {"first_name": "Z", "first_name_alt": "Z", "last_name": "DUNARD"}
    assert mention_score(mary, z, dobs_compatible) == 0


def test_cluster_records_adds_context_links_under_the_guards() -> None:
    records = _county()
    result = cluster_records(records, fixed_settings(), 0.95)
    cluster = dict(zip(result.clusters.source_record_key, result.clusters.cluster_id,
                       strict=True))
    assert cluster[PATIENT] == cluster["provider:carer:C1"]
    assert cluster[PATIENT + ":cared_for:1"] == cluster["provider:cared_for:F1"]
    assert cluster["provider:cared_for:F1"] != cluster["provider:carer:C1"]
    assert result.context_links == 1


# --- a couple who care for each other -------------------------------------------------------


def _couple(kevin_cares_as: str, first: str = "KEVIN") -> tuple[pd.DataFrame, dict, dict]:
    """Valerie Lee's file names Kevin Lee (her partner); Kevin's own file names Valerie with
    no date of birth or postcode. Kevin's carer record and Valerie's mention of him are
    already one person."""
    records = _frame([
        make_record("provider:carer:C1", "provider", "carer", first="Valerie", last="Lee",
                    dob="1941-01-03", nhs=None, postcode="PE31 8HY", sex="F", carer_ref="C1"),
        _cared("provider:cared_for:F1", "provider", "KEVIN", "LEE", dob="1946-10-28",
               carer_ref="C1", postcode="PE32 9SU"),
        make_record("provider:carer:C2", "provider", "carer", first=first, last="Lee",
                    dob="1946-10-28", nhs=None, postcode="PE32 9SU", sex="M", carer_ref="C2"),
        _cared("provider:cared_for:F2", "provider", "VALERIE", "LEE", carer_ref="C2"),
    ])
    cluster = {k: k for k in records["source_record_key"]}
    cluster["provider:cared_for:F1"] = "provider:carer:C2"
    relations = {("provider:carer:C1", "provider:cared_for:F1"): "PARTNER",
                 ("provider:carer:C2", "provider:cared_for:F2"): kevin_cares_as}
    return records, cluster, relations


def test_a_couple_caring_for_each_other_names_each_other() -> None:
    records, cluster, relations = _couple("PARTNER")
    links = context_links(records, cluster, caring_mentions(records), dobs_compatible,
                          relations)
    assert [(a, b) for a, b, _ in links] == [("provider:cared_for:F2", "provider:carer:C1")]


def test_a_carer_whose_carer_is_not_their_partner_is_no_couple() -> None:
    """Kevin is recorded caring for Valerie as her child: Valerie's partner Kevin is someone
    else (a son of his father's name), so Kevin's `Valerie` is not taken as the carer C1."""
    records, cluster, relations = _couple("CHILD")
    links = context_links(records, cluster, caring_mentions(records), dobs_compatible,
                          relations)
    assert links == []
    assert context_links(records, cluster, caring_mentions(records), dobs_compatible) == []


def test_relationships_come_from_every_source() -> None:
    from linkage.context import mention_relationships

    records = _county(extra=[
        make_record("las:1", "las", "person", first="Ann", last="Lee", dob="1950-01-01",
                    nhs=None, postcode="NR1 1AA"),
        make_record("las:2", "las", "person", first="Bob", last="Lee", dob="1950-01-01",
                    nhs=None, postcode="NR1 1AA")])
    staged = {
        "provider_cared_for": pd.DataFrame({"carer_ref": ["C1"], "cared_for_ref": ["F1"],
                                            "carer_relationship": ["Child"]}),
        "las_person_relationship": pd.DataFrame({"person_id": [1], "related_person_id": [2],
                                                 "carer_relationship": ["Partner"]}),
        "gp_register_entry": pd.DataFrame({
            "practice_ods": ["D1"], "nhs_number": [valid_nhs(1)], "entry_number": [1],
            "cared_for_name": ["Mrs L Edwards (wife)"], "cared_for_first_name": [None]}),
    }
    assert mention_relationships(records, staged) == {
        ("provider:carer:C1", "provider:cared_for:F1"): "CHILD",
        ("las:2", "las:1"): "PARTNER", (PATIENT, PATIENT + ":cared_for:1"): "PARTNER"}


def test_a_nameless_mention_at_one_practice_is_the_person_named_at_the_other() -> None:
    """A carer who moved is on both practices' registers: the old one names the cared-for
    person by NHS number alone, the new one by name. Nothing else names anyone."""
    moved = "gp:D2:" + valid_nhs(1)
    records = _frame([
        _carer(PATIENT, "gp"),
        make_record(PATIENT + ":cared_for:1", "gp", "cared_for", first=None, last=None,
                    dob=None, nhs=valid_nhs(7), postcode="NR1 3QU", first_is_parsed=True,
                    postcode_guessed=True),
        _carer(moved, "gp"),
        _cared(moved + ":cared_for:1", "gp", "CHRISTINE", "DSOUZA", postcode="NR1 3QU"),
    ])
    cluster = {k: k for k in records["source_record_key"]}
    cluster[moved] = PATIENT
    links = context_links(records, cluster, caring_mentions(records), dobs_compatible)
    assert [(a, b) for a, b, _ in links] == [(PATIENT + ":cared_for:1",
                                             moved + ":cared_for:1")]


def test_cluster_records_links_a_couple_caring_for_each_other() -> None:
    records, _, relations = _couple("PARTNER")
    plain = cluster_records(records, fixed_settings(), 0.95)
    result = cluster_records(records, fixed_settings(), 0.95, relations=relations)
    for res, joined in ((plain, False), (result, True)):
        cluster = dict(zip(res.clusters.source_record_key, res.clusters.cluster_id,
                           strict=True))
        assert cluster["provider:cared_for:F1"] == cluster["provider:carer:C2"]
        assert (cluster["provider:cared_for:F2"] == cluster["provider:carer:C1"]) is joined


def test_one_person_named_on_two_practices_registers_is_no_choice_between_two() -> None:
    """Mary O'Connor's carer moved and is on both practices' registers, each row naming
    `Mary OConnor` with no date of birth; the provider file names her with one. The two GP
    rows are one person twice, not two candidates, so both are linked."""
    moved = "gp:D2:" + valid_nhs(1)
    records = _county(gp_first="MARY", extra=[
        _carer(moved, "gp"), _cared(moved + ":cared_for:1", "gp", "MARY", "EDWARDS",
                                    postcode="NR9 9AA")])
    records.loc[records["source_record_key"] == "provider:cared_for:F1", "first_name"] = "MARY"
    records.loc[records["source_record_key"] == "provider:cared_for:F1",
                "first_name_alt"] = "MARY"
    cluster = _one_carer(records)
    cluster[moved] = "provider:carer:C1"
    links = {(a, b) for a, b, _ in context_links(records, cluster, caring_mentions(records),
                                                 dobs_compatible)}
    assert {(PATIENT + ":cared_for:1", "provider:cared_for:F1"),
            (moved + ":cared_for:1", "provider:cared_for:F1")} <= links


def test_a_second_pass_sees_one_person_named_twice_by_one_source_as_one_candidate() -> None:
    """Michelle Knight's carer has two provider files (a re-referral), each naming her, and a
    GP row naming `M Knight`. In the first pass the two provider mentions are two rivals for
    the initial; once context joins them they are one candidate, and the GP row links."""
    records = _frame([
        _carer("provider:carer:C1", "provider", carer_ref="C1"),
        _cared("provider:cared_for:F1", "provider", "MICHELLE", "KNIGHT", dob="1931-10-02",
               carer_ref="C1", postcode="NR2 8TX"),
        _carer("provider:carer:C2", "provider", carer_ref="C2"),
        _cared("provider:cared_for:F2", "provider", "MICHELLE", "KNIGHT", carer_ref="C2",
               postcode="NR14 6JP"),
        _carer(PATIENT, "gp"),
        _cared(PATIENT + ":cared_for:1", "gp", "M", "KNIGHT", postcode="NR1 3QU"),
    ])
    result = cluster_records(records, fixed_settings(), 0.95)
    cluster = dict(zip(result.clusters.source_record_key, result.clusters.cluster_id,
                       strict=True))
    assert cluster[PATIENT] == cluster["provider:carer:C1"] == cluster["provider:carer:C2"]
    assert cluster["provider:cared_for:F1"] == cluster["provider:cared_for:F2"]
    assert cluster[PATIENT + ":cared_for:1"] == cluster["provider:cared_for:F1"]
