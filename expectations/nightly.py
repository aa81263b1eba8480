"""Cross-source checks over the linked night: stale GP registers, Star scoring bias, linkage
sanity and the LAS "known to the carers' service" agreement (Table 11 of the evaluation).

Inputs are the staged tables and the linkage stage's parquet outputs; outputs are the four
check tables (parquet, loaded into the marts by the load task), restricted per-practice
reconciliation lists, a funnel-plot SVG, and GX outcomes for dq.validation_results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from carelink.codelists import LAS_CARER_ASSESSMENTS, declined_carer_refs
from carelink.identity import nhs_digits
from expectations import staleness as st
from expectations import star
from expectations.runner import (
    DataDocs,
    ExpectationOutcome,
    OutcomeChecks,
    outcomes_frame,
    run_specs,
    write_docs,
)
from expectations.suites import Spec
from linkage.records import gp_cared_for_keys

SOURCE = "cross_source"
SERVICE_CONTACT_MOSTLY = 0.8  # below this agreement the LAS recording is worth a warning
RECORDED_CONTACT = frozenset({"Yes"})  # LAS values that say the carer is in touch


@dataclass
class NightChecks(OutcomeChecks):
    run_id: str
    extract_date: date
    staleness: pd.DataFrame
    practice_summary: pd.DataFrame
    star_bias: pd.DataFrame
    star_flags: pd.DataFrame
    nhs_conflicts: pd.DataFrame  # person_key, numbers: person keys with two valid NHS numbers
    service_contact: pd.DataFrame
    stale_share_threshold: float = 1.0
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)

    def results_frame(self) -> pd.DataFrame:
        return outcomes_frame(self.outcomes, run_id=self.run_id, run_date=self.extract_date,
                              source=SOURCE)

    def summary(self) -> dict:
        agreement = (float(self.service_contact["agrees"].mean())
                     if not self.service_contact.empty else None)
        summary = self.practice_summary
        return {
            "entries": int(len(self.staleness)),
            "stale_entries": int(self.staleness["is_stale"].sum()),
            "review_overdue_entries": int(self.staleness["review_overdue"].sum()),
            "practices_flagged": int((summary["stale_share"] > self.stale_share_threshold).sum())
            if not summary.empty else 0,
            "practitioners_flagged": int(self.star_bias["flagged"].sum())
            if not self.star_bias.empty else 0,
            "star_flags": int(len(self.star_flags)),
            "nhs_conflicts": int(len(self.nhs_conflicts)),
            "service_contact_agreement": agreement,
            "warnings": sum(1 for o in self.failures if o.severity == "warning"),
            "critical_failures": len(self.critical_failures),
        }


def _read(linkage_dir: Path, name: str) -> pd.DataFrame:
    path = Path(linkage_dir) / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else pd.DataFrame()


# --- linkage sanity -------------------------------------------------------------------------


def _valid_numbers(staged: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """(source_record_key, nhs) for every record carrying a valid NHS number."""
    parts = []

    def take(frame: pd.DataFrame | None, keys: pd.Series | None, number: str, valid: str
             ) -> None:
        if frame is None or frame.empty or keys is None:
            return
        ok = frame[valid].astype("boolean").fillna(False).astype(bool)
        parts.append(pd.DataFrame({"source_record_key": keys[ok].to_numpy(),
                                   "nhs": frame.loc[ok, number].map(nhs_digits).to_numpy()}))

    carers = staged.get("provider_carer")
    if carers is not None and not carers.empty:
        take(carers, "provider:carer:" + carers["carer_ref"].astype(str), "nhs_number",
             "nhs_number_valid")
    cared = staged.get("provider_cared_for")
    if cared is not None and not cared.empty:
        take(cared, "provider:cared_for:" + cared["cared_for_ref"].astype(str), "nhs_number",
             "nhs_number_valid")
    las = staged.get("las_person")
    if las is not None and not las.empty:
        ids = pd.to_numeric(las["person_id"], errors="coerce").astype("Int64").astype(str)
        take(las, "las:" + ids, "nhs_number", "nhs_number_valid")
    gp = staged.get("gp_register_entry")
    if gp is not None and not gp.empty:
        digits = gp["nhs_number"].map(nhs_digits)
        patient = "gp:" + gp["practice_ods"].astype(str) + ":" + digits.astype(str)
        take(gp, patient.where(digits.notna()), "nhs_number", "nhs_number_valid")
        take(gp, gp_cared_for_keys(gp), "cared_for_nhs_number", "cared_for_nhs_number_valid")
    if not parts:
        return pd.DataFrame(columns=["source_record_key", "nhs"])
    return pd.concat(parts, ignore_index=True).dropna()


def nhs_number_conflicts(staged: dict[str, pd.DataFrame], xref: pd.DataFrame
                         ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per person key with a valid NHS number: `_single_nhs_number`, conflicting keys).
    Two different valid NHS numbers under one key means the linkage merged two people."""
    numbers = _valid_numbers(staged).merge(xref[["source_record_key", "person_key"]],
                                           on="source_record_key", how="inner")
    per = numbers.groupby("person_key")["nhs"].nunique().rename("distinct").reset_index()
    per["_single_nhs_number"] = per["distinct"] <= 1
    conflicts = per.loc[~per["_single_nhs_number"], ["person_key", "distinct"]]
    return per, conflicts.reset_index(drop=True)


