"""Partners' W-8 and W-9 forms.

Revision ID: 0016_partner_tax_forms
Revises: 0015_partner_applications
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_partner_tax_forms"
down_revision = "0015_partner_applications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_tax_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("uploaded_by_person_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('w8ben', 'w8bene', 'w9')", name=op.f("ck_partner_tax_forms_kind")),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_partner_tax_forms_size")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_partner_tax_forms_partner_id_partners")),
        sa.ForeignKeyConstraint(
            ["uploaded_by_person_id"], ["people.id"], name=op.f("fk_partner_tax_forms_uploaded_by_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_tax_forms")),
    )
    op.create_index(op.f("ix_partner_tax_forms_partner_id"), "partner_tax_forms", ["partner_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_partner_tax_forms_partner_id"), table_name="partner_tax_forms")
    op.drop_table("partner_tax_forms")
