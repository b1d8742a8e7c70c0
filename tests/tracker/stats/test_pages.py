"""/portal/dashboard: a partner's own 30 days of clicks, leads and sales, a chart and the same numbers in a table."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
import time_machine

from core.db import db
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import make_person, sign_in
from tests.factories import LinkFactory
from tracker.attribution.models import Conversion
from tracker.program.models import Click, Link, Partner
from tracker.stats.chart import daily_chart, daily_series, scale_top
from tracker.stats.pages import last_days

PATH = "/portal/dashboard"
TODAY = datetime(2031, 5, 30, 12, 0, tzinfo=UTC)
_ids = count(1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def add_click(link: Link, when: datetime, unique: bool = True, traffic: str = "human") -> Click:
    number = next(_ids)
    click = Click(
        id=number,
        created_at=when,
        link_id=link.id,
        offer_id=link.offer_id,
        partner_id=link.partner_id,
        ref_code=f"R{number:08d}",
        traffic=traffic,
        device="desktop",
        os="Windows",
        browser="Chrome",
        visitor_hash=f"{number:032d}",
        is_unique=unique,
    )
    db.session.add(click)
    db.session.commit()
    return click


def add_conversion(click: Click, event: str, when: datetime, amount_minor=None, status="pending") -> Conversion:
    conversion = Conversion(
        offer_id=click.offer_id,
        event=event,
        order_id=f"order-{next(_ids)}",
        amount_minor=amount_minor,
        currency="EUR" if amount_minor is not None else None,
        occurred_at=when,
        source="api",
        status=status,
        partner_id=click.partner_id,
        click_id=click.id,
    )
    db.session.add(conversion)
    db.session.commit()
    return conversion


def signed_in_partner(client, partner: Partner):
    person = make_person("partner", partner_id=partner.id)
    sign_in(client, person.email)
    return person


def figure(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">(.*?)</dd>', page, re.S)
    assert found, element_id
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_the_partner_sees_its_own_30_days(app, client):
    mine, theirs = LinkFactory(code="mine0001"), LinkFactory(code="theirs01")
    yesterday, today = TODAY - timedelta(days=1), TODAY - timedelta(hours=1)
    first = add_click(mine, yesterday)
    add_click(mine, yesterday, unique=False)
    add_click(mine, yesterday, traffic="bot")  # not a click anyone was shown
    second = add_click(mine, today)
    add_click(mine, TODAY - timedelta(days=30))  # the day before the 30 days
    add_conversion(first, "lead", yesterday)
    add_conversion(second, "sale", today, amount_minor=12_345)
    add_conversion(second, "sale", today, amount_minor=99_900, status="rejected")
    for _ in range(5):
        add_conversion(add_click(theirs, today), "sale", today, amount_minor=50_000)
    signed_in_partner(client, mine.partner)

    page = client.get(PATH).get_data(as_text=True)
    assert 'href="/portal/dashboard" aria-current="page"' in page
    facts = {
        name: figure(page, name) for name in ("clicks", "unique-clicks", "leads", "sales", "lead-rate", "sale-rate")
    }
    assert facts == {
        "clicks": "3",
        "unique-clicks": "2",
        "leads": "1",
        "sales": "1",
        "lead-rate": "33.3%",
        "sale-rate": "33.3%",
    }
    assert figure(page, "sales-value") == "€123.45"
    assert 'href="/portal/commissions"' in page
    assert "<svg" in page and page.count("<rect ") == 30
    # The axis names days as the table does, every seventh day back from today, which is always named.
    days_on_axis = re.findall(r'text-anchor="middle">([^<]+)</text>', page)
    assert days_on_axis == ["May 2", "May 9", "May 16", "May 23", "May 30"]
    scale = re.findall(r'<text x="[\d.]+" y="[\d.]+"(?: text-anchor="end")?>([^<]+)</text>', page)
    assert scale == ["2", "1", "0", "1", "0.5", "0"]  # clicks' top, middle, 0; then conversions'
    # Sales value sits with the money figures, not alone on a row of its own under the counts.
    assert (
        'id="sales-value"' in page.split('id="earnings"')[1]
        and 'id="sales-value"' not in page.split('id="earnings"')[0]
    )
    # The 30 rows are folded away under their summary: the page stays short, and it opens without script.
    folded = page.split('<details class="daily-numbers">')[1].split("</details>")[0]
    assert "<summary>The numbers per day</summary>" in folded and 'id="daily"' in folded
    rows = re.findall(r"<tr>\s*<td class=\"nowrap\">([^<]+)</td>\s*<td class=\"num\">(\d+)</td>", page)
    assert rows[0] == ("Fri, May 30", "1") and rows[1] == ("Thu, May 29", "2") and len(rows) == 30


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_no_traffic_shows_zeros_and_no_rates(app, client):
    signed_in_partner(client, LinkFactory().partner)
    page = client.get(PATH).get_data(as_text=True)
    assert figure(page, "clicks") == "0" and figure(page, "lead-rate") == "—" and figure(page, "sales-value") == "—"


def test_the_chart_scales_and_fills_missing_days():
    first, last = last_days(date(2031, 5, 30))
    assert (first, last) == (date(2031, 5, 1), date(2031, 5, 30))
    days = daily_series([{"key": "2031-05-02", "clicks": 40, "unique_clicks": 30, "leads": 3, "sales": 1}], first, last)
    assert len(days) == 30 and days[1].clicks == 40 and days[0].clicks == 0
    chart = daily_chart(days)
    assert (chart.clicks_max, chart.conversions_max) == (50, 5)
    assert chart.bars[1].height == pytest.approx((chart.bottom - chart.top) * 40 / 50)
    assert chart.leads[1].y < chart.sales[1].y < chart.bottom
    assert chart.day_labels[-1].day == last and [label.day.day for label in chart.day_labels] == [2, 9, 16, 23, 30]
    assert chart.top < chart.middle < chart.bottom
    assert [scale_top(n) for n in (0, 1, 3, 7, 11, 200, 201)] == [1, 1, 5, 10, 20, 200, 500]


@pytest.mark.parametrize("role", ["admin", "advertiser", "finance"])
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_get_403(app, client, role):
    sign_in(client, make_person(role).email)
    assert client.get(PATH).status_code == 403


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_anyone_not_signed_in_is_sent_to_sign_in(app, client):
    assert client.get(PATH).headers["Location"] == "/login?next=%2Fportal%2Fdashboard"
