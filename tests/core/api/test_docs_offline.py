"""The API docs pages load nothing from another host: every script and stylesheet is served by the app."""

from __future__ import annotations

import re

import pytest

PAGES = ["/api/v1/docs/redoc/", "/api/v1/docs/swagger/", "/api/v1/docs/swagger/oauth2-redirect.html/"]
ANY_URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")
ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_docs_page_names_no_other_host_and_each_asset_is_served(app, client, path):
    response = client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # A protocol-relative //cdn... counts as another host too; comments are code the browser never loads.
    foreign = [url for url in ANY_URL.findall(re.sub(r"<!--.*?-->", "", page, flags=re.S)) if "localhost" not in url]
    assert foreign == []
    for asset in ASSET.findall(page):
        assert asset.startswith("/static/apidocs/"), asset
        served = client.get(asset)
        assert served.status_code == 200 and len(served.data) > 10_000, asset
        # The bundles themselves fetch nothing from a CDN either (redoc's logo did: static/apidocs/README.md).
        assert b"https://cdn." not in served.data and b"unpkg.com" not in served.data, asset
        served.close()


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_the_docs_read_the_description_the_app_serves(app, client):
    redoc = re.search(r'spec-url="([^"]+)"', client.get("/api/v1/docs/redoc/").get_data(as_text=True)).group(1)
    swagger = re.search(r'url: "([^"]+)"', client.get("/api/v1/docs/swagger/").get_data(as_text=True)).group(1)
    assert redoc == swagger and redoc.startswith("/api/v1/")
    assert client.get(redoc).json["info"]["title"] == "Handoff API"
    assert client.get("/api/v1/docs/scalar/").status_code == 404  # its bundle is not vendored
