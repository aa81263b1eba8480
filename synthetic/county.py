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

# The evaluation's service: 7,956 carers seen by about thirty practitioners, so each carries a
# caseload of some 265 carers over the years (a few dozen of them on an action plan with Star
# readings). A county of N carers gets N / 265 practitioners, and about one in ten of them
# scores optimistically (three at the evaluation's scale). With a fixed thirty practitioners a
# small county gave each only ten or so Star carers, too few for any funnel plot to tell an
# optimistic scorer from chance; with a fixed three optimists a small service would have a
# quarter of its staff scoring optimistically, which the funnel rightly reads as ordinary
# between-practitioner variation.
CARERS_PER_PRACTITIONER = 7956 / 30
OPTIMISTIC_SHARE = 0.1
MIN_PRACTITIONERS = 5


def practitioner_counts(carers: int, biased_practitioners: int | None = None
                        ) -> tuple[int, int]:
    """(practitioners, optimistic practitioners) for a county of `carers` carers."""
    n = max(MIN_PRACTITIONERS, round(carers / CARERS_PER_PRACTITIONER))
    biased = (max(1, round(n * OPTIMISTIC_SHARE)) if biased_practitioners is None
              else biased_practitioners)
    return n, min(biased, n)


@dataclass
class ProviderCounty:
    """The first steps of `generate_county`: the world and the carers' service, before
    endings are simulated (the Star readings are fixed by then)."""

    rng: random.Random
    world: World
    provider: provider_writer.ProviderWorld


