"""Conformed dimensions and facts in `marts`; `check_date` on marts.sustainment and
`year_ending` on marts.care_packages.

Written out explicitly so that this revision keeps creating what it created when it shipped.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

T, I, D, B = sa.Text, sa.BigInteger, sa.Date, sa.Boolean  # noqa: E741


def M() -> sa.Numeric:  # noqa: N802
    return sa.Numeric(12, 2)


TABLES = {
    "dim_date": (("date_key", D), ("year", I), ("month", I), ("quarter", I),
                 ("month_start", D), ("financial_year", T)),
    "dim_person": (("person_key", T), ("age_band", T), ("sex", T), ("district", T),
                   ("is_carer", B), ("is_cared_for", B), ("in_provider", B), ("in_las", B),
                   ("in_gp", B), ("deceased", B)),
    "dim_practice": (("practice_ods", T), ("practice_name", T), ("district", T),
                     ("clinical_system", T)),
    "dim_practitioner": (("practitioner_ref", T), ("readings", I), ("carers", I)),
    "dim_need": (("need", T), ("source", T), ("code", T)),
    "dim_breakdown_reason": (("code", T), ("label", T), ("category", T)),
    "fact_referral": (("carer_key", T), ("referral_date", D), ("referral_source", T),
                      ("status", T), ("closed_date", D), ("district", T),
                      ("hours_caring_per_week", T), ("employment_status", T)),
    "fact_pathway_assessment": (("assessment_ref", T), ("carer_key", T), ("stage", T),
                                ("assessment_date", D), ("practitioner_ref", T),
                                ("risk_level", T), ("risk_level_as_recorded", T),
                                ("outcome", T)),
    "fact_star_reading": (("star_ref", T), ("carer_key", T), ("reading", I),
                          ("assessment_date", D), ("days_to_record", I),
                          ("practitioner_ref", T), ("completed_with", T), ("total_score", I),
                          ("carer_self_rating", I)),
    "fact_sustainment_check": (("check_ref", T), ("carer_key", T), ("check_type", T),
                               ("plan_agreed_date", D), ("due_date", D), ("check_date", D),
                               ("still_caring", T), ("breakdown_reason_code", T),
                               ("category", T), ("category_as_recorded", T)),
    "fact_support_plan": (("plan_ref", T), ("carer_key", T), ("plan_type", T),
                          ("agreed_date", D), ("closed_date", D), ("support_items", T)),
    "fact_las_assessment": (("assessment_id", I), ("person_key", T), ("assessment_type", T),
                            ("assessment_date", D), ("carer_fatigue_noted", B),
                            ("carers_service_contact", T)),
    "fact_care_package": (("package_id", I), ("person_key", T), ("primary_support_reason", T),
                          ("setting", T), ("start_date", D), ("end_date", D),
                          ("weekly_cost", M), ("includes_contingency", B), ("funding", T)),
    "fact_gp_register_entry": (("snapshot_month", D), ("practice_ods", T), ("carer_key", T),
                               ("entry_number", I), ("carer_code", T), ("date_recorded", D),
                               ("last_review_date", D), ("no_longer_carer_date", D),
                               ("names_cared_for", B)),
}


def upgrade() -> None:
    for name, columns in TABLES.items():
        op.create_table(name, *[sa.Column(c, t()) for c, t in columns],
                        sa.Column("run_id", sa.Text()), schema="marts")
    op.add_column("sustainment", sa.Column("check_date", sa.Date()), schema="marts")
    op.add_column("care_packages", sa.Column("year_ending", sa.Date()), schema="marts")


def downgrade() -> None:
    op.drop_column("care_packages", "year_ending", schema="marts")
    op.drop_column("sustainment", "check_date", schema="marts")
    for name in reversed(list(TABLES)):
        op.drop_table(name, schema="marts")
