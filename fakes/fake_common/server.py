"""Run a Flask app as a real threaded HTTP server in a background thread."""

from __future__ import annotations

import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class RunningServer:
    """A werkzeug server serving in a daemon thread; close() stops it."""

    def __init__(self, server: BaseWSGIServer, thread: threading.Thread, host: str) -> None:
        self._server = server
        self._thread = thread
        self.host = host
        self.port: int = server.server_port
        self.url = f"http://{host}:{self.port}"

    def close(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class QuietRequestHandler(WSGIRequestHandler):
    """A request handler that does not log every request to stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Skip the access log."""


def serve_in_thread(
    app: Flask, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True
) -> RunningServer:
    """Start app on host:port (0 picks a free port) and return the running server."""
    handler = QuietRequestHandler if quiet else None
    server = make_server(host, port, app, threaded=True, request_handler=handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"serve-{app.name}",
        daemon=True,
    )
    thread.start()
    return RunningServer(server, thread, host)
