"""Statistics per day, partner, offer, link or sub-id, computed in SQL and scoped to the caller.

Clicks give ``clicks``, ``unique_clicks`` and ``bot_clicks``; conversions give ``leads``, ``sales`` and
``revenue`` per currency, and with them the chain from PRODUCT.md: ``L1`` (leads per unique click),
``L2`` (sales per lead) and ``S1`` (revenue per sale). Rejected and reversed conversions do not count.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import Integer, case, cast, func, select

from core.api.auth import Principal
from core.db import db
from core.money import major_text
from tracker.attribution.models import Conversion
from tracker.program.models import Click, Link, Offer, Partner
from tracker.program.scopes import scoped

GROUPINGS = ("day", "partner", "offer", "link", "sub1", "sub2", "sub3", "sub4", "sub5")
# Per grouping: the id column its keys are, and the column that names the row.
_LABELS = {"partner": (Partner.id, Partner.name), "offer": (Offer.id, Offer.slug), "link": (Link.id, Link.code)}
COUNTED_STATUSES = ("pending", "review", "approved")


def _count(condition):
    return func.coalesce(func.sum(cast(case((condition, 1), else_=0), Integer)), 0)


def _bounds(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first_day, time.min, tzinfo=UTC)
    return start, datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=UTC)


def _click_group(group_by: str):
    if group_by == "day":
        return func.date(Click.created_at)
    if group_by in ("partner", "offer", "link"):
        return getattr(Click, f"{group_by}_id")
    return getattr(Click, group_by)


def _conversion_group(group_by: str):
    if group_by == "day":
        return func.date(Conversion.occurred_at)
    if group_by in ("partner", "offer"):
        return getattr(Conversion, f"{group_by}_id")
    return Click.link_id if group_by == "link" else getattr(Click, group_by)


def _key(value) -> str | None:
    return None if value is None else str(value)


def _click_counts(who, start, end, group_by) -> dict:
    group = _click_group(group_by).label("key")
    # A confirmed prefetch is "human" (tracker/clicks/confirmations.py): counted, on its click's day, once
    # confirmed; until then it is among bot_clicks with every other redirect nobody was shown.
    human = Click.traffic == "human"
    statement = (
        select(
            group,
            _count(human).label("clicks"),
            _count(human & Click.is_unique).label("unique_clicks"),
            _count(~human).label("bot_clicks"),
        )
        .where(Click.created_at >= start, Click.created_at < end)
        .group_by(group)
    )
    rows = db.session.execute(scoped(statement, who, Click.partner_id, Click.offer_id))
    return {_key(row.key): row._asdict() for row in rows}


def _conversion_counts(who, start, end, group_by) -> list:
    group = _conversion_group(group_by).label("key")
    statement = (
        select(
            group,
            Conversion.currency,
            _count(Conversion.event == "lead").label("leads"),
            _count(Conversion.event == "sale").label("sales"),
            func.coalesce(func.sum(case((Conversion.event == "sale", Conversion.amount_minor), else_=0)), 0).label(
                "revenue_minor"
            ),
        )
        .outerjoin(Click, Conversion.click_id == Click.id)
        .where(Conversion.occurred_at >= start, Conversion.occurred_at < end, Conversion.status.in_(COUNTED_STATUSES))
        .group_by(group, Conversion.currency)
    )
    return list(db.session.execute(scoped(statement, who, Conversion.partner_id, Conversion.offer_id)))


def _empty_row(key) -> dict:
    return {
        "key": key,
        "clicks": 0,
        "unique_clicks": 0,
        "bot_clicks": 0,
        "leads": 0,
        "sales": 0,
        "_revenue": defaultdict(int),
        "_sales_by_currency": defaultdict(int),
    }


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _average_minor(total_minor: int, count: int) -> int:
    """The mean to the whole minor unit, rounded half to even."""
    return int((Decimal(total_minor) / count).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _finish(row: dict) -> dict:
    revenue, sales_by_currency = row.pop("_revenue"), row.pop("_sales_by_currency")
    row["revenue"] = {cur: major_text(amount, cur) for cur, amount in sorted(revenue.items())}
    row["L1"] = _ratio(row["leads"], row["unique_clicks"])
    row["L2"] = _ratio(row["sales"], row["leads"])
    row["S1"] = {
        cur: major_text(_average_minor(amount, sales_by_currency[cur]), cur)
        for cur, amount in sorted(revenue.items())
        if sales_by_currency[cur]
    }
    return row


def program_stats(who: Principal, first_day: date, last_day: date, group_by: str) -> tuple[list[dict], dict]:
    """Rows per group, ordered by key, and the totals over all of them."""
    start, end = _bounds(first_day, last_day)
    rows: dict = {}
    for key, counts in _click_counts(who, start, end, group_by).items():
        row = rows.setdefault(key, _empty_row(key))
        row.update(
            clicks=int(counts["clicks"]),
            unique_clicks=int(counts["unique_clicks"]),
            bot_clicks=int(counts["bot_clicks"]),
        )
    for found in _conversion_counts(who, start, end, group_by):
        row = rows.setdefault(_key(found.key), _empty_row(_key(found.key)))
        row["leads"] += int(found.leads)
        row["sales"] += int(found.sales)
        if found.currency:
            row["_revenue"][found.currency] += int(found.revenue_minor)
            row["_sales_by_currency"][found.currency] += int(found.sales)
    totals = _empty_row(None)
    for row in rows.values():
        _add_into(totals, row)
    ordered = [_finish(rows[key]) for key in sorted(rows, key=lambda k: (k is None, k or ""))]
    _add_labels(ordered, group_by)
    return ordered, _finish(totals)


def _add_into(total: dict, row: dict) -> None:
    for name in ("clicks", "unique_clicks", "bot_clicks", "leads", "sales"):
        total[name] += row[name]
    for currency, amount in row["_revenue"].items():
        total["_revenue"][currency] += amount
    for currency, count in row["_sales_by_currency"].items():
        total["_sales_by_currency"][currency] += count


def _add_labels(rows: list[dict], group_by: str) -> None:
    if group_by not in _LABELS:
        return
    id_column, label = _LABELS[group_by]
    ids = [int(row["key"]) for row in rows if row["key"] is not None]
    names: dict[int, str] = (
        dict(db.session.execute(select(id_column, label).where(id_column.in_(ids))).tuples().all()) if ids else {}
    )
    for row in rows:
        row["label"] = names.get(int(row["key"])) if row["key"] is not None else None
