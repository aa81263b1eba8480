"""Person keys: stable, oldest survives a merge, the larger part keeps a split key."""

from __future__ import annotations

from datetime import date

import pandas as pd

from linkage.keys import assign_keys, carried_keys, dormant_keys, new_key


def _clusters(mapping: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"source_record_key": list(mapping), "cluster_id": list(mapping.values())})


def _assign(mapping, previous=None, run="r1", day="2026-11-24"):
    return assign_keys(_clusters(mapping), previous, secret="s", run_id=run, issued_on=day)


def test_same_input_gives_same_keys() -> None:
    mapping = {"a": "1", "b": "1", "c": "2"}
    first, again = _assign(mapping), _assign(mapping)
    assert first.xref.equals(again.xref)
    assert first.keys_new == 2
    # a second night with yesterday's xref keeps every key and issues none
    night2 = _assign(mapping, first.xref, run="r2", day="2026-11-25")
    assert dict(zip(night2.xref.source_record_key, night2.xref.person_key, strict=True)) == \
        dict(zip(first.xref.source_record_key, first.xref.person_key, strict=True))
    assert night2.keys_new == 0 and night2.history.empty


def test_keys_are_not_derived_from_identifiers() -> None:
    key = new_key("secret", "2026-11-24", 1)
    assert key.startswith("pk_20261124_") and len(key) == len("pk_20261124_") + 16
    assert new_key("other", "2026-11-24", 1) != key


def test_merge_keeps_the_older_key_and_records_history() -> None:
    old = pd.DataFrame({"source_record_key": ["a", "b"],
                        "person_key": [new_key("s", "2026-11-25", 1),
                                       new_key("s", "2026-11-20", 1)], "run_id": "r0"})
    result = _assign({"a": "x", "b": "x"}, old, run="r2", day="2026-11-26")
    assert set(result.xref.person_key) == {old.person_key[1]}
    assert result.history.to_dict("records") == [
        {"retired_key": old.person_key[0], "surviving_key": old.person_key[1], "run_id": "r2"}]
    assert result.keys_retired == 1


def test_split_keeps_key_with_larger_part() -> None:
    old = pd.DataFrame({"source_record_key": ["a", "b", "c"], "person_key": "pk_20260101_k",
                        "run_id": "r0"})
    result = _assign({"a": "1", "b": "2", "c": "2"}, old, run="r2")
    keys = dict(zip(result.xref.source_record_key, result.xref.person_key, strict=True))
    assert keys["b"] == keys["c"] == "pk_20260101_k"
    assert keys["a"] != "pk_20260101_k" and result.keys_new == 1


def test_history_is_cumulative_and_rerun_safe() -> None:
    from linkage.nightly import cumulative_history

    past = pd.DataFrame([{"retired_key": "k2", "surviving_key": "k1", "run_id": "r1"}])
    tonight = pd.DataFrame([{"retired_key": "k4", "surviving_key": "k3", "run_id": "r2"}])
    both = cumulative_history(past, tonight)
    assert list(both.retired_key) == ["k2", "k4"]
    assert cumulative_history(both, tonight.iloc[0:0]).equals(both)


def test_a_rerun_of_the_night_issues_the_same_new_keys() -> None:
    """New keys follow the night, not the run: rerunning a night from the same starting
    point gives the people new that night the keys the first run gave them."""
    first = _assign({"a": "x", "b": "y"}, None, run="first", day="2026-11-24")
    again = _assign({"a": "x", "b": "y"}, None, run="rerun", day="2026-11-24")
    assert first.xref.person_key.tolist() == again.xref.person_key.tolist()
    other_night = _assign({"a": "x", "b": "y"}, None, run="first", day="2026-11-25")
    assert set(other_night.xref.person_key).isdisjoint(first.xref.person_key)


def _night(mapping, previous, run, day):
    """One night as `linkage.nightly.link_night` keys it: (xref, history, dormant)."""
    xref, history, dormant = previous
    keys = _assign(mapping, carried_keys(xref, dormant, history), run=run, day=day)
    history = pd.concat([history, keys.history], ignore_index=True)
    return keys.xref, history, dormant_keys(xref, dormant, keys.xref, date.fromisoformat(day))


