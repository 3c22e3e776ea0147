"""jobanswers: what a job's user answered at print time (pagetally-client)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pagetally.storage.types
from pagetally.storage.types import name_type

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jobanswers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("printername", name_type(), nullable=False),
        sa.Column("jobid", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("jobuuid", sa.String(length=64), nullable=False),
        sa.Column("username", name_type(), nullable=False),
        sa.Column("question", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("jobdate", pagetally.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobanswers")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    op.create_index(
        op.f("ix_jobanswers_printername_jobid"),
        "jobanswers",
        ["printername", "jobid"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_jobanswers_printername_jobid"), table_name="jobanswers")
    op.drop_table("jobanswers")
