"""The council's LAS reporting database as a SQLite file: people who receive care and the
carers the council knows, caring relationships (and next-of-kin rows that are not caring),
assessments with the inconsistently recorded carers' service contact, care packages with
costs calibrated to the evaluation's Tables 14–17, and duplicate records that staff later
merge.

Every row carries `last_updated` at the moment it last changed, so that each night's
incremental extract sees that night's new and changed rows.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from synthetic.noise import mention
from synthetic.world import Caring, Person, World, rand_date

DDL = """
CREATE TABLE person (person_id INTEGER PRIMARY KEY, nhs_number VARCHAR(10), forename VARCHAR,
  surname VARCHAR, date_of_birth DATE, gender VARCHAR, address VARCHAR, postcode VARCHAR(8),
  district VARCHAR, ethnicity VARCHAR, date_of_death DATE, last_updated TIMESTAMP);
CREATE TABLE person_relationship (relationship_id INTEGER PRIMARY KEY, person_id INTEGER,
  related_person_id INTEGER, relationship_type VARCHAR, carer_relationship VARCHAR,
  start_date DATE, end_date DATE, last_updated TIMESTAMP);
CREATE TABLE assessment (assessment_id INTEGER PRIMARY KEY, person_id INTEGER,
  assessment_type VARCHAR, assessment_date DATE, carer_fatigue_noted BOOLEAN,
  carers_service_contact VARCHAR, last_updated TIMESTAMP);
CREATE TABLE care_package (package_id INTEGER PRIMARY KEY, person_id INTEGER,
  primary_support_reason VARCHAR, setting VARCHAR, start_date DATE, end_date DATE,
  weekly_cost NUMERIC(10,2), includes_contingency BOOLEAN, funding VARCHAR,
  last_updated TIMESTAMP);