# --- Table 11: LAS service contact vs the linkage ------------------------------------------


def service_contact(staged: dict[str, pd.DataFrame], xref: pd.DataFrame,
                    records: pd.DataFrame, relationships: pd.DataFrame) -> pd.DataFrame:
    """Per LAS assessment whose carer the linkage resolves: what LAS recorded about contact
    with the carers' service, and whether the linkage shows the carer known to the provider.
    A carer assessment's carer is the assessed person; otherwise the carers are the people
    the linkage says care for the assessed person."""
    columns = ["assessment_id", "assessment_type", "carers_service_contact", "recorded_contact",
               "carer_known_to_service", "agrees", "assessment_date"]
    assessments = staged.get("las_assessment")
    if assessments is None or assessments.empty:
        return pd.DataFrame(columns=columns)
    key_of = dict(zip(xref["source_record_key"], xref["person_key"], strict=False))
    provider_keys = set(xref.loc[xref["source_record_key"].astype(str).str.startswith(
        "provider:carer:"), "person_key"])
    if not records.empty and {"role", "source"} <= set(records.columns):
        carers = records[(records["source"] == "provider") & (records["role"] == "carer")]
        if "person_key" in carers:
            provider_keys |= set(carers["person_key"])
    carers_of: dict[str, set[str]] = {}
    for cared, carer in zip(relationships.get("cared_for_key", []),
                            relationships.get("carer_key", []), strict=False):
        carers_of.setdefault(cared, set()).add(carer)
    rows = []
    for r in assessments.astype(object).where(assessments.notna(), None).to_dict("records"):
        if r.get("person_id") is None:
            continue
        key = key_of.get(f"las:{int(r['person_id'])}")
        if key is None:
            continue
        carer_keys = {key} if r.get("assessment_type") in LAS_CARER_ASSESSMENTS else \
            carers_of.get(key, set())
        if not carer_keys:
            continue
        known = bool(carer_keys & provider_keys)
        recorded = r.get("carers_service_contact") in RECORDED_CONTACT
        rows.append({"assessment_id": r["assessment_id"],
                     "assessment_type": r.get("assessment_type"),
                     "carers_service_contact": r.get("carers_service_contact"),
                     "recorded_contact": recorded, "carer_known_to_service": known,
                     "agrees": recorded == known,
                     "assessment_date": r.get("assessment_date")})
    return pd.DataFrame(rows, columns=columns)


# --- the night ------------------------------------------------------------------------------


