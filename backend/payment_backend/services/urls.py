"""Webhook URLs: which ones the backend may call (public hosts, the allow-list, loopback outside
real mode), and the one PortOne calls back."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

from payment_backend.errors import ApiError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookUrlRefused(ApiError):
    """A webhook URL the backend will not call (422 WEBHOOK_URL_NOT_ALLOWED)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(422, "WEBHOOK_URL_NOT_ALLOWED", message)
        # A name that does not resolve right now may resolve later; a private address will not.
        self.retryable = retryable


@dataclass(frozen=True)
class UrlPolicy:
    """Where outbound webhooks may go."""

    allow_loopback: bool
    allowlist: frozenset[str]

    def host_allowlisted(self, host: str) -> bool:
        """Whether the operator allowed this host whatever its addresses."""
        return host.lower().rstrip(".") in self.allowlist

    def address_allowed(self, address: IpAddress) -> bool:
        """Whether an address is public (or loopback where that is allowed)."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address.is_loopback:
            return self.allow_loopback
        return address.is_global and not address.is_multicast


def iamport_notice_url() -> str:
    """Where PortOne sends its webhooks: the notice_url handed to the browser's SDK."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + "/payments/webhooks/iamport"


def policy() -> UrlPolicy:
    """The app's policy from PAYMENT_MODE and WEBHOOK_ALLOWLIST."""
    config = current_app.config
    hosts = (h.strip().lower().rstrip(".") for h in str(config["WEBHOOK_ALLOWLIST"]).split(","))
    return UrlPolicy(
        allow_loopback=config["PAYMENT_MODE"] in ("local", "test"),
        allowlist=frozenset(h for h in hosts if h),
    )


def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address a host name resolves to (a literal address resolves to itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookUrlRefused(f"The host {host} does not resolve.", retryable=True) from exc
    # Strip an IPv6 zone id ("fe80::1%eth0") before parsing.
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check_addresses(host: str, addresses: Iterable[IpAddress], rules: UrlPolicy) -> None:
    """Refuse when any address of host is not allowed (one bad record is enough to refuse)."""
    if rules.host_allowlisted(host):
        return
    for address in addresses:
        if not rules.address_allowed(address):
            raise WebhookUrlRefused(
                f"The host {host} resolves to {address}, which is not a public address."
            )


def check_webhook_url(url: str, rules: UrlPolicy | None = None) -> None:
    """Raise WebhookUrlRefused (422 WEBHOOK_URL_NOT_ALLOWED) unless the backend may call url."""
    rules = rules or policy()
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise WebhookUrlRefused("The webhook URL is not a valid URL.") from exc
    if parts.scheme not in ("http", "https"):
        raise WebhookUrlRefused("The webhook URL must use http or https.")
    host = parts.hostname
    if not host:
        raise WebhookUrlRefused("The webhook URL has no host.")
    if rules.host_allowlisted(host):
        return
    check_addresses(host, resolve(host, port), rules)
