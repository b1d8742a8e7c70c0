"""The offer a conversion names, kept per worker while no offer changed (core.config_cache).

Every conversion, from the API or the pixel, starts by finding its offer, and offers change rarely: a
commit that writes an ``Offer`` through the ORM bumps the config version, and the next lookup loads it
afresh. What the cache hands out is a transient copy, in no session: read it, never change it or attach
it to a row (a row names its offer by ``offer_id``).
"""

from __future__ import annotations

from sqlalchemy import select

from core.config_cache import VersionedCache, watch
from core.db import db
from tracker.program.models import Offer

watch(Offer)
_offers: VersionedCache[Offer | None] = VersionedCache("offers")
_COLUMNS = tuple(Offer.__table__.columns)


def offer_for_conversion(reference: int | str) -> Offer | None:
    """The offer by id (an int) or slug (a str), or None."""
    return _offers.get(("id" if isinstance(reference, int) else "slug", reference), lambda: _load(reference))


def _load(reference: int | str) -> Offer | None:
    column = Offer.id if isinstance(reference, int) else Offer.slug
    row = db.session.execute(select(*_COLUMNS).where(column == reference)).mappings().first()
    # A copy built from the row, not the session's instance: a test or a request holding that instance
    # keeps it, and the copy never takes part in a flush.
    return None if row is None else Offer(**row)