def check_night(staged: dict[str, pd.DataFrame], linkage_dir: Path, *, extract_date: date,
                run_id: str, stale_share_threshold: float, out_dir: Path,
                restricted_dir: Path, docs_dir: Path | None = None) -> NightChecks:
    """Compute the check tables, write them (parquet) and the restricted/diagnostic files,
    and validate them with GX (stale share and practitioner flags: warning; two NHS numbers
    under one person key: critical; LAS service contact agreement: warning)."""
    linkage_dir, out_dir, restricted_dir = Path(linkage_dir), Path(out_dir), Path(restricted_dir)
    xref = _read(linkage_dir, "person_xref")
    if xref.empty:
        xref = pd.DataFrame(columns=["source_record_key", "person_key", "run_id"])
    records = _read(linkage_dir, "records")
    relationships = _read(linkage_dir, "caring_relationship")
    if relationships.empty:
        relationships = pd.DataFrame(columns=["carer_key", "cared_for_key", "sources",
                                              "first_seen", "ended_on", "end_reason"])
    key_of = dict(zip(xref["source_record_key"], xref["person_key"], strict=False))

    endings_file = linkage_dir / "caring_relationship_ending.parquet"
    endings = pd.read_parquet(endings_file) if endings_file.exists() else None
    stale, restricted = st.register_staleness(staged, xref, relationships, run_id=run_id,
                                              endings=endings)
    summary = st.practice_summary(stale, run_id=run_id)
    stars = staged.get("provider_star_score")
    if stars is None or stars.empty:
        bias, params = pd.DataFrame(columns=star.BIAS_COLUMNS), {}
        flags = pd.DataFrame(columns=star.FLAG_COLUMNS)
    else:
        bias, params = star.practitioner_bias(stars, run_id=run_id)
        flags = star.score_flags(stars, key_of, run_id=run_id,
                                 exclude_carers=declined_carer_refs(staged.get("provider_carer")))
    per_key, conflicts = nhs_number_conflicts(staged, xref)
    contact = service_contact(staged, xref, records, relationships)

    checks = NightChecks(run_id, extract_date, stale, summary, bias, flags, conflicts, contact,
                         stale_share_threshold)

    # --- outputs
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in (("gp_register_staleness", stale),
                        ("gp_register_practice_summary", summary),
                        ("star_bias_practitioner", bias), ("star_score_flags", flags),
                        ("service_contact", contact)):
        path = out_dir / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        checks.paths[name] = path
    recon_dir = restricted_dir / "reconciliation"
    recon_dir.mkdir(parents=True, exist_ok=True)
    # A rerun replaces the night's lists: one left from an earlier run would be sent to a
    # practice that tonight's checks no longer flag.
    for old in recon_dir.glob("*.csv"):
        old.unlink()
    for ods, rows in restricted.groupby("practice_ods"):
        path = recon_dir / f"{ods}.csv"
        rows[st.RECONCILIATION_COLUMNS].to_csv(path, index=False)
    svg = star.write_funnel_svg(out_dir / "star_funnel.svg", bias, params)
    if svg:
        checks.paths["star_funnel"] = svg

    # --- expectations
    outcomes: list[ExpectationOutcome] = []
    docs = DataDocs(run_id, extract_date) if docs_dir is not None else None
    if not summary.empty:
        outcomes += run_specs(summary, "gp_register_practice_summary", [Spec(
            "stale_share_within_threshold", "ExpectColumnValuesToBeBetween",
            {"column": "stale_share", "min_value": 0, "max_value": stale_share_threshold},
            "warning", ("stale_share",),
            f"a practice with more than {stale_share_threshold:.0%} stale entries "
            "should reconcile its register")], docs)
    if not bias.empty:
        outcomes += run_specs(bias, "star_bias_practitioner", [Spec(
            "no_practitioner_flagged", "ExpectColumnValuesToBeInSet",
            {"column": "flagged", "value_set": [False]}, "warning", ("flagged",),
            "mean Star change above the 99.8% funnel limit suggests optimistic scoring")], docs)
    outcomes += run_specs(per_key, "linkage_sanity", [Spec(
        "one_valid_nhs_number_per_person_key", "ExpectRuleToHold",
        {"column": "_single_nhs_number"}, "critical",
        ("_single_nhs_number",),
        "two valid NHS numbers under one person key: the linkage merged two people")], docs)
    if not contact.empty:
        contact_outcomes = run_specs(contact.assign(_service_contact_agrees=contact["agrees"]),
                                     "las_service_contact", [Spec(
            "service_contact_agrees_with_linkage", "ExpectRuleToHold",
            {"column": "_service_contact_agrees", "mostly": SERVICE_CONTACT_MOSTLY}, "warning",
            ("_service_contact_agrees",),
            "LAS carers_service_contact (Yes) vs the carer being known to the provider")], docs)
        rate = float(contact["agrees"].mean())
        for o in contact_outcomes:
            o.details["agreement_rate"] = round(rate, 4)
        outcomes += contact_outcomes
    checks.outcomes = outcomes
    if docs_dir is not None:
        checks.paths["docs"] = write_docs(
            Path(docs_dir) / f"{SOURCE}.html", "Cross-source checks", outcomes,
            f"extract {extract_date.isoformat()}, run {run_id}", docs)
    return checks
