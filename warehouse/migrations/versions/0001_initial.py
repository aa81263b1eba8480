"""Initial warehouse: staging, meta, linkage, dq and marts.

Written out explicitly (not read from warehouse.schema at run time) so this revision keeps
creating exactly what it created when it shipped; later changes to the schema are new
revisions.

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMAS = ("staging", "meta", "linkage", "dq", "marts")


def upgrade() -> None:
    for schema in SCHEMAS:
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    op.create_table(
        "linkage_runs",
        sa.Column("run_id", sa.Text()),
        sa.Column("run_date", sa.Date()),
        sa.Column("model_version", sa.Text()),
        sa.Column("records_in", sa.BigInteger()),
        sa.Column("persons_out", sa.BigInteger()),
        sa.Column("pairs_scored", sa.BigInteger()),
        sa.Column("pairs_linked", sa.BigInteger()),
        sa.Column("threshold", sa.Numeric(18, 6)),
        sa.Column("keys_retired", sa.BigInteger()),
        sa.Column("keys_new", sa.BigInteger()),
        schema="dq",
    )
    op.create_table(
        "quarantine",
        sa.Column("run_id", sa.Text()),
        sa.Column("source", sa.Text()),
        sa.Column("file", sa.Text()),
        sa.Column("row_number", sa.BigInteger()),
        sa.Column("reason", sa.Text()),
        schema="dq",
    )
    op.create_table(
        "validation_results",
        sa.Column("run_id", sa.Text()),
        sa.Column("run_date", sa.Date()),
        sa.Column("source", sa.Text()),
        sa.Column("suite", sa.Text()),
        sa.Column("expectation", sa.Text()),
        sa.Column("severity", sa.Text()),
        sa.Column("success", sa.Boolean()),
        sa.Column("unexpected_count", sa.BigInteger()),
        sa.Column("element_count", sa.BigInteger()),
        schema="dq",
    )
    op.create_table(
        "caring_relationship",
        sa.Column("carer_key", sa.Text()),
        sa.Column("cared_for_key", sa.Text()),
        sa.Column("sources", sa.Text()),
        sa.Column("first_seen", sa.Date()),
        sa.Column("ended_on", sa.Date()),
        sa.Column("end_reason", sa.Text()),
        sa.Column("run_id", sa.Text()),
        schema="linkage",
    )
    op.create_table(
        "person_key_history",
        sa.Column("retired_key", sa.Text()),
        sa.Column("surviving_key", sa.Text()),
        sa.Column("run_id", sa.Text()),
        schema="linkage",
    )
    op.create_table(
        "person_xref",
        sa.Column("source_record_key", sa.Text(), nullable=False),
        sa.Column("person_key", sa.Text()),
        sa.Column("run_id", sa.Text()),
        sa.PrimaryKeyConstraint("source_record_key", name="pk_person_xref"),
        schema="linkage",
    )
    op.create_table(
        "care_packages",
        sa.Column("cared_for_key", sa.Text()),
        sa.Column("primary_support_reason", sa.Text()),
        sa.Column("annual_cost", sa.Numeric(12, 2)),
        sa.Column("change_from_previous_year", sa.Numeric(12, 2)),
        sa.Column("includes_contingency", sa.Boolean()),
        sa.Column("carer_fatigue_noted", sa.Boolean()),
        sa.Column("carer_known_to_service", sa.Boolean()),
        sa.Column("run_id", sa.Text()),
        schema="marts",
    )
    op.create_table(
        "carers_known",
        sa.Column("snapshot_date", sa.Date()),
        sa.Column("in_provider", sa.Boolean()),
        sa.Column("in_las", sa.Boolean()),
        sa.Column("in_gp", sa.Boolean()),
        sa.Column("carers", sa.BigInteger()),
        sa.Column("run_id", sa.Text()),
        schema="marts",
    )
    op.create_table(
        "gp_register_practice_summary",
        sa.Column("snapshot_month", sa.Date()),
        sa.Column("practice_ods", sa.Text()),
        sa.Column("entries", sa.BigInteger()),
        sa.Column("stale_entries", sa.BigInteger()),
        sa.Column("review_overdue_entries", sa.BigInteger()),
        sa.Column("stale_share", sa.Numeric(18, 6)),
        sa.Column("run_id", sa.Text()),
        schema="marts",
    )
    op.create_table(
        "gp_register_staleness",
        sa.Column("snapshot_month", sa.Date()),
        sa.Column("practice_ods", sa.Text()),
        sa.Column("carer_key", sa.Text()),
        sa.Column("is_stale", sa.Boolean()),
        sa.Column("reasons", sa.Text()),
        sa.Column("review_overdue", sa.Boolean()),
        sa.Column("last_review_date", sa.Date()),
        sa.Column("evidence_date", sa.Date()),
        sa.Column("run_id", sa.Text()),
        schema="marts",
    )
    op.create_table(
        "service_contact_in_las",
        sa.Column("assessment_type", sa.Text()),
        sa.Column("carers_service_contact", sa.Text()),
        sa.Column("carer_known_to_service", sa.Boolean()),
        sa.Column("assessment_date", sa.Date()),
        sa.Column("run_id", sa.Text()),
        schema="marts",
    )
    op.create_table(
        "star_bias_practitioner",
        sa.Column("practitioner_ref", sa.Text()),
        sa.Column("carers", sa.BigInteger()),
        sa.Column("mean_change", sa.Numeric(18, 6)),
        sa.Column("centre", sa.Numeric(18, 6)),
        sa.Column("lower_limit", sa.Numeric(18, 6)),
        sa.Column("upper_limit", sa.Numeric(18, 6)),
        sa.Column("flagged", sa.Boolean()),
        sa.Column("retrospective_share", sa.Numeric(18, 6)),
        sa.Column("run_id", sa.Text()),
        schema="marts",
    )
    op.create_table(
        "star_change",
        sa.Column("carer_key", sa.Text()),
        sa.Column("reading_1", sa.BigInteger()),
        sa.Column("reading_2", sa.BigInteger()),
        sa.Column("reading_3", sa.BigInteger()),
        sa.Column("change_1_2", sa.BigInteger()),
        sa.Column("change_1_3", sa.BigInteger()),
        sa.Column("risk_level", sa.Text()),
        sa.Column("main_need", sa.Text()),
        sa.Column("district", sa.Text()),
        sa.Column("run_id", sa.Text()),
        schema="marts",
    )
    op.create_table(
        "star_score_flags",
        sa.Column("star_ref", sa.Text()),
        sa.Column("carer_key", sa.Text()),
        sa.Column("practitioner_ref", sa.Text()),
        sa.Column("reading", sa.BigInteger()),
        sa.Column("flags", sa.Text()),
        sa.Column("run_id", sa.Text()),
        schema="marts",
    )
    op.create_table(
        "sustainment",
        sa.Column("carer_key", sa.Text()),
        sa.Column("check_type", sa.Text()),
        sa.Column("still_caring", sa.Text()),
        sa.Column("breakdown_reason_code", sa.Text()),
        sa.Column("category", sa.Text()),
        sa.Column("category_as_recorded", sa.Text()),
        sa.Column("star_1", sa.BigInteger()),
        sa.Column("star_2", sa.BigInteger()),
        sa.Column("run_id", sa.Text()),
        schema="marts",
    )
    op.create_table(
        "run_ledger",
        sa.Column("extract_date", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text()),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("rows_read", sa.BigInteger()),
        sa.Column("rows_staged", sa.BigInteger()),
        sa.Column("rows_quarantined", sa.BigInteger()),
        sa.Column("table_counts", sa.Text()),
        sa.Column("message", sa.Text()),
        sa.Column("recorded_at", sa.DateTime()),
        sa.PrimaryKeyConstraint("extract_date", "source", name="pk_run_ledger"),
        schema="meta",
    )
    op.create_table(
        "source_state",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("state_json", sa.Text()),
        sa.Column("extract_date", sa.Date()),
        sa.Column("updated_run_id", sa.Text()),
        sa.PrimaryKeyConstraint("source", name="pk_source_state"),
        schema="meta",
    )
    op.create_table(
        "gp_register_entry",
        sa.Column("practice_ods", sa.Text(), nullable=False),
        sa.Column("snapshot_month", sa.Date(), nullable=False),
        sa.Column("layout", sa.Text(), nullable=False),
        sa.Column("entry_number", sa.BigInteger(), nullable=False),
        sa.Column("nhs_number", sa.Text()),
        sa.Column("nhs_number_valid", sa.Boolean(), nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("first_name", sa.Text()),
        sa.Column("last_name", sa.Text()),
        sa.Column("date_of_birth", sa.Date()),
        sa.Column("sex", sa.Text(), nullable=False),
        sa.Column("postcode", sa.Text()),
        sa.Column("postcode_valid", sa.Boolean(), nullable=False),
        sa.Column("carer_code", sa.Text()),
        sa.Column("carer_code_term", sa.Text()),
        sa.Column("date_recorded", sa.Date()),
        sa.Column("last_review_date", sa.Date()),
        sa.Column("no_longer_carer_date", sa.Date()),
        sa.Column("cared_for_nhs_number", sa.Text()),
        sa.Column("cared_for_nhs_number_valid", sa.Boolean(), nullable=False),
        sa.Column("cared_for_name", sa.Text()),
        sa.Column("cared_for_first_name", sa.Text()),
        sa.Column("cared_for_last_name", sa.Text()),
        sa.Column("cared_for_date_of_birth", sa.Date()),
        sa.Column("extract_date", sa.Date(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.BigInteger()),
        schema="staging",
    )
    op.create_table(
        "las_assessment",
        sa.Column("assessment_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger()),
        sa.Column("assessment_type", sa.Text()),
        sa.Column("assessment_date", sa.Date()),
        sa.Column("carer_fatigue_noted", sa.Boolean()),
        sa.Column("carers_service_contact", sa.Text()),
        sa.Column("last_updated", sa.DateTime()),
        sa.Column("extract_date", sa.Date(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.BigInteger()),
        schema="staging",
    )
    op.create_table(
        "las_care_package",
        sa.Column("package_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger()),
        sa.Column("primary_support_reason", sa.Text()),
        sa.Column("primary_support_reason_code", sa.Text()),
        sa.Column("setting", sa.Text()),
        sa.Column("start_date", sa.Date()),
        sa.Column("end_date", sa.Date()),
        sa.Column("weekly_cost", sa.Numeric(12, 2)),
        sa.Column("includes_contingency", sa.Boolean()),
        sa.Column("funding", sa.Text()),
        sa.Column("last_updated", sa.DateTime()),
        sa.Column("extract_date", sa.Date(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.BigInteger()),
        schema="staging",
    )
    op.create_table(
        "las_person",
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("nhs_number", sa.Text()),
        sa.Column("nhs_number_valid", sa.Boolean(), nullable=False),
        sa.Column("forename", sa.Text()),
        sa.Column("surname", sa.Text()),
        sa.Column("date_of_birth", sa.Date()),
        sa.Column("gender", sa.Text()),
        sa.Column("sex", sa.Text(), nullable=False),
        sa.Column("address", sa.Text()),
        sa.Column("postcode", sa.Text()),
        sa.Column("postcode_valid", sa.Boolean(), nullable=False),
        sa.Column("district", sa.Text()),
        sa.Column("ethnicity", sa.Text()),
        sa.Column("date_of_death", sa.Date()),
        sa.Column("last_updated", sa.DateTime()),
        sa.Column("merged_into", sa.BigInteger()),
        sa.Column("extract_date", sa.Date(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.BigInteger()),
        schema="staging",
    )
    op.create_table(
        "las_person_merge",
        sa.Column("old_person_id", sa.BigInteger(), nullable=False),
        sa.Column("new_person_id", sa.BigInteger(), nullable=False),
        sa.Column("merged_at", sa.DateTime()),
        sa.Column("extract_date", sa.Date(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.BigInteger()),
        schema="staging",
    )
    op.create_table(
        "las_person_relationship",
        sa.Column("relationship_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger()),
        sa.Column("related_person_id", sa.BigInteger()),
        sa.Column("relationship_type", sa.Text()),
        sa.Column("carer_relationship", sa.Text()),
        sa.Column("start_date", sa.Date()),
        sa.Column("end_date", sa.Date()),
        sa.Column("last_updated", sa.DateTime()),
        sa.Column("extract_date", sa.Date(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.BigInteger()),
        schema="staging",
    )
    op.create_table(
        "provider_assessment",
        sa.Column("assessment_ref", sa.Text(), nullable=False),
        sa.Column("carer_ref", sa.Text(), nullable=False),
        sa.Column("stage", sa.Text()),
        sa.Column("assessment_date", sa.Date()),
        sa.Column("practitioner_ref", sa.Text()),
        sa.Column("risk_level", sa.Text()),
        sa.Column("risk_level_as_recorded", sa.Text()),
        sa.Column("weighted_score", sa.BigInteger()),
        sa.Column("outcome", sa.Text()),
        sa.Column("extract_date", sa.Date(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.BigInteger()),
        schema="staging",
    )
    op.create_table(
        "provider_cared_for",
        sa.Column("cared_for_ref", sa.Text(), nullable=False),
        sa.Column("carer_ref", sa.Text(), nullable=False),
        sa.Column("first_name", sa.Text()),
        sa.Column("last_name", sa.Text()),
        sa.Column("date_of_birth", sa.Date()),
        sa.Column("nhs_number", sa.Text()),
        sa.Column("nhs_number_valid", sa.Boolean(), nullable=False),
        sa.Column("postcode", sa.Text()),
        sa.Column("postcode_valid", sa.Boolean(), nullable=False),
        sa.Column("carer_relationship", sa.Text()),
        sa.Column("main_need", sa.Text()),
        sa.Column("receives_services", sa.Text()),
        sa.Column("date_of_death", sa.Date()),
        sa.Column("extract_date", sa.Date(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.BigInteger()),
        schema="staging",
    )
    op.create_table(
        "provider_carer",
        sa.Column("carer_ref", sa.Text(), nullable=False),
        sa.Column("nhs_number", sa.Text()),
        sa.Column("nhs_number_valid", sa.Boolean(), nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("first_name", sa.Text()),
        sa.Column("last_name", sa.Text()),
        sa.Column("date_of_birth", sa.Date()),
        sa.Column("sex", sa.Text(), nullable=False),
        sa.Column("address_line_1", sa.Text()),
        sa.Column("town", sa.Text()),
        sa.Column("postcode", sa.Text()),
        sa.Column("postcode_valid", sa.Boolean(), nullable=False),
        sa.Column("district", sa.Text()),
        sa.Column("phone", sa.Text()),
        sa.Column("email", sa.Text()),
        sa.Column("has_long_term_condition", sa.Text()),
        sa.Column("employment_status", sa.Text()),
        sa.Column("hours_caring_per_week", sa.Text()),
        sa.Column("referral_date", sa.Date()),
        sa.Column("referral_source", sa.Text()),
        sa.Column("information_sharing", sa.Text(), nullable=False),
        sa.Column("status", sa.Text()),
        sa.Column("closed_date", sa.Date()),
        sa.Column("created_at", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime()),
        sa.Column("extract_date", sa.Date(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.BigInteger()),
        schema="staging",
    )
    op.create_table(
        "provider_star_score",
        sa.Column("star_ref", sa.Text(), nullable=False),
        sa.Column("carer_ref", sa.Text(), nullable=False),
        sa.Column("reading", sa.BigInteger()),
        sa.Column("assessment_date", sa.Date()),
        sa.Column("recorded_at", sa.DateTime()),
        sa.Column("practitioner_ref", sa.Text()),
        sa.Column("completed_with", sa.Text()),
        sa.Column("total_score", sa.BigInteger()),
        sa.Column("carer_self_rating", sa.BigInteger()),
        sa.Column("extract_date", sa.Date(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.BigInteger()),
        schema="staging",
    )
    op.create_table(
        "provider_support_plan",
        sa.Column("plan_ref", sa.Text(), nullable=False),
        sa.Column("carer_ref", sa.Text(), nullable=False),
        sa.Column("plan_type", sa.Text()),
        sa.Column("agreed_date", sa.Date()),
        sa.Column("closed_date", sa.Date()),
        sa.Column("support_items", sa.Text()),
        sa.Column("extract_date", sa.Date(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.BigInteger()),
        schema="staging",
    )
    op.create_table(
        "provider_sustainment_check",
        sa.Column("check_ref", sa.Text(), nullable=False),
        sa.Column("carer_ref", sa.Text(), nullable=False),
        sa.Column("plan_agreed_date", sa.Date()),
        sa.Column("check_type", sa.Text()),
        sa.Column("due_date", sa.Date()),
        sa.Column("check_date", sa.Date()),
        sa.Column("still_caring", sa.Text()),
        sa.Column("breakdown_reason", sa.Text()),
        sa.Column("breakdown_reason_code", sa.Text()),
        sa.Column("breakdown_category", sa.Text()),
        sa.Column("breakdown_category_as_recorded", sa.Text()),
        sa.Column("extract_date", sa.Date(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.BigInteger()),
        schema="staging",
    )


def downgrade() -> None:
    op.drop_table("provider_sustainment_check", schema="staging")
    op.drop_table("provider_support_plan", schema="staging")
    op.drop_table("provider_star_score", schema="staging")
    op.drop_table("provider_carer", schema="staging")
    op.drop_table("provider_cared_for", schema="staging")
    op.drop_table("provider_assessment", schema="staging")
    op.drop_table("las_person_relationship", schema="staging")
    op.drop_table("las_person_merge", schema="staging")
    op.drop_table("las_person", schema="staging")
    op.drop_table("las_care_package", schema="staging")
    op.drop_table("las_assessment", schema="staging")
    op.drop_table("gp_register_entry", schema="staging")
    op.drop_table("source_state", schema="meta")
    op.drop_table("run_ledger", schema="meta")
    op.drop_table("sustainment", schema="marts")
    op.drop_table("star_score_flags", schema="marts")
    op.drop_table("star_change", schema="marts")
    op.drop_table("star_bias_practitioner", schema="marts")
    op.drop_table("service_contact_in_las", schema="marts")
    op.drop_table("gp_register_staleness", schema="marts")
    op.drop_table("gp_register_practice_summary", schema="marts")
    op.drop_table("carers_known", schema="marts")
    op.drop_table("care_packages", schema="marts")
    op.drop_table("person_xref", schema="linkage")
    op.drop_table("person_key_history", schema="linkage")
    op.drop_table("caring_relationship", schema="linkage")
    op.drop_table("validation_results", schema="dq")
    op.drop_table("quarantine", schema="dq")
    op.drop_table("linkage_runs", schema="dq")
