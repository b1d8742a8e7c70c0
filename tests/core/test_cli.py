"""``flask --app app keys list|revoke``: every key with its owner and last use; revoking by id or prefix."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.api.apikeys import ApiKey, issue_key
from core.db import db
from tests.factories import AdvertiserFactory


def run(app, *args):
    return app.test_cli_runner().invoke(args=["keys", *args])


def make_keys():
    advertiser = AdvertiserFactory(name="Contoso")
    admin, _ = issue_key("admin", label="ops laptop")
    seller, plaintext = issue_key("advertiser", advertiser_id=advertiser.id)
    db.session.commit()
    return admin, seller, plaintext, advertiser


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_the_list_shows_each_key_with_its_owner_and_last_use(app):
    admin, seller, _, advertiser = make_keys()
    lines = run(app, "list").output.splitlines()
    assert lines[0].split() == ["id", "prefix", "role", "owner", "label", "created", "last", "used", "revoked"]
    admin_line, seller_line = lines[1:]
    assert admin_line.split()[:4] == [str(admin.id), admin.display_prefix, "admin", "-"]
    assert "ops laptop" in admin_line and admin_line.split()[-2:] == ["never", "no"]
    assert seller.display_prefix in seller_line and f"advertiser Contoso (#{advertiser.id})" in seller_line


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_revoking_by_id_then_again(app):
    admin, seller, *_ = make_keys()
    result = run(app, "revoke", "--id", str(seller.id))
    assert (result.exit_code, result.output) == (0, f"key {seller.id} ({seller.display_prefix}) revoked\n")
    db.session.expire_all()
    assert seller.revoked_at is not None and admin.revoked_at is None
    again = run(app, "revoke", "--prefix", seller.display_prefix)
    assert again.exit_code == 0 and "was already revoked at" in again.output
    assert run(app, "list").output.splitlines()[2].split()[-3:-1] == ["never", seller.revoked_at.strftime("%Y-%m-%d")]


def test_a_revoked_key_is_refused_by_the_api(app):
    _, seller, plaintext, _ = make_keys()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert app.test_client().get("/api/v1/offers", headers=headers).status_code == 200
    assert run(app, "revoke", "--id", str(seller.id)).exit_code == 0
    assert app.test_client().get("/api/v1/offers", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "args, message",
    [
        (["--id", "999"], "no key with id 999"),
        (["--prefix", "hk_nope"], "no key with prefix 'hk_nope'"),
        (["--prefix", "hk_"], "2 keys match prefix 'hk_'"),
        (["--prefix", "hk_%"], "no key with prefix 'hk_%'"),
        ([], "give either --id or --prefix"),
    ],
)
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_revoke_refusals_say_what_is_wrong(app, args, message):
    make_keys()
    result = run(app, "revoke", *args)
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalars(select(ApiKey).where(ApiKey.revoked_at.is_not(None))).all() == []
