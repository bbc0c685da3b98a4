"""Services name no gateway: they use the registry and the Payments and Billing capabilities."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import payment_backend
from payment_backend.vendors import REGISTRY, VENDORS
from payment_backend.vendors.base import Billing, Payments

PACKAGE = Path(payment_backend.__file__).parent
SERVICES = sorted((PACKAGE / "services").rglob("*.py"))
SUBSCRIPTIONS = sorted((PACKAGE / "services" / "subscriptions").rglob("*.py"))
VENDOR_MODULES = tuple(f"payment_backend.vendors.{name}" for name in VENDORS)


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (from-imports as module.name too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_the_package_of_subscriptions_is_where_the_scan_looks():
    assert len(SUBSCRIPTIONS) >= 6 and len(SERVICES) > len(SUBSCRIPTIONS)


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_service_imports_a_vendor_module(path):
    vendor_imports = sorted(
        module
        for module in imported_modules(path)
        if any(module == v or module.startswith(v + ".") for v in VENDOR_MODULES)
    )
    assert vendor_imports == []


@pytest.mark.parametrize("path", SUBSCRIPTIONS, ids=lambda p: p.name)
def test_subscriptions_never_name_a_gateway(path):
    tree = ast.parse(path.read_text(), str(path))
    named = [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.strip().lower() in VENDORS
    ]
    assert named == []


@pytest.mark.parametrize("name", VENDORS)
def test_every_registered_gateway_implements_payments_and_billing(app, name):
    entry = REGISTRY[name]
    with app.app_context():
        client = entry.connect(app.config)
    assert client.name == entry.name == name
    for capability in (Payments, Billing):
        for method in (m for m in vars(capability) if not m.startswith("_")):
            if method in ("window_pays", "books_ahead", "proof_fields"):
                continue
            assert callable(getattr(client, method, None)), f"{name} lacks {method}"
    assert isinstance(client.window_pays, bool) and isinstance(client.books_ahead, bool)
    assert client.proof_fields and all(isinstance(f, str) for f in client.proof_fields)
