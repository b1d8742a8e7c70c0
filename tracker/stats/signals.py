"""What the partner's dashboard asks of other features, for figures tracking does not own.

``earnings_requested`` is sent with the partner's id and keyword ``since`` (an aware datetime); each
receiver returns ``{status: {currency: amount_minor}}`` for the commissions the partner accrued since then
(the ledger answers with pending, approved and paid). No receiver, no earnings on the dashboard.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()
earnings_requested = _signals.signal("dashboard-earnings-requested")
