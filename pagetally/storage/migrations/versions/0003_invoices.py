"""invoices: numbers of issued invoices and refund receipts (pkinvoice)

Revision ID: 0003_invoices
Revises: 0002
Create Date: 2026-12-03 11:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pagetally.storage.types

revision: str = "0003_invoices"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoices",
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("username", pagetally.storage.types.name_type(), nullable=False),
        sa.Column("amount", pagetally.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("issued", pagetally.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_invoices")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )


def downgrade() -> None:
    op.drop_table("invoices")
