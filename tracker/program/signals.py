"""What the program announces, for other features to add their part without tracker knowing them.

``demo_created`` is sent by ``flask --app app demo`` with the demo offer, keyword ``partners`` (the demo
partners), inside the demo's transaction before it commits: payouts adds the commission plan and the
partners' tax profiles there, so the demo shows the whole flow down to a payout file.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()
demo_created = _signals.signal("demo-created")
