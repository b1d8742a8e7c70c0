"""/portal/offers/<id>/banners: an advertiser uploads checked banners that the banners API then lists, and
retires them; scripts, oversized images and files that lie about their type are refused with nothing stored."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from sqlalchemy import func, select

from core.db import db
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import form_token, make_person, sign_in
from tests.factories import auth
from tests.tracker.advertiser_portal import errors_of, foreign_offer, signed_in_advertiser
from tracker.creatives.files import upload_folder
from tracker.creatives.models import Banner
from tracker.creatives.svg_check import SvgSize, check_svg

SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    b'viewBox="0 0 300 250"><defs><linearGradient id="g"><stop offset="0" stop-color="#2457d6"/></linearGradient>'
    b'</defs><rect width="300" height="250" fill="url(#g)"/><use xlink:href="#g"/>'
    b'<text x="10" y="40">Cloud CRM</text></svg>'
)


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x00\x00" * 1)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x80\x00\x00" + b"\x00" * 6 + b"\x3b"


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def upload(client, offer_id: int, data: bytes, file_name: str, mimetype: str, name: str = "", token_page=None):
    page = f"/portal/offers/{offer_id}/banners"
    token = form_token(client, token_page or page)
    form = {"name": name, "file": (io.BytesIO(data), file_name, mimetype), "csrf_token": token}
    return client.post(page, data=form, content_type="multipart/form-data")


def stored_count() -> int:
    db.session.rollback()
    files = list(upload_folder().glob("*")) if upload_folder().exists() else []
    return (db.session.scalar(select(func.count()).select_from(Banner)) or 0) + len(files)


@pytest.mark.parametrize(
    "data, file_name, mimetype, size",
    [
        (png(728, 90), "leaderboard.png", "image/png", (728, 90)),
        (jpeg(300, 250), "rectangle.jpeg", "image/jpeg", (300, 250)),
        (gif(160, 600), "skyscraper.gif", "image/gif", (160, 600)),
        (SVG, "rectangle.svg", "image/svg+xml", (300, 250)),
        (png(320, 50), "no-suffix", "application/octet-stream", (320, 50)),
    ],
)
def test_an_uploaded_banner_is_stored_served_and_listed_by_the_api(app, client, data, file_name, mimetype, size):
    offer = signed_in_advertiser(client)
    response = upload(client, offer.id, data, file_name, mimetype, name="Spring sale")
    assert response.status_code == 302, errors_of(response)
    banner = db.session.scalar(select(Banner).where(Banner.offer_id == offer.id))
    assert (banner.width, banner.height) == size and banner.name == "Spring sale"
    assert banner.file_name.startswith(f"upload-{offer.id}-") and file_name not in banner.file_name
    assert (upload_folder() / banner.file_name).read_bytes() == data
    served = client.get(f"/banners/{banner.file_name}")
    assert served.status_code == 200 and served.data == data and served.headers["X-Content-Type-Options"] == "nosniff"

    listed = app.test_client().get(
        f"/api/v1/banners?offer={offer.slug}", headers=auth("advertiser", advertiser_id=offer.advertiser_id)
    )
    assert [(item["id"], item["width"], item["height"]) for item in listed.json["items"]] == [(banner.id, *size)]
    assert "Spring sale" in client.get(f"/portal/offers/{offer.id}/banners").get_data(as_text=True)


SCRIPTED = [
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)"/>',
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><foreignObject/></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">'
    b'<a xlink:href="javascript:alert(1)"><rect width="5" height="5"/></a></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="https://tracker.example/x.png"/></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect style="fill:url(https://x.example/a)"/></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><style>@import "https://x.example/a.css";</style></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<set attributeName="href" to="javascript:x"/></svg>',
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&b;</text></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" width="3000" height="10"/>',
    b"<svg><rect/></svg>",
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="data:image/svg+xml,x"/></svg>',
]


@pytest.mark.parametrize("data", SCRIPTED)
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_an_svg_that_could_do_more_than_draw_is_refused(app, client, data):
    offer = signed_in_advertiser(client)
    response = upload(client, offer.id, data, "banner.svg", "image/svg+xml")
    assert response.status_code == 422
    [error] = errors_of(response)
    assert error.startswith(("The SVG was refused", "The image is 3000×10")), error
    assert stored_count() == 0


@pytest.mark.parametrize(
    "data, file_name, mimetype, message",
    [
        (b"<html><script>alert(1)</script></html>", "banner.png", "image/png", "is not a PNG, JPEG, GIF or SVG"),
        (gif(100, 100), "banner.png", "image/png", "claims to be PNG but its content is GIF"),
        (png(100, 100), "banner.png", "image/svg+xml", "claims to be PNG, SVG but its content is PNG"),
        (png(2001, 100), "wide.png", "image/png", "a banner may be at most 2000×2000"),
        (jpeg(100, 2500), "tall.jpg", "image/jpeg", "is 100×2500 pixels"),
        (png(100, 100) + b"\x00" * 500 * 1024, "heavy.png", "image/png", "a banner may be at most 500 KB"),
        (b"", "empty.png", "image/png", "Choose a file to upload."),
    ],
)
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_lies_oversized_and_empty_files_are_refused_with_nothing_stored(
    app, client, data, file_name, mimetype, message
):
    offer = signed_in_advertiser(client)
    response = upload(client, offer.id, data, file_name, mimetype)
    assert response.status_code == 422
    assert any(message in error for error in errors_of(response)), errors_of(response)
    assert stored_count() == 0


def test_retiring_a_banner_takes_it_out_of_the_api(app, client):
    offer = signed_in_advertiser(client)
    upload(client, offer.id, png(300, 250), "a.png", "image/png")
    banner = db.session.scalar(select(Banner))
    page = f"/portal/offers/{offer.id}/banners"
    response = client.post(f"{page}/{banner.id}/retire", data={"csrf_token": form_token(client, page)})
    assert response.headers["Location"] == f"{page}?done=retired"
    db.session.refresh(banner)
    assert banner.active is False
    listed = app.test_client().get(
        f"/api/v1/banners?offer={offer.id}", headers=auth("advertiser", advertiser_id=offer.advertiser_id)
    )
    assert listed.json["items"] == []


def test_another_advertisers_offer_and_banners_are_404(app, client):
    offer = signed_in_advertiser(client)
    rival = foreign_offer()
    rival_banner = Banner(
        offer_id=rival.id,
        name="Rival",
        width=1,
        height=1,
        mime_type="image/png",
        file_name="r.png",
        sha256="0" * 64,
        created_by="test",
    )
    db.session.add(rival_banner)
    db.session.commit()
    assert client.get(f"/portal/offers/{rival.id}/banners").status_code == 404
    assert upload(client, rival.id, png(10, 10), "a.png", "image/png", token_page="/portal").status_code == 404
    own = f"/portal/offers/{offer.id}/banners"
    token = form_token(client, own)
    assert (
        client.post(
            f"/portal/offers/{rival.id}/banners/{rival_banner.id}/retire", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert client.post(f"{own}/{rival_banner.id}/retire", data={"csrf_token": token}).status_code == 404
    db.session.refresh(rival_banner)
    assert rival_banner.active is True and "Rival" not in client.get(own).get_data(as_text=True)
    assert stored_count() == 1


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_403_strangers_sent_to_sign_in_and_csrf_required(app, client):
    offer = signed_in_advertiser(client)
    page = f"/portal/offers/{offer.id}/banners"
    form = {"file": (io.BytesIO(png(10, 10)), "a.png", "image/png")}
    assert client.post(page, data=form, content_type="multipart/form-data").status_code == 400
    assert app.test_client().get(page).headers["Location"].startswith("/login?next=")
    partner = app.test_client()
    make_person("partner")
    sign_in(partner, "partner@people.example")
    assert partner.get(page).status_code == 403
    assert upload_as(partner, page).status_code == 403
    assert stored_count() == 0


def upload_as(client, page: str):
    form = {"file": (io.BytesIO(png(10, 10)), "a.png", "image/png"), "csrf_token": form_token(client, "/portal")}
    return client.post(page, data=form, content_type="multipart/form-data")


def test_inline_raster_images_and_fragments_are_allowed_in_an_svg():
    drawing = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="120px" height="60"><style>rect { fill: url(#g); }</style>'
        b'<image href="data:image/png;base64,iVBORw0KGgo=" width="5" height="5"/><rect width="5" height="5"/></svg>'
    )
    assert check_svg(drawing) == SvgSize(120, 60)
