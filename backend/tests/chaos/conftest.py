"""Chaos suite fixtures: a whole system per scenario module (see chaos_harness.py)."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the scenarios import chaos_harness

from chaos_harness import Stack, migrate  # noqa: E402

if not os.environ.get("TEST_DATABASE_URL"):
    collect_ignore_glob = ["test_*.py"]  # PostgreSQL only (connections killed, many processes)


def _database(name: str, template: str | None = None) -> str:
    import psycopg

    server = os.environ["TEST_DATABASE_URL"]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def _drop(name: str) -> None:
    import psycopg

    with psycopg.connect(os.environ["TEST_DATABASE_URL"], autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def migrated(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A migrated database to copy (CREATE DATABASE ... TEMPLATE) and its instance folder with
    the generated dev secrets: each module starts from a copy instead of migrating again."""
    name = f"chaos_template_{uuid.uuid4().hex[:12]}"
    instance = tmp_path_factory.mktemp("chaos-instance")
    try:
        migrate({"DATABASE_URL": _database(name), "PAYMENT_INSTANCE_PATH": str(instance)})
        yield name, instance
    finally:
        _drop(name)


@pytest.fixture(scope="module")
def stack(migrated, tmp_path_factory) -> Iterator[Stack]:
    """A fresh database (a copy of the migrated one) and the whole system for one module."""
    template, instance = migrated
    name = f"chaos_{uuid.uuid4().hex[:12]}"
    tmp = tmp_path_factory.mktemp("chaos")
    shutil.copy(instance / "dev-secrets.json", tmp / "dev-secrets.json")
    built = None
    try:
        built = Stack(tmp, _database(name, template))
        built.start()
        yield built
    finally:
        if built is not None:
            built.close()
        _drop(name)
