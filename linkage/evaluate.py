"""How good is the linkage? Pairwise and cluster metrics against generated ground truth.

The synthetic county knows who every record really is (`truth/records.csv`), so the linkage
can be scored rather than argued about. Everything is counted from the contingency table of
(predicted person, true person) cells: the number of record pairs in a group of n records is
C(n, 2), so true positives are the sum over cells of C(n, 2), predicted pairs the sum over
predicted clusters and true pairs the sum over true persons. Nothing enumerates pairs, so a
100,000-record night costs a few group-bys.

Scopes, each with precision / recall / F1:
- `overall`: every pair;
- `within_source` / `across_source`: both records from one source, or from two (cells are
  further keyed by source, and across = overall - within);
- `carers` / `cared_for`: pairs touching at least one record of that role (C(n, 2) minus the
  pairs among the cell's other records), so a carer wrongly joined to a cared-for person
  counts against both. LAS records carry no role of their own (`las_person`): they take their
  true person's role from the person's provider or GP records.

Truth pairs the opt-out forbids (a record on a provider file whose carer declined information
sharing with an LAS or GP record) are not counted as truth: the linkage must not find them.
A predicted pair of that kind is a false positive, and is also reported on its own.

`deterministic_baseline` is the yardstick: what a careful analyst gets with SQL joins.
"""

from __future__ import annotations

import secrets
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from linkage.clusters import DisjointSets

if TYPE_CHECKING:
    from linkage.nightly import LinkOutcome

SCOPES = ("overall", "within_source", "across_source", "carers", "cared_for")
_RESOLVED_ROLES = ("carer", "cared_for")
_ROLE_SCOPE = {"carer": "carers", "cared_for": "cared_for"}


def _c2(n: pd.Series | int) -> Any:
    """Pairs among n records, C(n, 2), elementwise for a Series."""
    return n * (n - 1) // 2


def _prf(tp: int, predicted: int, true: int) -> dict[str, float | int]:
    precision = tp / predicted if predicted else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 6), "recall": round(recall, 6), "f1": round(f1, 6),
            "true_positive_pairs": int(tp), "predicted_pairs": int(predicted),
            "true_pairs": int(true)}


def source_of(keys: pd.Series) -> pd.Series:
    """The source a record key names: the text before the first colon (`las:1203` → las)."""
    return keys.astype(str).str.split(":", n=1).str[0]


def _resolve_roles(frame: pd.DataFrame) -> pd.Series:
    """Role per record; a record without carer/cared_for takes its true person's role."""
    role = frame["role"].astype(str)
    known = frame[role.isin(_RESOLVED_ROLES)]
    if known.empty:
        return role
    person_role = (known.groupby(["person", "role"]).size().reset_index(name="n")
                   .sort_values(["person", "n", "role"], ascending=[True, False, True])
                   .drop_duplicates("person").set_index("person")["role"])
    fallback = frame["person"].map(person_role)
    return role.where(role.isin(_RESOLVED_ROLES), fallback.fillna(role))


def _pair_counts(frame: pd.DataFrame, by: list[str], *, forbidden: bool) -> dict[str, int]:
    """Pair counts per scope for groups `by` (a cell, a predicted or a true cluster).

    With `forbidden`, pairs the opt-out forbids (declined × LAS/GP record) are subtracted:
    within a group they number n_declined × n_shared. They are always across sources, and
    touch a role when either end has it.
    """
    sizes = frame.groupby(by, sort=False).size()
    total = int(_c2(sizes).sum())
    within = int(_c2(frame.groupby([*by, "_source"], sort=False).size()).sum())
    out = {"overall": total, "within_source": within, "across_source": total - within}
    for role in _RESOLVED_ROLES:
        other = frame[frame["_role"] != role].groupby(by, sort=False).size()
        other = other.reindex(sizes.index, fill_value=0)
        out[_ROLE_SCOPE[role]] = int((_c2(sizes) - _c2(other)).sum())
    if forbidden and frame["_declined"].any():
        g = frame.groupby(by, sort=False)
        dec, shared = g["_declined"].sum(), g["_shared"].sum()
        bad = frame[frame["_declined"] | frame["_shared"]]
        n_bad = int((dec * shared).sum())
        out["overall"] -= n_bad
        out["across_source"] -= n_bad
        for role in _RESOLVED_ROLES:
            # forbidden pairs with neither end of this role: declined_not_role × shared_not_role
            nr = bad[bad["_role"] != role].groupby(by, sort=False)
            dec_nr = nr["_declined"].sum().reindex(sizes.index, fill_value=0)
            sh_nr = nr["_shared"].sum().reindex(sizes.index, fill_value=0)
            out[_ROLE_SCOPE[role]] -= n_bad - int((dec_nr * sh_nr).sum())
    return {k: int(v) for k, v in out.items()}


