"""HTTP to gateways: one session per client, timeouts everywhere, a retry only where repeating is safe."""

from __future__ import annotations

import email.utils
import logging
import os
import random
import time
from collections.abc import Callable
from typing import Any

import requests

from payment_backend.logs import REQUEST_ID_HEADER, request_id
from payment_backend.metrics import observe_gateway_call
from payment_backend.transient import note_outside_effect
from payment_backend.vendors.base import GatewayUnavailable

log = logging.getLogger(__name__)

# (connect, read) seconds: a gateway that does not answer in time leaves the outcome unknown.
TIMEOUT = (3.05, 15.0)
# A throttled request (429, or the gateway's own "too fast") was not run: it is sent again after
# the gateway's Retry-After (else a growing, jittered pause), at most this often and this long.
THROTTLE_RETRIES = 3
MAX_THROTTLE_WAIT = 5.0


def is_throttled(response: requests.Response) -> bool:
    """HTTP 429 Too Many Requests."""
    return response.status_code == 429


def retry_after(response: requests.Response, attempt: int) -> float:
    """Seconds to wait before repeating a throttled request: its Retry-After (seconds or an
    HTTP date), else 0.25 s doubling per attempt with jitter; never over MAX_THROTTLE_WAIT."""
    header = (response.headers.get("Retry-After") or "").strip()
    wait: float | None = None
    if header.isdigit():
        wait = float(header)
    elif header:
        try:
            wait = email.utils.parsedate_to_datetime(header).timestamp() - time.time()
        except (TypeError, ValueError):
            wait = None
    if wait is None:
        wait = 0.25 * 2**attempt * random.uniform(0.5, 1.5)
    return min(max(wait, 0.0), MAX_THROTTLE_WAIT)


class GatewayHttp:
    """A requests session bound to one gateway's base URL."""

    def __init__(
        self,
        base_url: str,
        timeout: tuple[float, float] = TIMEOUT,
        *,
        vendor: str = "unknown",
        throttled: Callable[[requests.Response], bool] = is_throttled,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.vendor = vendor  # the label of its calls in /metrics
        self.timeout = timeout
        self.throttled = throttled  # whether an answer says "too fast, not run"
        self.session = requests.Session()
        # The environment (proxies, CA bundle) read once, not scanned again on every call.
        self.session.proxies = requests.utils.get_environ_proxies(self.base_url)
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            self.session.verify = bundle
        self.session.trust_env = False
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def send(
        self,
        method: str,
        path: str,
        *,
        safe_to_repeat: bool,
        timeout: tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send; on a connection error or a 5xx, repeat once when safe, else GatewayUnavailable.

        A throttled answer (the request was not run) is repeated after the gateway's Retry-After;
        still throttled after THROTTLE_RETRIES, it is GatewayUnavailable (try later).
        """
        for throttle in range(THROTTLE_RETRIES + 1):
            response = self._send(
                method, path, safe_to_repeat=safe_to_repeat, timeout=timeout, **kwargs
            )
            if not self.throttled(response):
                return response
            if throttle < THROTTLE_RETRIES:
                wait = retry_after(response, throttle)
                log.warning("gateway %s %s throttled; again in %.2f s", method, path, wait)
                time.sleep(wait)
        raise GatewayUnavailable(f"{method} {path}: throttled ({response.status_code})")

    def _send(
        self,
        method: str,
        path: str,
        *,
        safe_to_repeat: bool,
        timeout: tuple[float, float] | None,
        **kwargs: Any,
    ) -> requests.Response:
        """One send, repeated once on a connection error or a 5xx when safe."""
        attempts = 2 if safe_to_repeat else 1
        if method != "GET":
            note_outside_effect()  # a write at the gateway: the request is not run again
        rid = request_id.get()
        if rid:
            kwargs["headers"] = {**kwargs.get("headers", {}), REQUEST_ID_HEADER: rid}
        last: Exception | None = None
        for attempt in range(attempts):
            started = time.perf_counter()
            try:
                response = self.session.request(
                    method, self.base_url + path, timeout=timeout or self.timeout, **kwargs
                )
            except requests.RequestException as exc:
                observe_gateway_call(self.vendor, method, started, None)
                last = exc
                log.warning("gateway %s %s failed (attempt %d): %s", method, path, attempt + 1, exc)
                continue
            observe_gateway_call(self.vendor, method, started, response.status_code)
            if response.status_code >= 500:
                last = GatewayUnavailable(f"{method} {path} answered {response.status_code}")
                log.warning("gateway %s %s answered %d", method, path, response.status_code)
                continue
            return response
        raise GatewayUnavailable(f"{method} {path}: {last}")
