"""Caring relationships resolved to person keys, with when and why each ended.

Each source states caring its own way: the provider's cared-for rows hang off a carer file,
LAS relates a client (`person_id`) to their informal carer (`related_person_id`), and a GP
register row names the person its patient cares for. Once records are keys, the three
statements of one relationship become one row. The end is the earliest evidence of any
ending, because the first thing that ended the caring ended it; but a source that states the
relationship again from after one of its own ends (a new LAS row, a re-referral's new file)
says the caring went on, and that end is set aside. A care-home stay ends it only when it is
a move for good (still open, or lasting until the death), not a respite stay.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from carelink.codelists import LAS_CARING_RELATIONSHIP_TYPES, LAS_RESIDENTIAL_SETTINGS
from carelink.identity import nhs_digits
from linkage.records import gp_cared_for, gp_cared_for_keys, iso_date

COLUMNS = ["carer_key", "cared_for_key", "sources", "first_seen", "ended_on", "end_reason"]
ENDING_COLUMNS = ["carer_key", "cared_for_key", "ended_on", "end_reason"]
LAS_CARING_TYPES = {t.lower() for t in LAS_CARING_RELATIONSHIP_TYPES}
INSTITUTIONAL_SETTINGS = {s.lower() for s in LAS_RESIDENTIAL_SETTINGS}


def _frame(staged: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    frame = staged.get(name)
    return frame if frame is not None else pd.DataFrame()


def _d(value: object) -> date | None:
    text = iso_date(value)
    return date.fromisoformat(text) if text else None


def _rows(frame: pd.DataFrame) -> list[dict]:
    if frame.empty:
        return []
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _statements(staged: dict[str, pd.DataFrame]) -> list[dict]:
    """(carer record, cared-for record, source, first seen, file-level end) statements."""
    out: list[dict] = []
    carers = {str(r["carer_ref"]): r for r in _rows(_frame(staged, "provider_carer"))}
    breakdown: dict[str, tuple[date, str]] = {}
    for r in _rows(_frame(staged, "provider_sustainment_check")):
        check = _d(r.get("check_date"))
        if str(r.get("still_caring") or "").strip().lower() != "no" or check is None:
            continue
        reason_text = str(r.get("breakdown_reason") or "").lower()
        if "death of the carer" in reason_text:
            reason = "carer_deceased"
        elif "death of the cared" in reason_text:
            reason = "cared_for_deceased"
        else:
            reason = "breakdown"
        ref = str(r["carer_ref"])
        if ref not in breakdown or check < breakdown[ref][0]:
            breakdown[ref] = (check, reason)
    for r in _rows(_frame(staged, "provider_cared_for")):
        ref = str(r["carer_ref"])
        carer = carers.get(ref, {})
        first = _d(carer.get("referral_date")) or _d(carer.get("created_at"))
        end = breakdown.get(ref)
        out.append({"carer": f"provider:carer:{ref}",
                    "cared_for": f"provider:cared_for:{r['cared_for_ref']}",
                    "source": "provider", "first_seen": first,
                    "end": [end] if end else []})
    for r in _rows(_frame(staged, "las_person_relationship")):
        if str(r.get("relationship_type") or "").strip().lower() not in LAS_CARING_TYPES:
            continue
        if r.get("person_id") is None or r.get("related_person_id") is None:
            continue
        end_date = _d(r.get("end_date"))
        out.append({"carer": f"las:{int(r['related_person_id'])}",
                    "cared_for": f"las:{int(r['person_id'])}", "source": "las",
                    "first_seen": _d(r.get("start_date")),
                    "end": [(end_date, "ended_in_las")] if end_date else []})
    gp = _frame(staged, "gp_register_entry")
    for r, mention in zip(_rows(gp), gp_cared_for_keys(gp).tolist(), strict=True):
        digits = nhs_digits(r.get("nhs_number"))
        if not digits or gp_cared_for(r) is None:
            continue
        out.append({"carer": f"gp:{r['practice_ods']}:{digits}", "cared_for": mention,
                    "source": "gp", "first_seen": _d(r.get("date_recorded")), "end": []})
    return out


def _person_events(staged: dict[str, pd.DataFrame], key_of: dict[str, str]
                   ) -> tuple[dict[str, date], dict[str, date]]:
    """Per person key: earliest death and earliest move into residential/nursing care (a
    carer's own death reported by a sustainment check ends that file's caring through
    `_statements`)."""
    death: dict[str, date] = {}
    residential: dict[str, date] = {}

    def earliest(store: dict[str, date], record: str, when: date | None) -> None:
        key = key_of.get(record)
        if key and when and (key not in store or when < store[key]):
            store[key] = when

    for r in _rows(_frame(staged, "provider_cared_for")):
        earliest(death, f"provider:cared_for:{r['cared_for_ref']}", _d(r.get("date_of_death")))
    for r in _rows(_frame(staged, "las_person")):
        earliest(death, f"las:{int(r['person_id'])}", _d(r.get("date_of_death")))
    stays: dict[str, list[tuple[date, date | None]]] = {}
    for r in _rows(_frame(staged, "las_care_package")):
        key = key_of.get(f"las:{int(r['person_id'])}") if r.get("person_id") is not None \
            else None
        start = _d(r.get("start_date"))
        if (str(r.get("setting") or "").strip().lower() in INSTITUTIONAL_SETTINGS
                and key and start):
            stays.setdefault(key, []).append((start, _d(r.get("end_date"))))
    for key, packages in stays.items():
        moved = _moved_into_care(sorted(packages), death.get(key))
        if moved:
            residential[key] = moved
    return death, residential


# A package ended this close to the next one's start (or to the death) is one stay.
STAY_GAP = timedelta(days=14)


def _moved_into_care(packages: list[tuple[date, date | None]], died: date | None
                     ) -> date | None:
    """When the person moved into residential or nursing care for good: the start of the
    first stay that is still open or lasted until their death, its contiguous packages
    (residential, then nursing) counted from the first. A stay that ended with the person
    alive (respite, a spell before going home) is not a move: "a move into permanent
    residential or nursing care" is what ends the home caring (las-reporting-db.md)."""
    stay_start: date | None = None
    previous_end: date | None = None  # the latest end so far: every stay before ended
    for start, end in packages:
        if previous_end is None or start > previous_end + STAY_GAP:
            stay_start = start
        if end is None or (died is not None and died <= end + STAY_GAP):
            return stay_start
        previous_end = end if previous_end is None else max(previous_end, end)
    return None


