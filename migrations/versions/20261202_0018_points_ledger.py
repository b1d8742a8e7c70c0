"""Bonus points: the append-only points ledger per partner, spend allocations and the bonus fund.

The fund row also holds the program's point settings (return window, expiry, notice days).

Revision ID: 0018_points_ledger
Revises: 0017_channel_catalog
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_points_ledger"
down_revision = "0017_channel_catalog"
branch_labels = None
depends_on = None

ENTRY_KINDS = "('accrued', 'released', 'reversed', 'expired', 'spent', 'adjusted', 'transfer_out', 'transfer_in')"
ENTRY_CHECKS = {
    "kind": f"kind IN {ENTRY_KINDS}",
    "person_kinds": "person_id IS NULL OR kind IN ('transfer_in', 'spent', 'expired')",
    "transfer_person": "kind <> 'transfer_in' OR person_id IS NOT NULL",
    "settles": "(settles_id IS NOT NULL) = (kind IN ('released', 'reversed', 'expired'))",
    "source": "(source_id IS NOT NULL) = (kind IN ('accrued', 'reversed'))"
    " AND (source_kind IS NULL) = (source_id IS NULL)",
    "accrual": "kind <> 'accrued' OR (points > 0 AND release_after IS NOT NULL)",
    "expiry": "(expires_at IS NOT NULL) = (kind IN ('accrued', 'transfer_in') OR (kind = 'adjusted' AND points > 0))",
    "release_points": "kind <> 'released' OR points = 0",
    "reversal_sign": "kind <> 'reversed' OR points <= 0",
    "debit_sign": "kind NOT IN ('expired', 'spent', 'transfer_out') OR points < 0",
    "transfer_sign": "kind <> 'transfer_in' OR points > 0",
    "adjustment": "kind <> 'adjusted' OR (points <> 0 AND length(trim(reason)) > 0)",
}


def _funds() -> None:
    op.create_table(
        "points_funds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("budget_points", sa.BigInteger(), nullable=False),
        sa.Column("point_value_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("return_window_days", sa.Integer(), nullable=False),
        sa.Column("expiry_months", sa.Integer(), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("budget_points > 0", name=op.f("ck_points_funds_budget")),
        sa.CheckConstraint("point_value_minor >= 0", name=op.f("ck_points_funds_point_value")),
        sa.CheckConstraint(
            "return_window_days >= 0 AND expiry_months > 0 AND notice_days >= 0", name=op.f("ck_points_funds_settings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_funds")),
    )
    op.create_index(
        "uq_points_funds_active",
        "points_funds",
        ["active"],
        unique=True,
        postgresql_where=sa.text("active"),
        sqlite_where=sa.text("active"),
    )


def _entries() -> None:
    op.create_table(
        "points_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("source_kind", sa.String(length=32), nullable=True),
        sa.Column("source_id", sa.BigInteger(), nullable=True),
        sa.Column("settles_id", sa.Integer(), nullable=True),
        sa.Column("release_after", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *(sa.CheckConstraint(sql, name=op.f(f"ck_points_entries_{name}")) for name, sql in ENTRY_CHECKS.items()),
        sa.ForeignKeyConstraint(["fund_id"], ["points_funds.id"], name=op.f("fk_points_entries_fund_id_points_funds")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_points_entries_partner_id_partners")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_points_entries_person_id_people")),
        sa.ForeignKeyConstraint(
            ["settles_id"], ["points_entries.id"], name=op.f("fk_points_entries_settles_id_points_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_entries")),
        sa.UniqueConstraint("source_kind", "source_id", "kind", name="uq_points_entries_source"),
        sa.UniqueConstraint("settles_id", "kind", name="uq_points_entries_settlement"),
    )
    for name, columns in (
        ("ix_points_entries_partner_person", ["partner_id", "person_id", "kind"]),
        ("ix_points_entries_kind_release_after", ["kind", "release_after"]),
        ("ix_points_entries_expires_at", ["expires_at"]),
        ("ix_points_entries_fund_kind", ["fund_id", "kind"]),
    ):
        op.create_index(name, "points_entries", columns, unique=False)


def _allocations() -> None:
    op.create_table(
        "points_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("points > 0", name=op.f("ck_points_allocations_points")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["points_entries.id"], name=op.f("fk_points_allocations_entry_id_points_entries")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["points_entries.id"], name=op.f("fk_points_allocations_lot_id_points_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_allocations")),
        sa.UniqueConstraint("entry_id", "lot_id", name="uq_points_allocations_entry_lot"),
    )
    op.create_index(op.f("ix_points_allocations_lot_id"), "points_allocations", ["lot_id"], unique=False)


def upgrade() -> None:
    _funds()
    _entries()
    _allocations()


def downgrade() -> None:
    op.drop_index(op.f("ix_points_allocations_lot_id"), table_name="points_allocations")
    op.drop_table("points_allocations")
    for name in (
        "ix_points_entries_fund_kind",
        "ix_points_entries_expires_at",
        "ix_points_entries_kind_release_after",
        "ix_points_entries_partner_person",
    ):
        op.drop_index(name, table_name="points_entries")
    op.drop_table("points_entries")
    op.drop_index("uq_points_funds_active", table_name="points_funds")
    op.drop_table("points_funds")