CREATE TABLE person_merge (old_person_id INTEGER, new_person_id INTEGER, merged_at TIMESTAMP);
CREATE INDEX ix_person_lu ON person(last_updated);
CREATE INDEX ix_rel_lu ON person_relationship(last_updated);
CREATE INDEX ix_ass_lu ON assessment(last_updated);
CREATE INDEX ix_pkg_lu ON care_package(last_updated);
"""

GENDER = {"F": "Female", "M": "Male"}
ETHNICITY = {"White": 90, "Asian, Asian British or Asian Welsh": 2.5,
             "Black, Black British, Black Welsh, Caribbean or African": 1,
             "Mixed or Multiple ethnic groups": 1.2, "Other ethnic group": 0.8,
             "Not stated": 4.5}
# Evaluation Table 16: mean annual cost by primary support reason.
PSR_COST = {
    "Learning disability support": 29400, "Mental health support": 15300,
    "Physical support - access and mobility only": 23000,
    "Physical support - personal care support": 23800,
    "Social support - support for social isolation / other": 15300,
    "Support with memory and cognition": 22900,
    "Sensory support - support for visual impairment": 14000,
}
PSR_FOR_NEED = {
    "Dementia": {"Support with memory and cognition": 1},
    "Physical disability": {"Physical support - personal care support": 6,
                            "Physical support - access and mobility only": 4},
    "Frail elderly": {"Physical support - personal care support": 7,
                      "Physical support - access and mobility only": 3},
    "Learning disability": {"Learning disability support": 1},
    "Autism": {"Learning disability support": 1,
               "Social support - support for social isolation / other": 1},
    "Mental health": {"Mental health support": 1},
    "Other": {"Social support - support for social isolation / other": 2,
              "Sensory support - support for visual impairment": 1},
}


@dataclass
class LasWorld:
    """What was written, for the truth files and calibration."""

    person_ids: dict[int, str] = field(default_factory=dict)  # person_id → truth pid
    merges: list[tuple[int, int, datetime]] = field(default_factory=list)
    contact_rows: list[tuple[str, bool]] = field(default_factory=list)  # (recorded, supported)
    annual_costs: list[float] = field(default_factory=list)
    contingency: list[bool] = field(default_factory=list)


def _stamp(rng: random.Random, day: date) -> str:
    return datetime.combine(day, time(rng.randint(7, 22), rng.randrange(60),
                                      rng.randrange(60))).isoformat(sep=" ")


def write_las(path: Path, rng: random.Random, world: World,
              provider_support: dict[str, list[tuple[date, date | None]]]) -> LasWorld:
    """`provider_support` maps a carer's truth id to the periods the carers' service had an
    open file for them (what `carers_service_contact` should have said)."""
    end = world.end
    out = LasWorld()
    persons: list[dict] = []
    rels: list[dict] = []
    assessments: list[dict] = []
    packages: list[dict] = []
    record_of: dict[str, dict] = {}

    def person_record(p: Person, created: date, *, nhs_rate: float) -> dict:
        if p.pid in record_of:
            rec = record_of[p.pid]
            rec["_created"] = min(rec["_created"], created)
            return rec
        m = mention(rng, p, "las", created)
        known_move = p.moved_on and p.moved_on <= end and rng.random() < 0.7
        house, postcode = p.address_on(end if known_move else created)
        updated = max(created, p.moved_on) if known_move and p.moved_on > created else created
        rec = {
            "pid": p.pid, "nhs_number": p.nhs_number if rng.random() < nhs_rate else None,
            "forename": m.first_name, "surname": m.last_name,
            "date_of_birth": m.dob.isoformat() if m.dob else None,
            "gender": GENDER[p.sex] if rng.random() > 0.01 else "Unknown",
            "address": f"{house}, {p.town}", "postcode": postcode, "district": p.district,
            "ethnicity": rng.choices(list(ETHNICITY), list(ETHNICITY.values()))[0],
            "date_of_death": None, "_created": created, "_updated": updated,
        }
        if rec["nhs_number"] and rng.random() < 0.01:
            rec["nhs_number"] = None
        if p.died_on and p.died_on <= end and rng.random() < 0.85:
            told = p.died_on + timedelta(days=rng.randint(1, 30))
            if told <= end:
                rec["date_of_death"] = p.died_on.isoformat()
                rec["_updated"] = max(rec["_updated"], told)
        record_of[p.pid] = rec
        persons.append(rec)
        return rec

    for caring in world.carings:
        membership = world.membership.get(caring.carer.pid)
        carer_in_las = bool(membership and membership.las)
        if not (caring.receives_services or carer_in_las):
            continue
        start = max(caring.started, date(2014, 1, 1)) + timedelta(days=rng.randint(0, 500))
        if caring.cared_for.died_on and start >= caring.cared_for.died_on:
            start = caring.cared_for.died_on - timedelta(days=rng.randint(30, 300))
        start = min(start, end - timedelta(days=1))
        cf = person_record(caring.cared_for, start, nhs_rate=0.97)
        if caring.receives_services:
            _services(rng, out, caring, cf, start, end, assessments, packages, provider_support)
        if carer_in_las:
            named = start + timedelta(days=rng.randint(0, 200))
            named = min(named, end)
            carer = person_record(caring.carer, named, nhs_rate=0.5)
            rel = {
                "person_id": cf, "related_person_id": carer,
                "relationship_type": rng.choices(("Main informal carer", "Informal carer"),
                                                 (60, 40))[0],
                "carer_relationship": caring.relationship,
                "start_date": max(caring.started, date(2000, 1, 1)).isoformat(),
                "end_date": None, "_updated": named,
            }
            told_end = _las_knows_end(rng, caring)
            if told_end and told_end <= end:
                rel["end_date"] = caring.ended_on.isoformat()
                rel["_updated"] = max(named, told_end)
            rels.append(rel)
            if rng.random() < 0.12:  # also recorded as next of kin: not caring by itself
                rels.append({**rel, "relationship_type": "Next of kin", "end_date": None,
                             "_updated": named})
            if rng.random() < 0.5:
                supported = _supported_on(provider_support, caring.carer.pid, named)
                assessments.append({
                    "person_id": carer,
                    "assessment_type": ("Carer assessment by carers service"
                                        if supported and rng.random() < 0.4
                                        else "Carer assessment"),
                    "assessment_date": named.isoformat(),
                    "carer_fatigue_noted": rng.random() < 0.2,
                    "carers_service_contact": _contact(rng, supported),
                    "_updated": named,
                })
    _duplicates(rng, out, persons, rels, assessments, end)

    # person_id in order of creation, as a case system issues them.
    persons.sort(key=lambda r: (r["_created"], r["pid"]))
    for i, rec in enumerate(persons):
        rec["person_id"] = 100001 + i
        out.person_ids[rec["person_id"]] = rec["pid"]
    con = sqlite3.connect(path)
    try:
        con.executescript(DDL)
        con.executemany(
            "INSERT INTO person VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [(r["person_id"], r["nhs_number"], r["forename"], r["surname"], r["date_of_birth"],
              r["gender"], r["address"], r["postcode"], r["district"], r["ethnicity"],
              r["date_of_death"], _stamp(rng, r["_updated"])) for r in persons])
        con.executemany(
            "INSERT INTO person_relationship VALUES (?,?,?,?,?,?,?,?)",
            [(i + 1, r["person_id"]["person_id"], r["related_person_id"]["person_id"],
              r["relationship_type"], r["carer_relationship"], r["start_date"], r["end_date"],
              _stamp(rng, r["_updated"])) for i, r in enumerate(rels)])
        con.executemany(
            "INSERT INTO assessment VALUES (?,?,?,?,?,?,?)",
            [(i + 1, r["person_id"]["person_id"], r["assessment_type"], r["assessment_date"],
              int(r["carer_fatigue_noted"]), r["carers_service_contact"],
              _stamp(rng, r["_updated"])) for i, r in enumerate(assessments)])
        con.executemany(
            "INSERT INTO care_package VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(i + 1, r["person_id"]["person_id"], r["primary_support_reason"], r["setting"],
              r["start_date"], r["end_date"], r["weekly_cost"], int(r["includes_contingency"]),
              r["funding"], _stamp(rng, r["_updated"])) for i, r in enumerate(packages)])
        merges = []
        for old, new, at in out.merges:
            merges.append((old["person_id"], new["person_id"], at.isoformat(sep=" ")))
        con.executemany("INSERT INTO person_merge VALUES (?,?,?)", merges)
        con.commit()
    finally:
        con.close()
    out.merges = [(o, n, datetime.fromisoformat(a)) for o, n, a in merges]
    return out


def _las_knows_end(rng: random.Random, caring: Caring) -> date | None:
    if caring.ended_on is None:
        return None
    chance = {"cared_for_deceased": 0.7, "residential_care": 0.85, "carer_deceased": 0.5,
              "breakdown": 0.35}.get(caring.end_reason or "", 0.3)
    if rng.random() < chance:
        return caring.ended_on + timedelta(days=rng.randint(3, 90))
    return None


def _supported_on(support: dict[str, list[tuple[date, date | None]]], pid: str,
                  day: date) -> bool:
    return any(s <= day and (e is None or day <= e) for s, e in support.get(pid, []))


def _contact(rng: random.Random, supported: bool) -> str | None:
    """What the assessor typed: only about a third of supported carers get `Yes`."""
    if supported:
        options = {"Yes": 36, "No": 24, "Referral only": 8, "Declined": 2, None: 30}
    else:
        options = {"Yes": 2, "No": 50, "Referral only": 2, "Declined": 1, None: 45}
    return rng.choices(list(options), list(options.values()))[0]


def _services(rng: random.Random, out: LasWorld, caring: Caring, cf: dict, start: date,
              end: date, assessments: list, packages: list,
              support: dict[str, list[tuple[date, date | None]]]) -> None:
    """Assessments and yearly care packages of a person who receives services."""
    person = caring.cared_for
    stop = min(d for d in (person.died_on, end) if d)
    day = start
    first = True
    cost = None
    psr = rng.choices(list(PSR_FOR_NEED[caring.main_need]),
                      list(PSR_FOR_NEED[caring.main_need].values()))[0]
    while day <= stop and day <= end:
        supported = _supported_on(support, caring.carer.pid, day)
        fatigue = rng.random() < (0.25 if supported else 0.09)
        kind = "Care Act assessment" if first else "Review"
        if not first and rng.random() < 0.12:
            kind = "Combined carer assessment"
        assessments.append({
            "person_id": cf, "assessment_type": kind, "assessment_date": day.isoformat(),
            "carer_fatigue_noted": fatigue,
            "carers_service_contact": _contact(rng, supported), "_updated": day,
        })
        out.contact_rows.append((assessments[-1]["carers_service_contact"] or "", supported))
        if person.residential_from and person.residential_from <= day:
            break
        next_day = day + timedelta(days=rng.randint(330, 400))
        if cost is None:
            mean = PSR_COST.get(psr, 20000)
            cost = min(max(rng.lognormvariate(0, 0.55) * mean * 0.74, 1300.0), 87500.0)
        else:
            r = rng.random()
            if r < 0.295:
                cost = min(cost * rng.uniform(1.1, 1.6), 87500.0)
            elif r < 0.425:
                cost = max(cost * rng.uniform(0.6, 0.9), 1300.0)
        package_end = next_day - timedelta(days=1)
        closes = [d for d in (person.died_on, person.residential_from) if d]
        if closes and min(closes) <= package_end:
            package_end = min(closes)
        contingency = rng.random() < (0.6 if fatigue else 0.375)
        packages.append({
            "person_id": cf, "primary_support_reason": psr, "setting": "Community",
            "start_date": day.isoformat(),
            "end_date": package_end.isoformat() if package_end <= end else None,
            "weekly_cost": round(cost / 52.143, 2), "includes_contingency": contingency,
            "funding": rng.choices(("Council funded", "Joint", "Self-funded"), (75, 15, 10))[0],
            "_updated": min(package_end, end) if package_end <= end else day,
        })
        out.annual_costs.append(cost)
        out.contingency.append(contingency)
        first = False
        day = next_day
    if person.residential_from and person.residential_from <= end:
        packages.append({
            "person_id": cf, "primary_support_reason": psr,
            "setting": rng.choice(("Residential care", "Nursing care")),
            "start_date": person.residential_from.isoformat(),
            "end_date": person.died_on.isoformat() if person.died_on and
            person.died_on <= end else None,
            "weekly_cost": round(rng.uniform(850, 1450), 2), "includes_contingency": False,
            "funding": "Council funded", "_updated": person.residential_from,
        })


def _duplicates(rng: random.Random, out: LasWorld, persons: list[dict], rels: list[dict],
                assessments: list[dict], end: date) -> None:
    """About 3% of people get a second record (a hospital discharge, a new referral); staff
    merge about 60% of those, refreshing the merged-away record's `last_updated`."""
    by_person: dict[int, list[dict]] = {}
    for a in assessments:
        by_person.setdefault(id(a["person_id"]), []).append(a)
    for rec in list(persons):
        if rng.random() >= 0.03:
            continue
        created = rand_date(rng, rec["_created"], end)
        dup = dict(rec)
        dup["_created"], dup["_updated"] = created, created
        if rng.random() < 0.5:
            dup["nhs_number"] = None
        if rng.random() < 0.3 and dup["date_of_birth"]:
            dup["date_of_birth"] = None
        persons.append(dup)
        for a in by_person.get(id(rec), []):
            if rng.random() < 0.3:
                a["person_id"] = dup
        if rng.random() < 0.6:
            merged = created + timedelta(days=rng.randint(5, 400))
            if merged <= end:
                old, new = (dup, rec) if rng.random() < 0.7 else (rec, dup)
                old["_updated"] = max(old["_updated"], merged)
                out.merges.append((old, new, datetime.combine(merged, time(
                    rng.randint(8, 18), rng.randrange(60)))))
