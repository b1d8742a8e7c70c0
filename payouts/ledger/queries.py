"""Reading the ledger: each commission's status and every balance, derived in SQL from the rows alone.

An item's status is the strongest step that settles it, so a race that leaves two steps on one accrual
(an approval run that read a conversion just before it was rejected) still reads right:
reversed > clawed back > paid > approved > pending for an accrual; paid > approved for an adjustment;
paid (netted) > outstanding for a clawback. Paid is read through the item's payout batch
(``payouts.ledger.payments``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import aliased

from core.db import db
from payouts.ledger.models import LedgerEntry
from payouts.ledger.payments import is_paid
from tracker.attribution.models import Conversion

COMMISSION_STATUSES = ("pending", "approved", "reversed", "paid", "clawed_back")


@dataclass(frozen=True)
class CommissionRow:
    id: int  # the accrual's ledger entry
    conversion_id: int
    offer_id: int
    partner_id: int
    role: str
    event: str
    amount_minor: int
    currency: str
    status: str
    conversion_status: str
    approve_after: datetime
    accrued_at: datetime
    rule: str


@dataclass(frozen=True)
class Balance:
    partner_id: int
    currency: str
    pending_minor: int  # accrued, still in the hold period or held for review
    approved_minor: int  # approved (and adjustments), not yet paid
    paid_minor: int  # paid out, net of clawbacks already recovered
    clawback_minor: int  # owed back after a reversal of paid commissions, not yet netted; 0 or negative

    @property
    def payable_minor(self) -> int:
        """What the next payout batch would pay: approved and unpaid, less outstanding clawbacks."""
        return self.approved_minor + self.clawback_minor


def _status():
    """The status of each row as an item, from the steps that settle it (see the module docstring)."""
    entry, step = LedgerEntry, aliased(LedgerEntry)

    def has(kind: str):
        # The unique (settles_id, kind) index answers each of these with one lookup.
        return exists().where(step.settles_id == entry.id, step.kind == kind)

    return case(
        (
            entry.kind == "accrued",
            case(
                (has("reversed"), "reversed"),
                (has("clawed_back"), "clawed_back"),
                (is_paid(entry), "paid"),
                (has("approved"), "approved"),
                else_="pending",
            ),
        ),
        (entry.kind.in_(("adjusted", "clawed_back")), case((is_paid(entry), "paid"), else_="open")),
        else_="step",
    )


def commission_rows(
    partner_id: int | None = None,
    *,
    status: str | None = None,
    offer_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[CommissionRow]:
    """Accrued commissions, newest first, each with its status derived from the ledger."""
    status_of = _status().label("status")
    rows = (
        select(LedgerEntry, Conversion.event, Conversion.status, status_of)
        .join(Conversion, Conversion.id == LedgerEntry.conversion_id)
        .where(LedgerEntry.kind == "accrued")
    )
    if partner_id is not None:
        rows = rows.where(LedgerEntry.partner_id == partner_id)
    if offer_id is not None:
        rows = rows.where(LedgerEntry.offer_id == offer_id)
    if status is not None:
        rows = rows.where(status_of == status)
    rows = rows.order_by(LedgerEntry.id.desc()).limit(limit).offset(offset)
    return [
        _row(entry, event, conversion_status, item_status)
        for entry, event, conversion_status, item_status in db.session.execute(rows)
    ]


def commission_totals(partner_id: int, *, status: str | None = None) -> dict[str, int]:
    """Per currency, the sum of the partner's accrued commissions that ``commission_rows`` lists for ``status``."""
    status_of = _status().label("status")
    amounts = (
        select(LedgerEntry.currency, LedgerEntry.amount_minor, status_of)
        .where(LedgerEntry.kind == "accrued", LedgerEntry.partner_id == partner_id)
        .subquery()
    )
    totals = select(amounts.c.currency, func.sum(amounts.c.amount_minor)).group_by(amounts.c.currency)
    if status is not None:
        totals = totals.where(amounts.c.status == status)
    return {currency: int(total) for currency, total in db.session.execute(totals.order_by(amounts.c.currency))}


def commission_totals_by_status(partner_id: int, since: datetime) -> dict[str, dict[str, int]]:
    """``{status: {currency: amount_minor}}`` of the partner's commissions accrued since ``since``."""
    amounts = (
        select(LedgerEntry.currency, LedgerEntry.amount_minor, _status().label("status"))
        .where(LedgerEntry.kind == "accrued", LedgerEntry.partner_id == partner_id, LedgerEntry.created_at >= since)
        .subquery()
    )
    totals = (
        select(amounts.c.status, amounts.c.currency, func.sum(amounts.c.amount_minor))
        .group_by(amounts.c.status, amounts.c.currency)
        .order_by(amounts.c.status, amounts.c.currency)
    )
    found: dict[str, dict[str, int]] = {}
    for status, currency, total in db.session.execute(totals):
        found.setdefault(status, {})[currency] = int(total)
    return found


def _row(entry: LedgerEntry, event: str, conversion_status: str, status: str) -> CommissionRow:
    # The accrual_fields check gives every accrual its conversion, role and hold; accrue() copies the
    # offer from the conversion, where it is required.
    conversion_id, offer_id, role, approve_after = entry.conversion_id, entry.offer_id, entry.role, entry.approve_after
    if conversion_id is None or offer_id is None or role is None or approve_after is None:
        raise ValueError(f"ledger entry {entry.id} is an accrual without its conversion, offer, role or hold")
    return CommissionRow(
        id=entry.id,
        conversion_id=conversion_id,
        offer_id=offer_id,
        partner_id=entry.partner_id,
        role=role,
        event=event,
        amount_minor=entry.amount_minor,
        currency=entry.currency,
        status=status,
        conversion_status=conversion_status,
        approve_after=approve_after,
        accrued_at=entry.created_at,
        rule=entry.reason,
    )


def balances(partner_id: int | None = None) -> list[Balance]:
    """Per partner and currency: pending, approved unpaid, paid and outstanding clawbacks."""
    status, kind, amount = _status(), LedgerEntry.kind, LedgerEntry.amount_minor

    def total(condition):
        return func.coalesce(func.sum(case((condition, amount), else_=0)), 0)

    statement = (
        select(
            LedgerEntry.partner_id,
            LedgerEntry.currency,
            total((kind == "accrued") & (status == "pending")),
            total(((kind == "accrued") & (status == "approved")) | ((kind == "adjusted") & (status == "open"))),
            total(kind == "paid"),
            total((kind == "clawed_back") & (status == "open")),
        )
        .group_by(LedgerEntry.partner_id, LedgerEntry.currency)
        .order_by(LedgerEntry.partner_id, LedgerEntry.currency)
    )
    if partner_id is not None:
        statement = statement.where(LedgerEntry.partner_id == partner_id)
    return [Balance(row[0], row[1], *(int(value) for value in row[2:])) for row in db.session.execute(statement)]
