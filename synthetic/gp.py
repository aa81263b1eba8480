"""GP practice carer registers: one CSV per practice and month in the practice's clinical
system's layout (EMIS Web or SystmOne), listing the patients coded as carers — including the
many whose caring ended years ago and whom nobody has coded "no longer a carer".
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from carelink.codelists import Practice
from synthetic.noise import mention, mistype_nhs
from synthetic.world import Caring, Person, World, add_months, stable_fraction

EMIS_COLUMNS = ["NHS Number", "Title", "First Name", "Surname", "Date of Birth", "Sex",
                "Postcode", "Carer Code", "Carer Code Term", "Date Recorded",
                "Last Carer Review", "No Longer Carer Date", "Cared For NHS Number",
                "Cared For Name"]
SYSTMONE_COLUMNS = ["NHSNumber", "Forename", "Surname", "DOB", "Gender", "PostCode",
                    "CarerCode", "CodeDate", "ReviewDate", "CeasedDate", "CaredForNHSNumber",
                    "CaredForForename", "CaredForSurname", "CaredForDOB"]
# A third clinical system's export, which the data-sharing agreement does not cover.
VISION_COLUMNS = ["Patient NHS No", "Forenames", "Family Name", "Birth Date", "Read Code",
                  "Event Date"]
CARER_CODES = (("224484003", "Patient themselves providing care", 70),
               ("918a", "Is a carer", 12),
               ("413453003", "Primary carer", 10),
               ("408776003", "Caring for relative", 8))
RELATION_WORD = {
    ("Partner", "F"): "wife", ("Partner", "M"): "husband", ("Child", "F"): "mother",
    ("Child", "M"): "father", ("Parent", "F"): "daughter", ("Parent", "M"): "son",
    ("Sibling", "F"): "sister", ("Sibling", "M"): "brother",
}


@dataclass
class RegisterEntry:
    carer: Person
    caring: Caring | None  # the cared-for person the row names (None: names nobody)
    names_cared_for: bool
    date_recorded: date
    reviews: list[date]
    ceased: date | None
    code: tuple[str, str]
    nhs_slip: str | None = None  # a mistyped or missing NHS number, fixed per entry


@dataclass
class GpWorld:
    entries: dict[str, list[RegisterEntry]] = field(default_factory=dict)  # practice → rows
    files: list[dict] = field(default_factory=list)  # truth rows per written entry


def build_registers(rng: random.Random, world: World) -> GpWorld:
    """Who each practice has coded as a carer, with reviews and 'no longer a carer' codes."""
    gw = GpWorld()
    for pid, membership in world.membership.items():
        if not membership.gp:
            continue
        carer = world.person(pid)
        carings = world.carings_of(carer)
        if not carings:
            continue
        first_start = min(c.started for c in carings)
        ended = [c.ended_on for c in carings]
        # A practice codes a patient as a carer while they care: never after the last caring
        # ended (a register that did would have to record "no longer a carer" before the
        # date it first recorded the caring).
        last_day = max(ended) if all(ended) else world.end
        span = max((last_day - first_start).days, 0)
        recorded = first_start + timedelta(days=int(rng.uniform(0, 3) * min(365, span / 3)))
        if recorded > world.end:
            continue
        code = rng.choices(CARER_CODES, [c[2] for c in CARER_CODES])[0][:2]
        reviews = []
        if rng.random() < 0.45:
            day = recorded
            while True:
                day += timedelta(days=rng.randint(300, 900))
                if day > world.end:
                    break
                reviews.append(day)
        ceased = None
        if all(ended) and rng.random() < 0.25:
            ceased = max(ended) + timedelta(days=rng.randint(10, 250))
        # The row names whom the patient cared for when the practice recorded it (never
        # someone whose caring had already ended by then).
        current = [c for c in carings if c.started <= recorded
                   and (c.ended_on is None or c.ended_on > recorded)] or carings[:1]
        if len(carings) > 1 and rng.random() < 0.4:
            rows = [(c, True) for c in current]
        else:
            rows = [(current[0], rng.random() < 0.6)]
        slip = None
        r = rng.random()
        if r < 0.006:
            slip = mistype_nhs(rng, carer.nhs_number)
        for caring, names in rows:
            gw.entries.setdefault(carer.pid, []).append(RegisterEntry(
                carer, caring, names, recorded, reviews, ceased, code, slip))
    return gw


def register_rows(rng: random.Random, world: World, gw: GpWorld, practice_ods: str,
                  month: date) -> list[RegisterEntry]:
    """The entries a practice's register search returns on the first working day of `month`."""
    rows: list[RegisterEntry] = []
    for entries in gw.entries.values():
        first = entries[0]
        carer = first.carer
        if first.date_recorded >= month:
            continue
        here = carer.practice_on(month) == practice_ods
        # A practice slow to remove a patient who moved away still lists them for a while.
        departed = (carer.old_practice_ods == practice_ods and carer.moved_on is not None
                    and carer.moved_on <= month and carer.practice_ods != practice_ods
                    and (month - carer.moved_on).days < 540
                    and stable_fraction(carer.pid, "stays") < 0.5)
        if not (here or departed):
            continue
        if carer.died_on and carer.died_on < month and stable_fraction(carer.pid, "dereg") < 0.7:
            continue  # most deceased patients are deregistered
        rows.extend(entries)
    rng.shuffle(rows)
    return rows


