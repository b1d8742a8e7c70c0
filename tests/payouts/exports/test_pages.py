"""/portal/statements: the approved, exported and paid batches that pay the partner, each with its statement."""

from __future__ import annotations

from datetime import date

import pytest

from core.db import db
from payouts.batches.lifecycle import approve_batch, create_batch, mark_exported
from payouts.ledger.entries import adjust
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import form_token, make_person, sign_in
from tests.factories import PartnerFactory, auth
from tests.payouts.batches.test_batches import JULY, PAYDAY, give_profile


@pytest.fixture
def batches(app):
    """Ours and theirs are both in an exported RUB batch; only theirs in an approved EUR one; ours in a draft."""
    ours, theirs = PartnerFactory(name="Contoso Blog"), PartnerFactory(name="Northwind Deals")
    db.session.commit()
    for partner in (ours, theirs):
        give_profile(partner)
    adjust(ours.id, 1234500, "RUB", "launch bonus", "finance")
    adjust(theirs.id, 9876500, "RUB", "secret bonus", "finance")
    adjust(theirs.id, 55500, "EUR", "their euro bonus", "finance")
    shared = approve_batch(create_batch(JULY, "RUB", PAYDAY, 0, "test"))
    mark_exported(shared)
    theirs_only = approve_batch(create_batch(JULY, "EUR", PAYDAY, 0, "test"))
    adjust(ours.id, 4200, "USD", "draft bonus", "finance")
    draft = create_batch(JULY, "USD", date(2031, 8, 6), 0, "test")
    return {"ours": ours, "theirs": theirs, "shared": shared, "theirs_only": theirs_only, "draft": draft}


def signed_in(client, partner):
    make_person("partner", email="money@contoso.example", partner_id=partner.id)
    sign_in(client, "money@contoso.example")


def test_a_partner_lists_the_batches_that_pay_it_and_reads_each_statement(app, client, batches):
    signed_in(client, batches["ours"])
    page = client.get("/portal/statements").get_data(as_text=True)
    shared = batches["shared"]
    assert f'id="batch-{shared.id}"' in page and f'href="/portal/statements/{shared.id}"' in page
    assert "RUB12,345.00" in page and "sent to the bank" in page
    assert f'id="batch-{batches["theirs_only"].id}"' not in page  # pays another partner only
    assert f'id="batch-{batches["draft"].id}"' not in page  # a draft is not final
    assert "98,765.00" not in page

    response = client.get(f"/portal/statements/{shared.id}")
    statement = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    api = app.test_client().get(
        f"/api/v1/payout-batches/{shared.id}/statements/{batches['ours'].id}.html",
        headers=auth("partner", partner_id=batches["ours"].id),
    )
    assert api.status_code == 200
    # Rendered by the same code: the statement's body equals the API's, whoever is signed in around it.
    assert statement.split("<main")[1] == api.get_data(as_text=True).split("<main")[1]
    assert "Contoso Blog" in statement and "launch bonus" in statement
    assert "Northwind Deals" not in statement and "secret bonus" not in statement


def test_the_statement_is_in_the_readers_language(app, client, batches):
    signed_in(client, batches["ours"])
    english = client.get(f"/portal/statements/{batches['shared'].id}").get_data(as_text=True)
    assert "Payout statement" in english and "Net to partner" in english
    client.post("/lang", data={"lang": "ru", "next": "/portal/statements", "csrf_token": form_token(client, "/portal")})
    russian = client.get(f"/portal/statements/{batches['shared'].id}").get_data(as_text=True)
    assert "Выписка по выплате" in russian and "К получению партнёром" in russian
    assert "Contoso Blog" in russian and "Payout statement" not in russian


def test_a_batch_that_does_not_pay_the_partner_is_404(app, client, batches):
    signed_in(client, batches["ours"])
    for batch_id in (batches["theirs_only"].id, batches["draft"].id, 999999):
        response = client.get(f"/portal/statements/{batch_id}")
        assert response.status_code == 404, batch_id
        assert "their euro bonus" not in response.get_data(as_text=True)


def test_a_partner_without_payouts_sees_an_empty_list(app, client):
    person = make_person("partner")
    sign_in(client, person.email)
    assert 'id="no-statements"' in client.get("/portal/statements").get_data(as_text=True)


@pytest.mark.parametrize("role", ["admin", "advertiser", "finance"])
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_get_403(app, client, batches, role):
    person = make_person(role)
    sign_in(client, person.email)
    assert client.get("/portal/statements").status_code == 403
    assert client.get(f"/portal/statements/{batches['shared'].id}").status_code == 403


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_anyone_not_signed_in_is_sent_to_sign_in(app, client, batches):
    for path in ("/portal/statements", f"/portal/statements/{batches['shared'].id}"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
