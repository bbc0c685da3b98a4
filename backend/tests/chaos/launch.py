"""Start gunicorn or the flask CLI for the chaos suite, with the gateway client's read timeout
shortened (CHAOS_GATEWAY_READ_TIMEOUT seconds) so that "latency beyond the timeout" costs the
suite seconds, not the production 15 s (65 s for Toss billing). Nothing else is changed.

    python launch.py gunicorn --config gunicorn.conf.py 'payment_backend:create_app()'
    python launch.py flask --app payment_backend worker
"""

from __future__ import annotations

import os
import sys

CONNECT = 2.0


def shorten_gateway_timeouts() -> None:
    """Patch the timeouts before any client is built (gunicorn forks its workers after this)."""
    read = float(os.environ.get("CHAOS_GATEWAY_READ_TIMEOUT") or 0)
    if not read:
        return
    from payment_backend.vendors import http
    from payment_backend.vendors.toss import billing as toss_billing

    http.TIMEOUT = (CONNECT, read)
    http.GatewayHttp.__init__.__defaults__ = ((CONNECT, read),)
    toss_billing.BILLING_TIMEOUT = (CONNECT, read + 1)


def main() -> None:
    """Run the named tool with the rest of the arguments."""
    tool = sys.argv.pop(1)
    shorten_gateway_timeouts()
    sys.argv[0] = tool
    if tool == "gunicorn":
        from gunicorn.app.wsgiapp import run

        run()
    elif tool == "flask":
        from flask.cli import main as flask_main

        flask_main()
    else:
        raise SystemExit(f"unknown tool {tool!r}")


if __name__ == "__main__":
    main()
