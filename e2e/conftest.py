"""The whole system as real servers: both fakes and the backend (serving the built demo)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade

from fake_common.server import RunningServer, serve_in_thread
from payment_backend import MIGRATIONS, create_app

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "frontend"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def _newest_mtime(folder: Path) -> float:
    return max((p.stat().st_mtime for p in folder.rglob("*") if p.is_file()), default=0.0)


@pytest.fixture(scope="session")
def frontend_dist() -> Path:
    """frontend/dist, built when missing or older than its sources."""
    dist = FRONTEND / "dist"
    sources = [FRONTEND / "src", FRONTEND / "index.html", FRONTEND / "package-lock.json"]
    newest_source = max(_newest_mtime(p) if p.is_dir() else p.stat().st_mtime for p in sources)
    if not (dist / "index.html").exists() or _newest_mtime(dist) < newest_source:
        if not (FRONTEND / "node_modules").exists():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
        subprocess.run(["npm", "run", "build"], cwd=FRONTEND, check=True)
    return dist


@dataclass
class System:
    """URLs and apps of the running system."""

    backend: RunningServer
    backend_app: Flask
    iamport: RunningServer
    toss: RunningServer

    @property
    def url(self) -> str:
        """The shop's URL."""
        return self.backend.url


@pytest.fixture(scope="session")
def system(frontend_dist: Path, tmp_path_factory) -> Iterator[System]:
    """Start fake iamport, fake Toss and the backend on free ports."""
    import fake_iamport
    import fake_toss

    iamport = serve_in_thread(fake_iamport.create_app())
    toss = serve_in_thread(fake_toss.create_app())
    app = create_app(
        {
            "PAYMENT_MODE": "test",
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
            "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('db') / 'e2e.sqlite3'}",
            "IAMPORT_API_URL": iamport.url,
            "TOSS_API_URL": toss.url,
            "FRONTEND_DIST": str(frontend_dist),
        }
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
    backend = serve_in_thread(app)
    app.config["PUBLIC_URL"] = backend.url
    yield System(backend=backend, backend_app=app, iamport=iamport, toss=toss)
    for server in (backend, iamport, toss):
        server.close()


@pytest.fixture(scope="session")
def base_url(system: System) -> str:
    """pytest-playwright's base URL: the shop."""
    return system.url


@pytest.fixture()
def screenshot(page, request):
    """Save a screenshot of the final page under e2e/artifacts/<test name>.png."""

    def take(name: str | None = None) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name or request.node.name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