def evaluate_links(predicted: pd.DataFrame, truth: pd.DataFrame, *,
                   roles: pd.DataFrame | None = None,
                   hard_negatives: pd.DataFrame | None = None,
                   declined_keys: set[str] | None = None) -> dict:
    """Pairwise and cluster metrics of `predicted` against `truth` (see the module doc).

    predicted: source_record_key, person_key. truth: source_record_key, person (and role).
    roles: source_record_key, role, overriding truth's role column. hard_negatives:
    person_a, person_b (and kind): true persons who look alike and must stay apart.
    declined_keys: records on a declined provider file; their truth pairs with LAS or GP
    records are not counted, and predicting one is a false positive. Only records in both
    frames are scored; the counts of the rest are returned so that a gap is visible.
    """
    pred = predicted[["source_record_key", "person_key"]].astype({"source_record_key": str})
    tru = truth[["source_record_key", "person", *(["role"] if "role" in truth else [])]].copy()
    tru["source_record_key"] = tru["source_record_key"].astype(str)
    if roles is not None:
        tru = tru.drop(columns="role", errors="ignore").merge(
            roles[["source_record_key", "role"]].astype(str), on="source_record_key",
            how="left")
    if "role" not in tru:
        tru["role"] = "unknown"
    tru["role"] = tru["role"].fillna("unknown")
    frame = pred.merge(tru, on="source_record_key", how="inner")
    frame["_source"] = source_of(frame["source_record_key"])
    frame["_role"] = _resolve_roles(frame) if len(frame) else frame["role"]
    declined = set(declined_keys or ())
    frame["_declined"] = frame["source_record_key"].isin(declined)
    frame["_shared"] = ~frame["_source"].eq("provider")

    tp = _pair_counts(frame, ["person_key", "person"], forbidden=True)
    pp = _pair_counts(frame, ["person_key"], forbidden=False)
    tt = _pair_counts(frame, ["person"], forbidden=True)
    pairwise = {scope: _prf(tp[scope], pp[scope], tt[scope]) for scope in SCOPES}
    optout_linked = pp["overall"] - _pair_counts(frame, ["person_key"], forbidden=True)[
        "overall"] if declined else 0

    n = len(frame)
    cells = frame.groupby(["person_key", "person"], sort=False).size().rename("n").reset_index()
    cells["n_pred"] = cells["person_key"].map(frame.groupby("person_key").size())
    cells["n_true"] = cells["person"].map(frame.groupby("person").size())
    clusters_per_person = cells.groupby("person").size()
    persons_per_cluster = cells.groupby("person_key").size()
    cluster = {
        "records": n,
        "true_persons": int(frame["person"].nunique()),
        "predicted_persons": int(frame["person_key"].nunique()),
        "bcubed_precision": round(float((cells["n"] ** 2 / cells["n_pred"]).sum() / n), 6)
        if n else 1.0,
        "bcubed_recall": round(float((cells["n"] ** 2 / cells["n_true"]).sum() / n), 6)
        if n else 1.0,
        "share_true_persons_in_one_cluster": round(float((clusters_per_person == 1).mean()), 6)
        if n else 1.0,
        "share_predicted_clusters_pure": round(float((persons_per_cluster == 1).mean()), 6)
        if n else 1.0,
    }
    return {
        "pairwise": pairwise,
        "cluster": cluster,
        "hard_negatives": hard_negative_merges(frame, hard_negatives),
        "optout_pairs_linked": int(optout_linked),
        "coverage": {
            "scored": n,
            "predicted_not_in_truth": int((~pred["source_record_key"].isin(
                tru["source_record_key"])).sum()),
            "truth_not_predicted": int((~tru["source_record_key"].isin(
                pred["source_record_key"])).sum()),
        },
    }


