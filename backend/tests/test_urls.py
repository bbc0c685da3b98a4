"""Webhook URL checks: public hosts only, the allow-list, loopback outside real mode; nothing is dialled
except loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask

from payment_backend.errors import ApiError
from payment_backend.services.deliveries import guarded_session
from payment_backend.services.urls import UrlPolicy, WebhookUrlRefused, check_webhook_url

REFUSED_EVERYWHERE = [
    "http://10.0.0.1/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "http://192.168.1.20:8080/",
    "http://172.16.5.4/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://0.0.0.0:8000/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[::ffff:10.0.0.1]/",  # IPv4-mapped private address
    "http://224.0.0.1/",  # multicast
    "ftp://example.com/hooks",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "http:///no-host",
    "http://[not-an-address/",
]
LOOPBACK = ["http://localhost:8080/hooks", "http://127.0.0.1/hooks", "http://[::1]:9000/"]
PUBLIC = ["https://93.184.215.14/hooks", "http://8.8.8.8:8080/x", "https://[2606:4700::1]/"]


@contextmanager
def mode(name: str, allowlist: str = "") -> Iterator[None]:
    """An app context in a given PAYMENT_MODE (only what the URL policy reads)."""
    app = Flask(__name__)
    app.config.update(PAYMENT_MODE=name, WEBHOOK_ALLOWLIST=allowlist)
    with app.app_context():
        yield


def refused(url: str) -> WebhookUrlRefused:
    with pytest.raises(WebhookUrlRefused) as caught:
        check_webhook_url(url)
    return caught.value


@pytest.mark.parametrize("url", REFUSED_EVERYWHERE + LOOPBACK)
def test_private_reserved_and_loopback_urls_are_refused_in_real_mode(url):
    with mode("real"):
        error = refused(url)
    assert isinstance(error, ApiError)
    assert (error.status, error.code) == (422, "WEBHOOK_URL_NOT_ALLOWED")
    assert error.body()["code"] == "WEBHOOK_URL_NOT_ALLOWED"


@pytest.mark.parametrize("name", ["local", "test"])
def test_loopback_is_allowed_in_local_and_test_mode(name):
    with mode(name):
        for url in LOOPBACK:
            check_webhook_url(url)
        for url in REFUSED_EVERYWHERE:
            refused(url)


@pytest.mark.parametrize("url", PUBLIC)
def test_public_addresses_are_allowed(url):
    # Literal addresses: checked without DNS and without connecting.
    with mode("real"):
        check_webhook_url(url)


def test_the_allowlist_admits_hosts_whatever_they_resolve_to():
    with mode("real", allowlist=" hooks.internal.example , 10.0.0.1,LOCALHOST "):
        check_webhook_url("https://hooks.internal.example/payments")  # never resolved
        check_webhook_url("http://10.0.0.1:8080/hooks")
        check_webhook_url("http://localhost/hooks")
        refused("http://10.0.0.2/hooks")
        refused("ftp://hooks.internal.example/")  # the scheme still matters


def test_the_connection_itself_is_checked_against_dns_rebinding(merchant):
    # The name was fine when checked; the address actually reached is checked again on connect.
    session = guarded_session(UrlPolicy(allow_loopback=False, allowlist=frozenset()))
    with pytest.raises(WebhookUrlRefused, match="127.0.0.1"):
        session.post(merchant.url + "/hooks", data=b"{}", timeout=5)
    with pytest.raises(WebhookUrlRefused, match="127.0.0.1"):  # refused before the TLS handshake
        session.post(merchant.url.replace("http:", "https:") + "/hooks", timeout=5)
    assert merchant.received == []

    allowed = guarded_session(UrlPolicy(allow_loopback=True, allowlist=frozenset()))
    assert allowed.post(merchant.url + "/hooks", json={}, timeout=5).status_code == 200
    assert len(merchant.received) == 1