def _fmt_emis(day: date | None) -> str:
    return day.strftime("%d-%b-%Y") if day else ""


def _fmt_iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _spaced(nhs: str) -> str:
    return f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}" if len(nhs) == 10 else nhs


def write_register(path: Path, rng: random.Random, entries: list[RegisterEntry], month: date,
                   layout: str, *, faults: dict[int, str] | None = None) -> list[dict]:
    """Write one register file; returns truth rows (entry number k → people)."""
    faults = faults or {}
    buffer = io.StringIO()
    crlf = rng.random() < 0.5
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n")
    columns = {"EMIS Web": EMIS_COLUMNS, "SystmOne": SYSTMONE_COLUMNS,
               "Vision": VISION_COLUMNS}[layout]
    writer.writerow(columns)
    truth = []
    for k, entry in enumerate(entries, start=1):
        carer = entry.carer
        m = mention(rng, carer, "gp", month)
        nhs = entry.nhs_slip or carer.nhs_number
        last_review = max((r for r in entry.reviews if r < month), default=None)
        ceased = entry.ceased if entry.ceased and entry.ceased < month else None
        cared = entry.caring.cared_for if entry.caring and entry.names_cared_for else None
        fault = faults.get(k)
        recorded = entry.date_recorded
        if fault == "missing_nhs":
            nhs = ""
        if layout == "EMIS Web":
            cf_nhs = cf_name = ""
            if cared is not None:
                if rng.random() < 0.35:
                    cf_nhs = _spaced(cared.nhs_number)
                if rng.random() < 0.8 or not cf_nhs:
                    cf_name = _free_text_name(rng, cared, entry.caring)
            row = [_spaced(nhs), _title(carer), m.first_name, m.last_name, _fmt_emis(m.dob),
                   {"F": "Female", "M": "Male"}[carer.sex], m.postcode, entry.code[0],
                   entry.code[1], _fmt_emis(recorded), _fmt_emis(last_review),
                   _fmt_emis(ceased), cf_nhs, cf_name]
            if fault == "bad_date":
                row[9] = "31-Feb-2019"
        elif layout == "SystmOne":
            code = "224484003" if entry.code[0] == "918a" else entry.code[0]
            cf = ["", "", "", ""]
            if cared is not None:
                cm = mention(rng, cared, "gp", month)
                cf = [cared.nhs_number if rng.random() < 0.35 else "",
                      cm.first_name, cm.last_name,
                      _fmt_iso(cared.dob) if rng.random() < 0.4 else ""]
                if not cf[0] and rng.random() < 0.2:
                    cf[1] = cf[2] = ""
                    cf[0] = cared.nhs_number
            row = [nhs, m.first_name, m.last_name, _fmt_iso(m.dob), carer.sex, m.postcode,
                   code, _fmt_iso(recorded), _fmt_iso(last_review), _fmt_iso(ceased), *cf]
            if fault == "bad_date":
                row[7] = "2019-13-40"
        else:
            row = [nhs, m.first_name, m.last_name, _fmt_iso(m.dob), entry.code[0],
                   _fmt_iso(recorded)]
        writer.writerow(row)
        truth.append({
            "entry_number": k, "carer": carer.pid, "nhs_number_as_supplied": nhs.replace(" ", ""),
            "cared_for": cared.pid if cared else "", "date_recorded": recorded.isoformat(),
            "last_review": _fmt_iso(last_review), "ceased": _fmt_iso(ceased),
            "fault": fault or "",
        })
    data = buffer.getvalue().encode("utf-8-sig" if rng.random() < 0.5 else "utf-8")
    path.write_bytes(data)
    return truth


def _title(p: Person) -> str:
    return "Mr" if p.sex == "M" else "Mrs"


def _free_text_name(rng: random.Random, person: Person, caring: Caring | None) -> str:
    """How a receptionist writes who the patient cares for."""
    relation = RELATION_WORD.get((caring.relationship, person.sex)) if caring else None
    title = "Mr" if person.sex == "M" else rng.choice(("Mrs", "Mrs", "Ms", "Miss"))
    style = rng.randrange(4)
    if style == 0:
        return f"{title} {person.first_name[0]} {person.last_name}"
    if style == 1 and relation:
        return f"{person.first_name} {person.last_name} ({relation})"
    if style == 2:
        return f"{person.first_name} {person.last_name}"
    return f"{title} {person.first_name} {person.last_name}".upper() if relation is None else (
        f"{person.last_name}, {person.first_name}")


