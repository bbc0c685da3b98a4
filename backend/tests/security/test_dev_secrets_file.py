"""The generated dev secrets are readable by their owner only, from the first byte written."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from payment_backend.config import load_settings

# The folder the audit hook watches; None when no test is watching (hooks cannot be removed).
_watched: list[Path] = []
_exposed: list[tuple[str, str, int]] = []


def _audit(event: str, _args: tuple) -> None:
    """On every audited step (open, chmod, rename, ...), note any file others could read."""
    if not _watched:
        return
    folder = _watched.pop()  # the look below is audited too: not watched while it runs
    try:
        for entry in os.scandir(folder):
            mode = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
            if entry.is_file(follow_symlinks=False) and mode & 0o077:
                _exposed.append((event, entry.name, mode))
    except FileNotFoundError:
        pass
    finally:
        _watched.append(folder)


sys.addaudithook(_audit)


@pytest.fixture()
def no_umask() -> Iterator[None]:
    """A umask of 0: any file created without an explicit mode is world-readable."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_dev_secrets_are_created_0600_and_never_readable_by_others_meanwhile(tmp_path, no_umask):
    _exposed.clear()
    _watched.append(tmp_path)
    try:
        settings = load_settings(str(tmp_path), {}, env={"PAYMENT_MODE": "local"})
    finally:
        _watched.clear()
    secrets_file = tmp_path / "dev-secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert settings["PAYMENT_SEAL_KEY"] in secrets_file.read_text()
    assert sorted({(name, oct(mode)) for _, name, mode in _exposed}) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev-secrets.json", "dev-secrets.lock"]


def test_a_dev_secrets_file_left_readable_by_others_is_made_private(tmp_path):
    load_settings(str(tmp_path), {}, env={"PAYMENT_MODE": "local"})
    secrets_file = tmp_path / "dev-secrets.json"
    secrets_file.chmod(0o644)
    load_settings(str(tmp_path), {}, env={"PAYMENT_MODE": "local"})
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
