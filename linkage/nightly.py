"""One night's linkage: records → model → clusters → stable keys → relationships → files.

The outputs are files (parquet in the night's work folder) rather than warehouse writes, so
the load step can put every linkage table in place in one transaction, and a rerun of the
same night rewrites the same files.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from linkage.clusters import ClusterResult, cannot_link, cluster_records, las_merge_links
from linkage.context import caring_mentions
from linkage.keys import assign_keys
from linkage.model import current_model, load_model, model_threshold, train_model
from linkage.records import person_records
from linkage.relationships import caring_relationships

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
    result = cluster_records(records, settings, threshold, forced=las_merge_links(staged),
                             cannot=cannot_link(records, staged),
                             mentions=caring_mentions(records, staged))
    prev_xref = (previous or {}).get("person_xref")
    keys = assign_keys(result.clusters, prev_xref, secret=secret, run_id=run_id,
                       issued_on=extract_date.isoformat())
    relationships = caring_relationships(staged, keys.xref)
    relationships["run_id"] = run_id

    history = cumulative_history((previous or {}).get("person_key_history"), keys.history)
    recs_out = records[["source_record_key", "role", "source"]].merge(
        keys.xref[["source_record_key", "person_key"]], on="source_record_key")
    recs_out = recs_out[["source_record_key", "person_key", "role", "source"]]
    files = {
        "person_xref": keys.xref, "person_key_history": history,
        "caring_relationship": relationships, "records": recs_out,
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
    outcome.report = write_report(report_dir, outcome, records, recs_out, result, settings)
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


# --- the IG report ---------------------------------------------------------------------------


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, classes="t", na_rep="")


def _histogram(weights: pd.Series) -> str:
    """Inline SVG bar chart: the page must work offline, with no script from anywhere."""
    if weights.empty:
        return "<p>No pairs scored.</p>"
    clipped = weights.clip(-20, 40)
    bins = pd.cut(clipped, bins=list(range(-20, 42, 2)), include_lowest=True)
    counts = bins.value_counts(sort=False)
    top = max(int(counts.max()), 1)
    bars = []
    for i, (interval, n) in enumerate(counts.items()):
        h = 150 * int(n) / top
        bars.append(f'<rect x="{i * 20 + 40}" y="{170 - h:.1f}" width="18" height="{h:.1f}" '
                    f'fill="#4a7"><title>{interval}: {int(n)}</title></rect>')
        if i % 5 == 0:
            bars.append(f'<text x="{i * 20 + 40}" y="188" font-size="10">'
                        f'{int(interval.left)}</text>')
    return (f'<svg width="{len(counts) * 20 + 60}" height="200" role="img" '
            f'aria-label="match weight histogram">{"".join(bars)}'
            f'<text x="0" y="15" font-size="10">max {top}</text></svg>')


def _explained_sample(pairs: pd.DataFrame, key_of: dict[str, str], n: int = 15) -> pd.DataFrame:
    """Linked pairs by person key, with each comparison's partial match weight."""
    if pairs.empty:
        return pd.DataFrame()
    sample = pairs.sort_values("match_weight").iloc[
        ::max(1, len(pairs) // n)].head(n)
    cols = [c for c in sample.columns
            if c.startswith("mw_") and not c.startswith("mw_tf_adj_")]
    out = pd.DataFrame({
        "person_key": sample["unique_id_l"].map(key_of),
        "source_l": sample["unique_id_l"].str.split(":").str[0],
        "source_r": sample["unique_id_r"].str.split(":").str[0],
        "match_weight": sample["match_weight"].round(2),
    })
    for c in cols:
        name = c[3:]
        weight = sample[c].astype(float)
        if f"mw_tf_adj_{name}" in sample:
            weight = weight + sample[f"mw_tf_adj_{name}"].astype(float).fillna(0.0)
        out[name] = weight.round(1)
    return out


def write_report(report_dir: Path, outcome: LinkOutcome, records: pd.DataFrame,
                 recs_out: pd.DataFrame, result: ClusterResult, settings: dict) -> Path:
    """Self-contained HTML for information governance: counts and keys, no names or
    NHS numbers (the page sits in the restricted report folder all the same)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    per_source = records.groupby(["source", "role"]).size().reset_index(name="records")
    combos = (recs_out.groupby("person_key")["source"]
              .apply(lambda s: "+".join(sorted(set(s)))).value_counts()
              .rename_axis("sources").reset_index(name="persons"))
    declined = int(records["information_sharing_declined"].astype(bool).sum())
    guard = pd.DataFrame(result.guard_actions) if result.guard_actions else pd.DataFrame(
        columns=["cluster_size", "reasons", "parts_after"])
    key_of = dict(zip(recs_out["source_record_key"], recs_out["person_key"], strict=True))
    sample = _explained_sample(result.pairs, key_of)
    weights = result.pairs["match_weight"] if len(result.pairs) else pd.Series(dtype=float)
    esc = html.escape
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Linkage report {esc(outcome.run_id)}</title>
<style>body{{font-family:sans-serif;margin:2em}} .t td,.t th{{padding:2px 8px;
text-align:right}} .t{{border-collapse:collapse}} .t tr:nth-child(even){{background:#f3f3f3}}
</style></head><body>
<h1>Linkage report — {esc(str(outcome.run_date))}</h1>
<p>RESTRICTED: information governance only. Run {esc(outcome.run_id)}; model
<code>{esc(outcome.model_version)}</code>; match probability threshold {outcome.threshold}.</p>
<h2>Summary</h2>
<ul><li>records in: {outcome.records_in}</li><li>persons out: {outcome.persons_out}</li>
<li>pairs scored: {outcome.pairs_scored}; pairs linked: {outcome.pairs_linked}</li>
<li>links from relationship context: {outcome.context_links} (cared-for mentions of one
linked carer, joined under the same guards)</li>
<li>new keys: {outcome.keys_new}; retired keys: {outcome.keys_retired}</li></ul>
<h2>Records per source</h2>{_table(per_source)}
<h2>Persons by combination of sources</h2>{_table(combos)}
<h2>Opt-out honoured</h2><p>{declined} records come from provider files whose carer declined
information sharing; {outcome.optout_edges_removed} candidate links between them and LAS or GP
records were removed before clustering, and no person holds both.</p>
<h2>Over-link guard</h2><p>{len(guard)} clusters broke a rule and were re-clustered.</p>
{_table(guard)}
<h2>Match weights of linked pairs</h2>{_histogram(weights)}
<h2>Sample of links, explained</h2><p>Partial match weight (log2 Bayes factor) of each
comparison, term-frequency adjustment included; the links are spread over the range of match
weights, the weakest first. Keys and sources only, no identifiers.</p>{_table(sample)}
</body></html>"""
    path = report_dir / "linkage_report.html"
    path.write_text(body, encoding="utf-8")
    return path
