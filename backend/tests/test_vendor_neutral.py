"""Services name no gateway: they use the registry and the Payments and Billing capabilities."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import payment_backend
from payment_backend.vendors import REGISTRY, VENDORS
from payment_backend.vendors.base import Billing, Payments

PACKAGE = Path(payment_backend.__file__).parent
SERVICES = sorted((PACKAGE / "services").rglob("*.py"))
SUBSCRIPTIONS = sorted((PACKAGE / "services" / "subscriptions").rglob("*.py"))
HANDLERS = sorted((PACKAGE / "handlers").rglob("*.py"))
VENDOR_MODULES = tuple(f"payment_backend.vendors.{name}" for name in VENDORS)
# What services and handlers may import from vendors/: the registry, the interface, the transport.
NEUTRAL_VENDOR_MODULES = ("payment_backend.vendors.base", "payment_backend.vendors.http")
NAMES_A_GATEWAY = re.compile(rf"\b({'|'.join(map(re.escape, VENDORS))})\b", re.IGNORECASE)
# The flags of Payments and Billing, each a bool on a client; the other members are methods.
FLAGS = ("confirms", "idempotent_cancel", "prepares", "window_pays", "books_ahead")


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


def vendors_imported(source: str, module: str) -> set[str]:
    """Every module or name under payment_backend.vendors that source (module's text) imports."""
    package = module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            origin = ".".join(part for part in (base, node.module or "") if part)
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("payment_backend.vendors.")}


def beyond_the_interface(imported: set[str]) -> list[str]:
    """Imported vendor modules other than the registry and the neutral ones: a gateway's own."""
    return sorted(
        name
        for name in imported
        if not any(name == n or name.startswith(n + ".") for n in NEUTRAL_VENDOR_MODULES)
        # the registry's own members (gateway, VENDORS, ...), not modules of a gateway
        and not (name.count(".") == 2 and name.rsplit(".", 1)[1] not in VENDORS)
    )


def string_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string constant in source that is not a docstring."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def module_of(path: Path) -> str:
    """The dotted name of a module of the package."""
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


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


def test_the_scans_catch_a_gateway_named_or_imported():
    source = (
        '"""A docstring may say iamport."""\n'
        "from payment_backend.vendors import base, gateway, toss\n"
        "from ..vendors.iamport import payments\n"
        "from payment_backend.vendors.http import TIMEOUT\n"
        'X = {"toss": 1, "iamport_pg": "/payments/webhooks/iamport"}\n'
    )
    named = [text for _, text in string_literals(source) if NAMES_A_GATEWAY.search(text)]
    assert named == ["toss", "/payments/webhooks/iamport"]
    imported = vendors_imported(source, "payment_backend.services.sample")
    assert beyond_the_interface(imported) == [
        "payment_backend.vendors.iamport",
        "payment_backend.vendors.iamport.payments",
        "payment_backend.vendors.toss",
    ]


@pytest.mark.parametrize("path", SERVICES + HANDLERS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_service_or_handler_names_a_gateway(path):
    named = [
        (n, text) for n, text in string_literals(path.read_text()) if NAMES_A_GATEWAY.search(text)
    ]
    assert named == []


@pytest.mark.parametrize("path", SERVICES + HANDLERS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_services_and_handlers_import_only_the_registry_and_the_interface(path):
    assert beyond_the_interface(vendors_imported(path.read_text(), module_of(path))) == []


@pytest.mark.parametrize("name", VENDORS)
def test_every_registered_gateway_implements_payments_and_billing(app, name):
    entry = REGISTRY[name]
    with app.app_context():
        client = entry.connect(app.config)
    assert client.name == entry.name == name
    for capability in (Payments, Billing):
        for method in (m for m in vars(capability) if not m.startswith("_")):
            if method in FLAGS + ("proof_fields",):
                continue
            assert callable(getattr(client, method, None)), f"{name} lacks {method}"
    for flag in FLAGS:
        assert isinstance(getattr(client, flag, None), bool), f"{name} lacks the flag {flag}"
    assert client.proof_fields and all(isinstance(f, str) for f in client.proof_fields)
