"""Which sale a return line takes back.

A return (negative quantity) names the sale it undoes by the partner, the SKU and the serial when it
has one, else by the partner, the SKU and the invoice number (normalised). It takes back a whole sale
line: its quantity must be the sale's, negated, since the points ledger reverses what a source earned
as one amount. Each sale is returned once (a unique index over live lines, ``models``); the candidates
are the sales already booked and those staged earlier in the same upload, oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from channel.sellout.models import SelloutLine
from core.db import db

MatchKey = tuple[Any, ...]


def match_key(line: dict[str, Any]) -> MatchKey:
    if line["serial"] is not None:
        return ("serial", line["partner_id"], line["product_id"], line["serial"])
    return ("invoice", line["partner_id"], line["product_id"], line["invoice_key"])


def _sales(key: MatchKey, upload_id: int) -> list[tuple[int, int]]:
    """Sales under this key, booked (live) or staged earlier in this upload, that no live return took back
    yet: (id, quantity), oldest first. Asking the database keeps no map of the file's sales in memory."""
    sale, taken = SelloutLine, aliased(SelloutLine)
    match = sale.serial == key[3] if key[0] == "serial" else sale.invoice_key == key[3]
    counted = sale.live.is_(True) | ((sale.upload_id == upload_id) & (sale.state == "staged"))
    statement = (
        select(sale.id, sale.quantity)
        .where(counted, sale.quantity > 0, sale.partner_id == key[1], sale.product_id == key[2], match)
        .where(~select(taken.id).where(taken.live.is_(True), taken.returns_line_id == sale.id).exists())
        .order_by(sale.id)
    )
    return [(line_id, quantity) for line_id, quantity in db.session.execute(statement)]


@dataclass
class ReturnMatcher:
    """The sales this file's returns took already (the database knows the rest)."""

    taken: set[int] = field(default_factory=set)

    def match(self, line: dict[str, Any], upload_id: int) -> int | str:
        """The id of the sale this return takes back, or why there is none."""
        key = match_key(line)
        candidates = [c for c in _sales(key, upload_id) if c[0] not in self.taken]
        for sale_id, quantity in candidates:
            if quantity == -line["quantity"]:
                self.taken.add(sale_id)
                return sale_id
        by = f"serial {key[3]}" if key[0] == "serial" else f"invoice {line['invoice_number']}"
        if candidates:
            sold = ", ".join(str(quantity) for _, quantity in candidates)
            returned = -line["quantity"]
            return f"a return takes back a whole sale line: the sales of this SKU with {by} sold {sold}, not {returned}"
        return (
            f"a return with no sale to match: partner {key[1]} has no booked sale of this SKU with {by} left to return"
        )
