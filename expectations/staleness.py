"""Stale GP carer registers, judged with what every source says (warehouse contract,
`marts.gp_register_staleness`).

Per carer (patient) on each practice's latest register:
- `carer_deceased`: some source records the carer's death before the snapshot month (a death
  date on any LAS or provider record carrying the carer's person key, or a provider
  sustainment check giving "Death of the carer").
- `cared_for_deceased`: every person the patient's rows name as cared for — or, when they name
  nobody, every person (at least one) the linkage says the carer cares for — died at least 90
  days before the snapshot month, and the last review is older than the latest of those deaths.
- `caring_ended` (only when `cared_for_deceased` does not hold): every caring relationship of
  the carer ended by one of the contract's endings (from the linkage's table of every
  standing ending, so a carer's own death on a death record, which is not one of them, does
  not hide a later ending), the last end at least 90 days before the snapshot month, and the
  last review is older than that end.
An entry with a "no longer a carer" date is never stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from carelink import codelists as cl
from carelink.identity import nhs_digits
from linkage.records import gp_cared_for, gp_cared_for_keys

GRACE_DAYS = 90  # a death/ending must be this old before an unreviewed entry counts as stale
REVIEW_MONTHS = 24
STALENESS_COLUMNS = ["snapshot_month", "practice_ods", "carer_key", "is_stale", "reasons",
                     "review_overdue", "last_review_date", "evidence_date", "run_id"]
SUMMARY_COLUMNS = ["snapshot_month", "practice_ods", "entries", "stale_entries",
                   "review_overdue_entries", "stale_share", "run_id"]
RECONCILIATION_COLUMNS = ["nhs_number", "title", "first_name", "last_name", "reasons",
                          "evidence_source", "evidence_date"]
# Which source an ending's evidence came from, by the linkage's end_reason.
END_REASON_SOURCE = {"breakdown": "provider", "cared_for_deceased": "provider",
                     "ended_in_las": "las", "residential_care": "las"}


@dataclass(frozen=True)
class Evidence:
    when: date
    source: str


def _day(value: object) -> date | None:
    if value is None or value is pd.NaT:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return pd.Timestamp(value).date()


def _earliest(store: dict[str, Evidence], key: str | None, when: date | None, source: str
              ) -> None:
    if key and when and (key not in store or when < store[key].when):
        store[key] = Evidence(when, source)


def _records(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None or frame.empty:
        return []
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def deaths_by_key(staged: dict[str, pd.DataFrame], key_of: dict[str, str]
                  ) -> dict[str, Evidence]:
    """Earliest recorded death per person key (provider cared-for rows, LAS persons)."""
    death: dict[str, Evidence] = {}
    for r in _records(staged.get("provider_cared_for")):
        _earliest(death, key_of.get(f"provider:cared_for:{r['cared_for_ref']}"),
                  _day(r.get("date_of_death")), "provider")
    for r in _records(staged.get("las_person")):
        if r.get("person_id") is not None:
            _earliest(death, key_of.get(f"las:{int(r['person_id'])}"),
                      _day(r.get("date_of_death")), "las")
    return death


def carer_deaths_by_key(deaths: dict[str, Evidence], checked: dict[str, Evidence]
                        ) -> dict[str, Evidence]:
    """Recorded deaths plus provider sustainment checks giving "Death of the carer"."""
    out = dict(deaths)
    for key, evidence in checked.items():
        _earliest(out, key, evidence.when, evidence.source)
    return out


def sustainment_carer_deaths(staged: dict[str, pd.DataFrame], key_of: dict[str, str]
                             ) -> dict[str, Evidence]:
    """Carers a provider sustainment check says died ("Death of the carer"): a sustainment
    check saying they no longer care, which `caring_ended` counts; a death known only from a
    death record is `carer_deceased` alone."""
    out: dict[str, Evidence] = {}
    for r in _records(staged.get("provider_sustainment_check")):
        code = r.get("breakdown_reason_code")
        if code is None:
            reason = cl.breakdown_reason_for_label(r.get("breakdown_reason"))
            code = reason.code if reason else None
        if code != "CARER_DIED":
            continue
        _earliest(out, key_of.get(f"provider:carer:{r['carer_ref']}"),
                  _day(r.get("check_date")), "provider")
    return out


def _older(last_review: date | None, than: date) -> bool:
    """The last review predates the evidence (never reviewed counts as older)."""
    return last_review is None or last_review < than


def _caring_end(ends: list[tuple[date, str]], carer_key: str, cared_key: str,
                deaths: dict[str, Evidence],
                carer_deaths: dict[str, Evidence], checked_deaths: dict[str, Evidence]
                ) -> Evidence | None:
    """When one relationship ended by the contract's `caring_ended` endings (earliest first
    in `ends`), and the source of that evidence; None while it stands. The contract's
    endings are the cared-for person's death, a sustainment check, an LAS end date or a move
    into residential care: the carer's own death on a death record is `carer_deceased`, not
    caring ended, so it is passed over and the next ending, if any, is the one."""
    for when, reason in ends:
        if when is None:
            continue
        if reason == "carer_deceased":
            if carer_key not in checked_deaths:
                continue
            return Evidence(when, carer_deaths[carer_key].source)
        if reason == "cared_for_deceased" and cared_key in deaths:
            return Evidence(when, deaths[cared_key].source)
        return Evidence(when, END_REASON_SOURCE.get(reason or "", "linkage"))
    return None


def _names_cared_for(row: dict) -> bool:
    return gp_cared_for(row) is not None


def register_staleness(staged: dict[str, pd.DataFrame], xref: pd.DataFrame,
                       relationships: pd.DataFrame, *, run_id: str,
                       endings: pd.DataFrame | None = None
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(`gp_register_staleness` rows, restricted reconciliation rows with practice_ods).

    The second frame keeps the practice's own identifiers of each stale entry, for the
    restricted per-practice reconciliation lists only; it never reaches the marts.
    `endings` is the linkage's every standing ending per relationship
    (`linkage.relationships.resolve_relationships`); without it, each relationship's
    earliest ending is all `caring_ended` can see.
    """
    key_of = dict(zip(xref["source_record_key"], xref["person_key"], strict=False))
    deaths = deaths_by_key(staged, key_of)
    checked_deaths = sustainment_carer_deaths(staged, key_of)
    carer_deaths = carer_deaths_by_key(deaths, checked_deaths)
    rels: dict[str, list[dict]] = {}
    for r in _records(relationships):
        rels.setdefault(r["carer_key"], []).append(r)
    ends_of: dict[tuple[str, str], list[tuple[date, str]]] = {}
    if endings is None:
        # a linkage folder without the endings table: each relationship's earliest only
        endings = relationships.dropna(subset=["ended_on"])
    for r in _records(endings.sort_values("ended_on", kind="stable")):
        ends_of.setdefault((r["carer_key"], r["cared_for_key"]), []).append(
            (_day(r["ended_on"]), r["end_reason"]))

    patients: dict[tuple[str, str], list[dict]] = {}
    gp = staged.get("gp_register_entry")
    if gp is not None and not gp.empty:
        gp = gp.assign(_mention_key=gp_cared_for_keys(gp))
    for r in _records(gp):
        digits = nhs_digits(r.get("nhs_number"))
        ident = digits if digits else f"#entry{r.get('entry_number')}"
        patients.setdefault((str(r["practice_ods"]), ident), []).append(r)

    rows, restricted = [], []
    for (ods, ident), entries in patients.items():
        entries.sort(key=lambda e: e.get("entry_number") or 0)
        month = _day(entries[0]["snapshot_month"])
        digits = None if ident.startswith("#") else ident
        carer_key = key_of.get(f"gp:{ods}:{digits}") if digits else None
        reviews = [_day(e.get("last_review_date")) or _day(e.get("date_recorded"))
                   for e in entries]
        reviews = [d for d in reviews if d]
        last_review = max(reviews) if reviews else None
        overdue_before = (pd.Timestamp(month) - pd.DateOffset(months=REVIEW_MONTHS)).date()
        ceased = any(_day(e.get("no_longer_carer_date")) for e in entries)
        # The contract defines review_overdue by the dates alone: unlike is_stale, a ceased
        # entry is not excepted (the practice still holds a carer code nobody has reviewed).
        review_overdue = last_review is not None and last_review < overdue_before
        grace_limit = (pd.Timestamp(month) - pd.Timedelta(days=GRACE_DAYS)).date()

        found: dict[str, Evidence] = {}
        if not ceased:
            # carer_deceased
            death = carer_deaths.get(carer_key) if carer_key else None
            if death and death.when < month:
                found["carer_deceased"] = death
            # cared_for_deceased
            named = [e for e in entries if _names_cared_for(e)]
            if named:
                cared = [key_of.get(e["_mention_key"]) if digits else None for e in named]
            else:
                cared = sorted({r["cared_for_key"] for r in rels.get(carer_key, [])})
            cared_deaths = [deaths.get(k) if k else None for k in cared]
            if cared_deaths and all(d and d.when <= grace_limit for d in cared_deaths):
                latest = max(cared_deaths, key=lambda d: d.when)
                if _older(last_review, latest.when):
                    found["cared_for_deceased"] = latest
            # caring_ended
            if "cared_for_deceased" not in found and carer_key and rels.get(carer_key):
                ends = []
                for r in rels[carer_key]:
                    cared_key = r["cared_for_key"]
                    end = _caring_end(ends_of.get((carer_key, cared_key), []), carer_key,
                                      cared_key, deaths, carer_deaths, checked_deaths)
                    if end is None:
                        ends = []
                        break
                    ends.append(end)
                if ends:
                    last = max(ends, key=lambda d: d.when)
                    if last.when <= grace_limit and _older(last_review, last.when):
                        found["caring_ended"] = last
        earliest = min(found.values(), key=lambda d: d.when) if found else None
        rows.append({
            "snapshot_month": month, "practice_ods": ods, "carer_key": carer_key,
            "is_stale": bool(found), "reasons": ",".join(found), "review_overdue":
            bool(review_overdue), "last_review_date": last_review,
            "evidence_date": earliest.when if earliest else None, "run_id": run_id,
        })
        if found:
            first = entries[0]
            restricted.append({
                "practice_ods": ods, "nhs_number": first.get("nhs_number"),
                "title": first.get("title"), "first_name": first.get("first_name"),
                "last_name": first.get("last_name"), "reasons": ",".join(found),
                "evidence_source": ",".join(sorted({e.source for e in found.values()
                                                    if e.when == earliest.when})),
                "evidence_date": earliest.when,
            })
    frame = pd.DataFrame(rows, columns=STALENESS_COLUMNS)
    frame["is_stale"] = frame["is_stale"].astype(bool)
    frame["review_overdue"] = frame["review_overdue"].astype(bool)
    frame = frame.sort_values(["practice_ods", "carer_key"], na_position="last"
                              ).reset_index(drop=True)
    return frame, pd.DataFrame(restricted, columns=["practice_ods", *RECONCILIATION_COLUMNS])


def practice_summary(staleness: pd.DataFrame, *, run_id: str) -> pd.DataFrame:
    """Per practice and snapshot month: entries, stale and overdue counts, stale share."""
    if staleness.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    grouped = staleness.groupby(["snapshot_month", "practice_ods"], sort=True)
    out = grouped.agg(entries=("is_stale", "size"), stale_entries=("is_stale", "sum"),
                      review_overdue_entries=("review_overdue", "sum")).reset_index()
    out["stale_share"] = out["stale_entries"] / out["entries"]
    out["run_id"] = run_id
    for col in ("entries", "stale_entries", "review_overdue_entries"):
        out[col] = out[col].astype("int64")
    return out[SUMMARY_COLUMNS]
