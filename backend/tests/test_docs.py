"""/docs works without the internet: the page loads only assets this app serves."""

from __future__ import annotations

import re

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def test_the_docs_page_references_only_local_assets_and_they_are_served(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assets = ASSET.findall(html)
    assert {a.rsplit("/", 1)[-1] for a in assets} == {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    }
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.get_data()) > 10_000, asset
        kind = "text/css" if asset.endswith(".css") else "javascript"
        assert kind in served.headers["Content-Type"], asset
    assert '"validatorUrl": null' in html  # the UI never asks the online validator
    assert client.get("/openapi.json").status_code == 200


def test_only_the_ui_assets_are_served_from_the_package(client):
    assert client.get("/docs/assets/LICENSE").status_code == 404
    assert client.get("/docs/assets/..%2f__init__.py").status_code == 404
