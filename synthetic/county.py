"""`carelink generate`: a synthetic county's landing area and its ground truth.

    DIR/landing/provider/<night>/   nightly snapshot folders with manifests
    DIR/landing/las/las_reporting.db  the LAS reporting database (SQLite)
    DIR/landing/gp/<ODS>_<YYYYMM>.csv register files in both layouts
    DIR/truth/                        what really happened (see docs/synthetic.md)

Deterministic for a seed: the same arguments write byte-identical files.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from carelink.codelists import practices as load_practices
from synthetic import gp as gp_writer
from synthetic import las as las_writer
from synthetic import provider as provider_writer
from synthetic.calibration import measure
from synthetic.world import World, build_world, end_caring, simulate_endings

DEFAULT_BIASED_PRACTITIONERS = 3


@dataclass
class CountySummary:
    out: Path
    nights: list[date]
    provider_nights: dict[str, dict[str, int]] = field(default_factory=dict)
    las_rows: dict[str, int] = field(default_factory=dict)
    gp_files: int = 0
    faults: int = 0
    calibration: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"synthetic county written to {self.out}"]
        for night, counts in self.provider_nights.items():
            total = sum(counts.values())
            out.append(f"  provider {night}: {total:,} rows in {len(counts)} files"
                       if counts else f"  provider {night}: no folder (a missing night)")
        out.append("  las: " + ", ".join(f"{k} {v:,}" for k, v in self.las_rows.items()))
        out.append(f"  gp: {self.gp_files} register files")
        out.append(f"  planted bad input: {self.faults} rows/files (truth/planted_faults.csv)")
        cal = self.calibration
        if cal:
            out.append(
                f"  calibration: carers mean age {cal['carer_mean_age']:.1f}, female "
                f"{cal['carer_female_share']:.0%}, partner "
                f"{cal['relationship_share']['Partner']:.0%}, star1 {cal['star1_mean']:.1f}"
                f" → star2 {cal['star2_mean']:.1f}, negative "
                f"{cal['star_change_negative_share']:.1%}, package mean "
                f"£{cal['annual_cost_mean']:,.0f} (see truth/calibration.json)")
        return out


def generate_county(out: Path, *, carers: int = 3000, seed: int = 1,
                    first_night: date = date(2026, 11, 22), nights: int = 3,
                    biased_practitioners: int | None = None) -> CountySummary:
    if carers < 50:
        raise ValueError("--carers must be at least 50")
    if nights < 1:
        raise ValueError("--nights must be at least 1")
    out = Path(out)
    landing, truth_dir = out / "landing", out / "truth"
    for folder in (landing / "provider", landing / "las", landing / "gp", truth_dir):
        folder.mkdir(parents=True, exist_ok=True)
    night_list = [first_night + timedelta(days=i) for i in range(nights)]
    last_night = night_list[-1]
    rng = random.Random(seed)
    practices = load_practices()
    by_district: dict[str, list[str]] = {}
    for p in practices.values():
        by_district.setdefault(p.district, []).append(p.practice_ods)

    world = build_world(rng, provider_carers=carers, end=last_night,
                        practices_by_district=by_district)
    pw = provider_writer.build_provider(
        rng, world, biased_practitioners=DEFAULT_BIASED_PRACTITIONERS
        if biased_practitioners is None else biased_practitioners)
    simulate_endings(rng, world, pw.hazard_from)
    for caring in world.carings:
        end_caring(caring)
    provider_writer.learn_of_deaths(rng, pw)

    summary = CountySummary(out, night_list)
    faults: list[dict] = []
    # Provider: a folder per night; with three or more nights the second is missing.
    for i, night in enumerate(night_list):
        if nights >= 3 and i == 1:
            summary.provider_nights[night.isoformat()] = {}
            faults.append({"source": "provider", "file": night.isoformat(), "row_number": "",
                           "fault": "missing_night"})
            continue
        rows = provider_writer.snapshot_rows(pw, night)
        faults.extend(_plant_provider_faults(random.Random(seed * 31 + i), rows, night))
        summary.provider_nights[night.isoformat()] = provider_writer.write_snapshot(
            landing / "provider" / night.isoformat(), rows, night, random.Random(seed + i))

    support = _support_periods(pw)
    las_db = landing / "las" / "las_reporting.db"
    if las_db.exists():
        las_db.unlink()
    lw = las_writer.write_las(las_db, rng, world, support)

    gw = gp_writer.build_registers(rng, world)
    gp_truth, gp_faults = gp_writer.write_gp_landing(
        landing / "gp", rng, world, gw, practices, first_night, last_night)
    faults.extend(gp_faults)
    summary.gp_files = len(list((landing / "gp").glob("*.csv")))
    summary.faults = len(faults)
    summary.las_rows = _count_las(las_db)

    _write_truth(truth_dir, world, pw, lw, gp_truth, faults, last_night)
    summary.calibration = measure(world, pw, lw, provider_writer.snapshot_rows(pw, last_night))
    (truth_dir / "calibration.json").write_text(json.dumps(summary.calibration, indent=1))
    return summary


def _plant_provider_faults(rng: random.Random, rows: dict[str, list[dict]],
                           night: date) -> list[dict]:
    """A duplicated carer row, a bad date and a row with no key, as exports really have."""
    faults = []
    carers = rows["carers.csv"]
    if len(carers) > 10:
        dup = dict(carers[rng.randrange(len(carers))])
        carers.append(dup)
        faults.append({"source": "provider", "file": f"{night}/carers.csv",
                       "row_number": len(carers), "fault": "duplicate_key"})
    assessments = rows["assessments.csv"]
    if len(assessments) > 10:
        i = rng.randrange(len(assessments))
        assessments[i] = {**assessments[i], "assessment_date": "31/02/2024"}
        faults.append({"source": "provider", "file": f"{night}/assessments.csv",
                       "row_number": i + 1, "fault": "bad_date"})
    cared_for = rows["cared_for.csv"]
    if len(cared_for) > 10:
        i = rng.randrange(len(cared_for))
        cared_for[i] = {**cared_for[i], "cared_for_ref": ""}
        faults.append({"source": "provider", "file": f"{night}/cared_for.csv",
                       "row_number": i + 1, "fault": "empty_key"})
    return faults


def _support_periods(pw: provider_writer.ProviderWorld) -> dict[str, list]:
    periods: dict[str, list] = {}
    for pf in pw.files:
        periods.setdefault(pf.carer.pid, []).append((pf.referral_date, pf.closed_date))
    return periods


def _count_las(path: Path) -> dict[str, int]:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0]  # noqa: S608
                for t in ("person", "person_relationship", "assessment", "care_package",
                          "person_merge")}
    finally:
        con.close()


def _write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> None:
    columns = columns or (list(rows[0]) if rows else ["empty"])
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _write_truth(folder: Path, world: World, pw: provider_writer.ProviderWorld,
                 lw: las_writer.LasWorld, gp_truth: list[dict], faults: list[dict],
                 last_night: date) -> None:
    _write_csv(folder / "people.csv", [{
        "person": p.pid, "first_name": p.first_name, "last_name": p.last_name, "sex": p.sex,
        "date_of_birth": p.dob.isoformat(), "nhs_number": p.nhs_number,
        "postcode": p.postcode, "district": p.district, "practice_ods": p.practice_ods or "",
        "died_on": _iso(p.died_on), "residential_from": _iso(p.residential_from),
        "moved_on": _iso(p.moved_on), "roles": ",".join(sorted(p.roles)),
    } for p in world.people])
    _write_csv(folder / "caring.csv", [{
        "carer": c.carer.pid, "cared_for": c.cared_for.pid, "relationship": c.relationship,
        "main_need": c.main_need, "started": c.started.isoformat(),
        "ended_on": _iso(c.ended_on), "end_reason": c.end_reason or "",
    } for c in world.carings])
    records = []
    declined = set()
    for pf in pw.files:
        records.append({"source_record_key": f"provider:carer:{pf.carer_ref}",
                        "person": pf.carer.pid, "role": "carer"})
        if pf.information_sharing == "Declined":
            declined.add(pf.carer_ref)
    for cf_ref, (_carer_ref, caring) in pw.cared_for_refs.items():
        records.append({"source_record_key": f"provider:cared_for:{cf_ref}",
                        "person": caring.cared_for.pid, "role": "cared_for"})
    for person_id, pid in lw.person_ids.items():
        records.append({"source_record_key": f"las:{person_id}", "person": pid,
                        "role": "las_person"})
    newest = _newest_gp_files(gp_truth, last_night)
    seen = set()
    entries = []
    for row in gp_truth:
        current = newest.get(row["practice_ods"]) == row["file"]
        entries.append({**row, "current": current, **gp_writer.stale_truth(world, row)})
        if not current or row["fault"] or not row["nhs_number_as_supplied"]:
            continue
        key = f"gp:{row['practice_ods']}:{row['nhs_number_as_supplied']}"
        if key not in seen:
            seen.add(key)
            records.append({"source_record_key": key, "person": row["carer"], "role": "carer"})
        if row["cared_for"]:
            records.append({"source_record_key": f"{key}:cared_for:{row['entry_number']}",
                            "person": row["cared_for"], "role": "cared_for"})
    _write_csv(folder / "records.csv", records)
    _write_csv(folder / "gp_entries.csv", entries)
    _write_csv(folder / "practitioners.csv", [
        {"practitioner_ref": p.ref, "optimistic": p.optimistic} for p in pw.practitioners])
    _write_csv(folder / "hard_negatives.csv", [
        {"person_a": a, "person_b": b, "kind": k} for a, b, k in world.hard_negatives])
    _write_csv(folder / "planted_faults.csv", faults,
               ["source", "file", "row_number", "fault"])
    _write_csv(folder / "information_sharing_declined.csv",
               [{"carer_ref": r} for r in sorted(declined)], ["carer_ref"])
    _write_csv(folder / "las_merges.csv", [
        {"old_person_id": o, "new_person_id": n, "merged_at": a.isoformat()}
        for o, n, a in lw.merges], ["old_person_id", "new_person_id", "merged_at"])


def _newest_gp_files(gp_truth: list[dict], last_night: date) -> dict[str, str]:
    newest: dict[str, tuple[str, str]] = {}
    for row in gp_truth:
        if row["layout"] == "Vision":
            continue
        current = newest.get(row["practice_ods"])
        if current is None or row["snapshot_month"] > current[0]:
            newest[row["practice_ods"]] = (row["snapshot_month"], row["file"])
    return {k: v[1] for k, v in newest.items()}
