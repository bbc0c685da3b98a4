"""Chaos suite fixtures: a whole system per scenario module (see chaos_harness.py)."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the scenarios import chaos_harness

from chaos_harness import Stack  # noqa: E402

if not os.environ.get("TEST_DATABASE_URL"):
    collect_ignore_glob = ["test_*.py"]  # PostgreSQL only (connections killed, many processes)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """A fresh database and the whole system for one scenario module."""
    import psycopg

    server = os.environ["TEST_DATABASE_URL"]
    name = f"chaos_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    built = None
    try:
        built = Stack(tmp_path_factory.mktemp("chaos"), database)
        built.start()
        yield built
    finally:
        if built is not None:
            built.close()
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
