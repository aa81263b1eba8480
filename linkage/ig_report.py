"""The information-governance linkage report: every night, one restricted HTML page plus the
same figures as JSON, and Splink's own charts beside them.

IG reviewers must be able to trust and explain every link, so the report answers the
questions a reviewer asks in the order they ask them: what came in (sources, extract dates,
identifier completeness and validity), how it was linked (blocking rules, comparisons, model
version, threshold), what happened at each stage (flow counts), how good the result probably
is (estimated precision and recall, and how), who is linked less well (link rates by age
band, sex, ethnicity and district), whether anything implausible got through, how the result
depends on the threshold, what changed since last night, and that opt-outs were honoured
(counted, never listed). Borderline pairs go to Splink's comparison viewer for clerical
review.

Every page works offline: the HTML uses inline SVG only, and the Splink pages are written with
their JavaScript inlined. The Splink pages show identifiers (a clerical reviewer needs them);
that is why the folder is restricted and why nothing here is copied into the marts.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from carelink.codelists import practices
from carelink.identity import age_band
from linkage.clusters import MAX_DOB_SPREAD_DAYS, _as_date, _is_optout_edge, dobs_compatible
from linkage.context import caring_mentions
from linkage.model import blocking_rules

REPORT_HTML = "linkage_report.html"
REPORT_JSON = "linkage_report.json"
MODEL_CHART_HTML = "linkage_model_weights.html"
VIEWER_HTML = "linkage_borderline_pairs.html"
SENSITIVITY_THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
BORDERLINE_BAND = (0.5, 0.995)  # match probability: where clerical review pays
MAX_BORDERLINE = 60
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*\bhref=[\"']?(?:https?:)?//[^>]*>", re.I)


@dataclass
class IgReportInputs:
    """Everything the report reads; built by the nightly linkage step."""

    run_id: str
    run_date: date
    model_version: str
    threshold: float
    model_meta: dict
    settings: dict
    records: pd.DataFrame  # person records (linkage.records), identifiers included
    xref: pd.DataFrame  # source_record_key, person_key
    previous_xref: pd.DataFrame | None
    linked_pairs: pd.DataFrame  # the pairs kept as links (after opt-out and vetoes)
    guard_actions: list[dict] = field(default_factory=list)
    optout_edges_removed: int = 0
    forced_links: int = 0
    context_links: int = 0
    staged: dict[str, pd.DataFrame] = field(default_factory=dict)
    keys_new: int = 0
    keys_retired: int = 0
    pair_flow: dict[str, int] = field(default_factory=dict)  # `ClusterResult.pair_flow`


@dataclass
class PairScores:
    """What the report needs from every scored pair, computed inside DuckDB: at county scale
    the full prediction is millions of rows, of which only a few dozen leave the database."""

    scored: int
    probability_sum: float
    above_threshold: int
    at_thresholds: dict[float, int]
    borderline: pd.DataFrame  # every column Splink's comparison viewer needs
    borderline_in_band: int = 0  # pairs in the band a reviewer may be shown (opt-out kept out)


def score_pairs(linker, threshold: float, declined: set[str] | None = None) -> PairScores:
    """Score every candidate pair once and summarise it in SQL.

    The clerical-review sample never holds a pair the opt-out forbids (a declined provider
    file's record beside an LAS or GP record): showing it would share what the carer
    declined to share.
    """
    from linkage.model import quiet_splink

    with quiet_splink():
        predictions = linker.inference.predict(warning_mode="never")
    rel = predictions.as_duckdbpyrelation()
    thresholds = sorted(set(SENSITIVITY_THRESHOLDS) | {float(threshold)})
    counts = ", ".join(f"count(*) FILTER (WHERE match_probability >= {t!r})"
                       for t in thresholds)
    row = rel.aggregate(
        f"count(*), coalesce(sum(match_probability), 0), {counts}").fetchall()[0]
    low, high = BORDERLINE_BAND
    centre = _weight(threshold)
    band = (rel.filter(f"match_probability >= {low!r} AND match_probability < {high!r}")
            .order("abs(match_weight - " + repr(centre) + "), unique_id_l, unique_id_r"))
    # Only the ids of the whole band leave DuckDB; full rows only for the pairs shown.
    ids = band.project("unique_id_l, unique_id_r").fetchall()
    shown = [i for i, (a, b) in enumerate(ids) if not _is_optout_edge(a, b, declined or set())]
    needed = shown[MAX_BORDERLINE - 1] + 1 if len(shown) >= MAX_BORDERLINE else len(ids)
    keep = set(shown[:MAX_BORDERLINE])
    rows = band.limit(needed).df()
    at = {t: int(n) for t, n in zip(thresholds, row[2:], strict=True)}
    return PairScores(scored=int(row[0]), probability_sum=float(row[1]),
                      above_threshold=at[float(threshold)], at_thresholds=at,
                      borderline=rows[[i in keep for i in range(len(rows))]].reset_index(
                          drop=True),
                      borderline_in_band=len(shown))


# --- figures ---------------------------------------------------------------------------------


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def source_summary(inputs: IgReportInputs) -> list[dict]:
    """Per source: the extract dates its staged rows came from (one snapshot for the
    provider; LAS and GP keep rows from every night that delivered them), the rows staged
    and the person records they gave."""
    out = []
    for source in ("provider", "las", "gp"):
        dates: set[str] = set()
        rows = 0
        for name, frame in inputs.staged.items():
            if name.startswith(f"{source}_") and len(frame):
                rows += len(frame)
                if "extract_date" in frame:
                    dates |= {str(d) for d in frame["extract_date"].dropna().unique()}
        recs = inputs.records[inputs.records["source"] == source]
        out.append({"source": source,
                    "latest_extract": max(dates) if dates else None,
                    "extract_dates": ", ".join(sorted(dates)),
                    "rows_staged": rows,
                    "person_records": int(len(recs)),
                    "by_role": {str(k): int(v) for k, v in recs["role"].value_counts().items()}})
    return out


def identifier_quality(inputs: IgReportInputs) -> list[dict]:
    """Completeness and validity of each identifier per source and role.

    NHS numbers are counted twice: supplied (anything in the field, from staging) and valid
    (Modulus 11; an invalid number is treated as absent by the linkage, never compared).
    """
    supplied = {}
    for table, source_role in (("provider_carer", ("provider", "carer")),
                               ("provider_cared_for", ("provider", "cared_for")),
                               ("las_person", ("las", "person")),
                               ("gp_register_entry", ("gp", "carer"))):
        frame = inputs.staged.get(table)
        if frame is not None and len(frame) and "nhs_number" in frame:
            supplied[source_role] = _pct(frame["nhs_number"].notna().sum(), len(frame))
    gp = inputs.staged.get("gp_register_entry")
    mentions = int(((inputs.records["source"] == "gp")
                    & (inputs.records["role"] == "cared_for")).sum())
    if gp is not None and len(gp) and "cared_for_nhs_number" in gp and mentions:
        # every row giving a cared-for NHS number is a mention
        supplied[("gp", "cared_for")] = _pct(gp["cared_for_nhs_number"].notna().sum(), mentions)
    out = []
    for (source, role), recs in inputs.records.groupby(["source", "role"], sort=True):
        n = len(recs)
        out.append({
            "source": source, "role": role, "records": int(n),
            "nhs_supplied_pct": supplied.get((source, role)),
            "nhs_valid_pct": _pct(recs["nhs_number"].notna().sum(), n),
            "first_name_pct": _pct(recs["first_name"].notna().sum(), n),
            "last_name_pct": _pct(recs["last_name"].notna().sum(), n),
            "date_of_birth_pct": _pct(recs["date_of_birth"].notna().sum(), n),
            "postcode_pct": _pct((recs["postcode"].notna()
                                  & ~recs["postcode_guessed"].astype(bool)).sum(), n),
            "postcode_from_carer_pct": _pct(recs["postcode_guessed"].astype(bool).sum(), n),
            "address_pct": _pct(recs["address"].notna().sum(), n),
            "sex_pct": _pct(recs["sex"].notna().sum(), n),
        })
    return out


def method(inputs: IgReportInputs) -> dict:
    """How the links were made, in the model's own terms."""
    settings = inputs.settings
    comparisons = []
    for comp in settings.get("comparisons", []):
        levels = [lvl.get("label_for_charts") or lvl.get("sql_condition")
                  for lvl in comp.get("comparison_levels", [])
                  if not lvl.get("is_null_level")]
        comparisons.append({"comparison": comp.get("output_column_name"),
                            "levels": levels})
    rules = blocking_rules(settings)
    meta = inputs.model_meta
    return {"model_version": inputs.model_version,
            "approved_by": meta.get("approved_by"), "approved_at": meta.get("approved_at"),
            "trained_on": meta.get("trained_on"), "settings_hash": meta.get("settings_hash"),
            "threshold": inputs.threshold, "blocking_rules": rules,
            "blocking_counts": meta.get("blocking_counts") or [],
            "comparisons": comparisons,
            "rules_after_scoring": [
                "a pair sharing a valid NHS number links whatever its score",
                "two cared-for mentions of one linked carer join when their names agree and "
                "nothing contradicts (relationship context)",
                "LAS's own record merges are forced links",
                "no link between a declined provider file and LAS or GP records",
                "no link between two records of the same source file",
                "a cluster holding two valid NHS numbers or dates of birth years apart is "
                "re-clustered under those constraints",
            ]}


def _clusters(inputs: IgReportInputs) -> pd.DataFrame:
    frame = inputs.records[["source_record_key", "source", "role", "date_of_birth",
                            "nhs_number", "sex", "information_sharing_declined",
                            "carer_ref"]].merge(
        inputs.xref[["source_record_key", "person_key"]], on="source_record_key")
    return frame


def flow(inputs: IgReportInputs, scores: PairScores, persons: pd.DataFrame) -> list[dict]:
    """Counts through each stage, from records in to persons out. The pair rows add up:
    at or above the threshold + sharing a valid NHS number − each rule's removals = kept."""
    pf = inputs.pair_flow
    return [
        {"stage": "person records in", "count": int(len(inputs.records))},
        {"stage": "candidate pairs scored (blocking rules)", "count": scores.scored},
        {"stage": "pairs at or above the threshold",
         "count": int(pf.get("above_threshold", scores.above_threshold))},
        {"stage": "+ pairs below it sharing a valid NHS number",
         "count": int(pf.get("same_nhs_number_below_threshold", 0))},
        {"stage": "− links removed by the information-sharing opt-out",
         "count": int(inputs.optout_edges_removed)},
        {"stage": "− links between two records of one source file",
         "count": int(pf.get("same_file_removed", 0))},
        {"stage": "− links whose first names plainly disagree (no NHS number agrees)",
         "count": int(pf.get("first_name_vetoed", 0))},
        {"stage": "= links kept", "count": int(len(inputs.linked_pairs))},
        {"stage": "forced links (LAS record merges)", "count": int(inputs.forced_links)},
        {"stage": "links from relationship context (cared-for mentions of one linked carer)",
         "count": int(inputs.context_links)},
        {"stage": "clusters re-clustered by the over-link guard",
         "count": len(inputs.guard_actions)},
        {"stage": "persons out", "count": int(persons["person_key"].nunique())},
    ]


def estimated_quality(inputs: IgReportInputs, scores: PairScores) -> dict:
    """Precision and recall estimated from the model itself, with no truth to hand.

    Each scored pair's match probability is the model's belief that it is a match. The
    expected number of true matches among tonight's links (the pairs kept after every rule)
    is the sum of their probabilities (precision = that sum / links); the expected number of
    true matches overall is the sum over every scored pair (recall = linked sum / total sum).
    Matches the blocking rules never produced are invisible to this estimate, so recall is an
    upper bound; the figures measured on generated truth when the model was chosen are shown
    beside it.
    """
    links = inputs.linked_pairs
    total = scores.probability_sum
    kept = float(links["match_probability"].sum()) if len(links) else 0.0
    evidence = inputs.model_meta.get("threshold_evidence") or {}
    evaluation = inputs.model_meta.get("evaluation") or {}
    return {
        "estimated_precision": round(kept / len(links), 4) if len(links) else None,
        "estimated_recall": round(min(kept / total, 1.0), 4) if total else None,
        "how": "model-based: sums of match probabilities over scored pairs (see the text)",
        "measured_on_generated_truth": {
            k: v for k, v in {**evaluation, **evidence}.items()
            if isinstance(v, int | float | str) and k != "table"},
    }


def _attributes(inputs: IgReportInputs, frame: pd.DataFrame) -> pd.DataFrame:
    """Age band, sex, ethnicity and district per record, from what its source recorded."""
    district: dict[str, str] = {}
    ethnicity: dict[str, str] = {}
    carers = inputs.staged.get("provider_carer")
    if carers is not None and len(carers):
        for ref, d in zip(carers["carer_ref"], carers.get("district", pd.Series(
                [None] * len(carers))), strict=True):
            district[f"provider:carer:{ref}"] = d
    las = inputs.staged.get("las_person")
    if las is not None and len(las):
        for pid, d, e in zip(las["person_id"], las["district"], las["ethnicity"], strict=True):
            district[f"las:{int(pid)}"] = d
            ethnicity[f"las:{int(pid)}"] = e
    practice_district = {ods: p.district for ods, p in practices().items()}
    keys = frame["source_record_key"]
    out = pd.DataFrame({"source_record_key": keys})
    out["district"] = [
        district.get(k) or district.get(f"provider:carer:{c}")
        or (practice_district.get(k.split(":")[1]) if k.startswith("gp:") else None)
        for k, c in zip(keys, frame["carer_ref"], strict=True)]
    out["ethnicity"] = [ethnicity.get(k) for k in keys]
    out["age_band"] = [age_band(_as_date(d), inputs.run_date) for d in frame["date_of_birth"]]
    out["sex"] = frame["sex"].to_numpy()
    return out


def link_rates(inputs: IgReportInputs, frame: pd.DataFrame) -> dict[str, list[dict]]:
    """Share of records linked to another source, by group: a group linked markedly less
    often than others is where missed links (and so missed carers) concentrate."""
    sources_per_person = frame.groupby("person_key")["source"].nunique()
    linked = frame["person_key"].map(sources_per_person) > 1
    attrs = _attributes(inputs, frame)
    out: dict[str, list[dict]] = {}
    for column in ("age_band", "sex", "ethnicity", "district"):
        values = attrs[column].fillna("not recorded").astype(str)
        table = pd.DataFrame({"group": values.to_numpy(), "linked": linked.to_numpy()})
        grouped = table.groupby("group")["linked"].agg(["size", "sum"]).reset_index()
        out[column] = [{"group": g, "records": int(n), "linked": int(k),
                        "unlinked": int(n - k), "link_rate_pct": _pct(k, n)}
                       for g, n, k in grouped.itertuples(index=False)]
    return out


def implausible_links(inputs: IgReportInputs, frame: pd.DataFrame) -> dict:
    """What should never survive the guards; each count should read 0."""
    valid = frame.dropna(subset=["nhs_number"])
    two_nhs = int((valid.groupby("person_key")["nhs_number"].nunique() > 1).sum())
    incompatible, slips = _dob_conflicts(frame)
    key_of = dict(zip(frame["source_record_key"], frame["person_key"], strict=True))
    self_care = sum(1 for carer, cared in caring_mentions(inputs.records, inputs.staged)
                    if key_of.get(carer) is not None and key_of.get(carer) == key_of.get(cared))
    return {"persons_with_two_valid_nhs_numbers": two_nhs,
            "persons_with_incompatible_dates_of_birth": incompatible,
            "persons_with_dobs_over_2_years_apart_by_one_keying_slip": slips,
            "persons_recorded_as_both_female_and_male": sex_conflicts(frame),
            "carer_linked_as_own_cared_for_person": self_care}


def sex_conflicts(frame: pd.DataFrame) -> int:
    """Persons whose records say both F and M. Not a guard (sex is keyed wrongly often
    enough that a record's sex cannot veto a link, and a title such as `Mr` on a GP
    free-text mention is a guess), but a chain through a record with only an initial, no
    date of birth and no sex (`E Loades` between an Ernest and an Emma) shows up here first,
    so IG sees how many there are and can sample them."""
    sexes = frame.loc[frame["sex"].isin(["F", "M"]), ["person_key", "sex"]]
    return int((sexes.groupby("person_key")["sex"].nunique() > 1).sum())


def _dob_conflicts(frame: pd.DataFrame) -> tuple[int, int]:
    """(persons holding dates of birth no keying slip explains, persons whose dates differ
    by more than two years through one slip such as 1941 for 1951). The first must be 0;
    the second is allowed by the guard and shown so IG can see how often it happens."""
    incompatible = slips = 0
    dobs = frame.dropna(subset=["date_of_birth"])
    for _, values in dobs.groupby("person_key")["date_of_birth"]:
        days = sorted({_as_date(v) for v in values} - {None})
        if len(days) < 2 or (days[-1] - days[0]).days <= MAX_DOB_SPREAD_DAYS:
            continue
        if all(dobs_compatible(a, b) for i, a in enumerate(days) for b in days[i + 1:]):
            slips += 1
        else:
            incompatible += 1
    return incompatible, slips


def cluster_sizes(frame: pd.DataFrame) -> list[dict]:
    sizes = frame.groupby("person_key").size()
    bands = pd.cut(sizes, bins=[0, 1, 2, 3, 4, 5, 10, 20, 10**9],
                   labels=["1", "2", "3", "4", "5", "6-10", "11-20", "over 20"])
    counts = bands.value_counts(sort=False)
    return [{"records_per_person": str(k), "persons": int(v)} for k, v in counts.items()]


def threshold_sensitivity(inputs: IgReportInputs, scores: PairScores) -> list[dict]:
    """Pairs that would link at neighbouring thresholds: links gained or lost against
    tonight's threshold (score alone; the rules after scoring apply at every threshold)."""
    now = scores.above_threshold
    rows = []
    for t, n in sorted(scores.at_thresholds.items()):
        rows.append({"threshold": t, "pairs_linked": n, "gained": max(0, n - now),
                     "lost": max(0, now - n), "tonight": t == float(inputs.threshold)})
    return rows


def changes_since_last_run(inputs: IgReportInputs) -> dict:
    """Keys new and retired (from the key assignment) and records that moved between
    persons since the previous run."""
    prev = inputs.previous_xref
    if prev is None or prev.empty:
        return {"previous_run": False, "keys_new": inputs.keys_new,
                "keys_retired": inputs.keys_retired, "records_moved": 0,
                "records_new": int(len(inputs.xref)), "records_gone": 0}
    before = dict(zip(prev["source_record_key"], prev["person_key"], strict=True))
    now = dict(zip(inputs.xref["source_record_key"], inputs.xref["person_key"], strict=True))
    moved = sum(1 for k, v in now.items() if k in before and before[k] != v)
    return {"previous_run": True, "keys_new": inputs.keys_new,
            "keys_retired": inputs.keys_retired, "records_moved": int(moved),
            "records_new": sum(1 for k in now if k not in before),
            "records_gone": sum(1 for k in before if k not in now)}


def opt_outs(inputs: IgReportInputs, frame: pd.DataFrame) -> dict:
    """Counted, never listed: the point is to show the rule held, not who declined."""
    declined = frame["information_sharing_declined"].astype(bool)
    declined_persons = set(frame.loc[declined, "person_key"])
    shared = frame[frame["person_key"].isin(declined_persons) & frame["source"].isin(
        ["las", "gp"])]
    return {"declined_records": int(declined.sum()),
            "declined_persons": len(declined_persons),
            "links_removed": int(inputs.optout_edges_removed),
            "declined_persons_holding_las_or_gp_records": int(shared["person_key"].nunique())}


def _weight(p: float) -> float:
    import math

    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log2(p / (1 - p))


def build_report(inputs: IgReportInputs, scores: PairScores) -> dict:
    """The report's content as plain data (also written as JSON for IG's own tooling)."""
    frame = _clusters(inputs)
    return {
        "run": {"run_id": inputs.run_id, "run_date": inputs.run_date.isoformat(),
                "model_version": inputs.model_version, "threshold": inputs.threshold},
        "sources": source_summary(inputs),
        "identifier_quality": identifier_quality(inputs),
        "method": method(inputs),
        "flow": flow(inputs, scores, frame),
        "link_rate": {"records": int(len(frame)),
                      "persons": int(frame["person_key"].nunique()),
                      "records_linked_to_another_source_pct": _pct(
                          (frame["person_key"].map(frame.groupby("person_key")["source"]
                                                   .nunique()) > 1).sum(), len(frame))},
        "estimated_quality": estimated_quality(inputs, scores),
        "link_rates_by_group": link_rates(inputs, frame),
        "implausible_links": implausible_links(inputs, frame),
        "over_link_guard": inputs.guard_actions,
        "cluster_sizes": cluster_sizes(frame),
        "threshold_sensitivity": threshold_sensitivity(inputs, scores),
        "changes_since_last_run": changes_since_last_run(inputs),
        "opt_outs": opt_outs(inputs, frame),
        "borderline_pairs_for_review": int(len(scores.borderline)),
        "borderline_pairs_in_band": scores.borderline_in_band,
    }


# --- pages -----------------------------------------------------------------------------------


def _table(rows: list[dict] | pd.DataFrame) -> str:
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    if frame.empty:
        return "<p>None.</p>"
    return frame.to_html(index=False, border=0, classes="t", na_rep="")


def _bars(rows: list[dict], label: str, value: str, title: str) -> str:
    """A horizontal bar chart as inline SVG (no script, no network)."""
    if not rows:
        return ""
    top = max((float(r[value] or 0) for r in rows), default=1.0) or 1.0
    height = 22 * len(rows) + 30
    parts = [f'<svg width="560" height="{height}" role="img" aria-label="{html.escape(title)}">',
             f'<text x="0" y="14" font-size="12">{html.escape(title)}</text>']
    for i, r in enumerate(rows):
        y = 24 + i * 22
        w = 360 * float(r[value] or 0) / top
        parts.append(f'<text x="0" y="{y + 14}" font-size="11">{html.escape(str(r[label]))}'
                     f'</text><rect x="140" y="{y}" width="{w:.1f}" height="16" fill="#4a7">'
                     f'<title>{r[value]}</title></rect><text x="{146 + w:.1f}" y="{y + 13}" '
                     f'font-size="11">{r[value]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: dict, *, model_chart: str | None, viewer: str | None) -> str:
    esc = html.escape
    run = report["run"]
    quality = report["estimated_quality"]
    rates = report["link_rates_by_group"]
    links = []
    if model_chart:
        links.append(f'<li><a href="{esc(model_chart)}">Model: match weights of every '
                     "comparison level (Splink chart)</a></li>")
    if viewer:
        links.append(f'<li><a href="{esc(viewer)}">Borderline pairs for clerical review '
                     "(Splink comparison viewer; shows identifiers)</a></li>")
    by_group = "".join(
        f"<h3>By {esc(col.replace('_', ' '))}</h3>"
        f"{_bars(rows, 'group', 'link_rate_pct', f'link rate % by {col}')}{_table(rows)}"
        for col, rows in rates.items())
    measured = quality["measured_on_generated_truth"]
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Linkage report {esc(run['run_id'])}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:72em}}
.t td,.t th{{padding:2px 8px;text-align:right}} .t{{border-collapse:collapse}}
.t tr:nth-child(even){{background:#f3f3f3}} code{{font-size:90%}}</style></head><body>
<h1>Linkage report — {esc(run['run_date'])}</h1>
<p><strong>RESTRICTED: information governance only.</strong> Run {esc(run['run_id'])};
model <code>{esc(run['model_version'])}</code>; match probability threshold
{run['threshold']}. The same figures are in <code>{REPORT_JSON}</code>.</p>
<ul>{''.join(links)}</ul>
<h2>Sources</h2>{_table([{k: v for k, v in s.items() if k != 'by_role'}
                         for s in report['sources']])}
<h2>Identifier completeness and validity (% of records)</h2>
<p>An invalid NHS number (failing Modulus 11) is treated as absent and never compared.
"postcode from carer" marks cared-for mentions given their carer's postcode, which counts only
when it agrees.</p>{_table(report['identifier_quality'])}
<h2>Method</h2>
<p>Model trained on {esc(str(report['method']['trained_on']))}; approved by
{esc(str(report['method']['approved_by'] or 'nobody yet (unapproved bootstrap)'))}
{esc(str(report['method']['approved_at'] or ''))}; settings hash
<code>{esc(str(report['method']['settings_hash']))}</code>.</p>
<h3>Blocking rules (candidate pairs)</h3>
<ol>{''.join(f'<li><code>{esc(r)}</code></li>' for r in report['method']['blocking_rules'])}</ol>
{_table(report['method']['blocking_counts'])}
<h3>Comparisons</h3>{_table([{'comparison': c['comparison'], 'levels': '; '.join(
    map(str, c['levels']))} for c in report['method']['comparisons']])}
<h3>Rules applied after scoring</h3>
<ul>{''.join(f'<li>{esc(r)}</li>' for r in report['method']['rules_after_scoring'])}</ul>
<h2>Flow through each stage</h2>{_table(report['flow'])}
{_bars(report['flow'], 'stage', 'count', 'records, pairs and persons by stage')}
<h2>Link rate</h2><p>{report['link_rate']['records']} records became
{report['link_rate']['persons']} persons;
{report['link_rate']['records_linked_to_another_source_pct']}% of records are linked to a
record from another source.</p>
<h2>Estimated precision and recall</h2>
<p>Estimated precision {quality['estimated_precision']}, estimated recall
{quality['estimated_recall']}. How: each scored pair's match probability is the model's belief
that it is a match, so the expected true matches among tonight's links is the sum of their
probabilities (precision = that sum divided by the links) and the expected true matches
overall is the sum over all scored pairs (recall = linked sum divided by total). Pairs the
blocking rules never produce are invisible to the estimate, so recall is an upper bound.
Measured on generated truth when the model was chosen:</p>{_table([measured]) if measured else
"<p><strong>None:</strong> tonight's model is not one chosen against generated truth (an "
"unapproved bootstrap trained on tonight's records, at the default threshold). A model "
"trained and evaluated with <code>carelink model train</code> and approved with "
"<code>carelink model approve</code> carries its measured figures here.</p>"}
<h2>Linked and unlinked, by group</h2>
<p>Linked: a record whose person also has a record in another source.</p>{by_group}
<h2>Implausible links</h2><p>Two valid NHS numbers, dates of birth no keying slip explains,
and a carer linked as their own cared-for person should each read 0: the guards re-cluster
anything that would break them. Dates more than two years apart through one keying slip
(1941 for 1951, day and month swapped) are allowed and counted.</p>
{_table([report['implausible_links']])}
<h3>Over-link guard actions</h3>{_table(report['over_link_guard'])}
<h2>Cluster sizes</h2>{_bars(report['cluster_sizes'], 'records_per_person', 'persons',
                             'persons by number of records')}{_table(report['cluster_sizes'])}
<h2>Threshold sensitivity</h2><p>Pairs whose score alone would link them at neighbouring
thresholds, against tonight's.</p>{_table(report['threshold_sensitivity'])}
<h2>Change since the last run</h2>{_table([report['changes_since_last_run']])}
<h2>Information-sharing opt-outs honoured</h2><p>Counted, never listed.</p>
{_table([report['opt_outs']])}
<h2>Clerical review</h2><p>{report['borderline_pairs_in_band']} pairs scored between
{BORDERLINE_BAND[0]} and {BORDERLINE_BAND[1]}; the {report['borderline_pairs_for_review']}
nearest the threshold are in the comparison viewer linked above (at most {MAX_BORDERLINE}).
Pairs the information-sharing opt-out forbids are never shown.</p>
</body></html>"""


def write_splink_pages(linker, scores: PairScores, report_dir: Path
                       ) -> tuple[str, str | None]:
    """Splink's match-weights chart and its comparison viewer over the borderline pairs,
    with their JavaScript inlined so the pages open without a network."""
    from linkage.model import quiet_splink

    chart = report_dir / MODEL_CHART_HTML
    with quiet_splink():
        chart.write_text(linker.visualisations.match_weights_chart().to_html(inline=True),
                         encoding="utf-8")
    if scores.borderline.empty:
        return chart.name, None
    db = linker._db_api  # Splink's viewer needs a real table (it reads DuckDB's rowid)
    db._con.register("carelink_borderline_df", scores.borderline)
    db._con.execute("create or replace table carelink_borderline as "
                    "select * from carelink_borderline_df")
    predictions = linker.table_management.register_table_predict(
        db.table_to_splink_dataframe("carelink_borderline", "carelink_borderline"))
    viewer = report_dir / VIEWER_HTML
    with quiet_splink():
        linker.visualisations.comparison_viewer_dashboard(
            predictions, str(viewer), overwrite=True, num_example_rows=3)
    # Splink's template fetches a web font: a restricted page must not call out to anyone.
    viewer.write_text(_EXTERNAL_LINK.sub("", viewer.read_text(encoding="utf-8")),
                      encoding="utf-8")
    return chart.name, viewer.name


def write_ig_report(inputs: IgReportInputs, report_dir: Path) -> Path:
    """Write the HTML page, its JSON twin and the Splink pages; returns the HTML's path."""
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    from linkage.model import make_linker

    linker = make_linker(inputs.records, inputs.settings)
    declined = set(inputs.records.loc[inputs.records["information_sharing_declined"].astype(
        bool), "source_record_key"])
    scores = score_pairs(linker, inputs.threshold, declined)
    report = build_report(inputs, scores)
    chart, viewer = write_splink_pages(linker, scores, report_dir)
    report["pages"] = {"model_weights": chart, "borderline_pairs": viewer}
    (report_dir / REPORT_JSON).write_text(json.dumps(report, indent=1, default=str),
                                          encoding="utf-8")
    path = report_dir / REPORT_HTML
    path.write_text(render_html(report, model_chart=chart, viewer=viewer), encoding="utf-8")
    return path
