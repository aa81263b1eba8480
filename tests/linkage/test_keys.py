"""Person keys: stable, oldest survives a merge, the larger part keeps a split key."""

from __future__ import annotations

import pandas as pd

from linkage.keys import assign_keys, new_key


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
