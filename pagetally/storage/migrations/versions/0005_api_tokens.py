"""apitokens: API tokens for scripts (only their SHA-256 is kept)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pagetally.storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "apitokens",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("userid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tokenhash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("created", pagetally.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires", pagetally.storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked", pagetally.storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["userid"], ["users.id"], name=op.f("fk_apitokens_userid_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apitokens")),
        sa.UniqueConstraint("tokenhash", name=op.f("uq_apitokens_tokenhash")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    op.create_index(op.f("ix_apitokens_userid"), "apitokens", ["userid"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_apitokens_userid"), table_name="apitokens")
    op.drop_table("apitokens")
