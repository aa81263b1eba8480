"""A model's life before approval: train a candidate, evaluate it, choose its threshold.

The nightly uses only the model IG approved (`linkage.model.approve_model`). What IG needs to
approve one is evidence, so each step here writes what it found into the model file itself
(`carelink.evaluation`, `carelink.threshold_evidence`): the evidence travels with the model
and cannot describe a different one. Approval stays a separate, human step.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd

from linkage import clusters as _clusters
from linkage.evaluate import evaluate_links, truth_inputs
from linkage.model import load_model, model_threshold, train_model
from linkage.records import person_records

THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
TARGET_PRECISION = 0.999
_SIZE_BUCKETS = ("1", "2", "3", "4", "5+")


def train_candidate(staged: dict[str, pd.DataFrame], *, models_dir: Path,
                    trained_on: date) -> Path:
    """Train an (unapproved) model on one night's staged tables; the saved model's path."""
    return train_model(person_records(staged), out_dir=Path(models_dir),
                       trained_on=trained_on.isoformat())


def _update_metadata(model_path: Path, **values: object) -> None:
    """Set keys of the model file's `carelink` block, keeping everything else as it was."""
    path = Path(model_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data.setdefault("carelink", {}).update(values)
    path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")


def _size_distribution(clusters: pd.DataFrame) -> dict[str, int]:
    sizes = clusters.groupby("cluster_id").size()
    bucket = sizes.clip(upper=5).astype(str).replace("5", "5+")
    counts = bucket.value_counts()
    return {b: int(counts.get(b, 0)) for b in _SIZE_BUCKETS}


def _scores(result: _clusters.ClusterResult, records: pd.DataFrame,
            truth_dir: Path | None) -> dict:
    out = {
        "records": int(len(records)),
        "pairs_scored": int(result.pairs_scored),
        "pairs_linked": int(len(result.pairs)),
        "persons": int(result.clusters["cluster_id"].nunique()),
        "cluster_sizes": _size_distribution(result.clusters),
        "guard_splits": len(result.guard_actions),
        "optout_edges_removed": int(result.optout_edges_removed),
    }
    if truth_dir is not None:
        predicted = result.clusters.rename(columns={"cluster_id": "person_key"})
        out["truth"] = evaluate_links(predicted, **truth_inputs(Path(truth_dir), records))
    return out


def evaluate_candidate(model_path: Path, staged: dict[str, pd.DataFrame],
                       truth_dir: Path | None = None) -> dict:
    """Link one night with the candidate at its own threshold and record what it did.

    Without truth (a real night) the figures are the shape of the result: pairs linked,
    persons, cluster sizes, guard splits. With a generated county's `truth_dir` they include
    precision, recall and hard-negative merges. Written to `carelink.evaluation`.
    """
    settings, meta = load_model(Path(model_path))
    records = person_records(staged)
    threshold = model_threshold(meta)
    result = _clusters.cluster_staged(records, staged, settings, threshold)
    evaluation = {"threshold": threshold, "with_truth": truth_dir is not None,
                  **_scores(result, records, truth_dir)}
    _update_metadata(model_path, evaluation=evaluation)
    return evaluation


def threshold_sweep(model_path: Path, staged: dict[str, pd.DataFrame], truth_dir: Path,
                    thresholds: tuple[float, ...] = THRESHOLDS) -> list[dict]:
    """Precision, recall, F1 and hard-negative merges at each match-probability threshold.

    Pairs sharing a valid NHS number link at every threshold (see `linked_mask`), so recall
    does not fall to zero at the top of the range.
    """
    settings, _ = load_model(Path(model_path))
    records = person_records(staged)
    inputs = truth_inputs(Path(truth_dir), records)
    # Score once at the lowest threshold; each threshold then clusters a subset of the same
    # pairs, exactly as the nightly would at that threshold.
    pairs, n_scored = _clusters.predict_pairs(records, settings, min(thresholds))
    rows = []
    for t in thresholds:
        result = _clusters.cluster_staged(records, staged, settings, t, scored=(pairs, n_scored))
        predicted = result.clusters.rename(columns={"cluster_id": "person_key"})
        ev = evaluate_links(predicted, **inputs)
        overall = ev["pairwise"]["overall"]
        rows.append({"threshold": t, "precision": overall["precision"],
                     "recall": overall["recall"], "f1": overall["f1"],
                     "pairs_linked": int(len(result.pairs)),
                     "persons": int(result.clusters["cluster_id"].nunique()),
                     "hard_negative_merges": ev["hard_negatives"]["merged"],
                     "optout_pairs_linked": ev["optout_pairs_linked"]})
    return rows


def pick_threshold(table: list[dict], target: float = TARGET_PRECISION) -> tuple[float, str]:
    """(threshold, rule used): the lowest meeting the precision target, else the best F1.

    The lowest such threshold keeps the most recall for the precision IG asked for; a wrong
    link (two people's records shown as one) costs more than a missed one.
    """
    meeting = [r for r in table if r["precision"] >= target]
    if meeting:
        return min(r["threshold"] for r in meeting), f"lowest threshold with precision >= {target}"
    best = max(table, key=lambda r: (r["f1"], r["threshold"]))
    return best["threshold"], f"no threshold reached precision {target}: highest F1"


def choose_threshold(model_path: Path, staged: dict[str, pd.DataFrame],
                     truth_dir: Path) -> float:
    """Sweep thresholds on generated truth, set the model's `threshold` to the chosen one and
    record the table behind it in `threshold_evidence`.

    Refuses an approved model: IG approved it with its threshold, so a new threshold needs a
    new approval (retrain or copy, choose, approve).
    """
    _, meta = load_model(Path(model_path))
    if meta.get("approved_by"):
        raise ValueError(f"{Path(model_path).name} is approved (by {meta['approved_by']}); "
                         "choose a threshold before approval")
    table = threshold_sweep(model_path, staged, truth_dir)
    chosen, rule = pick_threshold(table)
    records = len(person_records(staged))
    _update_metadata(model_path, threshold=chosen, threshold_evidence={
        "rule": rule, "target_precision": TARGET_PRECISION, "chosen": chosen,
        "records": records, "truth": str(truth_dir), "table": table})
    return chosen
