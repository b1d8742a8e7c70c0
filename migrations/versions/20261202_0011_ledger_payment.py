"""Ledger: a payout pays a line with one 'paid' row, settling nothing, instead of one 'paid' row per item.

Marking a batch of a million commissions paid appended a million rows; a row per payout line appends ten
thousand. A line payment names its line (payout_line_id: a foreign key, unique, the lookup behind "is this
item paid") and its batch (now a foreign key too) and settles no item. The per-item 'paid' rows already
stored stay as they are and still count: the application reads both forms, so no ledger row is rewritten
on upgrade. Downgrading turns each line payment back into per-item rows, the only form the earlier code
reads. SQLite rebuilds ledger_entries for the new checks, with foreign keys off while it does.

Revision ID: 0011_ledger_payment
Revises: 0010_click_prefetch
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from migrations.sqlite_rebuilds import sqlite_foreign_keys_off

revision = "0011_ledger_payment"
down_revision = "0010_click_prefetch"
branch_labels = None
depends_on = None

OLD_SETTLES = "(kind IN ('accrued', 'adjusted')) = (settles_id IS NULL)"
NEW_SETTLES = "(kind IN ('accrued', 'adjusted')) = (settles_id IS NULL) OR kind = 'paid'"
PAYMENT_BATCH = "kind <> 'paid' OR payout_batch_id IS NOT NULL"
LINE_PAYMENT = "(payout_line_id IS NOT NULL) = (kind = 'paid' AND settles_id IS NULL)"
BATCH_FK = "fk_ledger_entries_payout_batch_id_payout_batches"
LINE_FK = "fk_ledger_entries_payout_line_id_payout_lines"


def upgrade() -> None:
    with sqlite_foreign_keys_off(), op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payout_line_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint(op.f("ck_ledger_entries_settles"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_entries_settles"), NEW_SETTLES)
        batch_op.create_check_constraint(op.f("ck_ledger_entries_payment_batch"), PAYMENT_BATCH)
        batch_op.create_check_constraint(op.f("ck_ledger_entries_line_payment"), LINE_PAYMENT)
        batch_op.create_foreign_key(op.f(BATCH_FK), "payout_batches", ["payout_batch_id"], ["id"])
        batch_op.create_foreign_key(op.f(LINE_FK), "payout_lines", ["payout_line_id"], ["id"])
        batch_op.create_unique_constraint("uq_ledger_entries_payout_line", ["payout_line_id"])


def _line_payments_to_item_payments() -> None:
    # Each item of a paid line gets the 'paid' row the earlier code wrote for it: same batch, actor,
    # reason and time as the line's payment; then the line payments go.
    op.execute("""
        INSERT INTO ledger_entries (partner_id, offer_id, conversion_id, kind, settles_id, amount_minor, currency,
                                    payout_batch_id, actor, reason, created_at)
        SELECT item.partner_id, item.offer_id, item.conversion_id, 'paid', item.id, item.amount_minor,
               item.currency, payment.payout_batch_id, payment.actor, payment.reason, payment.created_at
        FROM ledger_entries payment
        JOIN payout_items ON payout_items.line_id = payment.payout_line_id
        JOIN ledger_entries item ON item.id = payout_items.ledger_entry_id
        ORDER BY item.id""")
    op.execute("DELETE FROM ledger_entries WHERE payout_line_id IS NOT NULL")


def downgrade() -> None:
    _line_payments_to_item_payments()
    with sqlite_foreign_keys_off(), op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_ledger_entries_payout_line", type_="unique")
        batch_op.drop_constraint(op.f(LINE_FK), type_="foreignkey")
        batch_op.drop_constraint(op.f(BATCH_FK), type_="foreignkey")
        batch_op.drop_constraint(op.f("ck_ledger_entries_line_payment"), type_="check")
        batch_op.drop_constraint(op.f("ck_ledger_entries_payment_batch"), type_="check")
        batch_op.drop_constraint(op.f("ck_ledger_entries_settles"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_entries_settles"), OLD_SETTLES)
        batch_op.drop_column("payout_line_id")
