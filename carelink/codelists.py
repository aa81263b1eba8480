"""Code lists and the GP practice list, shipped with the package (copied from the
interface specification's reference lists). Production receives updates of the practice list
from the integrated care board: replace `reference/gp_practices.csv` (see docs/operations.md).

Also the closed value sets the source specifications define, so that readers, quality
suites and the generator use one definition.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


@dataclass(frozen=True)
class BreakdownReason:
    code: str
    label: str
    category: str  # "avoidable" | "unavoidable"


@dataclass(frozen=True)
class Practice:
    practice_ods: str
    practice_name: str
    district: str
    clinical_system: str  # "EMIS Web" | "SystmOne"


@dataclass(frozen=True)
class District:
    code: str
    name: str
    postcode_outwards: tuple[str, ...]


def _rows(name: str, path: Path | None = None) -> list[dict[str, str]]:
    with open(path or REFERENCE_DIR / name, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


@cache
def breakdown_reasons() -> tuple[BreakdownReason, ...]:
    return tuple(BreakdownReason(r["code"], r["label"], r["category"]) for r in
                 _rows("breakdown_reasons.csv"))


@cache
def breakdown_reason_by_label() -> dict[str, BreakdownReason]:
    """Keyed by the label folded to lower case with single spaces (staff retype labels)."""
    return {_fold(r.label): r for r in breakdown_reasons()}


def breakdown_reason_for_label(label: str | None) -> BreakdownReason | None:
    if label is None:
        return None
    return breakdown_reason_by_label().get(_fold(label))


def _fold(text: str) -> str:
    return " ".join(text.replace("’", "'").lower().split())


@cache
def districts() -> tuple[District, ...]:
    return tuple(
        District(r["code"], r["name"], tuple(p for p in r["postcode_outward_examples"].split(";")
                                             if p))
        for r in _rows("districts.csv")
    )


@cache
def district_names() -> frozenset[str]:
    return frozenset(d.name for d in districts())


def load_practices(path: Path | None = None) -> tuple[Practice, ...]:
    return tuple(
        Practice(r["practice_ods"], r["practice_name"], r["district"], r["clinical_system"])
        for r in _rows("gp_practices.csv", path)
    )


@cache
def practices() -> dict[str, Practice]:
    return {p.practice_ods: p for p in load_practices()}


@cache
def las_primary_support_reasons() -> dict[str, str]:
    """label → code."""
    return {r["label"]: r["code"] for r in _rows("las_primary_support_reasons.csv")}


# --- value sets fixed by the source specifications -----------------------------------------

PROVIDER_TITLES = frozenset({"Mr", "Mrs", "Ms", "Miss", "Dr", "Mx"})
PROVIDER_SEX = frozenset({"F", "M", "X", "U"})
YES_NO_NOT_RECORDED = frozenset({"Yes", "No", "Not recorded"})
EMPLOYMENT_STATUSES = frozenset({
    "Retired", "Working full time", "Working part time", "Caring full time", "Keeping house",
    "Unemployed", "Not working due to disability", "Other", "Prefer not to say",
})
HOURS_CARING = frozenset({"Under 10", "10-19", "20-34", "35-49", "50 or more"})
REFERRAL_SOURCES = frozenset({
    "Self", "GP practice", "Council adult social care", "Hospital", "Other health professional",
    "Voluntary organisation", "Other",
})
INFORMATION_SHARING = frozenset({"Agreed", "Declined"})


def declines_sharing(value: object) -> bool:
    """Whether a provider file's `information_sharing` forbids linking it to LAS and GP.

    Fails closed: only an explicit `Agreed` allows it. A value the specification does not
    know (`Declined (verbal)` after a pick-list change, a blank) is treated as a refusal, since
    linking someone who refused is the harm the opt-out exists to prevent; the gate's
    value-set expectation still flags the value so the provider can correct it.
    """
    return not (isinstance(value, str) and value.strip().lower() == "agreed")


def declined_carer_refs(carers: pd.DataFrame | None) -> set[str]:
    """The `carer_ref`s of staged provider carer rows whose files may not be shared."""
    if carers is None or carers.empty:
        return set()
    return {str(ref) for ref, value in zip(carers["carer_ref"], carers["information_sharing"],
                                           strict=True) if declines_sharing(value)}
CARER_STATUSES = frozenset({"Open", "Closed"})
CARER_RELATIONSHIPS = frozenset({
    "Partner", "Child", "Parent", "Sibling", "Other relative", "Friend or neighbour",
})
MAIN_NEEDS = frozenset({
    "Autism", "Dementia", "Frail elderly", "Learning disability", "Mental health",
    "Physical disability", "Other",
})
RECEIVES_SERVICES = frozenset({"Yes", "No", "Unknown"})
ASSESSMENT_STAGES = frozenset({"Triage", "Part A", "Part B", "Self-assessment"})
ASSESSMENT_OUTCOMES = frozenset({
    "Information and advice", "Low-level support plan", "Action plan", "Referred to council",
    "Closed - no further action",
})
# Before 2022-06-01 the provider recorded cohorts; they map onto today's two risk levels.
RISK_LEVEL_MAP = {"Low": "Low", "High": "High", "Cohort 2": "Low", "Cohort 3": "High",
                  "Cohort 4": "High"}
COMPLETED_WITH = frozenset({
    "Carer and practitioner together", "Practitioner after conversation", "Carer alone",
})
CHECK_TYPES = {"6 month": 6, "12 month": 12}
STILL_CARING = frozenset({"Yes", "No", "Unclear"})
BREAKDOWN_CATEGORIES = frozenset({"Avoidable", "Unavoidable"})
PLAN_TYPES = frozenset({"Low-level support plan", "Action plan"})
SUPPORT_ITEMS = frozenset({
    "Information and advice", "Respite and breaks", "Health and wellbeing grant", "Counselling",
    "Peer support", "Training", "Benefits advice", "Equipment or OT referral", "Digital support",
    "Employment support", "Referral to council",
})

LAS_GENDERS = frozenset({"Male", "Female", "Other", "Unknown"})
LAS_ETHNICITIES = frozenset({
    "Asian, Asian British or Asian Welsh",
    "Black, Black British, Black Welsh, Caribbean or African",
    "Mixed or Multiple ethnic groups", "White", "Other ethnic group", "Not stated",
})
LAS_RELATIONSHIP_TYPES = frozenset({"Informal carer", "Main informal carer", "Next of kin"})
LAS_CARING_RELATIONSHIP_TYPES = frozenset({"Informal carer", "Main informal carer"})
LAS_ASSESSMENT_TYPES = frozenset({
    "Care Act assessment", "Review", "Carer assessment", "Combined carer assessment",
    "Carer assessment by carers service",
})
# A carer assessed in their own right (on their own, or delegated to the provider): the
# assessed person is a carer. A combined assessment is recorded on the cared-for person.
LAS_CARER_ASSESSMENTS = frozenset({"Carer assessment", "Carer assessment by carers service"})
LAS_SERVICE_CONTACT = frozenset({"Yes", "No", "Referral only", "Declined"})
LAS_SETTINGS = frozenset({"Community", "Residential care", "Nursing care"})
LAS_RESIDENTIAL_SETTINGS = frozenset({"Residential care", "Nursing care"})
LAS_FUNDING = frozenset({"Council funded", "Self-funded", "Joint"})

# GP carer codes: SNOMED CT "Patient themselves providing care" or any of its child concepts
# (the register search includes descendants, so any SNOMED CT identifier may appear), plus the
# legacy Read code. "Is no longer a carer" marks that caring stopped.
SNOMED_CARER = "224484003"
SNOMED_NO_LONGER_CARER = "199361000000101"
READ_CARER = "918a"
# A SNOMED CT concept id: 6 to 18 digits (Verhoeff check digit not enforced here).
SNOMED_ID_PATTERN = r"^[1-9][0-9]{5,17}$"
GP_LAYOUTS = ("EMIS Web", "SystmOne")