def months_between(first: date, last: date) -> list[date]:
    months = []
    day = first.replace(day=1)
    while day <= last:
        months.append(day)
        day = add_months(day, 1)
    return months


def write_gp_landing(folder: Path, rng: random.Random, world: World, gw: GpWorld,
                     practices: dict[str, Practice], first_night: date, last_night: date,
                     ) -> tuple[list[dict], list[dict]]:
    """All register files for the months the nights need (the month before the first night
    through the last night's month), with planted faults. Returns (truth rows, faults)."""
    folder.mkdir(parents=True, exist_ok=True)
    months = months_between(add_months(first_night.replace(day=1), -1), last_night)
    truth: list[dict] = []
    faults: list[dict] = []
    ods = sorted(practices)
    switcher = rng.choice([o for o in ods if practices[o].clinical_system == "EMIS Web"])
    vision = rng.choice([o for o in ods if o != switcher])
    for i, month in enumerate(months):
        latest = i == len(months) - 1
        for code in ods:
            if i > 0 and rng.random() < 0.06 and code not in (switcher, vision):
                continue  # this month's search not uploaded (yet): last month's stays current
            layout = practices[code].clinical_system
            if latest and code == switcher:
                layout = "SystmOne"  # changed clinical system: changed layout
            if latest and code == vision:
                layout = "Vision"
            entries = register_rows(rng, world, gw, code, month)
            planted: dict[int, str] = {}
            if latest and entries and code not in (vision,) and rng.random() < 0.08:
                planted[rng.randint(1, len(entries))] = rng.choice(("bad_date", "missing_nhs"))
            name = f"{code}_{month:%Y%m}.csv"
            rows = write_register(folder / name, rng, entries, month, layout, faults=planted)
            for row in rows:
                truth.append({"file": name, "practice_ods": code,
                              "snapshot_month": month.isoformat(), "layout": layout, **row})
                if row["fault"]:
                    faults.append({"source": "gp", "file": name,
                                   "row_number": row["entry_number"], "fault": row["fault"]})
            if layout == "Vision":
                faults.append({"source": "gp", "file": name, "row_number": "",
                               "fault": "unknown_layout"})
    # A practice outside the list (a neighbouring county's practice joined by mistake).
    stray = f"D89999_{months[-1]:%Y%m}.csv"
    someone = next(iter(gw.entries.values()))
    write_register(folder / stray, rng, someone, months[-1], "EMIS Web")
    faults.append({"source": "gp", "file": stray, "row_number": "", "fault": "unknown_practice"})
    return truth, faults


def stale_truth(world: World, row: dict) -> dict:
    """The contract's staleness rules applied to what really happened (not to what the
    sources say): the upper bound of what carelink can find."""
    month = date.fromisoformat(row["snapshot_month"])
    last_review = date.fromisoformat(row["last_review"] or row["date_recorded"])
    overdue = last_review < add_months(month, -24)  # by the dates alone, ceased or not
    return {"true_reasons": ",".join(patient_stale_truth(world, [row])),
            "true_review_overdue": overdue}


def patient_stale_truth(world: World, rows: list[dict]) -> list[str]:
    """The contract's staleness reasons for one patient on one register (all their rows), on
    what really happened: the same rules as `expectations.staleness`, applied per patient as
    it does (the rows' named cared-for people together; any "no longer a carer" date wins)."""
    if any(r["ceased"] for r in rows):
        return []
    month = date.fromisoformat(rows[0]["snapshot_month"])
    carer = world.person(rows[0]["carer"])
    reviews = [date.fromisoformat(r["last_review"] or r["date_recorded"]) for r in rows]
    last_review = max(reviews)
    reasons = []
    if carer.died_on and carer.died_on < month:
        reasons.append("carer_deceased")
    named_pids = sorted({r["cared_for"] for r in rows if r["cared_for"]})
    named = ([world.person(pid) for pid in named_pids] if named_pids
             else [c.cared_for for c in world.carings_of(carer)])
    deaths = [p.died_on for p in named]
    if named and all(deaths) and all((month - d).days >= 90 for d in deaths) and (
            last_review < max(deaths)):
        reasons.append("cared_for_deceased")
    else:
        ends = [c.ended_on for c in world.carings_of(carer)]
        if ends and all(ends) and (month - max(ends)).days >= 90 and last_review < max(ends):
            reasons.append("caring_ended")
    return reasons
