"""What attribution announces, for other features to act on without tracker knowing them.

Receivers run synchronously inside the sender's transaction: whatever they add to the session commits
with the conversion, and an exception in a receiver rolls the conversion back with it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the new Conversion, flushed (it has its id), not yet committed.
conversion_recorded = _signals.signal("conversion-recorded")
# sender: the Conversion after its status changed; keyword ``status``: the new status.
conversion_status_changed = _signals.signal("conversion-status-changed")
