"""Linkage metrics on hand-made frames (exact expected values) and the deterministic baseline."""

from __future__ import annotations

import itertools
import random

import pandas as pd
import pytest
from linkage_helpers import valid_nhs

from linkage.evaluate import deterministic_baseline, evaluate_links, format_markdown
from linkage.records import RECORD_COLUMNS, make_record


def _frames(rows: list[tuple[str, str, str, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(predicted, truth) from (record key, predicted person, true person, role) rows."""
    frame = pd.DataFrame(rows, columns=["source_record_key", "person_key", "person", "role"])
    return frame[["source_record_key", "person_key"]], frame[
        ["source_record_key", "person", "role"]]


def test_pairwise_counts_on_a_tiny_example() -> None:
    # True persons: A = {p1, las1, gp1}, B = {p2, las2}. Predicted: p1+las1 together, gp1 alone,
    # and p2, las2 and gp3 (person C) wrongly all in one.
    predicted, truth = _frames([
        ("provider:carer:1", "K1", "A", "carer"),
        ("las:1", "K1", "A", "las_person"),
        ("gp:X:1", "K2", "A", "carer"),
        ("provider:cared_for:2", "K3", "B", "cared_for"),
        ("las:2", "K3", "B", "las_person"),
        ("gp:X:3:cared_for:1", "K3", "C", "cared_for"),
    ])
    res = evaluate_links(predicted, truth)
    overall = res["pairwise"]["overall"]
    # true pairs 3 + 1 = 4; predicted pairs 1 + 3 = 4; true positives 1 (p1-las1) + 1 (p2-las2)
    assert (overall["true_pairs"], overall["predicted_pairs"],
            overall["true_positive_pairs"]) == (4, 4, 2)
    assert overall["precision"] == 0.5 and overall["recall"] == 0.5
    assert overall["f1"] == 0.5
    # every pair here is across sources
    assert res["pairwise"]["within_source"]["true_pairs"] == 0
    assert res["pairwise"]["across_source"] == {**overall}
    # carers: A's pairs (3 true, 1 predicted and right); las1 takes A's role
    carers = res["pairwise"]["carers"]
    assert (carers["true_pairs"], carers["predicted_pairs"], carers["true_positive_pairs"]) \
        == (3, 1, 1)
    cared = res["pairwise"]["cared_for"]
    assert (cared["true_pairs"], cared["predicted_pairs"], cared["true_positive_pairs"]) \
        == (1, 3, 1)
    assert cared["precision"] == pytest.approx(1 / 3, abs=1e-6)
    cl = res["cluster"]
    # B-cubed precision: records of K1 1, gp1 1, K3: 2/3, 2/3, 1/3 → (3 + 5/3) / 6
    assert cl["bcubed_precision"] == pytest.approx((3 + 5 / 3) / 6, abs=1e-6)
    # B-cubed recall: A's records 2/3, 2/3, 1/3; B 1, 1; C 1 → (5/3 + 3) / 6
    assert cl["bcubed_recall"] == pytest.approx((5 / 3 + 3) / 6, abs=1e-6)
    assert cl["share_true_persons_in_one_cluster"] == pytest.approx(2 / 3, abs=1e-6)
    assert cl["share_predicted_clusters_pure"] == pytest.approx(2 / 3, abs=1e-6)


def test_within_source_hard_negatives_and_optout() -> None:
    predicted, truth = _frames([
        ("las:1", "K1", "A", "las_person"),
        ("las:2", "K1", "A", "las_person"),     # LAS duplicate, found
        ("provider:carer:9", "K2", "D", "carer"),  # declined file
        ("gp:X:9", "K2", "D", "carer"),         # ... linked to GP anyway: forbidden
        ("provider:carer:5", "K1", "E", "carer"),  # E merged into A: a hard negative
    ])
    hard = pd.DataFrame({"person_a": ["A", "D"], "person_b": ["E", "A"],
                         "kind": ["twins", "same_surname_same_address"]})
    res = evaluate_links(predicted, truth, hard_negatives=hard,
                         declined_keys={"provider:carer:9"})
    within = res["pairwise"]["within_source"]
    assert (within["true_pairs"], within["predicted_pairs"], within["true_positive_pairs"]) \
        == (1, 1, 1)
    overall = res["pairwise"]["overall"]
    # truth: las1-las2 only (D's pair is forbidden); predicted: K1 3 pairs + K2 1 pair
    assert (overall["true_pairs"], overall["predicted_pairs"],
            overall["true_positive_pairs"]) == (1, 4, 1)
    assert res["optout_pairs_linked"] == 1
    assert res["hard_negatives"] == {"pairs": 2, "merged": 1, "by_kind": {"twins": 1}}


def test_counts_match_brute_force_pairs() -> None:
    rng = random.Random(7)
    sources = ["provider:carer", "provider:cared_for", "las", "gp:X"]
    rows = [(f"{rng.choice(sources)}:{i}", f"K{rng.randrange(40)}", f"T{rng.randrange(50)}",
             rng.choice(["carer", "cared_for", "las_person"])) for i in range(200)]
    predicted, truth = _frames(rows)
    declined = {k for k, *_ in rows if k.startswith("provider") and rng.random() < 0.2}
    res = evaluate_links(predicted, truth, declined_keys=declined)

    def pairs(col: int) -> set[tuple[str, str]]:
        groups: dict[str, list[str]] = {}
        for row in rows:
            groups.setdefault(row[col], []).append(row[0])
        return {tuple(sorted(p)) for g in groups.values() for p in itertools.combinations(g, 2)}

    def forbidden(p: tuple[str, str]) -> bool:
        a, b = p
        return (a in declined and not b.startswith("provider")) or (
            b in declined and not a.startswith("provider"))

    pred, true = pairs(1), {p for p in pairs(2) if not forbidden(p)}
    overall = res["pairwise"]["overall"]
    assert overall["predicted_pairs"] == len(pred)
    assert overall["true_pairs"] == len(true)
    assert overall["true_positive_pairs"] == len(pred & true)
    same_source = {p for p in pred & true
                   if p[0].rsplit(":", 1)[0].split(":")[0] == p[1].rsplit(":", 1)[0].split(":")[0]}
    assert res["pairwise"]["within_source"]["true_positive_pairs"] == len(same_source)
    assert res["optout_pairs_linked"] == sum(forbidden(p) for p in pred)


def _record(key: str, first: str, last: str, dob: str | None, nhs: str | None,
            postcode: str = "NR1 1AA") -> dict:
    return make_record(key, key.split(":")[0], "carer", first=first, last=last, dob=dob,
                       nhs=nhs, postcode=postcode)


def test_baseline_links_nhs_and_exact_name_dob_only() -> None:
    records = pd.DataFrame([
        _record("provider:carer:1", "Ann", "Smith", "1950-01-01", valid_nhs(1)),
        _record("las:1", "Annie", "Smyth", "1951-02-02", valid_nhs(1)),      # same NHS
        _record("gp:X:1", "ann", "SMITH", "1950-01-01", None),             # same name+DOB
        _record("provider:carer:2", "Ann", "Smith", "1950-01-02", None),   # DOB differs
        _record("las:2", "Anne", "Smith", "1950-01-01", None),             # first name differs
        _record("gp:X:2", "Bob", "Jones", None, None),                     # DOB missing
        _record("gp:X:3", "Bob", "Jones", None, None),                     # ... so no link
        _record("las:3", "Carl", "Brown", "1960-05-05", "1234567890"),     # invalid NHS
        _record("las:4", "Dave", "Green", "1961-05-05", "1234567890"),     # ... identifies nobody
    ], columns=RECORD_COLUMNS)
    out = deterministic_baseline(records)
    assert list(out.columns) == ["source_record_key", "person_key"]
    key = dict(zip(out.source_record_key, out.person_key, strict=True))
    assert key["provider:carer:1"] == key["las:1"] == key["gp:X:1"]
    others = ["provider:carer:2", "las:2", "gp:X:2", "gp:X:3", "las:3", "las:4"]
    assert len({key[k] for k in others} | {key["las:1"]}) == len(others) + 1


def test_format_markdown_has_every_method_and_scope() -> None:
    predicted, truth = _frames([("las:1", "K", "A", "carer"), ("las:2", "K", "A", "carer")])
    res = evaluate_links(predicted, truth)
    text = format_markdown({"methods": {"carelink": res, "baseline": res}})
    assert "| carelink | across-source |" in text and "| baseline | cared-for |" in text
    assert "hard-negative pairs merged" in text


def test_evidence_groups_split_a_person_where_only_a_name_joins_their_records() -> None:
    from linkage.evaluate import evidence_ceiling, evidence_groups

    records = pd.DataFrame([
        # person A: las and provider share a slipped date of birth, gp shares A's NHS number
        _record("las:1", "Joan", "Smith", "1940-03-05", valid_nhs(1)),
        _record("provider:cared_for:1", "Joan", "Smith", "1940-05-03", None),
        _record("gp:X:9", "Joan", "Smith", None, valid_nhs(1)),
        # ... and a GP mention by name alone, at another postcode: nothing but the name
        _record("gp:X:5:cared_for:1", "J", "Smith", None, None, postcode="NR9 9ZZ"),
        # person B: two mentions by one true carer (C) are one person by the context
        _record("provider:cared_for:2", "Bob", "Jones", None, None, postcode="NR2 2BB"),
        _record("gp:X:7:cared_for:1", "Robert", "Jones", None, None, postcode="NR3 3CC"),
        _record("provider:carer:3", "Cath", "Jones", "1950-01-01", None),
        _record("gp:X:7", "Cath", "Jones", "1950-01-01", None),
        # person D: on a declined file, so its pair with LAS is not a true pair at all
        _record("provider:carer:4", "Dan", "Hill", "1960-01-01", None),
        _record("las:4", "Dan", "Hill", "1960-01-01", None),
    ], columns=RECORD_COLUMNS)
    truth = pd.DataFrame({"source_record_key": records["source_record_key"],
                          "person": ["A", "A", "A", "A", "B", "B", "C", "C", "D", "D"]})
    mentions = [("provider:carer:3", "provider:cared_for:2"), ("gp:X:7", "gp:X:7:cared_for:1")]
    groups = evidence_groups(records, truth, mentions, [], {"provider:carer:4"})
    group = dict(zip(groups["source_record_key"], groups["group"], strict=True))
    assert group["las:1"] == group["provider:cared_for:1"] == group["gp:X:9"]
    assert group["gp:X:5:cared_for:1"] != group["las:1"]
    assert group["provider:cared_for:2"] == group["gp:X:7:cared_for:1"]
    assert group["provider:carer:4"] != group["las:4"]
    # a linkage that found every supported pair but not the name-only one
    predicted = pd.DataFrame({"source_record_key": records["source_record_key"],
                              "person_key": ["a", "a", "a", "x", "b", "b", "c", "c", "d", "e"]})
    res = evidence_ceiling(predicted, groups)
    # true pairs: A 6, B 1, C 1 (D's pair is forbidden); supported: A 3, B 1, C 1
    assert (res["true_pairs"], res["supported_pairs"]) == (8, 5)
    assert res["ceiling"] == pytest.approx(5 / 8) and res["recall_supported"] == 1.0
