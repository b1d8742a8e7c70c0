"""Applications to join the program: the applicant, its company and tax id, and the decision.

Revision ID: 0015_partner_applications
Revises: 0014_banners
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_partner_applications"
down_revision = "0014_banners"
branch_labels = None
depends_on = None

KINDS = "kind IN ('affiliate', 'reseller', 'distributor', 'agency', 'cpa', 'cross_marketing')"
DECISION = (
    "(status = 'pending') = (decided_at IS NULL)"
    " AND (status = 'approved') = (partner_id IS NOT NULL)"
    " AND (status = 'rejected') = (reason IS NOT NULL)"
)


def upgrade() -> None:
    op.create_table(
        "partner_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("tax_id", sa.String(length=32), nullable=False),
        sa.Column("website", sa.String(length=2048), nullable=False),
        sa.Column("promotion", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name=op.f("ck_partner_applications_status")
        ),
        sa.CheckConstraint(KINDS, name=op.f("ck_partner_applications_kind")),
        sa.CheckConstraint(DECISION, name=op.f("ck_partner_applications_decision")),
        sa.ForeignKeyConstraint(["decided_by"], ["people.id"], name=op.f("fk_partner_applications_decided_by_people")),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_partner_applications_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_applications")),
    )
    op.create_index(
        "ix_partner_applications_status_created", "partner_applications", ["status", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_partner_applications_status_created", table_name="partner_applications")
    op.drop_table("partner_applications")
