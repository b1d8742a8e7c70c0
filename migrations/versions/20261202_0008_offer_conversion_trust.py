"""Offers: which conversion sources are trusted, signed pixels with a per-offer secret, an amount ceiling.

trusted_channels starts as ["api"] for every offer, so pending pixel conversions already stored wait for
the advertiser's approval before their commissions can be approved. Each existing offer gets its own
random pixel secret. The server defaults only fill existing rows and are dropped again: the models set
these values in Python (see 0007).

Revision ID: 0008_offer_conversion_trust
Revises: 0007_offer_server_defaults
Create Date: 2026-12-02
"""

import secrets

import sqlalchemy as sa
from alembic import op

from migrations.sqlite_rebuilds import sqlite_foreign_keys_off

revision = "0008_offer_conversion_trust"
down_revision = "0007_offer_server_defaults"
branch_labels = None
depends_on = None

CEILING_CHECK = (
    "(review_above_minor IS NULL) = (review_above_currency IS NULL)"
    " AND (review_above_minor IS NULL OR review_above_minor >= 0)"
)
FILLED = (
    ("trusted_channels", sa.JSON(), '["api"]'),
    ("pixel_signing", sa.Boolean(), sa.false()),
    ("pixel_secret", sa.String(length=64), ""),
)


def _give_each_offer_a_secret() -> None:
    bind = op.get_bind()
    offers = sa.table("offers", sa.column("id", sa.Integer()), sa.column("pixel_secret", sa.String()))
    for (offer_id,) in bind.execute(sa.select(offers.c.id)).all():
        bind.execute(offers.update().where(offers.c.id == offer_id).values(pixel_secret=secrets.token_hex(32)))


def upgrade() -> None:
    with sqlite_foreign_keys_off():
        with op.batch_alter_table("offers", schema=None) as batch_op:
            for column, type_, default in FILLED:
                batch_op.add_column(sa.Column(column, type_, nullable=False, server_default=default))
            batch_op.add_column(sa.Column("review_above_minor", sa.BigInteger(), nullable=True))
            batch_op.add_column(sa.Column("review_above_currency", sa.String(length=3), nullable=True))
            batch_op.create_check_constraint(op.f("ck_offers_review_above"), CEILING_CHECK)
        _give_each_offer_a_secret()
        with op.batch_alter_table("offers", schema=None) as batch_op:
            for column, type_, _ in FILLED:
                batch_op.alter_column(column, existing_type=type_, existing_nullable=False, server_default=None)


def downgrade() -> None:
    with sqlite_foreign_keys_off(), op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_offers_review_above"), type_="check")
        for column in (
            "review_above_currency",
            "review_above_minor",
            "pixel_secret",
            "pixel_signing",
            "trusted_channels",
        ):
            batch_op.drop_column(column)
