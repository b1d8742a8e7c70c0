"""Clicks: when a prefetch was confirmed as the person's visit (prefetch_confirmed_at).

A confirmed prefetch becomes a "human" click; the check keeps the column to those. Every existing row has
NULL, so on PostgreSQL the check is added NOT VALID and validated afterwards: validating takes a lock that
lets the click writers go on inserting, where a plain ADD CONSTRAINT would hold them for the whole scan.

Revision ID: 0010_click_prefetch
Revises: 0009_batch_lifecycle
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from migrations.sqlite_rebuilds import sqlite_foreign_keys_off

revision = "0010_click_prefetch"
down_revision = "0009_batch_lifecycle"
branch_labels = None
depends_on = None

CONSTRAINT = "ck_clicks_prefetch_confirmed"
CHECK = "prefetch_confirmed_at IS NULL OR traffic = 'human'"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("clicks", sa.Column("prefetch_confirmed_at", sa.DateTime(), nullable=True))
        op.execute(f"ALTER TABLE clicks ADD CONSTRAINT {CONSTRAINT} CHECK ({CHECK}) NOT VALID")
        op.execute(f"ALTER TABLE clicks VALIDATE CONSTRAINT {CONSTRAINT}")
        return
    with sqlite_foreign_keys_off(), op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prefetch_confirmed_at", sa.DateTime(), nullable=True))
        batch_op.create_check_constraint(op.f(CONSTRAINT), CHECK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f(CONSTRAINT), "clicks", type_="check")
        op.drop_column("clicks", "prefetch_confirmed_at")
        return
    with sqlite_foreign_keys_off(), op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch_op.drop_column("prefetch_confirmed_at")
