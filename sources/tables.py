"""The staged tables: what each source reader produces, typed, one row per source row.

This is the contract between the extract stage and everything downstream (quality suites,
linkage, the warehouse's `staging` schema). Columns keep the source's meaning; values are
cleaned (trimmed, "not recorded" markers turned into nulls, dates parsed, codes mapped) but
never invented. Identifiers live here and in the `linkage` schema only.

Every table ends with the lineage columns: which night's extract it came from, the file (or
LAS view) and the 1-based data row number within the file (header not counted; null for SQL
sources).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LogicalType = Literal["text", "integer", "date", "timestamp", "boolean", "numeric"]


@dataclass(frozen=True)
class Column:
    name: str
    type: LogicalType
    nullable: bool = True
    doc: str = ""


@dataclass(frozen=True)
class StagedTable:
    name: str  # also the warehouse table name in schema `staging`
    source: Literal["provider", "las", "gp"]
    key: tuple[str, ...]  # business key, unique within one night's extract
    columns: tuple[Column, ...]
    doc: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, type_: LogicalType = "text", nullable: bool = True, doc: str = "") -> Column:
    return Column(name, type_, nullable, doc)


LINEAGE = (
    _c("extract_date", "date", False, "the night whose extract delivered this row"),
    _c("source_file", "text", False, "file name (provider/GP) or LAS view name"),
    _c("source_row", "integer", True, "1-based data row number in the file; null for LAS"),
)

NHS = (
    _c("nhs_number", doc="digits as supplied (spaces removed); may be invalid"),
    _c("nhs_number_valid", "boolean", False, "10 digits, Modulus 11, not a 999 test number"),
)

PROVIDER_CARER = StagedTable(
    "provider_carer", "provider", ("carer_ref",),
    (
        _c("carer_ref", nullable=False), *NHS, _c("title"), _c("first_name"), _c("last_name"),
        _c("date_of_birth", "date"), _c("sex", nullable=False, doc="F, M, X or U"),
        _c("address_line_1"), _c("town"),
        _c("postcode", doc="normalised: upper case, one space"),
        _c("postcode_valid", "boolean", False), _c("district"), _c("phone"), _c("email"),
        _c("has_long_term_condition"), _c("employment_status"), _c("hours_caring_per_week"),
        _c("referral_date", "date"), _c("referral_source"),
        _c("information_sharing", nullable=False, doc="Agreed or Declined"),
        _c("status"), _c("closed_date", "date"),
        _c("created_at", "timestamp"), _c("updated_at", "timestamp"), *LINEAGE,
    ),
    "carers.csv: one row per carer file (a re-referred carer may have two)",
)

PROVIDER_CARED_FOR = StagedTable(
    "provider_cared_for", "provider", ("cared_for_ref",),
    (
        _c("cared_for_ref", nullable=False), _c("carer_ref", nullable=False),
        _c("first_name"), _c("last_name"), _c("date_of_birth", "date"), *NHS,
        _c("postcode"), _c("postcode_valid", "boolean", False),
        _c("carer_relationship", doc="what the carer is to this person"),
        _c("main_need"), _c("receives_services"), _c("date_of_death", "date"), *LINEAGE,
    ),
    "cared_for.csv: one row per cared-for person per carer file",
)

PROVIDER_ASSESSMENT = StagedTable(
    "provider_assessment", "provider", ("assessment_ref",),
    (
        _c("assessment_ref", nullable=False), _c("carer_ref", nullable=False), _c("stage"),
        _c("assessment_date", "date"), _c("practitioner_ref"),
        _c("risk_level", doc="Low or High (legacy cohorts mapped)"),
        _c("risk_level_as_recorded", doc="the value in the file, e.g. Cohort 3"),
        _c("weighted_score", "integer"), _c("outcome"), *LINEAGE,
    ),
)

PROVIDER_STAR_SCORE = StagedTable(
    "provider_star_score", "provider", ("star_ref",),
    (
        _c("star_ref", nullable=False), _c("carer_ref", nullable=False),
        _c("reading", "integer"), _c("assessment_date", "date"),
        _c("recorded_at", "timestamp"), _c("practitioner_ref"), _c("completed_with"),
        _c("total_score", "integer"), _c("carer_self_rating", "integer"), *LINEAGE,
    ),
)

PROVIDER_SUSTAINMENT_CHECK = StagedTable(
    "provider_sustainment_check", "provider", ("check_ref",),
    (
        _c("check_ref", nullable=False), _c("carer_ref", nullable=False),
        _c("plan_agreed_date", "date"), _c("check_type"), _c("due_date", "date"),
        _c("check_date", "date"), _c("still_caring"),
        _c("breakdown_reason", doc="label as in the file"),
        _c("breakdown_reason_code", doc="code from breakdown_reasons.csv; null if unknown"),
        _c("breakdown_category", doc="avoidable/unavoidable from the code list"),
        _c("breakdown_category_as_recorded", doc="Avoidable/Unavoidable as typed by staff"),
        *LINEAGE,
    ),
)

PROVIDER_SUPPORT_PLAN = StagedTable(
    "provider_support_plan", "provider", ("plan_ref",),
    (
        _c("plan_ref", nullable=False), _c("carer_ref", nullable=False), _c("plan_type"),
        _c("agreed_date", "date"), _c("closed_date", "date"),
        _c("support_items", doc="semicolon-separated, as delivered"), *LINEAGE,
    ),
)

LAS_PERSON = StagedTable(
    "las_person", "las", ("person_id",),
    (
        _c("person_id", "integer", False), *NHS, _c("forename"), _c("surname"),
        _c("date_of_birth", "date"), _c("gender", doc="as delivered"),
        _c("sex", nullable=False, doc="F, M, X or U"), _c("address"), _c("postcode"),
        _c("postcode_valid", "boolean", False), _c("district"), _c("ethnicity"),
        _c("date_of_death", "date"), _c("last_updated", "timestamp"),
        _c("merged_into", "integer", doc="surviving person_id when LAS merged this record"),
        *LINEAGE,
    ),
)

LAS_PERSON_RELATIONSHIP = StagedTable(
    "las_person_relationship", "las", ("relationship_id",),
    (
        _c("relationship_id", "integer", False), _c("person_id", "integer"),
        _c("related_person_id", "integer"), _c("relationship_type"),
        _c("carer_relationship"), _c("start_date", "date"), _c("end_date", "date"),
        _c("last_updated", "timestamp"), *LINEAGE,
    ),
)

LAS_ASSESSMENT = StagedTable(
    "las_assessment", "las", ("assessment_id",),
    (
        _c("assessment_id", "integer", False), _c("person_id", "integer"),
        _c("assessment_type"), _c("assessment_date", "date"),
        _c("carer_fatigue_noted", "boolean"), _c("carers_service_contact"),
        _c("last_updated", "timestamp"), *LINEAGE,
    ),
)

LAS_CARE_PACKAGE = StagedTable(
    "las_care_package", "las", ("package_id",),
    (
        _c("package_id", "integer", False), _c("person_id", "integer"),
        _c("primary_support_reason"), _c("primary_support_reason_code"), _c("setting"),
        _c("start_date", "date"), _c("end_date", "date"), _c("weekly_cost", "numeric"),
        _c("includes_contingency", "boolean"), _c("funding"),
        _c("last_updated", "timestamp"), *LINEAGE,
    ),
)

LAS_PERSON_MERGE = StagedTable(
    "las_person_merge", "las", ("old_person_id",),
    (
        _c("old_person_id", "integer", False), _c("new_person_id", "integer", False),
        _c("merged_at", "timestamp"), *LINEAGE,
    ),
)

GP_REGISTER_ENTRY = StagedTable(
    "gp_register_entry", "gp", ("practice_ods", "entry_number"),
    (
        _c("practice_ods", nullable=False), _c("snapshot_month", "date", False,
                                               "first day of the register's month"),
        _c("layout", nullable=False, doc="EMIS Web or SystmOne"),
        _c("entry_number", "integer", False, "the row's position in the file, 1-based"),
        *NHS, _c("title"), _c("first_name"), _c("last_name"), _c("date_of_birth", "date"),
        _c("sex", nullable=False, doc="F, M, X or U"), _c("postcode"),
        _c("postcode_valid", "boolean", False), _c("carer_code"), _c("carer_code_term"),
        _c("date_recorded", "date"), _c("last_review_date", "date"),
        _c("no_longer_carer_date", "date"),
        _c("cared_for_nhs_number"), _c("cared_for_nhs_number_valid", "boolean", False),
        _c("cared_for_name", doc="EMIS free text as delivered"),
        _c("cared_for_first_name"), _c("cared_for_last_name"),
        _c("cared_for_date_of_birth", "date"), *LINEAGE,
        # after the lineage: added by migration 0003, which appends it
        _c("patient_row", "integer", doc="k: the row's place among this patient's rows of the "
           "file (1, 2, … in file order, quarantined rows counted); names the cared-for key"),
    ),
    "one row per row of each practice's current (newest) register file",
)

PROVIDER_TABLES = (
    PROVIDER_CARER, PROVIDER_CARED_FOR, PROVIDER_ASSESSMENT, PROVIDER_STAR_SCORE,
    PROVIDER_SUSTAINMENT_CHECK, PROVIDER_SUPPORT_PLAN,
)
LAS_TABLES = (LAS_PERSON, LAS_PERSON_RELATIONSHIP, LAS_ASSESSMENT, LAS_CARE_PACKAGE,
              LAS_PERSON_MERGE)
GP_TABLES = (GP_REGISTER_ENTRY,)
ALL_TABLES = PROVIDER_TABLES + LAS_TABLES + GP_TABLES
TABLES_BY_SOURCE = {"provider": PROVIDER_TABLES, "las": LAS_TABLES, "gp": GP_TABLES}
TABLES_BY_NAME = {t.name: t for t in ALL_TABLES}

# Which provider file feeds which staged table.
PROVIDER_FILES = {
    "carers.csv": PROVIDER_CARER,
    "cared_for.csv": PROVIDER_CARED_FOR,
    "assessments.csv": PROVIDER_ASSESSMENT,
    "star_scores.csv": PROVIDER_STAR_SCORE,
    "sustainment_checks.csv": PROVIDER_SUSTAINMENT_CHECK,
    "support_plans.csv": PROVIDER_SUPPORT_PLAN,
}
LAS_VIEWS = {
    "person": LAS_PERSON,
    "person_relationship": LAS_PERSON_RELATIONSHIP,
    "assessment": LAS_ASSESSMENT,
    "care_package": LAS_CARE_PACKAGE,
    "person_merge": LAS_PERSON_MERGE,
}
