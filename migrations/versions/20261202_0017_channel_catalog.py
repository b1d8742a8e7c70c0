"""The channel catalogue: product families (serial format, price band), products and dated promotions.

Revision ID: 0017_channel_catalog
Revises: 0016_partner_tax_forms
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_channel_catalog"
down_revision = "0016_partner_tax_forms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_families",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("serial_pattern", sa.String(length=200), nullable=True),
        sa.Column("price_below_percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("price_above_percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "(price_below_percent IS NULL) = (price_above_percent IS NULL)"
            " AND (price_below_percent IS NULL OR (price_below_percent >= 0 AND price_below_percent <= 100"
            " AND price_above_percent >= 0 AND price_above_percent <= 999))",
            name=op.f("ck_catalog_families_price_band"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_families")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_families_code")),
    )
    op.create_table(
        "catalog_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("list_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("points_per_unit", sa.Integer(), nullable=False),
        sa.Column("eligible_from", sa.Date(), nullable=False),
        sa.Column("eligible_to", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("list_price_minor >= 0", name=op.f("ck_catalog_products_list_price")),
        sa.CheckConstraint("points_per_unit >= 0", name=op.f("ck_catalog_products_points")),
        sa.CheckConstraint(
            "eligible_to IS NULL OR eligible_to >= eligible_from", name=op.f("ck_catalog_products_eligibility")
        ),
        sa.CheckConstraint("length(sku) > 0", name=op.f("ck_catalog_products_sku")),
        sa.ForeignKeyConstraint(
            ["family_id"], ["catalog_families.id"], name=op.f("fk_catalog_products_family_id_catalog_families")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_products")),
        sa.UniqueConstraint("sku", name=op.f("uq_catalog_products_sku")),
    )
    op.create_index(op.f("ix_catalog_products_family_id"), "catalog_products", ["family_id"], unique=False)
    op.create_table(
        "catalog_promotions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("multiplier", sa.Numeric(precision=6, scale=3), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.Column("partner_tier", sa.String(length=32), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("multiplier > 0 AND multiplier <= 100", name=op.f("ck_catalog_promotions_multiplier")),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_catalog_promotions_dates")),
        sa.CheckConstraint(
            "(CASE WHEN product_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN family_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN partner_tier IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_catalog_promotions_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["family_id"], ["catalog_families.id"], name=op.f("fk_catalog_promotions_family_id_catalog_families")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["catalog_products.id"], name=op.f("fk_catalog_promotions_product_id_catalog_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_promotions")),
    )
    op.create_index("ix_catalog_promotions_days", "catalog_promotions", ["starts_on", "ends_on"], unique=False)
    op.create_index(op.f("ix_catalog_promotions_family_id"), "catalog_promotions", ["family_id"], unique=False)
    op.create_index(op.f("ix_catalog_promotions_product_id"), "catalog_promotions", ["product_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_catalog_promotions_product_id"), table_name="catalog_promotions")
    op.drop_index(op.f("ix_catalog_promotions_family_id"), table_name="catalog_promotions")
    op.drop_index("ix_catalog_promotions_days", table_name="catalog_promotions")
    op.drop_table("catalog_promotions")
    op.drop_index(op.f("ix_catalog_products_family_id"), table_name="catalog_products")
    op.drop_table("catalog_products")
    op.drop_table("catalog_families")
