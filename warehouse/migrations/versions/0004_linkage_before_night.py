"""`linkage.person_xref_before_night` and `linkage.person_key_history_before_night`: the
linkage state the newest loaded night started from, so that rerunning that night (after a
re-sent delivery) assigns keys from the night before, as one run would, rather than from the
first run's own output. `linkage.person_key_dormant` (and its state before the night): the
key of each record absent since an earlier night, so that it returns to its person.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_xref_before_night",
        sa.Column("source_record_key", sa.Text(), primary_key=True),
        sa.Column("person_key", sa.Text()),
        sa.Column("run_id", sa.Text()),
        schema="linkage",
    )
    op.create_table(
        "person_key_history_before_night",
        sa.Column("retired_key", sa.Text()),
        sa.Column("surviving_key", sa.Text()),
        sa.Column("run_id", sa.Text()),
        schema="linkage",
    )


    for name in ("person_key_dormant", "person_key_dormant_before_night"):
        op.create_table(
            name,
            sa.Column("source_record_key", sa.Text(), primary_key=True),
            sa.Column("person_key", sa.Text()),
            sa.Column("since", sa.Date()),
            sa.Column("run_id", sa.Text()),
            schema="linkage",
        )


def downgrade() -> None:
    op.drop_table("person_key_dormant_before_night", schema="linkage")
    op.drop_table("person_key_dormant", schema="linkage")
    op.drop_table("person_key_history_before_night", schema="linkage")
    op.drop_table("person_xref_before_night", schema="linkage")
