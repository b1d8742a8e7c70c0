"""A partner's payout statement for one batch, and its self-billed invoice variant, as printable HTML.

The statement lists what the line pays, item by item from the batch's payout items: each commission
(conversion event, order id, date, order amount, commission), each clawback of an earlier paid
commission, each adjustment with its reason; then the tax engine's gross, withheld, VAT and net. The
items sum to the line's owed amount, the figures are the line's own, so the statement agrees with every
other export to the cent.

A self-billed invoice (the program issues the partner's invoice) is only lawful under a prior agreement
(see the EU regimes' notes), so it is refused unless the partner's tax profile records
``self_billing_agreement``; it then carries the partner's VAT number and says "Self-billed invoice".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import aliased

from core.db import db
from core.money import format_money
from payouts.batches.models import PayoutBatch, PayoutItem, PayoutLine
from payouts.ledger.models import LedgerEntry
from payouts.tax.models import TaxProfile
from tracker.attribution.models import Conversion
from tracker.program.models import Partner


class StatementRefused(ValueError):
    """The document cannot be issued; the message says why."""


@dataclass
class Item:
    kind: str  # commission, clawback, adjustment
    on: date
    amount_minor: int  # what this item adds to the line (negative for a clawback), in the batch currency
    event: str = ""
    order_id: str = ""
    order_amount: str = ""  # the conversion's amount as shown, empty when it had none
    reason: str = ""


@dataclass
class Statement:
    batch: PayoutBatch
    line: PayoutLine
    partner: Partner
    profile: TaxProfile | None
    items: list[Item] = field(default_factory=list)
    self_billed: bool = False

    def of(self, kind: str) -> list[Item]:
        return [item for item in self.items if item.kind == kind]

    def shown(self, amount_minor: int) -> str:
        return format_money(amount_minor, self.batch.currency)

    @property
    def owed_minor(self) -> int:
        return sum(item.amount_minor for item in self.items)


def find_line(batch: PayoutBatch, partner_id: int) -> PayoutLine | None:
    return next((line for line in batch.lines if line.partner_id == partner_id), None)


def _order_amount(conversion: Conversion | None) -> str:
    # The amount_has_currency check sets both or neither.
    if conversion is None or conversion.amount_minor is None or conversion.currency is None:
        return ""
    return format_money(conversion.amount_minor, conversion.currency)


def _items(batch: PayoutBatch, line: PayoutLine) -> list[Item]:
    """The line's ledger items; a clawback finds its conversion through the accrual it settles."""
    accrual = aliased(LedgerEntry)
    rows = db.session.execute(
        select(LedgerEntry, Conversion)
        .join(PayoutItem, PayoutItem.ledger_entry_id == LedgerEntry.id)
        .outerjoin(accrual, accrual.id == LedgerEntry.settles_id)
        .outerjoin(Conversion, Conversion.id == db.func.coalesce(LedgerEntry.conversion_id, accrual.conversion_id))
        .where(PayoutItem.line_id == line.id)
        .order_by(LedgerEntry.created_at, LedgerEntry.id)
    ).all()
    items = []
    for entry, conversion in rows:
        kind = {"accrued": "commission", "clawed_back": "clawback"}.get(entry.kind, "adjustment")
        items.append(
            Item(
                kind=kind,
                on=(conversion.occurred_at if conversion else entry.created_at).date(),
                amount_minor=entry.amount_minor,
                event=conversion.event if conversion else "",
                order_id=conversion.order_id if conversion else "",
                order_amount=_order_amount(conversion),
                reason=entry.reason or "",
            )
        )
    return items


def build_statement(batch: PayoutBatch, partner_id: int, self_billed: bool = False) -> Statement:
    """The statement (or, with ``self_billed``, the invoice) of one partner's line; refused with a reason."""
    line = find_line(batch, partner_id)
    if line is None:
        raise LookupError(f"partner {partner_id} has no line in payout batch {batch.id}")
    if batch.state == "voided":  # its items were released: there is nothing the line pays to list
        raise StatementRefused(f"payout batch {batch.id} was voided; it pays nothing")
    profile = db.session.scalar(select(TaxProfile).where(TaxProfile.partner_id == partner_id))
    if self_billed:
        if profile is None or not profile.self_billing_agreement:
            raise StatementRefused(
                f"partner {partner_id} has no self-billing agreement on its tax profile; "
                "the partner must issue its own invoice"
            )
        if line.status != "payable":
            raise StatementRefused(f"partner {partner_id}'s line is held ({line.held_reason}); nothing to invoice")
    partner = db.session.get(Partner, partner_id)
    if partner is None:  # the line's foreign key keeps its partner
        raise LookupError(f"partner {partner_id} of payout batch {batch.id} not found")
    return Statement(
        batch=batch,
        line=line,
        partner=partner,
        profile=profile,
        items=_items(batch, line),
        self_billed=self_billed,
    )


def render_statement(statement: Statement) -> str:
    return render_template("payout_statement.html", s=statement)
