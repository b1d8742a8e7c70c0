"""An application to join the program, as the applicant sent it, and the admin's decision on it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Model, UtcDateTime, check_in, utcnow
from tracker.program.models import PARTNER_KINDS

APPLICATION_STATUSES = ("pending", "approved", "rejected")
# Each field's size, shared by the form, the table and the migration.
COMPANY_MAX = 200
CONTACT_NAME_MAX = 200
EMAIL_MAX = 254
TAX_ID_MAX = 32
WEBSITE_MAX = 2048
PROMOTION_MAX = 2000
REASON_MAX = 1000
DECISION_CHECK = (
    "(status = 'pending') = (decided_at IS NULL)"
    " AND (status = 'approved') = (partner_id IS NOT NULL)"
    " AND (status = 'rejected') = (reason IS NOT NULL)"
)


class PartnerApplication(Model):
    __tablename__ = "partner_applications"
    __table_args__ = (
        CheckConstraint(check_in("status", APPLICATION_STATUSES), name="status"),
        CheckConstraint(check_in("kind", PARTNER_KINDS), name="kind"),
        CheckConstraint(DECISION_CHECK, name="decision"),
        # The admins' list: pending ones first, newest first within each status.
        Index("ix_partner_applications_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company: Mapped[str] = mapped_column(String(COMPANY_MAX))
    contact_name: Mapped[str] = mapped_column(String(CONTACT_NAME_MAX))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    kind: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))
    # Compacted; checked with python-stdnum where it knows the country's numbers (tracker/applications/tax_ids.py).
    tax_id: Mapped[str] = mapped_column(String(TAX_ID_MAX))
    website: Mapped[str] = mapped_column(String(WEBSITE_MAX))
    promotion: Mapped[str] = mapped_column(Text)
    locale: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
