"""What the partner's portal pages share: the signed-in partner seen as the API sees a partner key.

The pages call the API's own functions (scopes, link creation, postbacks, banners); giving them the same
``Principal`` a partner key has keeps one rule for what a partner may see and do, whichever door it uses.
"""

from __future__ import annotations

from pydantic import ValidationError

from core.api.auth import Principal
from core.people.sessions import current_person

# No API key stands behind a page request; nothing that reads a principal's key_id runs for a partner.
NO_KEY = 0


def partner_principal() -> Principal:
    """The signed-in partner person as a partner key; views call it behind require_person("partner")."""
    person = current_person()
    if person is None or person.role != "partner" or person.partner_id is None:
        raise LookupError("a partner page was reached without a signed-in partner")
    return Principal(key_id=NO_KEY, role="partner", advertiser_id=None, partner_id=person.partner_id)


def field_errors(error: ValidationError) -> dict[str, str]:
    """The API schema's message for each field it refused, as the API would answer (pydantic's prefix removed)."""
    found: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        found.setdefault(name, str(item["msg"]).removeprefix("Value error, "))
    return found