def build_provider_county(*, carers: int, seed: int, last_night: date,
                          biased_practitioners: int | None = None) -> ProviderCounty:
    """World and provider exactly as `generate_county` builds them for these arguments (same
    random stream), without writing anything: for checks that only need the provider's
    Star readings, such as the funnel's behaviour over many seeds."""
    rng = random.Random(seed)
    by_district: dict[str, list[str]] = {}
    for p in load_practices().values():
        by_district.setdefault(p.district, []).append(p.practice_ods)
    world = build_world(rng, provider_carers=carers, end=last_night,
                        practices_by_district=by_district)
    n, biased = practitioner_counts(carers, biased_practitioners)
    pw = provider_writer.build_provider(rng, world, biased_practitioners=biased,
                                        n_practitioners=n)
    return ProviderCounty(rng, world, pw)


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
    practices = load_practices()
    built = build_provider_county(carers=carers, seed=seed, last_night=last_night,
                                  biased_practitioners=biased_practitioners)
    rng, world, pw = built.rng, built.world, built.provider
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
    _write_csv(truth_dir / "gp_stale_entries.csv",
               stale_entries(world, pw, lw, las_db, gp_truth, last_night), STALE_COLUMNS)
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
    # The contract numbers a patient's mentions by their rows: the k-th row of that patient
    # in the file (every row carrying their number counts, a faulty one too).
    patient_row: dict[tuple[str, str], int] = {}
    for row in gp_truth:
        current = newest.get(row["practice_ods"]) == row["file"]
        row["patient_row"] = ""
        if row["nhs_number_as_supplied"]:
            slot = (row["file"], row["nhs_number_as_supplied"])
            patient_row[slot] = row["patient_row"] = patient_row.get(slot, 0) + 1
        entries.append({**row, "current": current, **gp_writer.stale_truth(world, row)})
        if not current or row["fault"] or not row["nhs_number_as_supplied"]:
            continue
        key = f"gp:{row['practice_ods']}:{row['nhs_number_as_supplied']}"
        if key not in seen:
            seen.add(key)
            records.append({"source_record_key": key, "person": row["carer"], "role": "carer"})
        if row["cared_for"]:
            records.append({"source_record_key": f"{key}:cared_for:{row['patient_row']}",
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


# --- which current register entries are stale, and which of them the sources could reveal --

STALE_COLUMNS = ["practice_ods", "snapshot_month", "nhs_number", "carer", "entries",
                 "true_reasons", "evidence_reasons", "evidence"]
LAS_CARING_TYPES = ("Main informal carer", "Informal carer")
LAS_INSTITUTIONAL = ("Residential care", "Nursing care")


@dataclass
class SourceKnowledge:
    """What the three sources recorded by the last night, in true person ids: the facts a
    perfect linkage could put together (nothing here comes from carelink's own code)."""

    deaths: dict[str, date] = field(default_factory=dict)  # earliest recorded death
    residential: dict[str, date] = field(default_factory=dict)  # LAS residential/nursing
    # carer pid → cared-for pid → recorded end of that caring (None: no end recorded)
    caring: dict[str, dict[str, date | None]] = field(default_factory=dict)

    def died(self, pid: str, on: date | None) -> None:
        if on is None:
            return
        if pid not in self.deaths or on < self.deaths[pid]:
            self.deaths[pid] = on

    def cares(self, carer: str, cared_for: str, ended: date | None) -> None:
        known = self.caring.setdefault(carer, {})
        before = known.get(cared_for)
        if cared_for not in known or (ended and (before is None or ended < before)):
            known[cared_for] = ended


def _day(text: object) -> date | None:
    """A date from ISO (LAS) or dd/mm/yyyy (provider) text; None when empty or impossible."""
    if not text:
        return None
    text = str(text)
    try:
        if "/" in text:
            d, m, y = text.split("/")
            return date(int(y), int(m), int(d))
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def source_knowledge(pw: provider_writer.ProviderWorld, lw: las_writer.LasWorld,
                     las_db: Path, gp_truth: list[dict], last_night: date) -> SourceKnowledge:
    """Deaths, residential moves and caring relationships (with their recorded ends) as the
    provider's last snapshot, the LAS database and the GP registers hold them."""
    import sqlite3

    k = SourceKnowledge()
    con = sqlite3.connect(las_db)
    try:
        for person_id, died in con.execute(
                "select person_id, date_of_death from person where date_of_death is not null"):
            k.died(lw.person_ids[person_id], _day(died))
        for person_id, start in con.execute(
                "select person_id, start_date from care_package where setting in (?, ?)",
                LAS_INSTITUTIONAL):
            pid, when = lw.person_ids[person_id], _day(start)
            if when and (pid not in k.residential or when < k.residential[pid]):
                k.residential[pid] = when
        for cared, carer, ended in con.execute(
                "select person_id, related_person_id, end_date from person_relationship "
                "where relationship_type in (?, ?)", LAS_CARING_TYPES):
            k.cares(lw.person_ids[carer], lw.person_ids[cared], _day(ended))
    finally:
        con.close()
    rows = provider_writer.snapshot_rows(pw, last_night)
    carer_pid = {pf.carer_ref: pf.carer.pid for pf in pw.files}
    # A file whose carer declined information sharing never reaches another organisation's
    # records, so what it says is no evidence for a GP register entry.
    declined = {c["carer_ref"] for c in rows["carers.csv"]
                if c["information_sharing"] == "Declined"}
    breakdown: dict[str, date] = {}
    for c in rows["sustainment_checks.csv"]:
        if c["still_caring"] != "No" or c["carer_ref"] in declined:
            continue
        when = _day(c["check_date"])
        if when and (c["carer_ref"] not in breakdown or when < breakdown[c["carer_ref"]]):
            breakdown[c["carer_ref"]] = when
        if c["breakdown_reason"] == "Death of the carer" and when:
            k.died(carer_pid[c["carer_ref"]], when)
    for r in rows["cared_for.csv"]:
        if r["carer_ref"] in declined:
            continue
        _ref, caring = pw.cared_for_refs[r["cared_for_ref"]]
        if r["date_of_death"]:
            k.died(caring.cared_for.pid, _day(r["date_of_death"]))
        k.cares(carer_pid[r["carer_ref"]], caring.cared_for.pid, breakdown.get(r["carer_ref"]))
    for row in gp_truth:
        if row["cared_for"]:
            k.cares(row["carer"], row["cared_for"], None)
    return k


def evidence_reasons(k: SourceKnowledge, carer: str, named: list[str], month: date,
                     true_reasons: list[str]) -> list[str]:
    """The true reasons some source holds evidence for, under the contract's dates (a death
    before the month; a cared-for death or an ending at least 90 days before it)."""
    grace = month - timedelta(days=90)
    found = []
    if "carer_deceased" in true_reasons and carer in k.deaths and k.deaths[carer] < month:
        found.append("carer_deceased")
    known = k.caring.get(carer, {})
    cared = named or sorted(known)
    if ("cared_for_deceased" in true_reasons and cared
            and all(p in k.deaths and k.deaths[p] <= grace for p in cared)):
        found.append("cared_for_deceased")
    if "caring_ended" in true_reasons and known:
        ends = []
        for cf, ended in known.items():
            options = [d for d in (ended, k.deaths.get(cf), k.deaths.get(carer),
                                   k.residential.get(cf)) if d]
            if not options:
                break
            ends.append(min(options))
        else:
            if max(ends) <= grace:
                found.append("caring_ended")
    return found


def stale_entries(world: World, pw: provider_writer.ProviderWorld, lw: las_writer.LasWorld,
                  las_db: Path, gp_truth: list[dict], last_night: date) -> list[dict]:
    """One row per patient on each practice's current register (keyed as the staleness check
    keys them: practice and NHS number as supplied): whether the entry is truly stale and
    whether some source holds evidence for it — the denominator of the stale check's recall."""
    knowledge = source_knowledge(pw, lw, las_db, gp_truth, last_night)
    newest = _newest_gp_files(gp_truth, last_night)
    patients: dict[tuple[str, str], list[dict]] = {}
    for row in gp_truth:
        if newest.get(row["practice_ods"]) != row["file"] or row["fault"]:
            continue
        if not row["nhs_number_as_supplied"]:
            continue
        patients.setdefault((row["practice_ods"], row["nhs_number_as_supplied"]), []
                            ).append(row)
    out = []
    for (ods, nhs), rows in sorted(patients.items()):
        reasons = gp_writer.patient_stale_truth(world, rows)
        month = date.fromisoformat(rows[0]["snapshot_month"])
        named = sorted({r["cared_for"] for r in rows if r["cared_for"]})
        found = evidence_reasons(knowledge, rows[0]["carer"], named, month, reasons)
        out.append({"practice_ods": ods, "snapshot_month": month.isoformat(),
                    "nhs_number": nhs, "carer": rows[0]["carer"], "entries": len(rows),
                    "true_reasons": ",".join(reasons), "evidence_reasons": ",".join(found),
                    "evidence": bool(found)})
    return out
