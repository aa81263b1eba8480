"""The carers' service: referrals, the assessment pathway, Carers Star readings by its
practitioners (about one in ten optimistic and late), support plans and sustainment checks — and the
nightly snapshot folders exactly as the provider-extract specification describes.

Sustainment checks decide how caring ended for carers on an action plan (so that their
breakdown mix is the evaluation's Table 8), and the world's people are updated to match.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from carelink.codelists import breakdown_reasons
from synthetic.noise import mention, styled_name
from synthetic.world import (
    BREAKDOWN_MIX_6M,
    BREAKDOWN_MIX_12M,
    LEGACY_COHORTS_UNTIL,
    Caring,
    Person,
    World,
    add_months,
    pick,
    rand_date,
    stable_fraction,
)

CARER_COLUMNS = [
    "carer_ref", "nhs_number", "title", "first_name", "last_name", "date_of_birth", "sex",
    "address_line_1", "town", "postcode", "district", "phone", "email",
    "has_long_term_condition", "employment_status", "hours_caring_per_week", "referral_date",
    "referral_source", "information_sharing", "status", "closed_date", "created_at",
    "updated_at",
]
CARED_FOR_COLUMNS = [
    "cared_for_ref", "carer_ref", "first_name", "last_name", "date_of_birth", "nhs_number",
    "postcode", "carer_relationship", "main_need", "receives_services", "date_of_death",
]
ASSESSMENT_COLUMNS = ["assessment_ref", "carer_ref", "stage", "assessment_date",
                      "practitioner_ref", "risk_level", "weighted_score", "outcome"]
STAR_COLUMNS = ["star_ref", "carer_ref", "reading", "assessment_date", "recorded_at",
                "practitioner_ref", "completed_with", "total_score", "carer_self_rating"]
CHECK_COLUMNS = ["check_ref", "carer_ref", "plan_agreed_date", "check_type", "due_date",
                 "check_date", "still_caring", "breakdown_reason", "breakdown_category"]
PLAN_COLUMNS = ["plan_ref", "carer_ref", "plan_type", "agreed_date", "closed_date",
                "support_items"]
FILES = {
    "carers.csv": CARER_COLUMNS, "cared_for.csv": CARED_FOR_COLUMNS,
    "assessments.csv": ASSESSMENT_COLUMNS, "star_scores.csv": STAR_COLUMNS,
    "sustainment_checks.csv": CHECK_COLUMNS, "support_plans.csv": PLAN_COLUMNS,
}
SUPPORT_ITEMS = ["Information and advice", "Respite and breaks", "Health and wellbeing grant",
                 "Counselling", "Peer support", "Training", "Benefits advice",
                 "Equipment or OT referral", "Digital support", "Employment support",
                 "Referral to council"]
REASON_TO_END = {"CARED_FOR_DIED": "cared_for_deceased", "CARER_DIED": "carer_deceased"}


@dataclass
class Event:
    """A row that appears in snapshots from `on` (and whose fields may fill in later)."""

    on: date
    row: dict
    later: list[tuple[date, dict]] = field(default_factory=list)  # (from, field updates)

    def as_of(self, night: date) -> dict | None:
        if self.on > night:
            return None
        row = dict(self.row)
        for when, updates in self.later:
            if when <= night:
                row.update(updates)
        return row


@dataclass
class ProviderFile:
    carer_ref: str
    carer: Person
    carings: list[Caring]
    referral_date: date
    closed_date: date | None
    information_sharing: str
    carer_row: dict
    cared_for: list[Event] = field(default_factory=list)
    assessments: list[Event] = field(default_factory=list)
    stars: list[Event] = field(default_factory=list)
    checks: list[Event] = field(default_factory=list)
    plans: list[Event] = field(default_factory=list)
    practitioner: str = ""
    risk: str | None = None  # Low / High when beyond triage


@dataclass
class Practitioner:
    ref: str
    optimistic: bool


@dataclass
class ProviderWorld:
    files: list[ProviderFile]
    practitioners: list[Practitioner]
    hazard_from: dict[str, date]  # cared-for / carer pid → date from which hazards apply
    cared_for_refs: dict[str, tuple[str, Caring]]  # cf ref → (carer_ref, caring)
    death_told: dict[str, date]  # pid → when the service heard of the death


class Refs:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def new(self, prefix: str, digits: int = 6) -> str:
        while True:
            ref = f"{prefix}{self.rng.randrange(10 ** digits):0{digits}d}"
            if ref not in self.used:
                self.used.add(ref)
                return ref


def d(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def ts(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 17), rng.randrange(60), rng.randrange(60)))


def build_provider(rng: random.Random, world: World, *, biased_practitioners: int = 3,
                   n_practitioners: int = 30) -> ProviderWorld:
    refs = Refs(rng)
    practitioners = [Practitioner(f"P{101 + i}", False) for i in range(n_practitioners)]
    for p in rng.sample(practitioners, min(biased_practitioners, n_practitioners)):
        p.optimistic = True
    pw = ProviderWorld([], practitioners, {}, {}, {})
    declined = {c.pid for c in world.provider_carers if rng.random() < 0.06}
    for carer in world.provider_carers:
        carings = world.carings_of(carer)
        referral = world.referral_dates[carer.pid]
        info = "Declined" if carer.pid in declined else "Agreed"
        _pathway(rng, world, pw, refs, carer, carings, referral, info)
    return pw


def _pathway(rng: random.Random, world: World, pw: ProviderWorld, refs: Refs, carer: Person,
             carings: list[Caring], referral: date, info: str, *, rereferral: bool = False) -> None:
    end = world.end
    carer_ref = refs.new("CR")
    practitioner = rng.choice(pw.practitioners)
    m = mention(rng, carer, "provider_carer", referral)
    title = _title(rng, carer)
    row = {
        "carer_ref": carer_ref,
        "nhs_number": _spaced(rng, m.nhs_number),
        "title": title, "first_name": styled_name(rng, m.first_name),
        "last_name": styled_name(rng, m.last_name), "date_of_birth": d(m.dob),
        "sex": carer.sex if rng.random() > 0.03 else rng.choice(("U", "X")),
        "address_line_1": m.house, "town": carer.town,
        "postcode": m.postcode, "district": carer.district,
        "phone": f"07{rng.randrange(10 ** 9):09d}" if rng.random() < 0.7 else "",
        "email": (f"{m.first_name.lower()}.{m.last_name.lower()}@example.org".replace(" ", "")
                  if rng.random() < 0.35 else ""),
        "has_long_term_condition": rng.choices(("Yes", "No", "Not recorded"), (35, 50, 15))[0],
        "employment_status": _employment(rng, carer, referral),
        "hours_caring_per_week": rng.choice(
            ("Under 10", "10-19", "20-34", "35-49", "50 or more", "50 or more", "")),
        "referral_date": d(referral),
        "referral_source": rng.choices(
            ("Self", "GP practice", "Council adult social care", "Hospital",
             "Other health professional", "Voluntary organisation", "Other"),
            (30, 22, 18, 10, 8, 7, 5))[0],
        "information_sharing": info, "status": "Open", "closed_date": "",
        "created_at": ts(referral, rng).isoformat(), "updated_at": "",
    }
    pf = ProviderFile(carer_ref, carer, carings, referral, None, info, row,
                      practitioner=practitioner.ref)
    for caring in carings:
        if not caring.current_on(referral) and caring.started <= referral:
            continue
        cf_ref = refs.new("CF")
        cm = mention(rng, caring.cared_for, "provider_cared_for", referral)
        pf.cared_for.append(Event(referral, {
            "cared_for_ref": cf_ref, "carer_ref": carer_ref,
            "first_name": styled_name(rng, cm.first_name),
            "last_name": styled_name(rng, cm.last_name) if rng.random() > 0.05 else "",
            "date_of_birth": d(cm.dob), "nhs_number": _spaced(rng, cm.nhs_number),
            "postcode": m.postcode if caring.cared_for.postcode == carer.postcode
            else cm.postcode,
            "carer_relationship": caring.relationship, "main_need": caring.main_need,
            "receives_services": ("Yes" if caring.receives_services else
                                  rng.choice(("No", "No", "Unknown"))),
            "date_of_death": "",
        }, []))
        pw.cared_for_refs[cf_ref] = (carer_ref, caring)
    if not pf.cared_for:
        return
    pw.files.append(pf)

    # The pathway: triage, then (for 40%) Part A, and for a third of those Part B.
    if rng.random() < 0.22:
        _assessment(pf, refs, "Self-assessment", referral, "", None,
                    rng.randint(35, 100), "Information and advice")
    beyond = rng.random() < 0.40
    triage_day = referral + timedelta(days=rng.randint(0, 10))
    if not beyond:
        outcome = rng.choices(("Information and advice", "Closed - no further action",
                               "Referred to council"), (50, 30, 20))[0]
        _assessment(pf, refs, "Triage", triage_day, practitioner.ref, None, None, outcome)
        _close(pf, triage_day + timedelta(days=rng.randint(14, 120)), end)
    else:
        _assessment(pf, refs, "Triage", triage_day, practitioner.ref, None, None,
                    "Low-level support plan")
        high = rng.random() < 0.36
        part_a = triage_day + timedelta(days=rng.randint(5, 35))
        pf.risk = "High" if high else "Low"
        if not high:
            _assessment(pf, refs, "Part A", part_a, practitioner.ref, "Low", None,
                        "Low-level support plan")
            close = part_a + timedelta(days=rng.randint(90, 300))
            _plan(rng, pf, refs, "Low-level support plan", part_a, close, end)
            _close(pf, close, end)
        else:
            _assessment(pf, refs, "Part A", part_a, practitioner.ref, "High", None,
                        "Action plan")
            part_b = part_a + timedelta(days=rng.randint(7, 40))
            _assessment(pf, refs, "Part B", part_b, practitioner.ref, "High", None,
                        "Action plan")
            _action_plan(rng, world, pw, refs, pf, practitioner, part_b)
    # About one closed carer in seven comes back later under a new carer_ref.
    if (not rereferral and pf.closed_date and rng.random() < 0.2
            and carer.alive_on(pf.closed_date)):
        again = pf.closed_date + timedelta(days=rng.randint(45, 540))
        still = [c for c in carings if c.current_on(again)]
        if again <= end and still and carer.alive_on(again):
            _pathway(rng, world, pw, refs, carer, still, again, info, rereferral=True)


def _assessment(pf: ProviderFile, refs: Refs, stage: str, day: date, practitioner: str,
                risk: str | None, score: int | None, outcome: str) -> None:
    if risk and day < LEGACY_COHORTS_UNTIL:
        risk = "Cohort 2" if risk == "Low" else (
            "Cohort 3" if stable_fraction(pf.carer_ref) < 0.5 else "Cohort 4")
    pf.assessments.append(Event(day, {
        "assessment_ref": refs.new("AS", 7), "carer_ref": pf.carer_ref, "stage": stage,
        "assessment_date": d(day), "practitioner_ref": practitioner, "risk_level": risk or "",
        "weighted_score": "" if score is None else str(score), "outcome": outcome,
    }))


def _plan(rng: random.Random, pf: ProviderFile, refs: Refs, plan_type: str, agreed: date,
          closed: date | None, end: date) -> None:
    items = rng.sample(SUPPORT_ITEMS, rng.randint(1, 4))
    event = Event(agreed, {
        "plan_ref": refs.new("PL", 7), "carer_ref": pf.carer_ref, "plan_type": plan_type,
        "agreed_date": d(agreed), "closed_date": "", "support_items": ";".join(items),
    })
    if closed and closed <= end:
        event.later.append((closed, {"closed_date": d(closed)}))
    pf.plans.append(event)


def _close(pf: ProviderFile, day: date, end: date) -> None:
    if pf.carer.died_on and pf.carer.died_on < day:
        day = pf.carer.died_on + timedelta(days=14)
    if day <= end:
        pf.closed_date = day


def _action_plan(rng: random.Random, world: World, pw: ProviderWorld, refs: Refs,
                 pf: ProviderFile, practitioner, part_b: date) -> None:
    """Star readings and the 6/12-month sustainment checks of a high-risk carer."""
    end = world.end
    reasons = {r.code: r for r in breakdown_reasons()}
    plan_close: date | None = None
    star1 = min(max(round(rng.gauss(22.4, 6.0)), 5), 40)
    change2 = round(rng.gauss(3.6, 3.0))
    change3 = change2 + round(rng.gauss(1.2, 2.5))
    _star(rng, pw, refs, pf, 1, part_b, star1, practitioner)
    caring_stopped_on: date | None = None
    for months, mix in ((6, BREAKDOWN_MIX_6M), (12, BREAKDOWN_MIX_12M)):
        due = add_months(part_b, months)
        done = due + timedelta(days=rng.randint(-14, 35))
        # A Star review shortly before the check, while the carer is still with the service.
        review = due - timedelta(days=rng.randint(0, 25))
        if review <= end and pf.carer.alive_on(review) and (
                months == 6 or rng.random() < 0.6):
            reading = 2 if months == 6 else 3
            if reading == 3 and not any(e.row["reading"] == "2" for e in pf.stars):
                reading = 2
            score = star1 + (change2 if reading == 2 else change3)
            _star(rng, pw, refs, pf, reading, review, min(max(score, 5), 40),
                  _reviewer(rng, pw, practitioner))
        check = Event(part_b, {
            "check_ref": refs.new("SC", 7), "carer_ref": pf.carer_ref,
            "plan_agreed_date": d(part_b), "check_type": f"{months} month",
            "due_date": d(due), "check_date": "", "still_caring": "",
            "breakdown_reason": "", "breakdown_category": "",
        })
        pf.checks.append(check)
        if done > end:
            break
        answer = rng.choices(("Yes", "No", "Unclear"), (86, 12.5, 1.5))[0]
        if answer != "No":
            check.later.append((done, {"check_date": d(done), "still_caring": answer}))
            continue
        code = pick(rng, mix)
        reason = reasons[code]
        recorded = reason.category.capitalize()
        if rng.random() < 0.12:  # staff's own category does not always agree
            recorded = "Avoidable" if recorded == "Unavoidable" else "Unavoidable"
        check.later.append((done, {
            "check_date": d(done), "still_caring": "No", "breakdown_reason": reason.label,
            "breakdown_category": recorded,
        }))
        caring_stopped_on = rand_date(rng, done - timedelta(days=150), done - timedelta(days=5))
        caring_stopped_on = max(caring_stopped_on, part_b + timedelta(days=1))
        _apply_breakdown(rng, pf, code, caring_stopped_on)
        plan_close = done
        break
    last = plan_close or add_months(part_b, 12) + timedelta(days=rng.randint(0, 60))
    _plan(rng, pf, refs, "Action plan", part_b, last, end)
    _close(pf, last, end)
    for caring in pf.carings:
        pw.hazard_from[caring.cared_for.pid] = max(
            pw.hazard_from.get(caring.cared_for.pid, last), last)
    pw.hazard_from[pf.carer.pid] = last


def _apply_breakdown(rng: random.Random, pf: ProviderFile, code: str, on: date) -> None:
    """Make the world agree with what the check says happened."""
    main = pf.carings[0]
    if code == "CARED_FOR_DIED" and main.cared_for.died_on is None:
        main.cared_for.died_on = on
    elif code == "CARER_DIED" and pf.carer.died_on is None:
        pf.carer.died_on = on
    elif code == "CARED_FOR_HEALTH" and rng.random() < 0.5 and (
            main.cared_for.residential_from is None):
        main.cared_for.residential_from = on
    for caring in pf.carings:  # a "no longer caring" answer ends every caring on the file
        if caring.ended_on is None or caring.ended_on > on:
            caring.ended_on = on
            caring.end_reason = REASON_TO_END.get(code, "breakdown")
            if code == "CARED_FOR_HEALTH" and caring.cared_for.residential_from == on:
                caring.end_reason = "residential_care"


def _reviewer(rng: random.Random, pw: ProviderWorld, practitioner) -> Practitioner:
    return practitioner if rng.random() < 0.8 else rng.choice(pw.practitioners)


def _star(rng: random.Random, pw: ProviderWorld, refs: Refs, pf: ProviderFile, reading: int,
          day: date, total: int, practitioner: Practitioner) -> None:
    if practitioner.optimistic and reading > 1:
        total = min(total + rng.randint(3, 5), 40)
        delay = rng.randint(8, 45) if rng.random() < 0.7 else rng.randint(0, 3)
        completed = rng.choices(("Practitioner after conversation",
                                 "Carer and practitioner together"), (60, 40))[0]
    else:
        r = rng.random()
        delay = 0 if r < 0.85 else (rng.randint(1, 7) if r < 0.97 else rng.randint(8, 30))
        completed = rng.choices(("Carer and practitioner together",
                                 "Practitioner after conversation", "Carer alone"),
                                (80, 12, 8))[0]
    self_rating = ""
    if rng.random() < 0.45:
        gap = rng.randint(4, 9) if practitioner.optimistic and reading > 1 else round(
            rng.gauss(0, 1.5))
        self_rating = str(min(max(total - gap, 5), 40))
    recorded = ts(day + timedelta(days=delay), rng)
    pf.stars.append(Event(recorded.date(), {
        "star_ref": refs.new("ST", 7), "carer_ref": pf.carer_ref, "reading": str(reading),
        "assessment_date": d(day), "recorded_at": recorded.isoformat(),
        "practitioner_ref": practitioner.ref, "completed_with": completed,
        "total_score": str(total), "carer_self_rating": self_rating,
    }))


def _title(rng: random.Random, p: Person) -> str:
    if rng.random() < 0.15:
        return ""
    if rng.random() < 0.02:
        return "Dr"
    if p.sex == "M":
        return "Mr"
    return rng.choices(("Mrs", "Ms", "Miss"), (60, 25, 15))[0]


def _employment(rng: random.Random, p: Person, on: date) -> str:
    age = on.year - p.dob.year
    if age >= 66:
        return rng.choices(("Retired", "Caring full time", "Prefer not to say"), (80, 15, 5))[0]
    return rng.choices(
        ("Working full time", "Working part time", "Caring full time", "Keeping house",
         "Unemployed", "Not working due to disability", "Other", "Retired"),
        (20, 22, 25, 6, 6, 6, 5, 10))[0]


def _spaced(rng: random.Random, nhs: str | None) -> str:
    if not nhs:
        return ""
    if rng.random() < 0.4:
        return f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"
    return nhs


# --- what the service has heard about deaths -------------------------------------------------


def learn_of_deaths(rng: random.Random, pw: ProviderWorld) -> None:
    """The service is told of some deaths of the people on its files (about 60%)."""
    for _cf_ref, (_, caring) in pw.cared_for_refs.items():
        died = caring.cared_for.died_on
        if died and caring.cared_for.pid not in pw.death_told and rng.random() < 0.6:
            pw.death_told[caring.cared_for.pid] = died + timedelta(days=rng.randint(3, 60))
    for pf in pw.files:
        for event in pf.cared_for:
            caring = pw.cared_for_refs[event.row["cared_for_ref"]][1]
            told = pw.death_told.get(caring.cared_for.pid)
            if told:
                event.later.append((told, {"date_of_death": d(caring.cared_for.died_on)}))


# --- the nightly snapshot folders ------------------------------------------------------------


def snapshot_rows(pw: ProviderWorld, night: date) -> dict[str, list[dict]]:
    """Every file's rows as the case system would export them on `night`."""
    out: dict[str, list[dict]] = {name: [] for name in FILES}
    for pf in pw.files:
        if pf.referral_date > night:
            continue
        row = dict(pf.carer_row)
        updated = pf.referral_date
        if pf.closed_date and pf.closed_date <= night:
            row["status"], row["closed_date"] = "Closed", d(pf.closed_date)
            updated = max(updated, pf.closed_date)
        for name, events in (("cared_for.csv", pf.cared_for), ("assessments.csv", pf.assessments),
                             ("star_scores.csv", pf.stars), ("sustainment_checks.csv", pf.checks),
                             ("support_plans.csv", pf.plans)):
            for event in events:
                current = event.as_of(night)
                if current is not None:
                    out[name].append(current)
                    changes = [w for w, _ in event.later if w <= night]
                    updated = max([updated, event.on, *changes])
        row["updated_at"] = datetime.combine(updated, time(17, 30)).isoformat()
        out["carers.csv"].append(row)
    return out


def write_snapshot(folder: Path, rows: dict[str, list[dict]], night: date,
                   rng: random.Random) -> dict[str, int]:
    """CSV files as the supplier's export writes them (BOM, CRLF, mixed missing markers) and
    the manifest with row counts and SHA-256."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"extract_date": night.isoformat(),
                "generated_at": f"{(night + timedelta(days=1)).isoformat()}T01:12:09",
                "files": {}}
    counts = {}
    for name, columns in FILES.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows[name]:
            writer.writerow([_missing_marker(rng, row.get(c, "")) for c in columns])
        data = buffer.getvalue().encode("utf-8-sig")
        (folder / name).write_bytes(data)
        manifest["files"][name] = {"rows": len(rows[name]),
                                   "sha256": hashlib.sha256(data).hexdigest()}
        counts[name] = len(rows[name])
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return counts


def _missing_marker(rng: random.Random, value: object) -> str:
    text = "" if value is None else str(value)
    if text == "" and rng.random() < 0.04:
        return rng.choice(("NULL", "N/A", "-"))
    return text
