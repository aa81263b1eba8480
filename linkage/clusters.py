"""Scoring, clustering and the guards that stop the linkage joining people it must not join.

Splink scores pairs and clusters them by connected components. Connected components chain:
one wrong link joins two whole families. So after clustering every cluster is checked, and
one that breaks a rule is re-clustered from its strongest links down, adding a link only
when the result still obeys the rules:
- no two different valid NHS numbers (an NHS number identifies exactly one person);
- no dates of birth more than two years apart (typos move a date by days, months or a year);
- no person holding both a record from a provider file whose carer declined information
  sharing and an LAS or GP record (the contract's opt-out);
- never a carer and the person they care for as recorded by one source (a provider file's
  carer and cared-for, a GP patient and the person their row names, the two ends of an LAS
  relationship), nor two people one file lists side by side: a household shares surname,
  address and sometimes a first name, and these records say outright they are two people.
LAS merges are forced links: the merged record belongs with the survivor, whatever the
scores say, unless the two hold different valid NHS numbers (`mergeable`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from linkage.context import (
    caring_mentions,
    context_links,
    mention_relationships,
    mutual_links,
)
from linkage.model import predict_links, quiet_splink

log = logging.getLogger(__name__)

MAX_DOB_SPREAD_DAYS = 2 * 366
FORCED_WEIGHT = 1e9
# Match weight (log2 Bayes factor) by which a record with no date of birth or NHS number
# must prefer one of two people it links to; closer than this it is linked to neither.
AMBIGUITY_MARGIN = 5.0


@dataclass
class ClusterResult:
    """Cluster id per record, the scored pairs, and what the guards did."""

    clusters: pd.DataFrame  # source_record_key, cluster_id
    pairs: pd.DataFrame  # every pair linked (at/above the threshold or same NHS number)
    pairs_scored: int
    optout_edges_removed: int = 0
    guard_actions: list[dict] = field(default_factory=list)
    context_links: int = 0  # links added by the relationship-context step
    forced_links: int = 0  # LAS merges joined whatever the scores
    # Pairs through each rule, from those at or above the threshold to those kept (the IG
    # report's flow): above_threshold, same_nhs_number_below_threshold, optout_removed,
    # same_file_removed, first_name_vetoed.
    pair_flow: dict[str, int] = field(default_factory=dict)


class DisjointSets:
    """Union-find with path halving. `join` keeps the smaller root, so the result does not
    depend on the order of the joins; `attach` lets a caller that checks each join (the
    guards) choose which side survives."""

    def __init__(self, items) -> None:
        self.parent = {x: x for x in items}

    def __contains__(self, item: object) -> bool:
        return item in self.parent

    def find(self, item):
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def attach(self, root, to) -> None:
        """Make the set rooted at `root` part of the set rooted at `to`."""
        self.parent[root] = to

    def join(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.attach(max(ra, rb), min(ra, rb))


def predict_pairs(records: pd.DataFrame, settings: dict, threshold: float | None
                  ) -> tuple[pd.DataFrame, int]:
    """(scored pairs as pandas, how many pairs were scored).

    With a threshold only the pairs `linked_mask` may accept leave DuckDB (see
    `linkage.model.predict_links`: at a million records the full prediction does not fit in
    memory); without one, every scored pair (a threshold sweep scores once).
    """
    _, pairs, scored = predict_links(records, settings, threshold)
    return pairs, scored


def linked_mask(pairs: pd.DataFrame, threshold: float) -> pd.Series:
    """Pairs the linkage accepts: at or above the threshold, or sharing a valid NHS number.

    An NHS number names one person; a record giving nothing else (a GP row naming the
    cared-for person by number alone) must still link, though its other fields are empty or
    guessed. The guards still split a cluster the number would wrongly join.
    """
    if pairs.empty:
        return pd.Series(False, index=pairs.index)
    by_prob = pairs["match_probability"] >= threshold
    if "nhs_number_l" in pairs:
        same_nhs = pairs["nhs_number_l"].notna() & (pairs["nhs_number_l"] == pairs["nhs_number_r"])
        return by_prob | same_nhs
    return by_prob


def _is_optout_edge(left: str, right: str, declined: set[str]) -> bool:
    l_dec, r_dec = left in declined, right in declined
    if not (l_dec or r_dec):
        return False
    other = right if l_dec else left
    return not other.startswith("provider:")


def dobs_compatible(a: date, b: date) -> bool:
    """Could two recorded dates of birth be one person's? Within two years, or one keying
    slip apart (one digit, as 1941 for 1951, or day and month transposed)."""
    if abs((a - b).days) <= MAX_DOB_SPREAD_DAYS:
        return True
    sa, sb = a.isoformat(), b.isoformat()
    if sum(x != y for x, y in zip(sa, sb, strict=True)) <= 1:
        return True
    return a.year == b.year and a.month == b.day and a.day == b.month


class _Group:
    """Evidence a (partial) cluster holds, for checking whether two may join."""

    __slots__ = ("nhs", "dobs", "declined", "shared", "members", "blocked")

    def __init__(self, key: str, nhs: str | None, dob: date | None, declined: bool,
                 shared: bool, blocked: set[str]):
        self.members = {key}
        self.blocked = set(blocked)
        self.nhs = {nhs} if nhs else set()
        self.dobs = {dob} if dob else set()
        self.declined = declined
        self.shared = shared

    def compatible(self, other: _Group) -> bool:
        if self.blocked & other.members or other.blocked & self.members:
            return False
        if len(self.nhs | other.nhs) > 1:
            return False
        if (self.declined or other.declined) and (self.shared or other.shared):
            return False
        return all(dobs_compatible(a, b) for a in self.dobs for b in other.dobs)

    def absorb(self, other: _Group) -> None:
        self.members |= other.members
        self.blocked |= other.blocked
        self.nhs |= other.nhs
        self.declined |= other.declined
        self.shared |= other.shared
        self.dobs |= other.dobs


def _as_date(value: object) -> date | None:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _group_for(row: pd.Series, blocked: set[str]) -> _Group:
    dob = _as_date(row["date_of_birth"])
    nhs = row["nhs_number"] if isinstance(row["nhs_number"], str) else None
    key = row["source_record_key"]
    return _Group(key, nhs, dob, bool(row["information_sharing_declined"]),
                  not key.startswith("provider:"), blocked)


def constrained_clusters(keys: list[str], edges: pd.DataFrame, info: pd.DataFrame,
                         forced: list[tuple[str, str]],
                         cannot: dict[str, set[str]] | None = None) -> dict[str, str]:
    """Greedy constrained union: forced links first, then links by falling match weight,
    each taken only when the joined group stays consistent. Returns key → cluster id
    (the smallest member key, so the result does not depend on input order).

    A record with neither a date of birth nor an NHS number cannot itself break a rule, so
    it can sit between two people who may not be joined (a mother and daughter of one name
    and address): it goes with the side its strongest link reaches. When its best link to
    the side it did not join is within AMBIGUITY_MARGIN of its best link to the side it did,
    the scores cannot tell which person it is, and it is left on its own instead. A side
    holding a record a source says is someone else (a cared-for mention's own carer) is no
    rival when that record's own identity settles where it is (a date of birth, a shared NHS
    number): the record cannot be that person. An NHS number no other record holds pins the
    record to nobody, so it counts as no NHS number here.
    """
    cannot = cannot or {}
    cluster = _greedy_union(keys, edges, info, forced, cannot)
    detached = _ambiguous_records(keys, edges, info, forced, cluster, cannot)
    if detached:
        keep = ~(edges["unique_id_l"].isin(detached) | edges["unique_id_r"].isin(detached))
        cluster = _greedy_union(keys, edges[keep], info, forced, cannot)
    return cluster


def _greedy_union(keys: list[str], edges: pd.DataFrame, info: pd.DataFrame,
                  forced: list[tuple[str, str]], cannot: dict[str, set[str]]
                  ) -> dict[str, str]:
    sets = DisjointSets(keys)
    groups = {k: _group_for(info.loc[k], cannot.get(k, set())) for k in keys}

    def union(a: str, b: str, force: bool) -> None:
        ra, rb = sets.find(a), sets.find(b)
        if ra == rb:
            return
        if not force and not groups[ra].compatible(groups[rb]):
            return
        sets.attach(rb, ra)
        groups[ra].absorb(groups[rb])

    for a, b in forced:
        if a in sets and b in sets:
            union(a, b, True)
    ordered = edges.sort_values(["match_weight", "unique_id_l", "unique_id_r"],
                                ascending=[False, True, True])
    # A cared-for mention on a file whose carer declined joins last. The person it names (a
    # parent cared for by two children) may be on a consenting sibling's file too, and that
    # mention's links to LAS and GP records must not be lost to the other child's choice:
    # the declined mention then stays with the provider's records, as the opt-out asks. A
    # carer's own declined file keeps its place: their choice covers them as a person.
    late = [k for k in keys if groups[k].declined and k.startswith("provider:cared_for:")]
    if late:
        last = ordered["unique_id_l"].isin(late) | ordered["unique_id_r"].isin(late)
        ordered = pd.concat([ordered[~last], ordered[last]])
    for a, b in zip(ordered["unique_id_l"], ordered["unique_id_r"], strict=True):
        if a in sets and b in sets:
            union(a, b, False)
    members: dict[str, list[str]] = {}
    for k in keys:
        members.setdefault(sets.find(k), []).append(k)
    return {k: min(ms) for ms in members.values() for k in ms}


def _ambiguous_records(keys: list[str], edges: pd.DataFrame, info: pd.DataFrame,
                       forced: list[tuple[str, str]], cluster: dict[str, str],
                       cannot: dict[str, set[str]] | None = None) -> set[str]:
    """Records without a date of birth or a shared NHS number whose links reach two
    clusters they may join about equally well (see `constrained_clusters`)."""
    cannot = cannot or {}
    pinned = {k for pair in forced for k in pair}
    nhs = info["nhs_number"].where(info["nhs_number"].map(lambda v: isinstance(v, str)))
    shared_nhs = set(nhs[nhs.duplicated(keep=False) & nhs.notna()].index)
    # Records whose place is settled by their own identity (a date of birth, an NHS number
    # another record holds, a forced link): only these bar a rival cluster. Two records
    # without one (a carer and the person on her file, both Victoria Dixon, no dates of
    # birth) would otherwise each be placed by where the greedy union put the other.
    settled = pinned | shared_nhs | {k for k in info.index
                                     if _as_date(info.loc[k, "date_of_birth"]) is not None}
    members: dict[str, set[str]] = {}
    everyone: dict[str, set[str]] = {}
    for k, c in cluster.items():
        everyone.setdefault(c, set()).add(k)
        if k in settled:
            members.setdefault(c, set()).add(k)
    # Declined-file records kept from a cluster holding LAS or GP records are apart by the
    # opt-out, not by who they are: no rival to a consenting record in that cluster.
    declined = set(info.index[info["information_sharing_declined"].astype(bool)])
    optout_apart = {c for c, ms in everyone.items() if ms <= declined}
    shared = {c for c, ms in everyone.items() if any(not m.startswith("provider:") for m in ms)}
    best: dict[str, dict[str, float]] = {}
    for a, b, w in zip(edges["unique_id_l"], edges["unique_id_r"], edges["match_weight"],
                       strict=True):
        if a not in cluster or b not in cluster:
            continue
        for x, y in ((a, b), (b, a)):
            per = best.setdefault(x, {})
            per[cluster[y]] = max(per.get(cluster[y], float("-inf")), float(w))
    out = set()
    for k, per in best.items():
        if k in pinned or len(per) < 2 or _as_date(info.loc[k, "date_of_birth"]) is not None \
                or k in shared_nhs:
            continue
        own = per.get(cluster[k])
        barred = cannot.get(k, set())
        opt_out_only = k not in declined and cluster[k] in shared
        other = max((w for c, w in per.items()
                     if c != cluster[k] and not barred & members.get(c, set())
                     and not (opt_out_only and c in optout_apart)), default=None)
        if own is None or (other is not None and own - other < AMBIGUITY_MARGIN):
            out.add(k)
    return out


def cannot_link(records: pd.DataFrame,
                staged: dict[str, pd.DataFrame] | None = None) -> dict[str, set[str]]:
    """Pairs of records a source itself says are two different people (see module doc)."""
    out: dict[str, set[str]] = {}

    def add_group(keys: list[str]) -> None:
        for k in keys:
            out.setdefault(k, set()).update(x for x in keys if x != k)

    prov = records[records["source"] == "provider"]
    for _, group in prov.groupby("carer_ref")["source_record_key"]:
        if len(group) > 1:
            add_group(group.tolist())
    gp = records[records["source"] == "gp"]["source_record_key"]
    patient_of = gp.str.replace(r":cared_for:\d+$", "", regex=True)
    for _, group in gp.groupby(patient_of):
        if len(group) > 1:
            add_group(group.tolist())
    rel = (staged or {}).get("las_person_relationship")
    if rel is not None and not rel.empty:
        for a, b in zip(rel["person_id"], rel["related_person_id"], strict=True):
            if pd.notna(a) and pd.notna(b) and a != b:
                add_group([f"las:{int(a)}", f"las:{int(b)}"])
    return out


def _violations(info: pd.DataFrame, cannot: dict[str, set[str]]) -> list[str]:
    reasons = []
    keys = set(info["source_record_key"])
    if any(cannot.get(k, set()) & keys for k in keys):
        reasons.append("records_naming_two_people")
    nhs = info["nhs_number"].dropna().unique()
    if len(nhs) > 1:
        reasons.append("conflicting_nhs_numbers")
    dobs = sorted({d for d in (_as_date(v) for v in info["date_of_birth"]) if d})
    if any(not dobs_compatible(a, b) for i, a in enumerate(dobs) for b in dobs[i + 1:]):
        reasons.append("dates_of_birth_apart")
    if info["information_sharing_declined"].any() and (
            ~info["source_record_key"].str.startswith("provider:")).any():
        reasons.append("opt_out_with_las_or_gp")
    return reasons


def first_name_veto(pairs: pd.DataFrame) -> pd.Series:
    """Pairs whose first names plainly disagree and whose NHS numbers do not agree.

    Twins share surname, date of birth, address and postcode: so much agreement that no
    first-name weight can outvote it. Different first names (not a nickname, not a near
    spelling, not an initial) therefore need an NHS number to link.
    """
    if "gamma_first_name" not in pairs or "gamma_nhs_number" not in pairs:
        return pd.Series(False, index=pairs.index)
    nhs_top = pairs["gamma_nhs_number"].max()
    return (pairs["gamma_first_name"] == 0) & ~(
        (pairs["gamma_nhs_number"] == nhs_top) & (nhs_top > 0))


def mergeable(forced: list[tuple[str, str]], nhs: pd.Series
              ) -> tuple[list[tuple[str, str]], list[dict]]:
    """The forced links (LAS merges) that can be followed, and a guard action for each one
    that cannot: a merge that would put two different valid NHS numbers under one person.

    LAS staff merge records they believe are one person; two valid NHS numbers say they are
    two (or that one number is wrong, which nothing here can tell). Following the merge would
    break the rule the nightly's critical check holds, and block every source's load night
    after night, since the merge stays. So the records stay apart and IG sees the refusal.
    """
    sets = DisjointSets({k for pair in forced for k in pair})
    numbers = {k: {nhs.get(k)} for k in sets.parent if isinstance(nhs.get(k), str)}
    kept, refused = [], []
    for a, b in forced:
        ra, rb = sets.find(a), sets.find(b)
        if ra == rb:
            kept.append((a, b))
            continue
        na, nb = numbers.get(ra, set()), numbers.get(rb, set())
        if na and nb and na != nb:
            refused.append({"cluster_size": 2, "reasons": "las_merge_of_two_valid_nhs_numbers",
                            "parts_after": 2})
            continue
        sets.join(a, b)
        numbers[sets.find(a)] = na | nb
        kept.append((a, b))
    return kept, refused


def las_merge_links(staged: dict[str, pd.DataFrame]) -> list[tuple[str, str]]:
    """(merged record, surviving record) pairs from LAS person.merged_into."""
    links: list[tuple[str, str]] = []
    person = staged.get("las_person")
    if person is not None and not person.empty and "merged_into" in person:
        merged = person[person["merged_into"].notna()]
        links += [(f"las:{int(a)}", f"las:{int(b)}")
                  for a, b in zip(merged["person_id"], merged["merged_into"], strict=True)]
    log_ = staged.get("las_person_merge")  # the merge log says the same, sometimes sooner
    if log_ is not None and not log_.empty:
        links += [(f"las:{int(a)}", f"las:{int(b)}")
                  for a, b in zip(log_["old_person_id"], log_["new_person_id"], strict=True)
                  if pd.notna(a) and pd.notna(b)]
    return sorted(set(links))


def _suspect_clusters(out: pd.DataFrame, info: pd.DataFrame, cannot: dict[str, set[str]],
                      cluster_of: dict[str, str]) -> set[str]:
    """Clusters that might break a rule, found with group-bys: a superset of those
    `_violations` condemns (two NHS numbers, dates of birth over two years apart, an opt-out
    with an LAS or GP record, a record naming another). Checking every cluster one by one
    cost a millisecond each, minutes at a million records."""
    columns = ["source_record_key", "nhs_number", "date_of_birth",
               "information_sharing_declined"]
    frame = info.loc[out["source_record_key"], columns].reset_index(drop=True)
    frame["cluster_id"] = out["cluster_id"].to_numpy()
    frame["_dob"] = pd.to_datetime(frame["date_of_birth"], errors="coerce", format="%Y-%m-%d")
    frame["_declined"] = frame["information_sharing_declined"].astype(bool)
    frame["_shared"] = ~frame["source_record_key"].astype(str).str.startswith("provider:")
    grouped = frame.groupby("cluster_id")
    stats = pd.DataFrame({
        "size": grouped.size(), "nhs": grouped["nhs_number"].nunique(),
        "spread": (grouped["_dob"].max() - grouped["_dob"].min()).dt.days,
        "declined": grouped["_declined"].any(), "shared": grouped["_shared"].any()})
    # Most records have some cannot-link partner (a carer and the people on their file); a
    # cluster is suspect only when it holds both ends of one.
    both_ends = {c for a, others in cannot.items() if (c := cluster_of.get(a)) is not None
                 and any(cluster_of.get(b) == c for b in others)}
    suspect = (stats["size"] > 1) & (
        (stats["nhs"] > 1) | (stats["spread"].fillna(0) > MAX_DOB_SPREAD_DAYS)
        | (stats["declined"] & stats["shared"]) | stats.index.isin(both_ends))
    return set(stats.index[suspect])


def repair_clusters(out: pd.DataFrame, edges: pd.DataFrame, info: pd.DataFrame,
                    forced: list[tuple[str, str]], cannot: dict[str, set[str]]) -> list[dict]:
    """Re-cluster each cluster that breaks a rule (`constrained_clusters`), updating `out`
    in place; returns what was done. Only suspect clusters are examined, and each one's
    edges are found by a lookup rather than a scan of every edge."""
    cluster_of = dict(zip(out["source_record_key"], out["cluster_id"], strict=True))
    suspects = _suspect_clusters(out, info, cannot, cluster_of)
    if not suspects:
        return []
    edge_cluster = edges["unique_id_l"].map(cluster_of)
    in_suspect = edge_cluster.isin(suspects).to_numpy()
    edges_of = dict(tuple(edges[in_suspect].groupby(edge_cluster[in_suspect])))
    no_edges = edges.iloc[0:0]
    actions: list[dict] = []
    new_ids: dict[str, str] = {}
    chosen = out[out["cluster_id"].isin(suspects)]
    chosen_info = info.loc[chosen["source_record_key"].tolist()]  # one lookup, not one a cluster
    for cid, member_info in chosen_info.groupby(chosen["cluster_id"].to_numpy(), sort=True):
        members = member_info["source_record_key"]
        reasons = _violations(member_info, cannot)
        if not reasons:
            continue
        mset = set(members)
        sub_edges = edges_of.get(cid, no_edges)
        sub_edges = sub_edges[sub_edges["match_weight"] < FORCED_WEIGHT]
        sub_forced = [(a, b) for a, b in forced if a in mset and b in mset]
        repaired = constrained_clusters(sorted(mset), sub_edges, member_info, sub_forced,
                                        cannot)
        new_ids.update({k: f"{cid}~{new}" for k, new in repaired.items()})
        actions.append({"cluster_size": len(members), "reasons": ",".join(reasons),
                        "parts_after": len(set(repaired.values()))})
    if new_ids:
        out["cluster_id"] = out["source_record_key"].map(new_ids).fillna(out["cluster_id"])
    return actions


def cluster_records(records: pd.DataFrame, settings: dict, threshold: float,
                    forced: list[tuple[str, str]] | None = None,
                    cannot: dict[str, set[str]] | None = None,
                    mentions: list[tuple[str, str]] | None = None,
                    scored: tuple[pd.DataFrame, int] | None = None,
                    relations: dict[tuple[str, str], str] | None = None) -> ClusterResult:
    """Score, drop opt-out edges, cluster with Splink, repair clusters that break a rule,
    then add the relationship-context links (`linkage.context`) under the same guards.

    `mentions` are (carer record, cared-for record) statements; by default those the records
    themselves carry (provider files, GP rows); the nightly adds LAS relationships.
    `scored` is (pairs, pairs scored) from `predict_pairs` at a threshold no higher than this
    one, so that a threshold sweep scores once and clusters at each threshold.
    `relations` says what each carer is to the person mentioned (`mention_relationships`),
    for couples who care for each other.
    Returns one cluster id per record (records no pair reached stay singletons).
    """
    from splink import DuckDBAPI
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    forced = list(forced or [])
    cannot = cannot if cannot is not None else cannot_link(records)
    keys = records["source_record_key"].tolist()
    info = records.set_index("source_record_key", drop=False)
    if len(records) < 2:
        return ClusterResult(pd.DataFrame({"source_record_key": keys, "cluster_id": keys}),
                             pd.DataFrame(), 0)
    if scored is None:
        scored_pairs, n_scored = predict_pairs(records, settings, threshold)
    else:
        scored_pairs, n_scored = scored
    linked = linked_mask(scored_pairs, threshold)
    pairs = scored_pairs[linked].reset_index(drop=True)
    declined = set(records.loc[records["information_sharing_declined"].astype(bool),
                               "source_record_key"])
    above = int((scored_pairs["match_probability"] >= threshold).sum()) if len(pairs) else 0
    flow = {"above_threshold": above, "same_nhs_number_below_threshold": len(pairs) - above,
            "optout_removed": 0, "same_file_removed": 0, "first_name_vetoed": 0}
    optout_removed = 0
    if len(pairs):
        ends = list(zip(pairs["unique_id_l"], pairs["unique_id_r"], strict=True))
        optout = pd.Series([_is_optout_edge(a, b, declined) for a, b in ends], index=pairs.index)
        same_file = pd.Series([b in cannot.get(a, ()) for a, b in ends],
                              index=pairs.index) & ~optout
        veto = first_name_veto(pairs) & ~optout & ~same_file
        optout_removed = int(optout.sum())
        flow.update(optout_removed=optout_removed, same_file_removed=int(same_file.sum()),
                    first_name_vetoed=int(veto.sum()))
        pairs = pairs[~(optout | same_file | veto)].reset_index(drop=True)

    edges = pairs[["unique_id_l", "unique_id_r", "match_probability", "match_weight"]].copy() \
        if len(pairs) else pd.DataFrame(columns=["unique_id_l", "unique_id_r",
                                                 "match_probability", "match_weight"])
    known = set(keys)
    forced, refused = mergeable(
        [(a, b) for a, b in forced if a in known and b in known], info["nhs_number"])
    if forced:
        extra = pd.DataFrame({"unique_id_l": [a for a, _ in forced],
                              "unique_id_r": [b for _, b in forced],
                              "match_probability": 1.0, "match_weight": FORCED_WEIGHT})
        edges = pd.concat([edges, extra], ignore_index=True)

    db = DuckDBAPI()
    nodes = pd.DataFrame({"unique_id": keys})
    with quiet_splink():
        clustered = cluster_pairwise_predictions_at_threshold(
            nodes, edges.astype({"match_probability": float, "match_weight": float}), db,
            node_id_column_name="unique_id", edge_id_column_name_left="unique_id_l",
            edge_id_column_name_right="unique_id_r",
            threshold_match_probability=None).as_pandas_dataframe()
    cluster_of = dict(zip(clustered["unique_id"], clustered["cluster_id"], strict=True))

    out = pd.DataFrame({"source_record_key": keys})
    out["cluster_id"] = out["source_record_key"].map(cluster_of).fillna(out["source_record_key"])
    actions = refused + repair_clusters(out, edges, info, forced, cannot)
    if actions:
        log.info("over-link guard split %d clusters", len(actions))
    if mentions is None:
        mentions = caring_mentions(records)
    cluster_of = dict(zip(out["source_record_key"], out["cluster_id"], strict=True))
    links = context_links(records, cluster_of, mentions, dobs_compatible, relations)
    taken = merge_context_links(out, links, info, cannot, cluster_of)
    if taken:
        # Once two mentions of one person by one source are joined (a re-referral's file
        # naming her again), they are one candidate, not two rivals, and a third mention
        # (a GP row's `M Knight`) may now be unique; a couple's statement about each other
        # may show too. A second pass looks again at the carers whose mentions were joined.
        before = cluster_of
        cluster_of = dict(zip(out["source_record_key"], out["cluster_id"], strict=True))
        moved = {c for k, c in cluster_of.items() if before[k] != c}
        carers = {cluster_of[c] for c, m in mentions
                  if c in cluster_of and cluster_of.get(m) in moved}
        again = [(c, m) for c, m in mentions if cluster_of.get(c) in carers]
        more = context_links(records, cluster_of, again, dobs_compatible)
        if relations:
            more += mutual_links(records, cluster_of, relations, dobs_compatible)
        taken += merge_context_links(out, more, info, cannot, cluster_of)
    if taken:
        log.info("relationship context added %d links", taken)
    return ClusterResult(out, pairs, n_scored, optout_removed, actions, context_links=taken,
                         forced_links=len(forced), pair_flow=flow)


def cluster_staged(records: pd.DataFrame, staged: dict[str, pd.DataFrame], settings: dict,
                   threshold: float, scored: tuple[pd.DataFrame, int] | None = None
                   ) -> ClusterResult:
    """`cluster_records` with everything the staged sources say: LAS merges forced, the
    sources' own cannot-links, every caring mention (LAS relationships included). The
    nightly and training both call this, so a candidate is judged as the night would run."""
    return cluster_records(records, settings, threshold, forced=las_merge_links(staged),
                           cannot=cannot_link(records, staged),
                           mentions=caring_mentions(records, staged), scored=scored,
                           relations=mention_relationships(records, staged))


def merge_context_links(out: pd.DataFrame, links: list[tuple[str, str, int]],
                        info: pd.DataFrame, cannot: dict[str, set[str]],
                        cluster_of: dict[str, str]) -> int:
    """Join the clusters of context-linked records, strongest first, when the joined cluster
    still obeys every rule (the same test the repair uses). Updates `out` in place and
    returns how many links were taken. `cluster_of` is `out` as a dict; only the clusters a
    link touches are examined."""
    if not links:
        return 0
    touched = {cluster_of[k] for a, b, _ in links for k in (a, b)}
    members = (out[out["cluster_id"].isin(touched)]
               .groupby("cluster_id")["source_record_key"].apply(list).to_dict())
    groups: dict[str, _Group] = {}
    for cid, keys in members.items():
        group = _group_for(info.loc[keys[0]], cannot.get(keys[0], set()))
        for k in keys[1:]:
            group.absorb(_group_for(info.loc[k], cannot.get(k, set())))
        groups[cid] = group
    sets = DisjointSets(members)
    taken = 0
    for a, b, _ in sorted(links, key=lambda x: (-x[2], x[0], x[1])):
        ra, rb = sets.find(cluster_of[a]), sets.find(cluster_of[b])
        if ra == rb or not groups[ra].compatible(groups[rb]):
            continue
        keep, gone = min(ra, rb), max(ra, rb)
        sets.attach(gone, keep)
        groups[keep].absorb(groups[gone])
        taken += 1
    if taken:
        out["cluster_id"] = out["cluster_id"].map(lambda c: sets.find(c) if c in sets else c)
    return taken
