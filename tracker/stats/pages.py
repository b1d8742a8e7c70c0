"""The partner's dashboard: clicks, leads, sales, sales value and rates over 30 days, with a daily chart.

The figures come from the query behind GET /api/v1/stats, scoped to the partner as a partner key is.
Commissions belong to payouts, which tracker does not import: the dashboard asks for them with the
``earnings_requested`` signal (tracker.stats.signals), and the ledger answers; earnings per click (EPC) are
those commissions over the same days' clicks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import cast

from babel.dates import format_skeleton
from flask import Blueprint, Flask, render_template
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from core.db import utcnow
from core.money import to_major, to_minor
from core.people.access import require_person
from core.people.navigation import add_portal_page
from tracker.program.partner_portal import partner_principal
from tracker.stats.chart import daily_chart, daily_series
from tracker.stats.queries import program_stats
from tracker.stats.signals import earnings_requested

bp = Blueprint("stats_pages", __name__)
PATH = "/portal/dashboard"
DAYS = 30
COMMISSIONS_PATH = "/portal/commissions"


def _rate(count: int, clicks: int) -> float | None:
    return count / clicks if clicks else None


def _summary(totals: dict) -> dict:
    """The totals the page shows: counts, conversion rates per click, and sales value per currency in minor units."""
    clicks = totals["clicks"]
    return {
        "clicks": clicks,
        "unique_clicks": totals["unique_clicks"],
        "leads": totals["leads"],
        "sales": totals["sales"],
        "lead_rate": _rate(totals["leads"], clicks),
        "sale_rate": _rate(totals["sales"], clicks),
        # The stats query gives decimal text (as the API answers); the page formats minor units with money().
        "sales_value": [(currency, to_minor(text, currency)) for currency, text in totals["revenue"].items()],
    }


EARNING_STATUSES = ("pending", "approved", "paid")


def _earnings(partner_id: int, first: date, clicks: int) -> dict:
    """Commissions accrued since ``first`` by status and currency, and per currency the earnings per click.

    EPC counts every commission still owed or paid (pending, approved, paid), not reversed ones, in the
    currency's major units per click; it is shown with one more decimal than the currency has.
    """
    since = datetime.combine(first, time.min, tzinfo=UTC)
    by_status: dict[str, dict[str, int]] = {status: {} for status in EARNING_STATUSES}
    for _receiver, answer in earnings_requested.send(partner_id, since=since):
        for status, amounts in answer.items():
            if status in by_status:
                for currency, amount in amounts.items():
                    by_status[status][currency] = by_status[status].get(currency, 0) + amount
    earned: dict[str, int] = {}
    for amounts in by_status.values():
        for currency, amount in amounts.items():
            earned[currency] = earned.get(currency, 0) + amount
    epc = {currency: to_major(amount, currency) / clicks for currency, amount in earned.items()} if clicks else {}
    return {"by_status": by_status, "epc": sorted(epc.items())}


def short_day(day: date, skeleton: str = "MMMd") -> str:
    """A day without its year in the reader's locale ("Nov 3", "3 нояб."); the page's heading gives the years.

    A skeleton, not a fixed pattern such as "d MMM", so that each locale orders day and month its own way and
    the chart's axis, the table and the heading's medium dates read alike.
    """
    return format_skeleton(skeleton, day, locale=get_locale())


def last_days(today: date, days: int = DAYS) -> tuple[date, date]:
    """The first and last day of the ``days`` days ending today (UTC), today included."""
    return today - timedelta(days=days - 1), today


@bp.get(PATH)
@require_person("partner")
def dashboard() -> str:
    first, last = last_days(utcnow().date())
    who = partner_principal()
    rows, totals = program_stats(who, first, last, "day")
    days = daily_series(rows, first, last)
    return render_template(
        "partner/dashboard.html",
        first=first,
        last=last,
        summary=_summary(totals),
        days=days,
        chart=daily_chart(days),
        commissions_path=COMMISSIONS_PATH,
        short_day=short_day,
        earnings=_earnings(cast(int, who.partner_id), first, totals["clicks"]),  # a partner's principal has one
    )


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "partner", PATH, _l("Dashboard"), order=10)
