"""Run a Flask app as a real threaded HTTP server in a background thread.

Two servers: werkzeug's (a thread per connection, `Connection: close` after every answer), the
default for test apps; and cheroot's (`keep_alive=True`), an HTTP/1.1 server with a thread pool
that keeps connections open between requests as real gateways do, for the fakes. werkzeug's
development server cannot keep connections: it closes each one after the answer, by design.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from cheroot.wsgi import Server as CherootServer
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

# Worker threads of a keep-alive server: requests served at once (an idle kept-alive connection
# holds none). The fakes sleep in these threads for their latency rules.
KEEP_ALIVE_THREADS = 16
# Seconds an idle kept-alive connection stays open (and a request may take to arrive).
KEEP_ALIVE_TIMEOUT = 30
# Seconds close() waits for requests in progress.
SHUTDOWN_TIMEOUT = 2


class RunningServer:
    """A server serving in a daemon thread; close() stops it."""

    def __init__(
        self, stop: Callable[[], None], thread: threading.Thread, host: str, port: int
    ) -> None:
        self._stop = stop
        self._thread = thread
        self.host = host
        self.port = port
        self.url = f"http://{host}:{self.port}"

    def close(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._stop()
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
    app: Flask,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    quiet: bool = True,
    keep_alive: bool = False,
    threads: int = KEEP_ALIVE_THREADS,
) -> RunningServer:
    """Start app on host:port (0 picks a free port) and return the running server.

    keep_alive: cheroot with `threads` workers (HTTP/1.1, connections kept); else werkzeug.
    """
    if keep_alive:
        server = keep_alive_server(app, host, port, threads=threads)
        thread = threading.Thread(target=server.serve, name=f"serve-{app.name}", daemon=True)
        thread.start()
        return RunningServer(server.stop, thread, host, server.bind_addr[1])
    handler = QuietRequestHandler if quiet else None
    dev_server = make_server(host, port, app, threaded=True, request_handler=handler)
    dev_server.daemon_threads = True
    thread = threading.Thread(
        target=dev_server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"serve-{app.name}",
        daemon=True,
    )
    thread.start()

    def stop() -> None:
        dev_server.shutdown()
        dev_server.server_close()

    return RunningServer(stop, thread, host, dev_server.server_port)


def keep_alive_server(
    app: Flask, host: str, port: int, *, threads: int = KEEP_ALIVE_THREADS
) -> CherootServer:
    """A bound (not yet serving) HTTP/1.1 keep-alive server for app: call serve(), then stop()."""
    server = CherootServer(
        (host, port),
        app,
        numthreads=threads,
        server_name=app.name,
        timeout=KEEP_ALIVE_TIMEOUT,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    server.prepare()  # binds now: port 0 has its number from here on
    return server
