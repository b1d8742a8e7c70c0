"""A prefetch confirmed by the person's own visit becomes their click.

A browser that prefetches a partner link follows the redirect ahead of the person; when the person then
clicks, the browser shows the page it fetched without asking ``/c/`` again, so the person carries the
prefetch's token. The prefetch is stored as ``prefetch`` and never counts by itself. The landing helper's
first request from the shown page (a prefetch runs no JavaScript, and the helper waits out a prerender),
or a conversion carrying the token, confirms it: the click becomes ``human``, with
``prefetch_confirmed_at`` keeping that it was a prefetch and when the visit was seen.

It keeps its ``created_at``: browsers drop an unused prefetch within minutes, so the visit happened within
minutes of the prefetch, however late it is confirmed, and the stats keep counting clicks by one time
column. Whether it is unique is decided at confirmation, under the click's own id, by the rule the writer
applies to every human click, so a later click of the same visitor sees it and a second confirmation
finds the same answer.

Only a prefetch is confirmable. A bot or a link preview (an unfurler) fetches the link for a machine and
never shows that page to the person; the person's own click on the previewed link is a click of its own.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from redis.exceptions import RedisError
from sqlalchemy import CursorResult, Row, update

from core.db import DbSession, db
from tracker.clicks.records import ClickRecord
from tracker.clicks.store import RedisUniqueness, SqlUniqueness, UniquenessPolicy
from tracker.program.models import Click
from tracker.services import tracker

log = logging.getLogger(__name__)
CONFIRMABLE = "prefetch"
# The helper's word counts this long after the prefetch; a visit shows within minutes of it, and a
# conversion, which checks the offer's click window itself, confirms later ones.
HELPER_CONFIRMS_WITHIN = timedelta(hours=24)
# A confirmation for a click still on the stream waits this long for the writer to store the click.
_NOTED_SECONDS = 3600


def confirm_prefetch(
    session: DbSession, record: ClickRecord, confirmed_at: datetime, uniqueness: UniquenessPolicy
) -> bool:
    """Make the stored prefetch ``record`` a human click; False when it was confirmed already. The caller commits."""
    visit = replace(record, traffic="human")
    try:
        unique = uniqueness.decide(session, [visit])[record.id]
    except RedisError as exc:
        log.warning("unique-click check in Redis failed (%s); deciding in SQL", exc)
        unique = SqlUniqueness().decide(session, [visit])[record.id]
    # Conditional on the stored class: of two confirmations at once, the second finds no prefetch left.
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Click)
            .where(Click.id == record.id, Click.traffic == CONFIRMABLE)
            .values(traffic="human", is_unique=unique, prefetch_confirmed_at=confirmed_at)
        ),
    )
    return result.rowcount == 1


def _record_of(click: Click | Row[Any]) -> ClickRecord:
    # The row keeps only today's visitor hash; yesterday's matters for a click just after midnight only.
    return ClickRecord(
        id=click.id,
        created_ms=round(click.created_at.timestamp() * 1000),
        link_id=click.link_id,
        offer_id=click.offer_id,
        partner_id=click.partner_id,
        traffic=click.traffic,
        device=click.device,
        os=click.os,
        browser=click.browser,
        visitor_hash=click.visitor_hash,
        visitor_hash_prev=click.visitor_hash,
    )


def _uniqueness() -> UniquenessPolicy:
    services = tracker()
    if services.redis is None:
        return SqlUniqueness()
    return RedisUniqueness(services.redis, services.settings.redis_prefix)


def confirm_visit(click: Click | Row[Any], confirmed_at: datetime) -> bool:
    """Confirm a stored prefetch in this request's session; False for any other click or a repeat."""
    if click.traffic != CONFIRMABLE:
        return False
    return confirm_prefetch(db.session, _record_of(click), confirmed_at, _uniqueness())


def _noted_key(prefix: str, click_id: int) -> str:
    return f"{prefix}confirm:{click_id}"


def note_visit(click_id: int, confirmed_at: datetime) -> bool:
    """Keep a confirmation for a click the stream writer has not stored yet; True once it is kept.

    The writer reads the notes after committing its batch, so a caller that looks for the row again after
    noting finds it or leaves a note the writer applies: the confirmation never falls between the two.
    """
    services = tracker()
    redis: Any = services.redis
    if redis is None:
        return False  # without the stream a click is stored before its redirect is answered
    key = _noted_key(services.settings.redis_prefix, click_id)
    try:
        redis.set(key, round(confirmed_at.timestamp() * 1000), nx=True, ex=_NOTED_SECONDS)
    except RedisError as exc:
        # The helper asks again while the answer is pending, and the request that finds the row confirms.
        log.warning("visit of click %d not noted: %s", click_id, exc)
        return False
    return True


def apply_noted_visits(
    session: DbSession, redis, prefix: str, stored: list[ClickRecord], uniqueness: UniquenessPolicy
) -> int:
    """Confirm the just-stored prefetches whose visit was noted before they were stored; the caller commits."""
    prefetches = [record for record in stored if record.traffic == CONFIRMABLE]
    if not prefetches:
        return 0
    noted = redis.mget([_noted_key(prefix, record.id) for record in prefetches])
    confirmed = 0
    for record, millis in zip(prefetches, noted, strict=True):
        if millis is not None:
            when = datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
            confirmed += confirm_prefetch(session, record, when, uniqueness)
    return confirmed
