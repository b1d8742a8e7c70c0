"""Offers: drop the server defaults 0002 used to fill existing rows, as the models declare none.

0002 added custom_events, conflict_rule, pixel_requires_approval and deal_registration_days as NOT NULL
columns with server defaults so that offers already stored got a value. The models set these values in
Python and declare no server default, so a database built by the migrations differed from one built from
the models; an INSERT that left them out succeeded on one and failed on the other.

Revision ID: 0007_offer_server_defaults
Revises: 0006_tax_regime_edits
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from migrations.sqlite_rebuilds import sqlite_foreign_keys_off

revision = "0007_offer_server_defaults"
down_revision = "0006_tax_regime_edits"
branch_labels = None
depends_on = None

DEFAULTS = (
    ("custom_events", sa.JSON(), "[]"),
    ("conflict_rule", sa.String(length=16), "token_wins"),
    ("pixel_requires_approval", sa.Boolean(), sa.false()),
    ("deal_registration_days", sa.Integer(), "180"),
)


def _set_defaults(to_default: bool) -> None:
    with sqlite_foreign_keys_off(), op.batch_alter_table("offers", schema=None) as batch_op:
        for column, type_, default in DEFAULTS:
            batch_op.alter_column(
                column, existing_type=type_, existing_nullable=False, server_default=default if to_default else None
            )


def upgrade() -> None:
    _set_defaults(False)


def downgrade() -> None:
    _set_defaults(True)
