"""HTTP to gateways: one session per client, timeouts everywhere, a retry only where repeating is safe."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import requests

from payment_backend.logs import REQUEST_ID_HEADER, request_id
from payment_backend.metrics import observe_gateway_call
from payment_backend.transient import note_outside_effect
from payment_backend.vendors.base import GatewayUnavailable

log = logging.getLogger(__name__)

# (connect, read) seconds: a gateway that does not answer in time leaves the outcome unknown.
TIMEOUT = (3.05, 15.0)


class GatewayHttp:
    """A requests session bound to one gateway's base URL."""

    def __init__(
        self, base_url: str, timeout: tuple[float, float] = TIMEOUT, *, vendor: str = "unknown"
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.vendor = vendor  # the label of its calls in /metrics
        self.timeout = timeout
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
        """Send; on a connection error or a 5xx, repeat once when safe, else GatewayUnavailable."""
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