DEATHS = frozenset({"cared_for_deceased", "carer_deceased"})


def _standing_ends(statements: list[dict]) -> list[tuple[date, str]]:
    """The statement-level ends (a sustainment check's, an LAS end date) that still stand:
    one is set aside when the same source states the relationship again from after it (an
    LAS row ended and a new one started, say on a change of relationship type; a carer
    re-referred under a new carer_ref whose new file repeats the person), or, in LAS, when
    another row for the pair is current (no end_date: "null while current"). The later
    statement's own end, if any, stands in its place. A death is never set aside."""
    out = []
    for st in statements:
        for when, reason in st["end"]:
            if when is None:
                continue
            if reason in DEATHS:
                # a sustainment check saying someone died: no later file undoes a death (a
                # re-referral that repeats the person is a copied list, or bereavement)
                out.append((when, reason))
                continue
            restated = any(o is not st and o["source"] == st["source"]
                           and ((o["first_seen"] is not None and o["first_seen"] > when)
                                # an LAS row with no end_date says "current" in so many words
                                or (o["source"] == "las" and not o["end"]))
                           for o in statements)
            if not restated:
                out.append((when, reason))
    return out


def _relationships(staged: dict[str, pd.DataFrame], xref: pd.DataFrame
                   ) -> list[tuple[str, str, dict, list[tuple[date, str]]]]:
    """(carer_key, cared_for_key, merged statements, every ending that stands)."""
    key_of = dict(zip(xref["source_record_key"], xref["person_key"], strict=True))
    death, residential = _person_events(staged, key_of)
    merged: dict[tuple[str, str], dict] = {}
    for st in _statements(staged):
        carer, cared = key_of.get(st["carer"]), key_of.get(st["cared_for"])
        if not carer or not cared or carer == cared:
            continue
        row = merged.setdefault((carer, cared), {"sources": set(), "first_seen": None,
                                                 "statements": []})
        row["sources"].add(st["source"])
        if st["first_seen"] and (row["first_seen"] is None
                                 or st["first_seen"] < row["first_seen"]):
            row["first_seen"] = st["first_seen"]
        row["statements"].append(st)
    out = []
    for (carer, cared), row in merged.items():
        ends = _standing_ends(row["statements"])
        if cared in death:
            ends.append((death[cared], "cared_for_deceased"))
        if carer in death:
            ends.append((death[carer], "carer_deceased"))
        if cared in residential:
            ends.append((residential[cared], "residential_care"))
        out.append((carer, cared, row, sorted(ends)))
    return out


def resolve_relationships(staged: dict[str, pd.DataFrame], xref: pd.DataFrame
                          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(`linkage.caring_relationship` rows, every ending that stands).

    The relationship row keeps the earliest ending, which is when the caring ended. The
    endings table keeps them all, one row each, because a question about one kind of ending
    needs the others: the contract's `caring_ended` does not count a carer's own death on a
    death record, so when that came first the cared-for person's later move into a care home
    is what ended the relationship for that rule."""
    rows, endings = [], []
    order = {"provider": 0, "las": 1, "gp": 2}
    for carer, cared, row, ends in _relationships(staged, xref):
        ended_on, reason = ends[0] if ends else (None, None)
        rows.append({"carer_key": carer, "cared_for_key": cared,
                     "sources": ",".join(sorted(row["sources"], key=order.get)),
                     "first_seen": row["first_seen"], "ended_on": ended_on,
                     "end_reason": reason})
        endings.extend({"carer_key": carer, "cared_for_key": cared, "ended_on": when,
                        "end_reason": why} for when, why in ends)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = frame.sort_values(["carer_key", "cared_for_key"]).reset_index(drop=True)
    ending = pd.DataFrame(endings, columns=ENDING_COLUMNS)
    ending = ending.sort_values(["carer_key", "cared_for_key", "ended_on"]).reset_index(
        drop=True)
    return frame, ending


def caring_relationships(staged: dict[str, pd.DataFrame], xref: pd.DataFrame) -> pd.DataFrame:
    """One row per (carer_key, cared_for_key) with sources, first_seen and the ending."""
    return resolve_relationships(staged, xref)[0]