def hard_negative_merges(frame: pd.DataFrame, hard_negatives: pd.DataFrame | None) -> dict:
    """How many look-alike pairs of true persons share a predicted person (by kind)."""
    if hard_negatives is None or hard_negatives.empty:
        return {"pairs": 0, "merged": 0, "by_kind": {}}
    hn = hard_negatives.copy()
    if "kind" not in hn:
        hn["kind"] = "hard_negative"
    hn = hn[["person_a", "person_b", "kind"]].drop_duplicates()
    where = frame[["person", "person_key"]].drop_duplicates()
    a = hn.merge(where, left_on="person_a", right_on="person").drop(columns="person")
    both = a.merge(where, left_on=["person_b", "person_key"],
                   right_on=["person", "person_key"])
    merged = both[["person_a", "person_b", "kind"]].drop_duplicates()
    by_kind = merged.groupby("kind").size()
    return {"pairs": int(len(hn)), "merged": int(len(merged)),
            "by_kind": {str(k): int(v) for k, v in by_kind.items()}}


# --- what any linkage could find ------------------------------------------------------------


def _slip_apart(a: str, b: str) -> bool:
    """Dates of birth (ISO) equal, day and month transposed, or one digit apart."""
    if a == b or sum(x != y for x, y in zip(a, b, strict=True)) <= 1:
        return True
    return a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]


def evidence_groups(records: pd.DataFrame, truth: pd.DataFrame,
                    mentions: list[tuple[str, str]], forced: list[tuple[str, str]],
                    declined_keys: set[str] | None = None) -> pd.DataFrame:
    """Split each true person's records into the groups that evidence other than a name joins.

    Two records of one person are joined when they share a valid NHS number, dates of birth
    that agree or are one keying slip apart, a postcode or an address; when both are
    mentioned as cared for by records of one true carer (the relationship context at its
    best); or when LAS merged one into the other (`forced`). Records joined only through a
    name fall in different groups. Pairs within a group are what a linkage could find
    without linking on names alone: their share of all true pairs is a ceiling on recall for
    any method held to high precision, and recall over them says how close a method comes.

    Records on a declined provider file count as a person of their own here (the opt-out
    lets them link only within the provider), so the forbidden pairs are not counted.

    Returns source_record_key, person (the true person) and group ("person#n").
    """
    frame = records[["source_record_key", "nhs_number", "date_of_birth", "postcode",
                     "address"]].merge(truth[["source_record_key", "person"]],
                                       on="source_record_key")
    declined = frame["source_record_key"].isin(set(declined_keys or ()))
    frame.loc[declined, "person"] = frame.loc[declined, "person"] + "|declined"
    keys = frame["source_record_key"].tolist()
    index = {k: i for i, k in enumerate(keys)}
    sets = DisjointSets(range(len(keys)))
    join = sets.join

    for column in ("nhs_number", "postcode", "address"):
        shared = frame[frame[column].notna()]
        for members in shared.groupby(["person", column], sort=False).indices.values():
            for i in members[1:]:
                join(int(shared.index[members[0]]), int(shared.index[i]))
    dated = frame[frame["date_of_birth"].notna()]
    for members in dated.groupby("person", sort=False).indices.values():
        rows = [(int(dated.index[i]), str(dated["date_of_birth"].iat[i])) for i in members]
        for n, (i, a) in enumerate(rows):
            for j, b in rows[n + 1:]:
                if _slip_apart(a, b):
                    join(i, j)
    person_of = dict(zip(frame["source_record_key"], frame["person"], strict=True))
    by_carer: dict[tuple[str, str], int] = {}
    for carer, cared in mentions:
        if carer in person_of and cared in person_of:
            slot = (person_of[carer], person_of[cared])
            if slot in by_carer:
                join(by_carer[slot], index[cared])
            else:
                by_carer[slot] = index[cared]
    for a, b in forced:
        if a in index and b in index and person_of[a] == person_of[b]:
            join(index[a], index[b])
    out = frame[["source_record_key", "person"]].copy()
    out["group"] = out["person"] + "#" + pd.Series([str(sets.find(i)) for i in range(len(keys))],
                                                   index=out.index)
    return out


