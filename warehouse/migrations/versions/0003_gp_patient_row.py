"""`patient_row` on staging.gp_register_entry: the row's place among its patient's rows of
the register file, counting rows quarantined on their own, which the contract's cared-for key
(`gp:<practice>:<nhs>:cared_for:<k>`) numbers by. Null on rows staged before it existed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("gp_register_entry", sa.Column("patient_row", sa.BigInteger()),
                  schema="staging")


def downgrade() -> None:
    op.drop_column("gp_register_entry", "patient_row", schema="staging")
