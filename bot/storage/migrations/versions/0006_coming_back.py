"""her case, kept informed: when she was last acknowledged, reopened, and the earlier
case a new intake follows

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("reopened_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("previous_case_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_cases_previous_case_id_cases"), "cases",
                                    ["previous_case_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cases_previous_case_id_cases"),
                                 type_="foreignkey")
        batch_op.drop_column("previous_case_id")
        batch_op.drop_column("reopened_at")
        batch_op.drop_column("acknowledged_at")
