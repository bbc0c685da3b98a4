"""SSRF: every special-purpose address is refused, one by one, including the IPv6 forms that carry
a private IPv4 address (mapped, compatible, NAT64, 6to4, Teredo); public addresses pass."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask

from payment_backend.services.urls import (
    SPECIAL_IPV4,
    SPECIAL_IPV6,
    UrlPolicy,
    WebhookUrlRefused,
    check_webhook_url,
)

REAL = UrlPolicy(allow_loopback=False, allowlist=frozenset())
LOCAL = UrlPolicy(allow_loopback=True, allowlist=frozenset())


def _teredo(client: str, server: str = "65.54.227.120") -> str:
    """A Teredo address for a client IPv4 address (stored obfuscated: every bit flipped)."""
    high = int(ipaddress.IPv6Address("2001::")) | int(ipaddress.IPv4Address(server)) << 64
    obfuscated = ~int(ipaddress.IPv4Address(client)) & 0xFFFFFFFF
    return str(ipaddress.IPv6Address(high | 0xFFFF << 32 | obfuscated))


REFUSED = [
    # IPv4 special-purpose registry, multicast, reserved
    ("0.0.0.0", "this network"),
    ("0.1.2.3", "this network"),
    ("10.0.0.1", "private-use"),
    ("10.255.255.255", "private-use"),
    ("100.64.0.1", "shared address space"),
    ("100.127.255.254", "shared address space"),
    ("127.0.0.1", "loopback"),
    ("127.1.2.3", "loopback"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("172.16.0.1", "private-use"),
    ("172.31.255.1", "private-use"),
    ("192.0.0.1", "IETF protocol assignments"),
    ("192.0.0.9", "IETF protocol assignments"),
    ("192.0.0.170", "IETF protocol assignments"),  # NAT64 discovery
    ("192.0.2.10", "documentation"),
    ("192.31.196.1", "AS112-v4"),
    ("192.52.193.1", "AMT"),
    ("192.88.99.1", "6to4 relay anycast"),
    ("192.168.1.20", "private-use"),
    ("192.175.48.1", "AS112"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.1", "benchmarking"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.254", "reserved"),
    ("255.255.255.255", "limited broadcast"),
    # IPv6 special-purpose registry and the non-global address space
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("64:ff9b:1::a00:1", "local-use IPv4/IPv6 translation"),
    ("100::1", "discard-only"),
    ("100:0:0:1::1", "dummy IPv6 prefix"),
    ("2001:2::1", "benchmarking"),
    ("2001:10::1", "ORCHID"),
    ("2001:20::1", "ORCHIDv2"),
    ("2001:30::1", "drone remote ID"),
    ("2001:1::1", "IETF protocol assignments"),
    ("2001:3::1", "IETF protocol assignments"),  # AMT
    ("2001:4:112::1", "IETF protocol assignments"),  # AS112-v6
    ("2001:db8::1", "documentation"),
    ("2620:4f:8000::1", "AS112"),
    ("3fff::1", "documentation"),
    ("5f00::1", "SRv6"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("fe80::1", "link-local"),
    ("febf::1", "link-local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("4000::1", "outside the global unicast space"),
    ("1234::1", "outside the global unicast space"),
    # IPv6 forms that carry a private IPv4 address
    ("::ffff:10.0.0.1", "private-use"),  # IPv4-mapped
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::10.0.0.1", "IPv4-compatible form of 10.0.0.1 (private-use)"),
    ("::127.0.0.1", "IPv4-compatible form of 127.0.0.1 (loopback)"),
    ("::8.8.8.8", "IPv4-compatible"),  # deprecated whatever it carries
    ("64:ff9b::10.0.0.1", "NAT64 form of 10.0.0.1 (private-use)"),
    ("64:ff9b::127.0.0.1", "NAT64 form of 127.0.0.1 (loopback)"),
    ("64:ff9b::169.254.169.254", "NAT64 form of 169.254.169.254 (link-local)"),
    ("64:ff9b::c0a8:0101", "NAT64 form of 192.168.1.1"),
    ("2002:0a00:0001::1", "6to4 form of 10.0.0.1 (private-use)"),
    ("2002:7f00:0001::", "6to4 form of 127.0.0.1 (loopback)"),
    ("2002:a9fe:a9fe::1", "6to4 form of 169.254.169.254"),
    ("2002:0808:0808::1", "6to4"),  # a deprecated tunnel whatever it carries
    (_teredo("10.0.0.1"), "Teredo form of 10.0.0.1 (private-use)"),
    (_teredo("127.0.0.1"), "Teredo form of 127.0.0.1 (loopback)"),
    (_teredo("8.8.8.8"), "Teredo"),
]
ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "100.63.255.255",  # just below the shared address space
    "100.128.0.1",  # just above it
    "172.15.255.255",
    "172.32.0.1",
    "192.0.3.1",
    "198.17.255.255",
    "198.20.0.1",
    "223.255.255.254",
    "2606:4700::1111",
    "2a00:1450:4001::200e",
    "2001:4860:4860::8888",  # Google DNS: 2001:4860::/32 is outside 2001::/23
    "64:ff9b::8.8.8.8",  # NAT64 of a public address: the translator takes it there
    "::ffff:8.8.8.8",
]


@pytest.mark.parametrize(("address", "reason"), REFUSED, ids=[a for a, _ in REFUSED])
def test_special_purpose_addresses_are_refused(address, reason):
    parsed = ipaddress.ip_address(address)
    refusal = REAL.refusal(parsed)
    assert refusal is not None, f"{address} was allowed"
    assert reason in refusal
    assert not REAL.address_allowed(parsed)


@pytest.mark.parametrize(
    ("address", "reason"),
    [(a, r) for a, r in REFUSED if a not in ("127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1")],
)
def test_local_mode_allows_loopback_only_not_its_tunnelled_forms(address, reason):
    assert LOCAL.refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"])
def test_local_mode_allows_loopback(address):
    assert LOCAL.address_allowed(ipaddress.ip_address(address))
    assert not REAL.address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address):
    assert REAL.refusal(ipaddress.ip_address(address)) is None


def test_every_range_of_the_table_is_refused_at_its_edges():
    for special in SPECIAL_IPV4 + SPECIAL_IPV6:
        for address in (special.network[0], special.network[-1]):
            if special.public_embedded_allowed:
                continue  # judged by the address it carries (tested above)
            assert REAL.refusal(address) is not None, (special.name, address)


@contextmanager
def mode(name: str, allowlist: str = "") -> Iterator[None]:
    app = Flask(__name__)
    app.config.update(PAYMENT_MODE=name, WEBHOOK_ALLOWLIST=allowlist)
    with app.app_context():
        yield


@pytest.mark.parametrize(
    "url",
    [
        "http://[64:ff9b::a00:1]/hooks",
        "http://[64:ff9b::7f00:1]:8080/",
        "http://[2002:a00:1::1]/",
        "http://[::a00:1]/",
        f"http://[{_teredo('192.168.0.1')}]/",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
        "http://198.18.0.1/",
        "http://192.0.0.170/",
        "http://240.0.0.1/",
    ],
)
@pytest.mark.parametrize("name", ["real", "local"])
def test_webhook_urls_with_such_addresses_are_refused(url, name):
    with mode(name), pytest.raises(WebhookUrlRefused) as caught:
        check_webhook_url(url)
    assert caught.value.code == "WEBHOOK_URL_NOT_ALLOWED"
    assert "not a public address" in caught.value.message


def test_the_allowlist_still_admits_a_host_whatever_it_resolves_to():
    with mode("real", allowlist="hooks.internal.example,64:ff9b::a00:1"):
        check_webhook_url("https://hooks.internal.example/payments")
        check_webhook_url("http://[64:ff9b::a00:1]/hooks")
