"""The generator's figures measured against the Norfolk evaluation's published ones.

`measure` computes them from a generated county (what the sources say, where the evaluation
measured what the service recorded); `TARGETS` holds the published values with the tolerance
we hold ourselves to; `check` lists every figure outside its tolerance.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from statistics import mean

from carelink.codelists import breakdown_reason_for_label

# figure → (published value, absolute tolerance)
TARGETS: dict[str, tuple[float, float]] = {
    "carer_mean_age": (60.7, 2.5),
    "carer_female_share": (0.71, 0.04),
    "relationship_share.Partner": (0.53, 0.04),
    "relationship_share.Child": (0.24, 0.04),
    "relationship_share.Parent": (0.14, 0.03),
    "relationship_share.Sibling": (0.02, 0.015),
    "need_share.Physical disability": (0.30, 0.04),
    "need_share.Dementia": (0.27, 0.04),
    "need_share.Mental health": (0.18, 0.04),
    "need_share.Frail elderly": (0.10, 0.03),
    "need_share.Learning disability": (0.07, 0.025),
    "need_share.Autism": (0.04, 0.02),
    "district_share.King's Lynn and West Norfolk": (0.23, 0.04),
    "district_share.Norwich": (0.14, 0.03),
    "beyond_triage_share": (3172 / 7956, 0.05),
    "star1_mean": (22.4, 1.0),
    "star2_mean": (26.3, 1.2),
    "star_change_negative_share": (0.085, 0.035),
    "still_caring_6m": (0.85, 0.04),
    "still_caring_12m": (0.85, 0.05),
    "breakdown_6m_share.CARED_FOR_DIED": (0.474, 0.10),
    "breakdown_6m_share.CARED_FOR_HEALTH": (0.254, 0.09),
    "rereferred_share_of_closed": (1 / 7, 0.04),
    "las_contact_yes_share_when_supported": (0.36, 0.06),
    "annual_cost_mean": (23300, 2500),
    "contingency_share": (0.40, 0.04),
    "carers_in_more_than_one_source_share": (0.12, 0.08),
}


def _share(counter: Counter, total: int) -> dict[str, float]:
    return {k: v / total for k, v in counter.items()} if total else {}


def _parse_dmy(text: str) -> date | None:
    if not text:
        return None
    d, m, y = text.split("/")
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def measure(world, pw, lw, snapshot: dict[str, list[dict]]) -> dict:
    """Figures as the evaluation measured them, from the last night's provider snapshot, the
    LAS database written and the truth world."""
    carers = {r["carer_ref"]: r for r in snapshot["carers.csv"] if r.get("carer_ref")}
    ages = []
    female = 0
    people = {p.carer_ref: p.carer for p in pw.files}
    for ref, row in carers.items():
        person = people.get(ref)
        referral = _parse_dmy(row["referral_date"])
        if person and referral:
            ages.append((referral - person.dob).days / 365.25)
            female += person.sex == "F"
    first_cared_for: dict[str, str] = {}
    for r in snapshot["cared_for.csv"]:
        first_cared_for.setdefault(r["carer_ref"], r["carer_relationship"])
    rel = Counter(first_cared_for.values())
    need = Counter(r["main_need"] for r in snapshot["cared_for.csv"])
    district = Counter(r["district"] for r in carers.values())
    stages = {}
    for a in snapshot["assessments.csv"]:
        stages.setdefault(a["carer_ref"], set()).add(a["stage"])
    beyond = sum(1 for s in stages.values() if "Part A" in s)

    readings: dict[str, dict[int, int]] = {}
    for s in snapshot["star_scores.csv"]:
        readings.setdefault(s["carer_ref"], {})[int(s["reading"])] = int(s["total_score"])
    star1 = [r[1] for r in readings.values() if 1 in r]
    star2 = [r[2] for r in readings.values() if 2 in r and 1 in r]
    changes = [r[2] - r[1] for r in readings.values() if 2 in r and 1 in r]

    checks = {6: Counter(), 12: Counter()}
    reasons = {6: Counter(), 12: Counter()}
    for c in snapshot["sustainment_checks.csv"]:
        if not c["still_caring"]:
            continue
        months = 6 if c["check_type"] == "6 month" else 12
        checks[months][c["still_caring"]] += 1
        if c["still_caring"] == "No":
            reason = breakdown_reason_for_label(c["breakdown_reason"])
            reasons[months][reason.code if reason else "?"] += 1

    closed_files = [pf for pf in pw.files if pf.closed_date]
    by_person = Counter(pf.carer.pid for pf in pw.files)
    first_referral: dict[str, date] = {}
    for pf in pw.files:
        first = first_referral.get(pf.carer.pid)
        first_referral[pf.carer.pid] = min(first, pf.referral_date) if first else pf.referral_date
    rereferred = sum(1 for pf in closed_files if by_person[pf.carer.pid] > 1
                     and pf.referral_date == first_referral[pf.carer.pid])
    supported = [c for c, s in lw.contact_rows if s]
    carers_sources = []
    for _pid, m in world.membership.items():
        carers_sources.append(sum((m.provider, m.las, m.gp)))

    figures = {
        "carers": len(carers),
        "carer_mean_age": mean(ages) if ages else 0.0,
        "carer_age_min": min(ages) if ages else 0.0,
        "carer_age_max": max(ages) if ages else 0.0,
        "carer_female_share": female / len(ages) if ages else 0.0,
        "relationship_share": _share(rel, sum(rel.values())),
        "need_share": _share(need, sum(need.values())),
        "district_share": _share(district, sum(district.values())),
        "beyond_triage_share": beyond / len(stages) if stages else 0.0,
        "star1_n": len(star1),
        "star1_mean": mean(star1) if star1 else 0.0,
        "star2_mean": mean(star2) if star2 else 0.0,
        "star_change_negative_share": (sum(c < 0 for c in changes) / len(changes)
                                       if changes else 0.0),
        "star_change_3_to_8_share": (sum(3 <= c <= 8 for c in changes) / len(changes)
                                     if changes else 0.0),
        "still_caring_6m": checks[6]["Yes"] / max(sum(checks[6].values()), 1),
        "still_caring_12m": checks[12]["Yes"] / max(sum(checks[12].values()), 1),
        "checks_6m": sum(checks[6].values()),
        "checks_12m": sum(checks[12].values()),
        "breakdown_6m_share": _share(reasons[6], sum(reasons[6].values())),
        "breakdown_12m_share": _share(reasons[12], sum(reasons[12].values())),
        "rereferred_share_of_closed": rereferred / len(closed_files) if closed_files else 0.0,
        "las_contact_yes_share_when_supported": (supported.count("Yes") / len(supported)
                                                 if supported else 0.0),
        "annual_cost_mean": mean(lw.annual_costs) if lw.annual_costs else 0.0,
        "annual_cost_min": min(lw.annual_costs) if lw.annual_costs else 0.0,
        "annual_cost_max": max(lw.annual_costs) if lw.annual_costs else 0.0,
        "contingency_share": (sum(lw.contingency) / len(lw.contingency)
                              if lw.contingency else 0.0),
        "carers_in_more_than_one_source_share": (
            sum(n > 1 for n in carers_sources) / len(carers_sources) if carers_sources else 0.0),
        "hard_negative_pairs": Counter(k for _, _, k in world.hard_negatives),
    }
    return figures


def _lookup(figures: dict, name: str) -> float:
    value: object = figures
    head, _, tail = name.partition(".")
    value = figures.get(head, 0.0)
    if tail:
        value = value.get(tail, 0.0) if isinstance(value, dict) else 0.0
    return float(value)  # type: ignore[arg-type]


def check(figures: dict) -> list[str]:
    """Every figure outside its tolerance, as readable lines (empty when calibrated)."""
    problems = []
    for name, (target, tolerance) in TARGETS.items():
        value = _lookup(figures, name)
        if abs(value - target) > tolerance:
            problems.append(f"{name}: {value:.3f}, published {target:.3f} ± {tolerance}")
    return problems


def table(figures: dict) -> list[str]:
    """Markdown rows: figure, published, generated."""
    rows = []
    for name, (target, tolerance) in TARGETS.items():
        rows.append(f"| {name} | {target:.3f} ± {tolerance} | {_lookup(figures, name):.3f} |")
    return rows
