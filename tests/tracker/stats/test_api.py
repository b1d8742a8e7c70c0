"""``GET /api/v1/stats``: exact rows for every grouping, from a small program with known clicks and conversions.

The program (two days in range, one day before it):

    clicks   when          link     visitor           subs from the query      counted as
    1        D1 10:00      one      .1 Chrome         sub3=x                   human, unique
    2        D1 10:05      one      .1 Chrome         -                        human, repeat
    3        D1 11:00      one      .2 Chrome         sub1=news                human, unique
    4        D1 12:00      two      .3 Chrome         -                        human, unique
    5        D1 12:30      two      .3 python-requests -                       bot
    6        D2 09:00      three    .4 Chrome         sub4=k, sub5=z           human, unique
    7        D2 09:30      two      .5 Chrome         -                        human, unique
    (8)      D0 09:00      one      .9 Chrome         -                        outside the range

Link "one" is partner A's on offer "alpha" with sub1=mail by default; "two" is partner B's on "alpha";
"three" is partner A's on offer "beta" with sub2=banner by default.

    conversions  occurred     event  amount       carrier                     partner
    C1           D1 14:00     lead   -            token of click 1            A
    C2           D1 15:00     lead   -            token of click 3            A
    C3           D2 10:00     sale   100.00 EUR   token of click 1            A
    C4           D1 16:00     lead   -            token of click 4            B
    C5           D2 11:00     sale   30.00 EUR    token of click 4            B
    C6           D2 12:00     sale   5000 JPY     token of click 6            A (offer beta)
    C7           D2 13:00     sale   20.01 EUR    coupon, no click            B
    C8           D1 17:00     lead   -            nothing (offer beta)        -
    (C9)         D2 14:00     sale   999.00 EUR   token of click 7, rejected  B: not counted
    (C10)        D0 18:00     lead   -            nothing                     outside the range
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from tests.factories import LinkFactory, OfferFactory, PartnerFactory, auth, expect, post_conversion
from tests.tracker.attribution.test_conversions import token_from
from tests.tracker.helpers import click

D0, D1, D2 = "2031-03-31", "2031-04-01", "2031-04-02"
AFTER_ALL = datetime(2031, 4, 2, 18, 0, tzinfo=UTC)


def at(day: str, hhmm: str):
    return time_machine.travel(datetime.fromisoformat(f"{day}T{hhmm}:00+00:00"), tick=False)


@pytest.fixture
def program(app):
    alpha = OfferFactory(slug="alpha")
    beta = OfferFactory(slug="beta")
    partner_a, partner_b = PartnerFactory(name="Partner A"), PartnerFactory(name="Partner B")
    links = {
        "one": LinkFactory(code="one", partner=partner_a, offer=alpha, sub1="mail"),
        "two": LinkFactory(code="two", partner=partner_b, offer=alpha),
        "three": LinkFactory(code="three", partner=partner_a, offer=beta, sub2="banner"),
    }
    client = app.test_client()
    clicks = {}
    for number, day, hhmm, code, visitor, extra in [
        (1, D1, "10:00", "one", ".1", {"sub3": "x"}),
        (2, D1, "10:05", "one", ".1", {}),
        (3, D1, "11:00", "one", ".2", {"sub1": "news"}),
        (4, D1, "12:00", "two", ".3", {}),
        (5, D1, "12:30", "two", ".3", {"user_agent": "python-requests/2.32"}),
        (6, D2, "09:00", "three", ".4", {"sub4": "k", "sub5": "z"}),
        (7, D2, "09:30", "two", ".5", {}),
        (8, D0, "09:00", "one", ".9", {}),
    ]:
        with at(day, hhmm):
            clicks[number] = token_from(click(client, code, address=f"198.51.100{visitor}", **extra))

    admin = auth("admin")
    expect(
        client.post(
            "/api/v1/coupons", headers=admin, json={"code": "BEE20", "partner_id": partner_b.id, "offer_id": alpha.id}
        ),
        201,
    )
    vendors = {
        "alpha": auth("advertiser", advertiser_id=alpha.advertiser_id),
        "beta": auth("advertiser", advertiser_id=beta.advertiser_id),
    }
    with time_machine.travel(AFTER_ALL, tick=False):
        posted = {}
        for name, offer, day, hhmm, event, extra in [
            ("C1", "alpha", D1, "14:00", "lead", {"token": clicks[1]}),
            ("C2", "alpha", D1, "15:00", "lead", {"token": clicks[3]}),
            ("C3", "alpha", D2, "10:00", "sale", {"token": clicks[1], "amount": "100.00", "currency": "EUR"}),
            ("C4", "alpha", D1, "16:00", "lead", {"token": clicks[4]}),
            ("C5", "alpha", D2, "11:00", "sale", {"token": clicks[4], "amount": "30.00", "currency": "EUR"}),
            ("C6", "beta", D2, "12:00", "sale", {"token": clicks[6], "amount": "5000", "currency": "JPY"}),
            ("C7", "alpha", D2, "13:00", "sale", {"coupon": "bee20", "amount": "20.01", "currency": "EUR"}),
            ("C8", "beta", D1, "17:00", "lead", {}),
            ("C9", "alpha", D2, "14:00", "sale", {"token": clicks[7], "amount": "999.00", "currency": "EUR"}),
            ("C10", "alpha", D0, "18:00", "lead", {}),
        ]:
            body = expect(
                post_conversion(
                    client,
                    vendors[offer],
                    offer=offer,
                    event=event,
                    order_id=name,
                    occurred_at=f"{day}T{hhmm}:00Z",
                    **extra,
                ),
                201,
            )
            posted[name] = body
        rejected = client.post(
            f"/api/v1/conversions/{posted['C9']['id']}/reject", json={"reason": "cancelled"}, headers=vendors["alpha"]
        )
        assert expect(rejected, 200)["status"] == "rejected"
    # The carriers did what the table above says, so the figures below follow from it alone.
    partner_of = {name: body["partner_id"] for name, body in posted.items()}
    assert partner_of == {
        "C1": partner_a.id,
        "C2": partner_a.id,
        "C3": partner_a.id,
        "C4": partner_b.id,
        "C5": partner_b.id,
        "C6": partner_a.id,
        "C7": partner_b.id,
        "C8": None,
        "C9": partner_b.id,
        "C10": None,
    }
    assert {name: body["status"] for name, body in posted.items() if name != "C9"} == dict.fromkeys(
        [f"C{n}" for n in range(1, 11) if n != 9], "pending"
    )
    return dict(client=client, admin=admin, a=partner_a, b=partner_b, alpha=alpha, beta=beta, links=links)


def row(key, label=None, *, clicks=0, unique=0, bots=0, leads=0, sales=0, revenue=None, L1=None, L2=None, S1=None):
    return {
        "key": key,
        "label": label,
        "clicks": clicks,
        "unique_clicks": unique,
        "bot_clicks": bots,
        "leads": leads,
        "sales": sales,
        "revenue": revenue or {},
        # The wire has JSON numbers; the test client reads them as Decimal, so they compare exactly.
        "L1": None if L1 is None else Decimal(L1),
        "L2": None if L2 is None else Decimal(L2),
        "S1": S1 or {},
    }


TOTALS = row(
    None,
    clicks=6,
    unique=5,
    bots=1,
    leads=4,
    sales=4,
    revenue={"EUR": "150.01", "JPY": "5000"},
    L1="0.8",
    L2="1.0",
    S1={"EUR": "50.00", "JPY": "5000"},
)


def expected_rows(group_by: str, p: dict) -> list[dict]:
    a, b, alpha, beta, links = p["a"], p["b"], p["alpha"], p["beta"], p["links"]
    # Rows for the links that carry no sub-id but sub1 (or sub2/sub4/sub5, which only "three" sets).
    without_three = dict(clicks=5, unique=4, bots=1, leads=4, sales=3, revenue={"EUR": "150.01"}, L1="1.0", L2="0.75")
    only_three = dict(clicks=1, unique=1, sales=1, revenue={"JPY": "5000"}, L1="0.0", S1={"JPY": "5000"})
    return {
        "day": [
            row(D1, clicks=4, unique=3, bots=1, leads=4, L1="1.3333", L2="0.0"),
            row(
                D2,
                clicks=2,
                unique=2,
                sales=4,
                revenue={"EUR": "150.01", "JPY": "5000"},
                L1="0.0",
                S1={"EUR": "50.00", "JPY": "5000"},
            ),
        ],
        "partner": [
            row(
                str(a.id),
                "Partner A",
                clicks=4,
                unique=3,
                leads=2,
                sales=2,
                revenue={"EUR": "100.00", "JPY": "5000"},
                L1="0.6667",
                L2="1.0",
                S1={"EUR": "100.00", "JPY": "5000"},
            ),
            # 50.01 EUR over two sales is 25.005: rounded half to even.
            row(
                str(b.id),
                "Partner B",
                clicks=2,
                unique=2,
                bots=1,
                leads=1,
                sales=2,
                revenue={"EUR": "50.01"},
                L1="0.5",
                L2="2.0",
                S1={"EUR": "25.00"},
            ),
            row(None, leads=1, L2="0.0"),
        ],
        "offer": [
            row(
                str(alpha.id),
                "alpha",
                clicks=5,
                unique=4,
                bots=1,
                leads=3,
                sales=3,
                revenue={"EUR": "150.01"},
                L1="0.75",
                L2="1.0",
                S1={"EUR": "50.00"},
            ),
            row(
                str(beta.id),
                "beta",
                clicks=1,
                unique=1,
                leads=1,
                sales=1,
                revenue={"JPY": "5000"},
                L1="1.0",
                L2="1.0",
                S1={"JPY": "5000"},
            ),
        ],
        "link": [
            row(
                str(links["one"].id),
                "one",
                clicks=3,
                unique=2,
                leads=2,
                sales=1,
                revenue={"EUR": "100.00"},
                L1="1.0",
                L2="0.5",
                S1={"EUR": "100.00"},
            ),
            row(
                str(links["two"].id),
                "two",
                clicks=2,
                unique=2,
                bots=1,
                leads=1,
                sales=1,
                revenue={"EUR": "30.00"},
                L1="0.5",
                L2="1.0",
                S1={"EUR": "30.00"},
            ),
            row(str(links["three"].id), "three", **only_three),
            # The coupon sale and the unattributed lead have no click, so no link.
            row(None, leads=1, sales=1, revenue={"EUR": "20.01"}, L2="1.0", S1={"EUR": "20.01"}),
        ],
        "sub1": [
            row(
                "mail",
                clicks=2,
                unique=1,
                leads=1,
                sales=1,
                revenue={"EUR": "100.00"},
                L1="1.0",
                L2="1.0",
                S1={"EUR": "100.00"},
            ),
            row("news", clicks=1, unique=1, leads=1, L1="1.0", L2="0.0"),
            row(
                None,
                clicks=3,
                unique=3,
                bots=1,
                leads=2,
                sales=3,
                revenue={"EUR": "50.01", "JPY": "5000"},
                L1="0.6667",
                L2="1.5",
                S1={"EUR": "25.00", "JPY": "5000"},
            ),
        ],
        "sub2": [row("banner", **only_three), row(None, **without_three, S1={"EUR": "50.00"})],
        "sub3": [
            row(
                "x",
                clicks=1,
                unique=1,
                leads=1,
                sales=1,
                revenue={"EUR": "100.00"},
                L1="1.0",
                L2="1.0",
                S1={"EUR": "100.00"},
            ),
            row(
                None,
                clicks=5,
                unique=4,
                bots=1,
                leads=3,
                sales=3,
                revenue={"EUR": "50.01", "JPY": "5000"},
                L1="0.75",
                L2="1.0",
                S1={"EUR": "25.00", "JPY": "5000"},
            ),
        ],
        "sub4": [row("k", **only_three), row(None, **without_three, S1={"EUR": "50.00"})],
        "sub5": [row("z", **only_three), row(None, **without_three, S1={"EUR": "50.00"})],
    }[group_by]


@pytest.mark.parametrize("group_by", ["day", "partner", "offer", "link", "sub1", "sub2", "sub3", "sub4", "sub5"])
def test_every_grouping_answers_its_exact_rows_and_totals(program, group_by):
    response = program["client"].get(
        "/api/v1/stats", query_string={"from": D1, "to": D2, "group_by": group_by}, headers=program["admin"]
    )
    body = expect(response, 200)
    assert (body["from"], body["to"], body["group_by"]) == (D1, D2, group_by)
    assert body["rows"] == expected_rows(group_by, program)
    assert body["totals"] == TOTALS


def test_the_groupings_are_the_ones_the_queries_offer():
    from tracker.stats.queries import GROUPINGS

    assert GROUPINGS == ("day", "partner", "offer", "link", "sub1", "sub2", "sub3", "sub4", "sub5")


def test_the_day_before_the_range_is_counted_when_the_range_includes_it(program):
    body = expect(
        program["client"].get(
            "/api/v1/stats", query_string={"from": D0, "to": D0, "group_by": "day"}, headers=program["admin"]
        ),
        200,
    )
    assert body["rows"] == [row(D0, clicks=1, unique=1, leads=1, L1="1.0", L2="0.0")]


def test_a_partner_key_sees_its_own_rows_with_the_same_figures(program):
    headers = auth("partner", partner_id=program["b"].id)
    body = expect(
        program["client"].get(
            "/api/v1/stats", query_string={"from": D1, "to": D2, "group_by": "link"}, headers=headers
        ),
        200,
    )
    two = str(program["links"]["two"].id)
    assert body["rows"] == [
        next(r for r in expected_rows("link", program) if r["key"] == two),
        row(None, sales=1, revenue={"EUR": "20.01"}, S1={"EUR": "20.01"}),  # the coupon sale, without a click
    ]
