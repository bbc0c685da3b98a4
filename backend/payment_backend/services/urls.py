"""Webhook URLs: which ones the backend may call (public hosts, the allow-list, loopback outside
real mode), the one PortOne calls back, and how URLs appear in logs.

An address is public when no range of the special-purpose table below holds it. The table follows
IANA's IPv4 and IPv6 Special-Purpose Address Registries (plus multicast, and IPv6 outside the
global unicast space 2000::/3); the IPv6 forms that carry an IPv4 address (mapped, compatible,
NAT64, 6to4, Teredo) are judged by that IPv4 address too, since a translator or tunnel may take
the connection there.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from flask import current_app

from payment_backend.errors import ApiError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Embedded = Callable[[ipaddress.IPv6Address], ipaddress.IPv4Address]


def _low32(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)


def _sixtofour(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return address.sixtofour  # type: ignore[return-value]  # never None inside 2002::/16


def _teredo_client(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return address.teredo[1]  # type: ignore[index]  # the client's address, de-obfuscated


@dataclass(frozen=True)
class SpecialRange:
    """A special-purpose range: refused, unless it embeds an IPv4 address and may carry public ones."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    name: str
    embedded: Embedded | None = None  # how to read the IPv4 address it carries
    public_embedded_allowed: bool = False  # allowed when that IPv4 address is allowed


def _ranges(*rows: tuple) -> tuple[SpecialRange, ...]:
    return tuple(SpecialRange(ipaddress.ip_network(row[0]), *row[1:]) for row in rows)


# More specific ranges first: the first range that holds an address names it.
SPECIAL_IPV4 = _ranges(
    ("0.0.0.0/8", "this network"),
    ("10.0.0.0/8", "private-use"),
    ("100.64.0.0/10", "shared address space"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private-use"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.31.196.0/24", "AS112-v4"),
    ("192.52.193.0/24", "AMT"),
    ("192.88.99.0/24", "6to4 relay anycast (deprecated)"),
    ("192.168.0.0/16", "private-use"),
    ("192.175.48.0/24", "direct delegation AS112 service"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "limited broadcast"),
    ("240.0.0.0/4", "reserved"),
)
SPECIAL_IPV6 = _ranges(
    ("::1/128", "loopback"),
    ("::/128", "unspecified"),
    ("::ffff:0:0/96", "IPv4-mapped", _low32),
    ("::/96", "IPv4-compatible", _low32),  # deprecated (RFC 4291)
    ("64:ff9b::/96", "NAT64", _low32, True),
    ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation"),
    ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy IPv6 prefix"),
    ("2001::/32", "Teredo", _teredo_client),
    ("2001:2::/48", "benchmarking"),
    ("2001:10::/28", "ORCHID (deprecated)"),
    ("2001:20::/28", "ORCHIDv2"),
    ("2001:30::/28", "drone remote ID"),
    ("2001::/23", "IETF protocol assignments"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4", _sixtofour),
    ("2620:4f:8000::/48", "direct delegation AS112 service"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing (SRv6) SIDs"),
    ("fc00::/7", "unique local"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (deprecated)"),
    ("ff00::/8", "multicast"),
)
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")


def special_purpose(address: IpAddress) -> str | None:
    """Why an address is not a public one (None when it is): its special-purpose range."""
    table = SPECIAL_IPV4 if address.version == 4 else SPECIAL_IPV6
    for special in table:
        if address not in special.network:
            continue
        if special.embedded is not None:
            inner = special.embedded(address)  # type: ignore[arg-type]
            inner_reason = special_purpose(inner)
            if inner_reason is not None:
                return f"{special.name} form of {inner} ({inner_reason})"
            if special.public_embedded_allowed:
                return None
        return special.name
    if address.version == 6 and address not in GLOBAL_UNICAST_V6:
        return "outside the global unicast space 2000::/3"
    return None


def loggable_url(url: str) -> str:
    """A URL for logs and stored errors: no userinfo, query string nor fragment (tokens live there)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def scrub(text: str, url: str) -> str:
    """text (an error message) without the secret parts of url that it may quote."""
    try:
        parts = urlsplit(url)
        secrets = [parts.query, parts.fragment, parts.password or "", parts.username or ""]
    except ValueError:
        return text
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


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
        return self.refusal(address) is None

    def refusal(self, address: IpAddress) -> str | None:
        """Why an address is refused (None when it is allowed)."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped  # the same host as the IPv4 address, loopback included
        if address.is_loopback and self.allow_loopback:
            return None
        return special_purpose(address)


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
        reason = rules.refusal(address)
        if reason is not None:
            raise WebhookUrlRefused(
                f"The host {host} resolves to {address}, which is not a public address ({reason})."
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
