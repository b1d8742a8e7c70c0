"""Sell-out: uploads, their lines, rejected rows and serial conflicts.

A line counts while ``live``; partial unique indexes over live lines keep a line, a serial claim and a
returned sale to one live line each. The same file (SHA-256) once while previewed or committed.

Revision ID: 0019_sellout
Revises: 0018_points_ledger
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_sellout"
down_revision = "0018_points_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sellout_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("uploader_partner_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("committed_by", sa.String(length=64), nullable=True),
        sa.Column("committed_at", sa.DateTime(), nullable=True),
        sa.Column("undone_by", sa.String(length=64), nullable=True),
        sa.Column("undone_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('previewed', 'committed', 'undone', 'discarded')", name=op.f("ck_sellout_uploads_state")
        ),
        sa.ForeignKeyConstraint(
            ["uploader_partner_id"], ["partners.id"], name=op.f("fk_sellout_uploads_uploader_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sellout_uploads")),
    )
    op.create_index(
        op.f("ix_sellout_uploads_uploader_partner_id"), "sellout_uploads", ["uploader_partner_id"], unique=False
    )
    op.create_index(
        "uq_sellout_uploads_sha256",
        "sellout_uploads",
        ["sha256"],
        unique=True,
        postgresql_where=sa.text("state IN ('previewed', 'committed')"),
        sqlite_where=sa.text("state IN ('previewed', 'committed')"),
    )
    op.create_table(
        "sellout_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("distributor_id", sa.Integer(), nullable=False),
        sa.Column("invoice_number", sa.String(length=64), nullable=False),
        sa.Column("invoice_key", sa.String(length=64), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=True),
        sa.Column("serial_claim", sa.String(length=64), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("customer_tax_id", sa.String(length=32), nullable=True),
        sa.Column("ship_country", sa.String(length=2), nullable=False),
        sa.Column("ship_postcode", sa.String(length=16), nullable=False),
        sa.Column("rep_email", sa.String(length=254), nullable=True),
        sa.Column("reference_code", sa.String(length=64), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("returns_line_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("NOT live OR state = 'booked'", name=op.f("ck_sellout_lines_live_booked")),
        sa.CheckConstraint("state IN ('staged', 'booked', 'rejected')", name=op.f("ck_sellout_lines_state")),
        sa.CheckConstraint("quantity <> 0", name=op.f("ck_sellout_lines_quantity")),
        sa.ForeignKeyConstraint(
            ["distributor_id"], ["partners.id"], name=op.f("fk_sellout_lines_distributor_id_partners")
        ),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_sellout_lines_partner_id_partners")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["catalog_products.id"], name=op.f("fk_sellout_lines_product_id_catalog_products")
        ),
        sa.ForeignKeyConstraint(
            ["returns_line_id"], ["sellout_lines.id"], name=op.f("fk_sellout_lines_returns_line_id_sellout_lines")
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["sellout_uploads.id"], name=op.f("fk_sellout_lines_upload_id_sellout_uploads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sellout_lines")),
    )
    op.create_index("ix_sellout_lines_partner_product", "sellout_lines", ["partner_id", "product_id"], unique=False)
    op.create_index("ix_sellout_lines_serial", "sellout_lines", ["serial"], unique=False)
    op.create_index("ix_sellout_lines_upload_row", "sellout_lines", ["upload_id", "row_number"], unique=False)
    op.create_index(
        "uq_sellout_lines_key",
        "sellout_lines",
        ["invoice_key", "invoice_date", "distributor_id", "line_number"],
        unique=True,
        postgresql_where=sa.text("live"),
        sqlite_where=sa.text("live"),
    )
    op.create_index(
        "uq_sellout_lines_return",
        "sellout_lines",
        ["returns_line_id"],
        unique=True,
        postgresql_where=sa.text("live"),
        sqlite_where=sa.text("live"),
    )
    op.create_index(
        "uq_sellout_lines_serial",
        "sellout_lines",
        ["serial_claim"],
        unique=True,
        postgresql_where=sa.text("live"),
        sqlite_where=sa.text("live"),
    )
    op.create_table(
        "sellout_rejections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('invalid', 'duplicate')", name=op.f("ck_sellout_rejections_kind")),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["sellout_uploads.id"], name=op.f("fk_sellout_rejections_upload_id_sellout_uploads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sellout_rejections")),
    )
    op.create_index("ix_sellout_rejections_upload_row", "sellout_rejections", ["upload_id", "row_number"], unique=False)
    op.create_table(
        "sellout_serial_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("holder_line_id", sa.Integer(), nullable=False),
        sa.Column("claimant_line_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("winner_line_id", sa.Integer(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("state IN ('open', 'resolved')", name=op.f("ck_sellout_serial_conflicts_state")),
        sa.ForeignKeyConstraint(
            ["claimant_line_id"],
            ["sellout_lines.id"],
            name=op.f("fk_sellout_serial_conflicts_claimant_line_id_sellout_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["holder_line_id"],
            ["sellout_lines.id"],
            name=op.f("fk_sellout_serial_conflicts_holder_line_id_sellout_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["winner_line_id"],
            ["sellout_lines.id"],
            name=op.f("fk_sellout_serial_conflicts_winner_line_id_sellout_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sellout_serial_conflicts")),
        sa.UniqueConstraint("claimant_line_id", name=op.f("uq_sellout_serial_conflicts_claimant_line_id")),
    )
    op.create_index(op.f("ix_sellout_serial_conflicts_serial"), "sellout_serial_conflicts", ["serial"], unique=False)


def downgrade() -> None:
    op.drop_table("sellout_serial_conflicts")
    op.drop_table("sellout_rejections")
    op.drop_table("sellout_lines")
    op.drop_table("sellout_uploads")
