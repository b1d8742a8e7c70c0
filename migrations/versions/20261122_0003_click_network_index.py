"""Index clicks by offer, network and time for the burst check on conversions.

Revision ID: 0003_click_network_index
Revises: 0002_conversions
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003_click_network_index"
down_revision = "0002_conversions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_clicks_offer_network", "clicks", ["offer_id", "ip_prefix", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_clicks_offer_network", table_name="clicks")
