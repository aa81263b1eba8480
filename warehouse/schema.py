"""The warehouse's tables, as one SQLAlchemy MetaData.

Why one place: the loaders, the migration and the tests all need the same column lists, and
the `staging` tables must follow `sources.tables` (the extract contract) exactly, so they are
generated from it rather than typed twice. The `linkage`, `dq` and `marts` tables follow
the warehouse contract (shared/specs/warehouse-contract.md) column for column; analysts and
information governance rely on them.

Portability rules (DuckDB file by default, PostgreSQL in production):
- no autoincrement/serial ids (DuckDB has no SERIAL);
- no foreign keys (loads replace whole tables, and the contract tables are rebuilt nightly);
- primary keys only where the loaders upsert with ON CONFLICT (meta tables) or where the
  contract says "unique" (person_xref). Staging tables have none: the extract guarantees key
  uniqueness within a night and the loaders delete-then-insert by key.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from sources.tables import ALL_TABLES, LogicalType

SCHEMAS = ("staging", "meta", "linkage", "dq", "marts")

metadata = sa.MetaData()


def logical_type(type_: LogicalType) -> sa.types.TypeEngine:
    """The SQL type for one of the extract contract's logical types."""
    return {
        "text": sa.Text(),
        "integer": sa.BigInteger(),
        "date": sa.Date(),
        "timestamp": sa.DateTime(),
        "boolean": sa.Boolean(),
        "numeric": sa.Numeric(12, 2),
    }[type_]


# --- staging: one table per staged table of the extract contract ---------------------------

for _spec in ALL_TABLES:
    sa.Table(
        _spec.name,
        metadata,
        *[sa.Column(c.name, logical_type(c.type), nullable=c.nullable) for c in _spec.columns],
        schema="staging",
        comment=_spec.doc or None,
    )

# --- meta: the pipeline's own bookkeeping ---------------------------------------------------

source_state = sa.Table(
    "source_state",
    metadata,
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("state_json", sa.Text),
    sa.Column("extract_date", sa.Date),
    sa.Column("updated_run_id", sa.Text),
    schema="meta",
)

run_ledger = sa.Table(
    "run_ledger",
    metadata,
    sa.Column("extract_date", sa.Date, primary_key=True),
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("run_id", sa.Text),
    sa.Column("status", sa.Text, nullable=False),  # extracted|absent|rejected|blocked|failed
    sa.Column("rows_read", sa.BigInteger),
    sa.Column("rows_staged", sa.BigInteger),
    sa.Column("rows_quarantined", sa.BigInteger),
    sa.Column("table_counts", sa.Text),  # JSON {table: rows}
    sa.Column("message", sa.Text),
    sa.Column("recorded_at", sa.DateTime),
    schema="meta",
)

# --- contract tables ------------------------------------------------------------------------

TEXT, INT, DATE, BOOL = sa.Text, sa.BigInteger, sa.Date, sa.Boolean


def NUM() -> sa.Numeric:  # noqa: N802 - reads like the other type names above
    """Measures (shares, means, control limits) need more than 2 decimals."""
    return sa.Numeric(18, 6)


def MONEY() -> sa.Numeric:  # noqa: N802
    return sa.Numeric(12, 2)


def _table(qualified: str, *columns: sa.Column | sa.Constraint) -> sa.Table:
    schema, name = qualified.split(".")
    return sa.Table(name, metadata, *columns, schema=schema)


def _c(name: str, type_) -> sa.Column:
    """A nullable column; `type_` is a type class or factory (a fresh instance per column)."""
    return sa.Column(name, type_())


def _linkage_state(name: str, columns: Callable[[], list[sa.Column]]) -> None:
    """A linkage table the next night's keys start from, and its `_before_night` copy: the
    table as the night before the newest loaded night left it, so that a rerun of that night
    (a re-sent delivery) starts from the same place as its first run."""
    for suffix in ("", "_before_night"):
        _table(f"linkage.{name}{suffix}", *columns())


_linkage_state("person_xref", lambda: [
    sa.Column("source_record_key", sa.Text, primary_key=True), _c("person_key", TEXT),
    _c("run_id", TEXT)])
_linkage_state("person_key_history", lambda: [
    _c("retired_key", TEXT), _c("surviving_key", TEXT), _c("run_id", TEXT)])
# Records keyed on an earlier night and absent since (a carer missing from one snapshot):
# the key each had, so that it comes back to its person rather than to a new key.
_linkage_state("person_key_dormant", lambda: [
    sa.Column("source_record_key", sa.Text, primary_key=True), _c("person_key", TEXT),
    _c("since", DATE), _c("run_id", TEXT)])
_table(
    "linkage.caring_relationship",
    _c("carer_key", TEXT), _c("cared_for_key", TEXT), _c("sources", TEXT),
    _c("first_seen", DATE), _c("ended_on", DATE), _c("end_reason", TEXT), _c("run_id", TEXT),
)

