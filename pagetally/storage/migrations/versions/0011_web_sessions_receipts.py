"""webrevoked, refundreceipts: logouts that survive a restart; receipts of web refunds

`webrevoked` keeps the nonces of web sessions logged out until their cookies
expire, so a copy of a logged-out cookie stays refused after `pagetally web`
restarts (or on another web server over the same store). `refundreceipts`
keeps the number and content of the receipt of each job refunded from the web.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pagetally.storage.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webrevoked",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires", pagetally.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_webrevoked")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    op.create_index(op.f("ix_webrevoked_expires"), "webrevoked", ["expires"])
    op.create_table(
        "refundreceipts",
        sa.Column("jobrowid", _ID, autoincrement=False, nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("username", pagetally.storage.types.name_type(), nullable=False),
        sa.Column("amount", pagetally.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column(
            "balanceafter", pagetally.storage.types.Money(precision=18, scale=6), nullable=True
        ),
        sa.Column("issued", pagetally.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jobrowid", name=op.f("pk_refundreceipts")),
        sa.UniqueConstraint("number", name=op.f("uq_refundreceipts_number")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    op.create_index(op.f("ix_refundreceipts_username"), "refundreceipts", ["username"])


def downgrade() -> None:
    op.drop_index(op.f("ix_refundreceipts_username"), table_name="refundreceipts")
    op.drop_table("refundreceipts")
    op.drop_index(op.f("ix_webrevoked_expires"), table_name="webrevoked")
    op.drop_table("webrevoked")