def evidence_ceiling(predicted: pd.DataFrame, groups: pd.DataFrame) -> dict[str, float | int]:
    """Recall against every true pair and against the pairs evidence beyond a name supports.

    `groups` is `evidence_groups`'s output. `ceiling` is the share of true pairs that lie
    within a group; `recall_supported` the share of those pairs `predicted` puts together.
    """
    frame = predicted[["source_record_key", "person_key"]].merge(groups, on="source_record_key")
    true_pairs = int(_c2(frame.groupby("person").size()).sum())
    supported = int(_c2(frame.groupby("group").size()).sum())
    found = int(_c2(frame.groupby(["group", "person_key"]).size()).sum())
    return {"true_pairs": true_pairs, "supported_pairs": supported,
            "ceiling": round(supported / true_pairs, 6) if true_pairs else 1.0,
            "recall_supported": round(found / supported, 6) if supported else 1.0}


# --- the deterministic baseline ---------------------------------------------------------------


def deterministic_baseline(records: pd.DataFrame) -> pd.DataFrame:
    """Person per record by exact rules only: same valid NHS number, or the same normalised
    first name, last name and date of birth (all present), closed transitively.

    Works on the canonical person records (`linkage.records.person_records`), so it gets the
    same cleaning as the model and the comparison measures the model, not the normalisers.
    No guards and no opt-out: that is the point of a baseline.
    """
    keys = records["source_record_key"].astype(str).tolist()
    sets = DisjointSets(range(len(keys)))
    rules = [["nhs_number"], ["first_name", "last_name", "date_of_birth"]]
    for cols in rules:
        sub = records[cols].reset_index(drop=True)
        ok = sub.notna().all(axis=1) & (sub.astype(str) != "").all(axis=1)
        sub = sub[ok]
        if sub.empty:
            continue
        first = sub.groupby(cols, sort=False).ngroup()
        anchor = pd.Series(sub.index, index=sub.index).groupby(first.values).transform("min")
        for i, j in zip(sub.index, anchor, strict=True):
            if i != j:
                sets.join(int(i), int(j))
    roots = [sets.find(i) for i in range(len(keys))]
    return pd.DataFrame({"source_record_key": keys,
                         "person_key": [f"baseline:{keys[r]}" for r in roots]})


# --- a whole county -----------------------------------------------------------------------------


def declined_record_keys(records: pd.DataFrame, declined_refs: set[str]) -> set[str]:
    """Provider records (carer and cared-for) on the files of carers who declined sharing."""
    prov = records[(records["source"] == "provider")
                   & records["carer_ref"].astype(str).isin(declined_refs)]
    return set(prov["source_record_key"])


def truth_inputs(truth_dir: Path, records: pd.DataFrame) -> dict[str, Any]:
    """truth, hard_negatives and declined_keys for `evaluate_links`, from a county's truth."""
    truth_dir = Path(truth_dir)
    truth = pd.read_csv(truth_dir / "records.csv", dtype=str)
    hard = truth_dir / "hard_negatives.csv"
    declined_file = truth_dir / "information_sharing_declined.csv"
    refs = set(pd.read_csv(declined_file, dtype=str)["carer_ref"]) if declined_file.exists() \
        else set()
    return {"truth": truth,
            "hard_negatives": pd.read_csv(hard, dtype=str) if hard.exists() else None,
            "declined_keys": declined_record_keys(records, refs)}


def stage_county(county_dir: Path, *, extract_date: date, work_dir: Path
                 ) -> dict[str, pd.DataFrame]:
    """Extract and stage one night of a generated county into `work_dir`; the staged tables."""
    import warehouse
    from carelink.config import Settings
    from carelink.pipeline import stage_night

    settings = Settings.from_env({"CARELINK_DATA_DIR": str(work_dir)},
                                 landing_dir=Path(county_dir) / "landing")
    outcome = stage_night(settings, extract_date, gate=False)
    if outcome.errors:
        raise RuntimeError(f"staging failed: {outcome.errors}")
    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        return warehouse.read_staging(engine)
    finally:
        engine.dispose()


