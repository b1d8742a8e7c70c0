"""Operator edits to the tax presets, one row per edited or added regime.

Revision ID: 0006_tax_regime_edits
Revises: 0005_payout_batches
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_tax_regime_edits"
down_revision = "0005_payout_batches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tax_regime_edits",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_tax_regime_edits")),
    )


def downgrade() -> None:
    op.drop_table("tax_regime_edits")
