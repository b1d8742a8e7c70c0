"""The program's kinds and statuses in the reader's language, for the portal's pages and forms."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

PARTNER_KIND_NAMES = {
    "affiliate": _l("Affiliate"),
    "reseller": _l("Reseller"),
    "distributor": _l("Distributor"),
    "agency": _l("Agency"),
    "cpa": _l("CPA network"),
    "cross_marketing": _l("Cross-marketing"),
}
PARTNER_STATUS_NAMES = {"active": _l("active"), "pending": _l("pending"), "suspended": _l("suspended")}
OFFER_STATUS_NAMES = {"active": _l("active"), "paused": _l("paused")}


def choices(names: dict[str, LazyString]) -> list[SelectChoice]:
    """A select's options: each value with its name in the reader's language."""
    return [SelectChoice(value, name) for value, name in names.items()]