_table(
    "dq.validation_results",
    _c("run_id", TEXT), _c("run_date", DATE), _c("source", TEXT), _c("suite", TEXT),
    _c("expectation", TEXT), _c("severity", TEXT), _c("success", BOOL),
    _c("unexpected_count", INT), _c("element_count", INT),
)
_table(
    "dq.linkage_runs",
    _c("run_id", TEXT), _c("run_date", DATE), _c("model_version", TEXT),
    _c("records_in", INT), _c("persons_out", INT), _c("pairs_scored", INT),
    _c("pairs_linked", INT), _c("threshold", NUM), _c("keys_retired", INT), _c("keys_new", INT),
)
_table(
    "dq.quarantine",
    _c("run_id", TEXT), _c("source", TEXT), _c("file", TEXT), _c("row_number", INT),
    _c("reason", TEXT),
)

_table(
    "marts.carers_known",
    _c("snapshot_date", DATE), _c("in_provider", BOOL), _c("in_las", BOOL), _c("in_gp", BOOL),
    _c("carers", INT), _c("run_id", TEXT),
)
_table(
    "marts.gp_register_staleness",
    _c("snapshot_month", DATE), _c("practice_ods", TEXT), _c("carer_key", TEXT),
    _c("is_stale", BOOL), _c("reasons", TEXT), _c("review_overdue", BOOL),
    _c("last_review_date", DATE), _c("evidence_date", DATE), _c("run_id", TEXT),
)
_table(
    "marts.gp_register_practice_summary",
    _c("snapshot_month", DATE), _c("practice_ods", TEXT), _c("entries", INT),
    _c("stale_entries", INT), _c("review_overdue_entries", INT), _c("stale_share", NUM),
    _c("run_id", TEXT),
)
_table(
    "marts.star_bias_practitioner",
    _c("practitioner_ref", TEXT), _c("carers", INT), _c("mean_change", NUM), _c("centre", NUM),
    _c("lower_limit", NUM), _c("upper_limit", NUM), _c("flagged", BOOL),
    _c("retrospective_share", NUM), _c("run_id", TEXT),
)
_table(
    "marts.star_score_flags",
    _c("star_ref", TEXT), _c("carer_key", TEXT), _c("practitioner_ref", TEXT),
    _c("reading", INT), _c("flags", TEXT), _c("run_id", TEXT),
)
_table(
    "marts.star_change",
    _c("carer_key", TEXT), _c("reading_1", INT), _c("reading_2", INT), _c("reading_3", INT),
    _c("change_1_2", INT), _c("change_1_3", INT), _c("risk_level", TEXT),
    _c("main_need", TEXT), _c("district", TEXT), _c("run_id", TEXT),
)
_table(
    "marts.sustainment",
    _c("carer_key", TEXT), _c("check_type", TEXT), _c("still_caring", TEXT),
    _c("breakdown_reason_code", TEXT), _c("category", TEXT), _c("category_as_recorded", TEXT),
    _c("star_1", INT), _c("star_2", INT), _c("run_id", TEXT), _c("check_date", DATE),
)
_table(
    "marts.service_contact_in_las",
    _c("assessment_type", TEXT), _c("carers_service_contact", TEXT),
    _c("carer_known_to_service", BOOL), _c("assessment_date", DATE), _c("run_id", TEXT),
)
_table(
    "marts.care_packages",
    _c("cared_for_key", TEXT), _c("primary_support_reason", TEXT), _c("annual_cost", MONEY),
    _c("change_from_previous_year", MONEY), _c("includes_contingency", BOOL),
    _c("carer_fatigue_noted", BOOL), _c("carer_known_to_service", BOOL), _c("run_id", TEXT),
    _c("year_ending", DATE),
)

# --- the conformed layer (revision 0002): dimensions and facts, pseudonymous -----------------
# Analysts build their own questions on these; the contract marts above answer the
# evaluation's. Person-level facts carry person keys only, never a source's identifiers.

