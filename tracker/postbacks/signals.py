"""What a postback asks of other features while it is rendered.

``macros_requested`` is sent with the Conversion being reported, inside its transaction; each receiver
returns a dict of extra macro values (the ledger answers ``commission``). Later keys win.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()
macros_requested = _signals.signal("postback-macros-requested")
