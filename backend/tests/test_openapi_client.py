"""A client generated from /openapi.json (openapi-python-client, as a shop's team would generate
one) builds, calls the backend served over HTTP, and parses a real error answer into its type."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from fake_common.server import RunningServer

PACKAGE = "payment_client"


@pytest.fixture(scope="module")
def generated_client(live: RunningServer, tmp_path_factory) -> object:
    """The package openapi-python-client generates from the live document, imported."""
    root = tmp_path_factory.mktemp("generated-client")
    document = root / "openapi.json"
    document.write_text(json.dumps(requests.get(f"{live.url}/openapi.json", timeout=10).json()))
    config = root / "config.json"
    config.write_text(
        json.dumps({"project_name_override": PACKAGE, "package_name_override": PACKAGE})
    )
    generator = Path(sys.executable).with_name("openapi-python-client")
    run = subprocess.run(
        [str(generator), "generate", "--path", str(document), "--config", str(config)]
        + ["--meta", "none", "--output-path", str(root / PACKAGE)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_a_generated_client_parses_an_error_answer_into_the_routes_error_type(
    generated_client, live: RunningServer
):
    get_order = importlib.import_module(f"{PACKAGE}.api.checkout.get_api_checkout_orders_order_id")
    models = importlib.import_module(f"{PACKAGE}.models")
    client = generated_client.Client(base_url=live.url, raise_on_unexpected_status=True)

    answer = get_order.sync_detailed(order_id="ord_00000000000000000000", client=client)

    assert answer.status_code == 404
    error = answer.parsed
    assert isinstance(error, models.GetApiCheckoutOrdersOrderIdResponse404)
    assert error.code == models.GetApiCheckoutOrdersOrderIdResponse404Code.ORDER_NOT_FOUND
    assert error.message == "No order ord_00000000000000000000."


def test_a_generated_client_parses_the_routes_own_fields_of_an_error(
    generated_client, live: RunningServer
):
    create_order = importlib.import_module(f"{PACKAGE}.api.checkout.post_api_checkout_orders")
    models = importlib.import_module(f"{PACKAGE}.models")
    client = generated_client.Client(base_url=live.url, raise_on_unexpected_status=True)
    body = models.CreateOrder(
        vendor=models.CreateOrderVendor.TOSS,
        method=models.CreateOrderMethod.CARD,
        items=[models.OrderItem(product_id=2**31 - 1, quantity=1)],
    )

    answer = create_order.sync_detailed(client=client, body=body)

    assert answer.status_code == 422
    assert answer.parsed.code == models.PostApiCheckoutOrdersResponse422Code.UNKNOWN_PRODUCT
    assert answer.parsed.product_ids == [2**31 - 1]
