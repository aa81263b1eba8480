"""The cross-source checks measured against a generated county's truth.

`stale_register_accuracy` runs one night exactly as the nightly does — extract and stage every
source, link with the nightly's `link_night`, then `check_night` — and compares the entries the
stale-register check lists for reconciliation with `truth/gp_stale_entries.csv`, which the
generator computes from what really happened and from what each source recorded. Recall is
counted over the truly stale entries some source holds evidence for: an entry whose carer's
death or whose caring's end no source ever recorded cannot be found by any linkage.

`funnel_on_county` runs the nightly's funnel (`expectations.star.practitioner_bias`) on a
generated county's Star readings without staging (`star_readings` types the provider's rows
as the staged table), so that the funnel can be exercised over many seeds: the planted
optimistic practitioners flagged, and nobody in a county generated without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from carelink.identity import nhs_digits


@dataclass(frozen=True)
class StaleAccuracy:
    """Flagged stale entries against the truth (counts per patient per current register)."""

    flagged: int
    flagged_truly_stale: int
    stale: int
    stale_with_evidence: int
    found_with_evidence: int

    @property
    def precision(self) -> float:
        return self.flagged_truly_stale / self.flagged if self.flagged else 1.0

    @property
    def recall(self) -> float:
        return (self.found_with_evidence / self.stale_with_evidence
                if self.stale_with_evidence else 1.0)

    def line(self) -> str:
        return (f"stale entries: precision {self.precision:.4f} "
                f"({self.flagged_truly_stale}/{self.flagged} flagged truly stale), recall "
                f"{self.recall:.4f} ({self.found_with_evidence}/{self.stale_with_evidence} "
                f"stale entries with evidence in some source; {self.stale} truly stale)")


def flagged_entries(restricted_dir: Path) -> pd.DataFrame:
    """(practice_ods, nhs_number) of every entry on the restricted reconciliation lists."""
    frames = []
    for path in sorted((Path(restricted_dir) / "reconciliation").glob("*.csv")):
        rows = pd.read_csv(path, dtype=str)
        frames.append(pd.DataFrame({"practice_ods": path.stem,
                                    "nhs_number": rows["nhs_number"].map(nhs_digits)}))
    if not frames:
        return pd.DataFrame(columns=["practice_ods", "nhs_number"])
    return pd.concat(frames, ignore_index=True)


def score_stale(flagged: pd.DataFrame, truth: pd.DataFrame,
                registers: set[tuple[str, str]] | None = None) -> StaleAccuracy:
    """Compare flagged (practice, NHS number) pairs with `truth/gp_stale_entries.csv`.

    `registers` — (practice_ods, ISO snapshot month) of the registers the night actually
    checked — limits the truth to them: a practice whose newest file was rejected (a third
    clinical system's layout) has no register on a first night, and its entries are the GP
    extract's concern, not the stale check's.
    """
    if registers is not None:
        keep = [(o, m) in registers for o, m in zip(truth["practice_ods"],
                                                     truth["snapshot_month"], strict=True)]
        truth = truth[keep]
    truth = truth.assign(nhs_number=truth["nhs_number"].astype(str),
                         true_reasons=truth["true_reasons"].fillna(""),
                         evidence=truth["evidence"].astype(str).str.lower() == "true")
    stale = truth["true_reasons"] != ""
    keys = set(zip(flagged["practice_ods"], flagged["nhs_number"], strict=True))
    hit = pd.Series([k in keys for k in zip(truth["practice_ods"], truth["nhs_number"],
                                            strict=True)], index=truth.index)
    return StaleAccuracy(
        flagged=len(keys), flagged_truly_stale=int((hit & stale).sum()),
        stale=int(stale.sum()), stale_with_evidence=int((stale & truth["evidence"]).sum()),
        found_with_evidence=int((hit & stale & truth["evidence"]).sum()))


def stale_register_accuracy(county_dir: Path, *, extract_date: date, work_dir: Path,
                            models_dir: Path | None = None) -> dict[str, StaleAccuracy]:
    """Run the night (stage, link, cross-source checks) on a generated county and score the
    stale-register check against the county's truth.

    Returns {"night": the nightly path as it runs, "perfect_linkage": the same check reading
    the truth's person keys instead of the night's linkage}. The second is the check's upper
    bound: the gap between the two is what the linkage misses, not the check.
    """
    from linkage.evaluate import link_county

    county_dir, work_dir = Path(county_dir), Path(work_dir)
    staged, _ = link_county(county_dir, extract_date=extract_date, work_dir=work_dir,
                            models_dir=Path(models_dir or work_dir / "models"))
    linkage_dir = work_dir / "linkage"
    truth = pd.read_csv(county_dir / "truth" / "gp_stale_entries.csv", dtype=str)
    perfect = truth_linkage(county_dir, staged, work_dir / "truth_linkage")
    return {name: _check_and_score(staged, folder, truth, extract_date=extract_date,
                                   work_dir=work_dir / name)
            for name, folder in (("night", linkage_dir), ("perfect_linkage", perfect))}


def _check_and_score(staged: dict[str, pd.DataFrame], linkage_dir: Path, truth: pd.DataFrame,
                     *, extract_date: date, work_dir: Path) -> StaleAccuracy:
    from expectations.nightly import check_night

    checks = check_night(staged, linkage_dir, extract_date=extract_date, run_id="evaluate",
                         stale_share_threshold=1.0, out_dir=work_dir / "checks",
                         restricted_dir=work_dir / "restricted", docs_dir=None)
    registers = {(str(o), pd.Timestamp(m).date().isoformat()) for o, m in zip(
        checks.staleness["practice_ods"], checks.staleness["snapshot_month"], strict=True)}
    return score_stale(flagged_entries(work_dir / "restricted"), truth, registers)


def truth_linkage(county_dir: Path, staged: dict[str, pd.DataFrame], out_dir: Path) -> Path:
    """A linkage folder in which every record carries its true person (truth/records.csv)
    and the caring relationships are resolved from the staged tables over those keys: the
    stale check's upper bound, separating what the check misses from what linkage misses."""
    from linkage.relationships import resolve_relationships

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = pd.read_csv(Path(county_dir) / "truth" / "records.csv", dtype=str)
    xref = pd.DataFrame({"source_record_key": records["source_record_key"],
                         "person_key": records["person"], "run_id": "truth"}
                        ).drop_duplicates("source_record_key")
    xref.to_parquet(out_dir / "person_xref.parquet", index=False)
    relationships, endings = resolve_relationships(staged, xref)
    relationships.to_parquet(out_dir / "caring_relationship.parquet", index=False)
    endings.to_parquet(out_dir / "caring_relationship_ending.parquet", index=False)
    xref.assign(role=records["role"], source=records["source_record_key"].str.split(":").str[0]
                )[["source_record_key", "person_key", "role", "source"]].to_parquet(
        out_dir / "records.parquet", index=False)
    return out_dir


# --- the Star funnel on generated readings ---------------------------------------------------


def star_readings(rows: list[dict] | pd.DataFrame) -> pd.DataFrame:
    """Provider `star_scores.csv` rows (text, dd/mm/yyyy dates) typed as the staged table."""
    df = pd.DataFrame(rows).copy()
    df["assessment_date"] = pd.to_datetime(df["assessment_date"], format="%d/%m/%Y",
                                           errors="coerce")
    df["recorded_at"] = pd.to_datetime(df["recorded_at"], errors="coerce")
    for col in ("reading", "total_score", "carer_self_rating"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    return df


@dataclass(frozen=True)
class FunnelResult:
    seed: int
    practitioners: int
    optimistic: frozenset[str]
    flagged: frozenset[str]

    @property
    def true_flags(self) -> int:
        return len(self.flagged & self.optimistic)

    @property
    def false_flags(self) -> int:
        return len(self.flagged - self.optimistic)


def funnel_on_county(*, carers: int, seed: int, night: date = date(2026, 11, 24),
                     biased_practitioners: int | None = None) -> FunnelResult:
    """The nightly's funnel (`star.practitioner_bias`) on a generated county's Star readings
    (built exactly as `generate_county` builds them for these arguments, without writing or
    staging anything), against which practitioners the generator made optimistic."""
    from expectations import star
    from synthetic import provider as provider_writer
    from synthetic.county import build_provider_county

    built = build_provider_county(carers=carers, seed=seed, last_night=night,
                                  biased_practitioners=biased_practitioners)
    rows = provider_writer.snapshot_rows(built.provider, night)["star_scores.csv"]
    bias, _params = star.practitioner_bias(star_readings(rows), run_id=f"seed{seed}")
    return FunnelResult(
        seed=seed, practitioners=len(built.provider.practitioners),
        optimistic=frozenset(p.ref for p in built.provider.practitioners if p.optimistic),
        flagged=frozenset(bias.loc[bias["flagged"], "practitioner_ref"]))


def funnel_at_caseloads(*, seed: int, optimistic: int = 3, practitioners: int = 30,
                        caseload: tuple[int, int] = (12, 41), spread: float = 4.2,
                        lift: tuple[float, float] = (3.0, 5.0),
                        practitioner_sd: float = 0.4) -> FunnelResult:
    """The nightly's funnel on simulated readings at the evaluation's caseloads.

    The generator's practitioners score about 265 carers each; the evaluation's 660 carers
    with a second reading among some thirty practitioners give about 22 each, where a
    99.8 % funnel has little power. This draws only what the funnel reads: each practitioner
    scores `caseload` carers' second reading (uniform), a carer's change is normal with SD
    `spread`, practitioners differ a little (`practitioner_sd`, the overdispersion the
    random-effects widening is for), and `optimistic` of them add a uniform `lift`.
    Totals are whole numbers kept within the Star's 5–40."""
    import numpy as np

    from expectations import star

    rng = np.random.default_rng(seed)
    chosen = {int(i) for i in rng.choice(practitioners, optimistic, replace=False)}
    rows, carer = [], 0
    for p in range(practitioners):
        effect = rng.normal(0.0, practitioner_sd) + (rng.uniform(*lift) if p in chosen else 0)
        for _ in range(int(rng.integers(caseload[0], caseload[1] + 1))):
            carer += 1
            first = int(np.clip(round(rng.normal(20.0, 5.0)), 5, 40))
            second = int(np.clip(round(first + rng.normal(1.5, spread) + effect), 5, 40))
            for reading, total, month in ((1, first, "01"), (2, second, "07")):
                rows.append({"star_ref": f"ST{carer:06d}{reading}", "carer_ref": f"CR{carer:06d}",
                             "reading": str(reading), "assessment_date": f"02/{month}/2026",
                             "recorded_at": f"2026-{month}-02 10:00:00",
                             "practitioner_ref": f"PR{p:03d}", "total_score": str(total),
                             "carer_self_rating": str(total)})
    bias, _params = star.practitioner_bias(star_readings(rows), run_id=f"caseloads{seed}")
    return FunnelResult(
        seed=seed, practitioners=practitioners,
        optimistic=frozenset(f"PR{p:03d}" for p in chosen),
        flagged=frozenset(bias.loc[bias["flagged"], "practitioner_ref"]))
