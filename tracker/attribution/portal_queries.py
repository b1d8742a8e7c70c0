"""The advertiser's conversions as its pages list them: held ones for review, and all of them with filters.

Both start from the scope the conversions API applies to an advertiser key (``rows_visible_to``), so no
page lists a conversion of another advertiser's offers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, select

from core.api.auth import Principal
from core.db import db
from tracker.attribution.models import Conversion
from tracker.program.scopes import rows_visible_to

PAGE_SIZE = 50
# The queue's views: "review" holds what the attribution checks flagged, "pending" what waits for approval
# or the hold; both may be approved or rejected (tracker.attribution.conversions.TRANSITIONS).
QUEUES = ("review", "pending")


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    event: str | None = None
    offer_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class Totals:
    count: int
    amounts: list[tuple[str, int]]  # (currency, amount in minor units), one per currency


@dataclass(frozen=True)
class Page:
    rows: list[Conversion]
    number: int
    pages: int
    totals: Totals


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def filtered(who: Principal, filters: Filters) -> Select:
    statement = rows_visible_to(Conversion, who)
    if filters.status:
        statement = statement.where(Conversion.status == filters.status)
    if filters.event:
        statement = statement.where(Conversion.event == filters.event)
    if filters.offer_id:
        statement = statement.where(Conversion.offer_id == filters.offer_id)
    if filters.date_from:
        statement = statement.where(Conversion.occurred_at >= _midnight(filters.date_from))
    if filters.date_to:  # the whole last day, in UTC
        statement = statement.where(Conversion.occurred_at < _midnight(filters.date_to + timedelta(days=1)))
    return statement


def totals(statement: Select) -> Totals:
    matching = statement.subquery()
    count = db.session.scalar(select(func.count()).select_from(matching)) or 0
    sums = db.session.execute(
        select(matching.c.currency, func.sum(matching.c.amount_minor))
        .where(matching.c.currency.is_not(None))
        .group_by(matching.c.currency)
        .order_by(matching.c.currency)
    )
    return Totals(count, [(currency, int(amount or 0)) for currency, amount in sums])


def page_of(statement: Select, number: int, order: tuple) -> Page:
    summary = totals(statement)
    pages = max(1, -(-summary.count // PAGE_SIZE))
    number = min(max(1, number), pages)
    rows = db.session.scalars(statement.order_by(*order).limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE))
    return Page(list(rows), number, pages, summary)


def conversions_page(who: Principal, filters: Filters, number: int) -> Page:
    return page_of(filtered(who, filters), number, (Conversion.occurred_at.desc(), Conversion.id.desc()))


def review_queue(who: Principal, queue: str, number: int) -> Page:
    """Oldest first: a held conversion waits longest at the top."""
    statement = filtered(who, Filters(status=queue if queue in QUEUES else QUEUES[0]))
    return page_of(statement, number, (Conversion.occurred_at, Conversion.id))


def queue_sizes(who: Principal) -> dict[str, int]:
    counted = (
        rows_visible_to(Conversion, who)
        .where(Conversion.status.in_(QUEUES))
        .with_only_columns(Conversion.status, func.count().label("count"))
        .group_by(Conversion.status)
    )
    sizes = dict.fromkeys(QUEUES, 0)
    sizes.update({row.status: row.count for row in db.session.execute(counted)})
    return sizes


def own_conversion(who: Principal, conversion_id: int) -> Conversion | None:
    return db.session.scalar(rows_visible_to(Conversion, who).where(Conversion.id == conversion_id))
