"""Stable, opaque person keys.

A key is `pk_<YYYYMMDD>_<16 hex>`: the night it was first issued, then an HMAC of that night
and a sequence number under the pipeline's secret. Nothing about the person goes in, so a key
cannot be derived from an NHS number or a name; the date prefix is what makes "the older key
survives" decidable from the previous night's `person_xref` alone (the contract's xref has no
creation column), and keys issued the same night are ordered by their text, deterministically.

Rules (warehouse contract): a cluster whose records all carried one key keeps it; a cluster
inheriting several keys keeps the oldest and retires the rest (history rows); a key whose
records split keeps going with the largest part (ties: the part with the smallest record
key); everything else gets a new key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd

KEY_PREFIX = "pk_"


def new_key(secret: str | bytes, issued_on: str, n: int) -> str:
    """The n-th new key of the night `issued_on` (the extract date, ISO).

    Keyed by the night, not the run: a rerun of the night (a re-sent delivery) that finds
    the same new people gives them the same keys its first run did."""
    raw = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(raw, f"{issued_on}:{n}".encode(), hashlib.sha256).hexdigest()[:16]
    return f"{KEY_PREFIX}{issued_on.replace('-', '')}_{digest}"


def key_age(key: str) -> tuple[str, str]:
    """Sort key: older keys first (issue date, then text). Foreign formats sort by text."""
    parts = key.split("_")
    if key.startswith(KEY_PREFIX) and len(parts) == 3 and parts[1].isdigit():
        return parts[1], key
    return "00000000", key


@dataclass
class KeyAssignment:
    xref: pd.DataFrame  # source_record_key, person_key, run_id
    history: pd.DataFrame  # retired_key, surviving_key, run_id
    keys_new: int
    keys_retired: int


def assign_keys(clusters: pd.DataFrame, previous_xref: pd.DataFrame | None, *,
                secret: str | bytes, run_id: str, issued_on: str) -> KeyAssignment:
    """Person key per record from tonight's clusters and last night's xref.

    `clusters` has source_record_key and cluster_id. Deterministic: the same clusters and
    the same previous xref give the same keys.
    """
    prev: dict[str, str] = {}
    if previous_xref is not None and len(previous_xref):
        prev = dict(zip(previous_xref["source_record_key"].astype(str),
                        previous_xref["person_key"].astype(str), strict=True))
    frame = clusters[["source_record_key", "cluster_id"]].copy()
    frame["cluster_id"] = frame["cluster_id"].astype(str)
    frame["old_key"] = frame["source_record_key"].map(prev)

    # 1. each previous key goes with its largest part (by records carrying it)
    carried = frame.dropna(subset=["old_key"])
    counts = (carried.groupby(["old_key", "cluster_id"]).agg(
        n=("source_record_key", "size"), first=("source_record_key", "min")).reset_index())
    counts = counts.sort_values(["old_key", "n", "first"], ascending=[True, False, True])
    home = counts.drop_duplicates("old_key", keep="first")  # old_key -> its cluster

    # 2. each cluster takes the oldest key whose home it is; the other homed keys retire
    chosen: dict[str, str] = {}
    history_rows: list[dict] = []
    for cid, keys in home.groupby("cluster_id")["old_key"]:
        ordered = sorted(keys, key=key_age)
        chosen[cid] = ordered[0]
        history_rows.extend({"retired_key": k, "surviving_key": ordered[0], "run_id": run_id}
                            for k in ordered[1:])

    # 3. new keys, numbered in a stable order (smallest record key of each cluster)
    firsts = frame.groupby("cluster_id")["source_record_key"].min()
    unkeyed = sorted((firsts[c], c) for c in firsts.index if c not in chosen)
    for n, (_, cid) in enumerate(unkeyed, start=1):
        chosen[cid] = new_key(secret, issued_on, n)

    xref = pd.DataFrame({
        "source_record_key": frame["source_record_key"],
        "person_key": frame["cluster_id"].map(chosen),
        "run_id": run_id,
    })
    history = pd.DataFrame(history_rows, columns=["retired_key", "surviving_key", "run_id"])
    return KeyAssignment(xref.reset_index(drop=True), history, len(unkeyed), len(history))


# A GP record's key names its practice (contract: `gp:<practice_ods>:<nhs>`, a cared-for
# mention `…:cared_for:<k>`), so a patient who moves practice arrives under a new key.
_GP_PATIENT = re.compile(r"^gp:[^:]+:(\d{10})$")
_GP_MENTION = re.compile(r"^gp:[^:]+:(\d{10}):cared_for:\d+$")


def _gp_alias(record_key: str) -> tuple[str, str] | None:
    if m := _GP_PATIENT.match(record_key):
        return "patient", m[1]
    if m := _GP_MENTION.match(record_key):
        return "mention", m[1]
    return None


def moved_gp_keys(carried: pd.DataFrame | None, tonight: Iterable[str]
                  ) -> pd.DataFrame | None:
    """`carried` plus, for a GP record new tonight whose patient's NHS number was on another
    practice's register under a key no record present tonight carries, that key: the patient
    moved practice (the old register dropped them, the new one lists them) and stays the
    person they were. A cared-for mention goes with it when the patient names one person at
    each practice; a patient naming several keeps them apart (rows may be in another order).
    """
    if carried is None or not len(carried):
        return carried
    present = set(tonight)
    known = set(carried["source_record_key"])
    in_use = set(carried.loc[carried["source_record_key"].isin(present), "person_key"])
    gone: dict[tuple[str, str], set[str]] = {}
    mentions_gone: Counter[str] = Counter()
    for record, key in zip(carried["source_record_key"], carried["person_key"], strict=True):
        alias = _gp_alias(str(record)) if record not in present else None
        if alias is None:
            continue
        if alias[0] == "mention":
            mentions_gone[alias[1]] += 1
        if key not in in_use:
            gone.setdefault(alias, set()).add(key)
    arrived = [(r, a) for r in sorted(present - known) if (a := _gp_alias(r)) is not None]
    mentions_new = Counter(nhs for _, (kind, nhs) in arrived if kind == "mention")
    rows = []
    for record, alias in arrived:
        keys = gone.get(alias, set())
        if len(keys) != 1:
            continue  # none, or two people's keys: no guess
        if alias[0] == "mention" and not (mentions_gone.get(alias[1]) == 1
                                          and mentions_new.get(alias[1]) == 1):
            continue
        rows.append({"source_record_key": record, "person_key": next(iter(keys))})
    if not rows:
        return carried
    return pd.concat([carried[["source_record_key", "person_key"]], pd.DataFrame(rows)],
                     ignore_index=True)


DORMANT_COLUMNS = ["source_record_key", "person_key", "since"]


def carried_keys(previous_xref: pd.DataFrame | None, dormant: pd.DataFrame | None,
                 history: pd.DataFrame | None) -> pd.DataFrame | None:
    """The key each record carried when last seen, for `assign_keys`: last night's xref, and
    for a record absent last night (a carer missing from one snapshot) the key it had when it
    went, followed through any retirement since, when no record carries that key now. A
    record that comes back unchanged then gets its person's key back, not a new one."""
    if dormant is None or not len(dormant):
        return previous_xref
    surviving = ({} if history is None or not len(history) else
                 dict(zip(history["retired_key"], history["surviving_key"], strict=True)))

    def current(key: str) -> str:
        seen = set()
        while key in surviving and key not in seen:  # a chain of merges, never a loop
            seen.add(key)
            key = surviving[key]
        return key

    present = set() if previous_xref is None else set(previous_xref["source_record_key"])
    in_use = set() if previous_xref is None else set(previous_xref["person_key"])
    back = dormant[~dormant["source_record_key"].isin(present)]
    back = pd.DataFrame({"source_record_key": back["source_record_key"],
                         "person_key": back["person_key"].map(current)})
    # Only a key no record carries now: one that is in use stays with its carriers (the
    # returning record shares it anyway if it joins them), never taken by a tie-break.
    back = back[~back["person_key"].isin(in_use)]
    cols = ["source_record_key", "person_key"]
    frames = [f[cols] for f in (previous_xref, back) if f is not None and len(f)]
    return pd.concat(frames, ignore_index=True) if frames else previous_xref


def dormant_keys(previous_xref: pd.DataFrame | None, dormant: pd.DataFrame | None,
                 tonight: pd.DataFrame, night: date) -> pd.DataFrame:
    """Records keyed before and absent tonight, with the key they had and since when."""
    present = set(tonight["source_record_key"])
    frames = []
    if dormant is not None and len(dormant):
        frames.append(dormant.loc[~dormant["source_record_key"].isin(present), DORMANT_COLUMNS])
    if previous_xref is not None and len(previous_xref):
        gone = previous_xref.loc[~previous_xref["source_record_key"].isin(present),
                                 ["source_record_key", "person_key"]]
        frames.append(gone.assign(since=night))
    if not frames:
        return pd.DataFrame(columns=DORMANT_COLUMNS)
    out = pd.concat(frames, ignore_index=True).drop_duplicates("source_record_key", keep="last")
    return out.sort_values("source_record_key").reset_index(drop=True)