def link_county(county_dir: Path, *, extract_date: date, work_dir: Path, models_dir: Path
                ) -> tuple[dict[str, pd.DataFrame], LinkOutcome]:
    """Stage one night of a generated county and link it exactly as the nightly does, so that
    what an evaluation scores is what a night produces.

    The night runs with a fresh random secret and no previous night, so keys are new and
    meaningless outside this run; the approved model in `models_dir` is used when there is
    one, else a bootstrap model is trained there (as the nightly would). The linkage folder
    `expectations.nightly.check_night` reads is `work_dir / "linkage"`.
    """
    from linkage.nightly import link_night

    work_dir = Path(work_dir)
    staged = stage_county(county_dir, extract_date=extract_date, work_dir=work_dir)
    outcome = link_night(staged, {}, models_dir=Path(models_dir),
                         secret=secrets.token_hex(32), run_id=f"evaluate__{extract_date}",
                         extract_date=extract_date, out_dir=work_dir / "linkage",
                         report_dir=work_dir / "report")
    return staged, outcome


def evaluate_county(county_dir: Path, *, extract_date: date, work_dir: Path,
                    models_dir: Path) -> dict:
    """Link a generated county's night as the nightly does (`link_county`) and score carelink
    and the deterministic baseline against the county's truth."""
    from linkage.clusters import las_merge_links
    from linkage.context import caring_mentions
    from linkage.records import person_records

    county_dir = Path(county_dir)
    staged, outcome = link_county(county_dir, extract_date=extract_date, work_dir=work_dir,
                                  models_dir=models_dir)
    linked = pd.read_parquet(outcome.files["records"])
    records = person_records(staged)
    inputs = truth_inputs(county_dir / "truth", records)
    groups = evidence_groups(records, inputs["truth"], caring_mentions(records, staged),
                             las_merge_links(staged), inputs["declined_keys"])
    baseline = deterministic_baseline(records)
    return {
        "county": str(county_dir), "extract_date": extract_date.isoformat(),
        "records": len(records), "model_version": outcome.model_version,
        "threshold": outcome.threshold,
        "methods": {
            "carelink": evaluate_links(linked, **inputs),
            "baseline": evaluate_links(baseline, **inputs),
        },
        "evidence": {"carelink": evidence_ceiling(linked, groups),
                     "baseline": evidence_ceiling(baseline, groups)},
    }


def format_markdown(results: dict) -> str:
    """Markdown table: method × scope → precision, recall, F1, plus the cluster and guard
    figures. `results` is `evaluate_county`'s output (or any dict with `methods`)."""
    lines = ["| method | scope | precision | recall | F1 | true pairs | predicted pairs |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for method, res in results["methods"].items():
        for scope in SCOPES:
            m = res["pairwise"][scope]
            lines.append(f"| {method} | {scope.replace('_', '-')} | {m['precision']:.4f} | "
                         f"{m['recall']:.4f} | {m['f1']:.4f} | {m['true_pairs']:,} | "
                         f"{m['predicted_pairs']:,} |")
    lines += ["", "| method | hard-negative pairs merged | opt-out pairs linked | "
              "B-cubed precision | B-cubed recall | true persons in one cluster |",
              "| --- | --- | --- | --- | --- | --- |"]
    for method, res in results["methods"].items():
        hn, cl = res["hard_negatives"], res["cluster"]
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(hn["by_kind"].items()))
        lines.append(f"| {method} | {hn['merged']} of {hn['pairs']:,}"
                     f"{f' ({kinds})' if kinds else ''} | {res['optout_pairs_linked']} | "
                     f"{cl['bcubed_precision']:.4f} | {cl['bcubed_recall']:.4f} | "
                     f"{cl['share_true_persons_in_one_cluster']:.4f} |")
    if "evidence" in results:
        lines += ["", "| method | true pairs | pairs evidence beyond a name supports | "
                  "ceiling on recall | recall over supported pairs |",
                  "| --- | --- | --- | --- | --- |"]
        for method, ev in results["evidence"].items():
            lines.append(f"| {method} | {ev['true_pairs']:,} | {ev['supported_pairs']:,} | "
                         f"{ev['ceiling']:.4f} | {ev['recall_supported']:.4f} |")
    return "\n".join(lines) + "\n"
