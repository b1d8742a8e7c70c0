"""Banners: image files of an offer with their size, type and digest, for partners' embed code.

Revision ID: 0014_banners
Revises: 0013_key_last_used
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_banners"
down_revision = "0013_key_last_used"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("mime_type", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "mime_type IN ('image/png', 'image/jpeg', 'image/gif', 'image/svg+xml')",
            name=op.f("ck_banners_mime_type"),
        ),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_banners_dimensions")),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_banners_offer_id_offers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_banners")),
        sa.UniqueConstraint("file_name", name=op.f("uq_banners_file_name")),
    )
    op.create_index(op.f("ix_banners_offer_id"), "banners", ["offer_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_banners_offer_id"), table_name="banners")
    op.drop_table("banners")
