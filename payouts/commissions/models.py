"""Each offer's commission plan as the admin wrote it; ``payouts.commissions.rules`` reads it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.config_cache import watch
from core.db import Model, UtcDateTime, utcnow


class CommissionPlan(Model):
    """An offer's plan as the admin wrote it (checked by ``parse_plan`` before it is stored).

    Changing a plan never touches commissions already accrued: each accrual keeps the rule it was
    priced with, in words, in its ``reason``.
    """

    __tablename__ = "commission_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), unique=True)
    plan: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))


# The ledger keeps parsed plans per process (payouts.ledger.entries.plan_for); a saved plan invalidates them.
watch(CommissionPlan)
