"""People who sign in to the portal, their server-side sessions and password resets.

Revision ID: 0012_people
Revises: 0011_ledger_payment
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_people"
down_revision = "0011_ledger_payment"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("advertiser_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("role IN ('admin', 'advertiser', 'finance', 'partner')", name=op.f("ck_people_role")),
        sa.CheckConstraint(
            "(role = 'advertiser') = (advertiser_id IS NOT NULL) AND (role = 'partner') = (partner_id IS NOT NULL)",
            name=op.f("ck_people_organisation"),
        ),
        sa.CheckConstraint("locale IS NULL OR locale IN ('en', 'ru')", name=op.f("ck_people_locale")),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_people_email_lower_case")),
        sa.CheckConstraint("failed_logins >= 0", name=op.f("ck_people_failed_logins")),
        sa.ForeignKeyConstraint(
            ["advertiser_id"], ["advertisers.id"], name=op.f("fk_people_advertiser_id_advertisers")
        ),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_people_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("email", name=op.f("uq_people_email")),
    )
    op.create_index(op.f("ix_people_advertiser_id"), "people", ["advertiser_id"], unique=False)
    op.create_index(op.f("ix_people_partner_id"), "people", ["partner_id"], unique=False)
    op.create_table(
        "person_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("ip_prefix", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_person_sessions_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_person_sessions_token_hash")),
    )
    op.create_index(op.f("ix_person_sessions_person_id"), "person_sessions", ["person_id"], unique=False)
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_password_resets_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    op.create_index(op.f("ix_password_resets_person_id"), "password_resets", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_password_resets_person_id"), table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_index(op.f("ix_person_sessions_person_id"), table_name="person_sessions")
    op.drop_table("person_sessions")
    op.drop_index(op.f("ix_people_partner_id"), table_name="people")
    op.drop_index(op.f("ix_people_advertiser_id"), table_name="people")
    op.drop_table("people")
