"""A partner's tax profile: who the payee is for tax, the regime that prices its payouts, where to pay.

One row per partner. Every field is checked and normalised by ``payouts.tax.profiles`` before it is
written; the constraints here only keep the enums and the VAT pairing honest if something else writes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Model, UtcDateTime, check_in, utcnow
from tracker.program.models import Partner

PROFILE_KINDS = ("individual", "self_employed", "sole_proprietor", "company")
PAYS = ("gross", "net")  # gross: the commission is the gross; net: the program grosses up to it
FORM_NAMES = ("W-9", "W-8BEN", "W-8BEN-E")


class TaxProfile(Model):
    __tablename__ = "tax_profiles"
    __table_args__ = (
        CheckConstraint(check_in("kind", PROFILE_KINDS), name="kind"),
        CheckConstraint(check_in("pays", PAYS), name="pays"),
        CheckConstraint("length(country) = 2", name="country"),
        CheckConstraint("(vat_registered) = (vat_number IS NOT NULL)", name="vat_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Unique: two finance users creating a profile at once must not leave two that disagree.
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166 alpha-2, upper case
    tax_resident: Mapped[bool] = mapped_column(Boolean)  # resident for tax in ``country``
    tax_id: Mapped[str | None] = mapped_column(String(32))  # compact: INN, EU VAT number, US TIN
    vat_registered: Mapped[bool] = mapped_column(Boolean, default=False)
    vat_number: Mapped[str | None] = mapped_column(String(32))
    regime_code: Mapped[str] = mapped_column(String(64))  # a code in payouts/tax/engine/tax_regimes.json
    pays: Mapped[str] = mapped_column(String(5), default="gross")
    # The engine's profile inputs (vat_country, services_abroad, treaty_rate, ...): rates and amounts
    # as decimal strings, flags as JSON booleans, exactly as payouts.tax.engine.quote.quote() reads them.
    regime_inputs: Mapped[dict] = mapped_column(JSON, default=dict)
    iban: Mapped[str | None] = mapped_column(String(34))  # compact, checked with stdnum.iban
    bic: Mapped[str | None] = mapped_column(String(11))
    account_holder: Mapped[str | None] = mapped_column(String(200))
    # [{"form": "W-8BEN", "signed_on": "2026-01-15", "expires_on": "2029-12-31"}], oldest first.
    forms: Mapped[list] = mapped_column(JSON, default=list)
    self_billing_agreement: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    # The API key that last wrote the profile; kept because tax and bank details are audited.
    updated_by_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))

    partner: Mapped[Partner] = relationship()


TAX_FORM_KINDS = ("w8ben", "w8bene", "w9")


class TaxFormFile(Model):
    """A W-8BEN, W-8BEN-E or W-9 PDF a partner uploaded, kept as evidence until finance records it on the profile.

    The file lives at ``<instance path>/tax_forms/<partner_id>/<id>.pdf`` (payouts.tax.form_files); the row
    keeps its digest so a file changed on disk can be told apart from the one the partner sent.
    """

    __tablename__ = "partner_tax_forms"
    __table_args__ = (
        CheckConstraint(check_in("kind", TAX_FORM_KINDS), name="kind"),
        CheckConstraint("size_bytes > 0", name="size"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    file_name: Mapped[str] = mapped_column(String(255))  # as the partner named it, for the download
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    uploaded_by_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
