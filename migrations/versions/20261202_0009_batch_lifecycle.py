"""Payout batch lifecycle: voided drafts, rebuilt drafts and the payment files kept as first exported.

payout_batches gains the 'voided' state (voided_at, voided_by, void_reason; voided_at set exactly when
voided), rebuilt_from_id and rebuild_changes for a draft rebuilt from a voided one; payout_exports keeps
the exact bytes of each batch's first CSV, XLSX or SEPA export. SQLite rebuilds payout_batches to change
its CHECK constraints, with foreign keys off while it does (payout_lines and payout_items point at it).

Revision ID: 0009_batch_lifecycle
Revises: 0008_offer_conversion_trust
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from migrations.sqlite_rebuilds import sqlite_foreign_keys_off

revision = "0009_batch_lifecycle"
down_revision = "0008_offer_conversion_trust"
branch_labels = None
depends_on = None

STATES_BEFORE = "state IN ('draft', 'approved', 'exported', 'paid')"
STATES = "state IN ('draft', 'approved', 'exported', 'paid', 'voided')"
VOIDED = "(state = 'voided') = (voided_at IS NOT NULL)"


def upgrade() -> None:
    with sqlite_foreign_keys_off(), op.batch_alter_table("payout_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("voided_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("void_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("rebuilt_from_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rebuild_changes", sa.JSON(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_payout_batches_rebuilt_from_id_payout_batches"), "payout_batches", ["rebuilt_from_id"], ["id"]
        )
        batch_op.drop_constraint(op.f("ck_payout_batches_state"), type_="check")
        batch_op.create_check_constraint(op.f("ck_payout_batches_state"), STATES)
        batch_op.create_check_constraint(op.f("ck_payout_batches_voided"), VOIDED)
    op.create_table(
        "payout_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("left_out", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("format IN ('csv', 'xlsx', 'sepa')", name=op.f("ck_payout_exports_format")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["payout_batches.id"], name=op.f("fk_payout_exports_batch_id_payout_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_exports")),
        sa.UniqueConstraint("batch_id", "format", name="uq_payout_exports_batch_format"),
    )


def downgrade() -> None:
    op.drop_table("payout_exports")
    # Voided drafts have no state to go back to; their lines stay, their claims were already released.
    op.execute("UPDATE payout_batches SET rebuilt_from_id = NULL")
    op.execute("DELETE FROM payout_lines WHERE batch_id IN (SELECT id FROM payout_batches WHERE state = 'voided')")
    op.execute("DELETE FROM payout_batches WHERE state = 'voided'")
    with sqlite_foreign_keys_off(), op.batch_alter_table("payout_batches", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payout_batches_voided"), type_="check")
        batch_op.drop_constraint(op.f("ck_payout_batches_state"), type_="check")
        batch_op.create_check_constraint(op.f("ck_payout_batches_state"), STATES_BEFORE)
        batch_op.drop_constraint(op.f("fk_payout_batches_rebuilt_from_id_payout_batches"), type_="foreignkey")
        for column in ("rebuild_changes", "rebuilt_from_id", "void_reason", "voided_by", "voided_at"):
            batch_op.drop_column(column)