def test_a_record_absent_for_a_night_comes_back_to_its_key() -> None:
    """A provider-only carer missing from one snapshot: when the file returns unchanged, its
    records get their person's key back, not a new one; an absent record whose key was
    retired meanwhile comes back to the surviving key."""
    empty = pd.DataFrame(columns=["retired_key", "surviving_key", "run_id"])
    n1 = _night({"carer": "1", "cared": "1", "las": "2", "gp": "3"}, (None, empty, None),
                "r1", "2026-11-22")
    key = dict(zip(n1[0].source_record_key, n1[0].person_key, strict=True))
    n2 = _night({"las": "2", "gp": "2"}, n1, "r2", "2026-11-23")  # carer file gone; a merge
    assert sorted(n2[2].source_record_key) == ["cared", "carer"]
    assert set(n2[2].since) == {date(2026, 11, 23)}
    n3 = _night({"carer": "1", "cared": "1", "las": "2", "gp": "2"}, n2, "r3", "2026-11-24")
    now = dict(zip(n3[0].source_record_key, n3[0].person_key, strict=True))
    assert now["carer"] == now["cared"] == key["carer"]  # back to its key
    assert n3[2].empty  # nobody absent now
    # a key another record carries now stays with it: a returning record does not take it
    n4 = _night({"carer": "1", "cared": "1", "las": "2"}, n3, "r4", "2026-11-25")
    n5 = _night({"carer": "1", "cared": "1", "las": "2", "gp": "9"}, n4, "r5", "2026-11-26")
    back = dict(zip(n5[0].source_record_key, n5[0].person_key, strict=True))
    assert back["las"] == now["las"] and back["gp"] not in now.values()


def test_an_absent_record_whose_key_was_retired_comes_back_to_the_survivor() -> None:
    empty = pd.DataFrame(columns=["retired_key", "surviving_key", "run_id"])
    n0 = _night({"x": "2"}, (None, empty, None), "r0", "2026-11-21")  # x's key is older
    n1 = _night({"y1": "1", "y2": "1", "x": "2"}, n0, "r1", "2026-11-22")
    key = dict(zip(n1[0].source_record_key, n1[0].person_key, strict=True))
    n2 = _night({"y2": "1", "x": "1"}, n1, "r2", "2026-11-23")  # y1 away; y2 merges with x
    survivor = n2[0].person_key.iloc[0]
    assert len(n2[1]) == 1 and n2[1].surviving_key.iloc[0] == survivor
    retired = n2[1].retired_key.iloc[0]
    n3 = _night({"z": "5"}, n2, "r3", "2026-11-24")  # everyone away but a stranger
    n4 = _night({"y1": "1"}, n3, "r4", "2026-11-25")  # y1 alone comes back
    assert key["y1"] == retired and survivor == key["x"]
    assert n4[0].person_key.tolist() == [survivor]


def test_a_patient_who_moves_practice_keeps_their_key() -> None:
    """The old practice's register drops the patient and a new one lists them: their GP
    record arrives under a new key (the practice is in it), and is the person it was. The
    cared-for mention goes with it when one person is named at each practice."""
    from linkage.keys import moved_gp_keys

    nhs, other = "9434765919", "4010232137"
    night1 = _assign({f"gp:A1:{nhs}": "1", f"gp:A1:{nhs}:cared_for:1": "2",
                      f"gp:A1:{other}": "3", f"gp:A1:{other}:cared_for:1": "4",
                      f"gp:A1:{other}:cared_for:2": "5"})
    before = dict(zip(night1.xref.source_record_key, night1.xref.person_key, strict=True))
    tonight = {f"gp:B2:{nhs}": "1", f"gp:B2:{nhs}:cared_for:1": "2",
               f"gp:B2:{other}": "3", f"gp:B2:{other}:cared_for:1": "4",
               f"gp:B2:{other}:cared_for:2": "5"}
    carried = moved_gp_keys(night1.xref, tonight)
    night2 = _assign(tonight, carried, run="r2", day="2026-11-25")
    after = dict(zip(night2.xref.source_record_key, night2.xref.person_key, strict=True))
    assert after[f"gp:B2:{nhs}"] == before[f"gp:A1:{nhs}"]
    assert after[f"gp:B2:{nhs}:cared_for:1"] == before[f"gp:A1:{nhs}:cared_for:1"]
    assert after[f"gp:B2:{other}"] == before[f"gp:A1:{other}"]
    # two people named: which is which is not guessed from the row order
    assert after[f"gp:B2:{other}:cared_for:1"] not in before.values()
    assert night2.keys_new == 2 and night2.history.empty
    # a key still carried tonight (the old practice still lists them) is not borrowed
    both = {**tonight, f"gp:A1:{nhs}": "9"}
    kept = moved_gp_keys(night1.xref, both)
    assert f"gp:B2:{nhs}" not in set(kept["source_record_key"])
