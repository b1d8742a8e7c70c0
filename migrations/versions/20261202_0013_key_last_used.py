"""When each API key was last used, for the admins' key list.

Revision ID: 0013_key_last_used
Revises: 0012_people
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_key_last_used"
down_revision = "0012_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("last_used_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("last_used_at")
