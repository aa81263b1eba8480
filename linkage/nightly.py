"""One night's linkage: records → model → clusters → stable keys → relationships → files.

The outputs are files (parquet in the night's work folder) rather than warehouse writes, so
the load step can put every linkage table in place in one transaction, and a rerun of the
same night rewrites the same files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from linkage.clusters import cluster_staged
from linkage.ig_report import IgReportInputs, write_ig_report
from linkage.keys import assign_keys, carried_keys, dormant_keys, moved_gp_keys
from linkage.model import current_model, load_model, model_threshold, train_model
from linkage.records import person_records
from linkage.relationships import resolve_relationships

log = logging.getLogger(__name__)

LINKAGE_RUN_COLUMNS = ["run_id", "run_date", "model_version", "records_in", "persons_out",
                       "pairs_scored", "pairs_linked", "threshold", "keys_retired", "keys_new"]


@dataclass
class LinkOutcome:
    """What the night's linkage produced, for dq.linkage_runs and the task log."""

    run_id: str
    run_date: date
    model_version: str
    threshold: float
    records_in: int
    persons_out: int
    pairs_scored: int
    pairs_linked: int
    keys_new: int
    keys_retired: int
    optout_edges_removed: int = 0
    guard_splits: int = 0
    context_links: int = 0
    files: dict[str, Path] = field(default_factory=dict)
    report: Path | None = None

    def linkage_run_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "run_id": self.run_id, "run_date": self.run_date,
            "model_version": self.model_version, "records_in": self.records_in,
            "persons_out": self.persons_out, "pairs_scored": self.pairs_scored,
            "pairs_linked": self.pairs_linked, "threshold": self.threshold,
            "keys_retired": self.keys_retired, "keys_new": self.keys_new,
        }], columns=LINKAGE_RUN_COLUMNS)

    def summary(self) -> dict:
        """Counts only: safe for logs (no identifiers)."""
        return {"run_id": self.run_id, "model_version": self.model_version,
                "records_in": self.records_in, "persons_out": self.persons_out,
                "pairs_linked": self.pairs_linked, "keys_new": self.keys_new,
                "keys_retired": self.keys_retired, "guard_splits": self.guard_splits,
                "optout_edges_removed": self.optout_edges_removed,
                "context_links": self.context_links}


def resolve_model(records: pd.DataFrame, models_dir: Path, extract_date: date
                  ) -> tuple[dict, dict, str]:
    """(settings, metadata, model_version): the approved model, else a bootstrap one.

    A bootstrap model is trained on tonight's records and saved beside the others so that
    someone can review and approve it; until then every run says it used an unapproved one.
    """
    approved = current_model(models_dir)
    if approved is not None:
        settings, meta = load_model(approved)
        return settings, meta, approved.stem
    path = train_model(records, out_dir=Path(models_dir), trained_on=extract_date.isoformat())
    settings, meta = load_model(path)
    log.warning("no approved linkage model: using unapproved bootstrap model %s", path.name)
    return settings, meta, f"unapproved-bootstrap:{path.name}"


def link_night(staged: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame] | None, *,
               models_dir: Path, secret: str | bytes, run_id: str, extract_date: date,
               out_dir: Path, report_dir: Path) -> LinkOutcome:
    """Link everyone staged, keep keys stable against `previous`, write the night's files."""
    out_dir, report_dir = Path(out_dir), Path(report_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = person_records(staged)
    settings, meta, version = resolve_model(records, Path(models_dir), extract_date)
    threshold = model_threshold(meta)
    result = cluster_staged(records, staged, settings, threshold)
    prev_xref = (previous or {}).get("person_xref")
    prev_dormant = (previous or {}).get("person_key_dormant")
    carried = carried_keys(prev_xref, prev_dormant, (previous or {}).get("person_key_history"))
    carried = moved_gp_keys(carried, result.clusters["source_record_key"])
    keys = assign_keys(result.clusters, carried, secret=secret, run_id=run_id,
                       issued_on=extract_date.isoformat())
    dormant = dormant_keys(prev_xref, prev_dormant, keys.xref, extract_date)
    relationships, endings = resolve_relationships(staged, keys.xref)
    relationships["run_id"] = run_id

    history = cumulative_history((previous or {}).get("person_key_history"), keys.history)
    recs_out = records[["source_record_key", "role", "source"]].merge(
        keys.xref[["source_record_key", "person_key"]], on="source_record_key")
    recs_out = recs_out[["source_record_key", "person_key", "role", "source"]]
    files = {
        "person_xref": keys.xref, "person_key_history": history,
        "person_key_dormant": dormant,
        "caring_relationship": relationships, "caring_relationship_ending": endings,
        "records": recs_out,
    }
    paths = {}
    for name, frame in files.items():
        path = out_dir / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        paths[name] = path
    outcome = LinkOutcome(
        run_id=run_id, run_date=extract_date, model_version=version, threshold=threshold,
        records_in=len(records), persons_out=int(keys.xref["person_key"].nunique()),
        pairs_scored=result.pairs_scored, pairs_linked=len(result.pairs),
        keys_new=keys.keys_new, keys_retired=keys.keys_retired,
        optout_edges_removed=result.optout_edges_removed,
        guard_splits=len(result.guard_actions), context_links=result.context_links,
        files=paths)
    outcome.report = write_ig_report(IgReportInputs(
        run_id=run_id, run_date=extract_date, model_version=version, threshold=threshold,
        model_meta=meta, settings=settings, records=records, xref=keys.xref,
        previous_xref=prev_xref, linked_pairs=result.pairs,
        guard_actions=result.guard_actions,
        optout_edges_removed=result.optout_edges_removed, forced_links=result.forced_links,
        context_links=result.context_links, staged=staged, keys_new=keys.keys_new,
        keys_retired=keys.keys_retired, pair_flow=result.pair_flow), report_dir)
    log.info("linkage run %s: %s", run_id, outcome.summary())
    return outcome


def cumulative_history(previous: pd.DataFrame | None, tonight: pd.DataFrame) -> pd.DataFrame:
    """Every retirement ever made: last night's table plus tonight's new rows.

    The load replaces the linkage tables as a whole, so the file must carry the past too;
    a rerun of the same night retires nothing new and so writes the same table.
    """
    cols = ["retired_key", "surviving_key", "run_id"]
    frames = [f[cols] for f in (previous, tonight) if f is not None and len(f)]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)
    return out.drop_duplicates(["retired_key", "surviving_key"], keep="first").reset_index(
        drop=True)