DIMENSIONAL: dict[str, tuple[tuple[str, object], ...]] = {
    "marts.dim_date": (("date_key", DATE), ("year", INT), ("month", INT), ("quarter", INT),
                       ("month_start", DATE), ("financial_year", TEXT)),
    "marts.dim_person": (("person_key", TEXT), ("age_band", TEXT), ("sex", TEXT),
                         ("district", TEXT), ("is_carer", BOOL), ("is_cared_for", BOOL),
                         ("in_provider", BOOL), ("in_las", BOOL), ("in_gp", BOOL),
                         ("deceased", BOOL)),
    "marts.dim_practice": (("practice_ods", TEXT), ("practice_name", TEXT), ("district", TEXT),
                           ("clinical_system", TEXT)),
    "marts.dim_practitioner": (("practitioner_ref", TEXT), ("readings", INT), ("carers", INT)),
    "marts.dim_need": (("need", TEXT), ("source", TEXT), ("code", TEXT)),
    "marts.dim_breakdown_reason": (("code", TEXT), ("label", TEXT), ("category", TEXT)),
    "marts.fact_referral": (("carer_key", TEXT), ("referral_date", DATE),
                            ("referral_source", TEXT), ("status", TEXT), ("closed_date", DATE),
                            ("district", TEXT), ("hours_caring_per_week", TEXT),
                            ("employment_status", TEXT)),
    "marts.fact_pathway_assessment": (("assessment_ref", TEXT), ("carer_key", TEXT),
                                      ("stage", TEXT), ("assessment_date", DATE),
                                      ("practitioner_ref", TEXT), ("risk_level", TEXT),
                                      ("risk_level_as_recorded", TEXT), ("outcome", TEXT)),
    "marts.fact_star_reading": (("star_ref", TEXT), ("carer_key", TEXT), ("reading", INT),
                                ("assessment_date", DATE), ("days_to_record", INT),
                                ("practitioner_ref", TEXT), ("completed_with", TEXT),
                                ("total_score", INT), ("carer_self_rating", INT)),
    "marts.fact_sustainment_check": (("check_ref", TEXT), ("carer_key", TEXT),
                                     ("check_type", TEXT), ("plan_agreed_date", DATE),
                                     ("due_date", DATE), ("check_date", DATE),
                                     ("still_caring", TEXT), ("breakdown_reason_code", TEXT),
                                     ("category", TEXT), ("category_as_recorded", TEXT)),
    "marts.fact_support_plan": (("plan_ref", TEXT), ("carer_key", TEXT), ("plan_type", TEXT),
                                ("agreed_date", DATE), ("closed_date", DATE),
                                ("support_items", TEXT)),
    "marts.fact_las_assessment": (("assessment_id", INT), ("person_key", TEXT),
                                  ("assessment_type", TEXT), ("assessment_date", DATE),
                                  ("carer_fatigue_noted", BOOL),
                                  ("carers_service_contact", TEXT)),
    "marts.fact_care_package": (("package_id", INT), ("person_key", TEXT),
                                ("primary_support_reason", TEXT), ("setting", TEXT),
                                ("start_date", DATE), ("end_date", DATE),
                                ("weekly_cost", MONEY), ("includes_contingency", BOOL),
                                ("funding", TEXT)),
    "marts.fact_gp_register_entry": (("snapshot_month", DATE), ("practice_ods", TEXT),
                                     ("carer_key", TEXT), ("entry_number", INT),
                                     ("carer_code", TEXT), ("date_recorded", DATE),
                                     ("last_review_date", DATE), ("no_longer_carer_date", DATE),
                                     ("names_cared_for", BOOL)),
}
for _name, _columns in DIMENSIONAL.items():
    _table(_name, *[_c(col, type_) for col, type_ in _columns], _c("run_id", TEXT))

# The objects the warehouse contract names, with the columns it names (extra columns such as
# `run_id` are allowed). Tests check both engines against this.
CONTRACT: dict[str, tuple[str, ...]] = {
    "linkage.person_xref": ("source_record_key", "person_key", "run_id"),
    "linkage.person_key_history": ("retired_key", "surviving_key", "run_id"),
    "linkage.caring_relationship": (
        "carer_key", "cared_for_key", "sources", "first_seen", "ended_on", "end_reason"),
    "marts.carers_known": ("snapshot_date", "in_provider", "in_las", "in_gp", "carers"),
    "marts.gp_register_staleness": (
        "snapshot_month", "practice_ods", "carer_key", "is_stale", "reasons", "review_overdue",
        "last_review_date", "evidence_date"),
    "marts.gp_register_practice_summary": (
        "snapshot_month", "practice_ods", "entries", "stale_entries", "review_overdue_entries",
        "stale_share"),
    "marts.star_bias_practitioner": (
        "practitioner_ref", "carers", "mean_change", "centre", "lower_limit", "upper_limit",
        "flagged", "retrospective_share"),
    "marts.star_score_flags": ("star_ref", "carer_key", "practitioner_ref", "reading", "flags"),
    "marts.star_change": (
        "carer_key", "reading_1", "reading_2", "reading_3", "change_1_2", "change_1_3",
        "risk_level", "main_need", "district"),
    "marts.sustainment": (
        "carer_key", "check_type", "still_caring", "breakdown_reason_code", "category",
        "category_as_recorded", "star_1", "star_2"),
    "marts.service_contact_in_las": (
        "assessment_type", "carers_service_contact", "carer_known_to_service",
        "assessment_date"),
    "marts.care_packages": (
        "cared_for_key", "primary_support_reason", "annual_cost", "change_from_previous_year",
        "includes_contingency", "carer_fatigue_noted", "carer_known_to_service"),
    "dq.validation_results": (
        "run_id", "run_date", "source", "suite", "expectation", "severity", "success",
        "unexpected_count", "element_count"),
    "dq.linkage_runs": (
        "run_id", "run_date", "model_version", "records_in", "persons_out", "pairs_scored",
        "pairs_linked", "threshold", "keys_retired", "keys_new"),
    "dq.quarantine": ("run_id", "source", "file", "row_number", "reason"),
}


def table(qualified: str) -> sa.Table:
    """The Table for "schema.name", with a clear error for a name the warehouse lacks."""
    try:
        return metadata.tables[qualified]
    except KeyError:
        raise KeyError(f"no warehouse table {qualified!r}") from None


def staging_table(name: str) -> sa.Table:
    return metadata.tables[f"staging.{name}"]
