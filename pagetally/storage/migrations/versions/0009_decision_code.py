"""jobhistory.decisioncode: the rules' machine code of each job's decision

Rules that read the history back (the PIN lockout counts failed checks) match
this code, never the reason text written for people.

Revision ID: 0009
Revises: 0003_invoices
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jobhistory", sa.Column("decisioncode", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobhistory") as batch:
        batch.drop_column("decisioncode")
