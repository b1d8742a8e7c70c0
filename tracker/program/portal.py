"""What the advertiser's portal pages share: the signed-in advertiser's reach, and the API's messages on a form.

A signed-in advertiser sees exactly what its advertiser key would: the pages ask the same scopes
(tracker.program.scopes) with a Principal built from the person, so an offer or conversion of another
advertiser is as unknown to a page (404) as it is to the API.
"""

from __future__ import annotations

from flask import abort
from pydantic import ValidationError

from core.api.auth import Principal
from core.db import db
from core.people.access import current_person
from core.people.models import Person
from tracker.program.models import Offer
from tracker.program.scopes import offers_visible_to

# No key signs a page's change; key_id 0 matches no key row.
NO_KEY = 0


def signed_in() -> Person:
    person = current_person()
    if person is None:  # require_person runs first; this keeps mypy and a misuse honest
        abort(401)
    return person


def advertiser_principal() -> Principal:
    person = signed_in()
    return Principal(NO_KEY, person.role, person.advertiser_id, person.partner_id)


def person_actor() -> str:
    """How a change made on a page is signed in the records it leaves (status history, plan, banners)."""
    person = signed_in()
    return f"person #{person.id} {person.email}"[:64]


def own_offer(offer_id: int) -> Offer:
    offer = db.session.scalar(offers_visible_to(advertiser_principal()).where(Offer.id == offer_id))
    if offer is None:
        abort(404)
    return offer


def own_offers() -> list[Offer]:
    return list(db.session.scalars(offers_visible_to(advertiser_principal()).order_by(Offer.name, Offer.id)))


def field_errors(error: ValidationError) -> dict[str, list[str]]:
    """The API's validation messages by field, for showing next to a form's fields; "" for the whole form."""
    found: dict[str, list[str]] = {}
    for problem in error.errors():
        location = problem.get("loc") or ("",)
        message = problem["msg"].removeprefix("Value error, ")
        found.setdefault(str(location[0]), []).append(message)
    return found


def all_messages(error: ValidationError) -> str:
    """The API's validation messages as one line, for a form with one field."""
    return "; ".join(message for messages in field_errors(error).values() for message in messages)


def show_errors(form: object, errors: dict[str, list[str]]) -> list[str]:
    """Put each message on its form field; the messages no field takes are returned for the form's top."""
    left: list[str] = []
    for name, messages in errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + messages
        else:
            left += messages
    return left
