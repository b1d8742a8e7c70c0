"""Click statistics per day, partner, offer, link or sub-id, computed in SQL and scoped to the caller."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Integer, case, cast, func, select

from core.auth import Principal
from core.db import db
from tracker.models import Click, Link, Offer, Partner

GROUPINGS = ("day", "partner", "offer", "link", "sub1", "sub2", "sub3", "sub4", "sub5")
_LABELS = {"partner": (Partner, Partner.name), "offer": (Offer, Offer.slug), "link": (Link, Link.code)}


def _group_column(group_by: str):
    if group_by == "day":
        return func.date(Click.created_at)
    if group_by in ("partner", "offer", "link"):
        return getattr(Click, f"{group_by}_id")
    return getattr(Click, group_by)


def _scope(statement, who: Principal):
    if who.role == "partner":
        return statement.where(Click.partner_id == who.partner_id)
    if who.role == "advertiser":
        own_offers = select(Offer.id).where(Offer.advertiser_id == who.advertiser_id)
        return statement.where(Click.offer_id.in_(own_offers))
    return statement


def _count(condition):
    return func.coalesce(func.sum(cast(case((condition, 1), else_=0), Integer)), 0)


def click_stats(who: Principal, first_day: date, last_day: date, group_by: str) -> list[dict]:
    start = datetime.combine(first_day, time.min, tzinfo=timezone.utc)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=timezone.utc)
    group = _group_column(group_by).label("key")
    human = Click.traffic == "human"
    statement = (
        select(group,
               _count(human).label("clicks"),
               _count(human & Click.is_unique).label("unique_clicks"),
               _count(~human).label("bot_clicks"))
        .where(Click.created_at >= start, Click.created_at < end)
        .group_by(group).order_by(group)
    )
    rows = [{"key": None if row.key is None else str(row.key), "clicks": int(row.clicks),
             "unique_clicks": int(row.unique_clicks), "bot_clicks": int(row.bot_clicks)}
            for row in db.session.execute(_scope(statement, who))]
    _add_labels(rows, group_by)
    return rows


def _add_labels(rows: list[dict], group_by: str) -> None:
    if group_by not in _LABELS:
        return
    model, label = _LABELS[group_by]
    ids = [int(row["key"]) for row in rows]
    names = dict(db.session.execute(select(model.id, label).where(model.id.in_(ids))).all()) if ids else {}
    for row in rows:
        row["label"] = names.get(int(row["key"]))
