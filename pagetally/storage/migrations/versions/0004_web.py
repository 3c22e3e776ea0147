"""web: local web passwords and refund requests (the web interface, issue 13)

Revision ID: 0004
Revises: 0003_invoices
Create Date: 2026-12-03 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pagetally.storage.types

revision: str = "0004"
down_revision: str | None = "0003_invoices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webpasswords",
        sa.Column("username", pagetally.storage.types.name_type(), nullable=False),
        sa.Column("passwordhash", sa.String(length=255), nullable=False),
        sa.Column("updated", pagetally.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_webpasswords")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    op.create_table(
        "refundrequests",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("jobrowid", _ID, nullable=False),
        sa.Column("username", pagetally.storage.types.name_type(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created", pagetally.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decidedby", pagetally.storage.types.name_type(), nullable=True),
        sa.Column("decided", pagetally.storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refundrequests")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    op.create_index(op.f("ix_refundrequests_state"), "refundrequests", ["state"])
    op.create_index(op.f("ix_refundrequests_username"), "refundrequests", ["username"])


def downgrade() -> None:
    op.drop_index(op.f("ix_refundrequests_username"), table_name="refundrequests")
    op.drop_index(op.f("ix_refundrequests_state"), table_name="refundrequests")
    op.drop_table("refundrequests")
    op.drop_table("webpasswords")
