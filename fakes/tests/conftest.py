"""Fixtures shared by the fake-gateway tests: the fakes, run over real HTTP, and a webhook receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from fake_common.receiver import WebhookReceiver
from fake_iamport.testing import IamportTestClient, running_fake_iamport
from fake_portone.testing import PortOneTestClient, running_fake_portone
from fake_toss.testing import TossTestClient, running_fake_toss


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A webhook receiver on a free port; .url is its base URL."""
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def iamport_factory() -> Iterator[Callable[..., IamportTestClient]]:
    """Start fake iamport servers with a given config; each is stopped after the test."""
    with ExitStack() as stack:

        def start(config: dict | None = None) -> IamportTestClient:
            return stack.enter_context(running_fake_iamport(config))

        yield start


@pytest.fixture
def iamport(iamport_factory) -> IamportTestClient:
    """A fresh fake iamport on a free port, as a test client (.url, .gateway, .app)."""
    return iamport_factory()


@pytest.fixture(scope="session")
def toss_server() -> Iterator[TossTestClient]:
    """One fake Toss server with the default config for the whole session (reset by `toss`)."""
    with running_fake_toss() as fake:
        yield fake


@pytest.fixture
def toss(toss_server: TossTestClient) -> TossTestClient:
    """The fake Toss server, reset: no payments, real time, no fault rules, no webhooks."""
    toss_server.reset()
    return toss_server


@pytest.fixture(scope="session")
def portone_server() -> Iterator[PortOneTestClient]:
    """One fake PortOne V2 with the default config for the whole session (reset by `portone`)."""
    with running_fake_portone() as fake:
        yield fake


@pytest.fixture
def portone(portone_server: PortOneTestClient) -> PortOneTestClient:
    """The fake PortOne V2, reset: no payments, real time, no fault rules, no webhooks."""
    portone_server.reset()
    return portone_server


@pytest.fixture
def portone_sdk(portone: PortOneTestClient):
    """The official `portone-server-sdk` client (PortOneClient) pointed at the reset fake."""
    return portone.sdk()
