"""python -m fake_portone [--host H] [--port 41851] [--webhook-url URL] [--api-secret S]
[--webhook-secret whsec_...]."""

from fake_common.cli import Option, main
from fake_portone import API_SECRET, DEFAULT_PORT, WEBHOOK_SECRET, create_app

OPTIONS = (
    Option("--api-secret", "API_SECRET", API_SECRET, "the V2 API secret callers must send"),
    Option("--webhook-secret", "WEBHOOK_SECRET", WEBHOOK_SECRET, "whsec_ secret signing webhooks"),
)

if __name__ == "__main__":
    main(create_app, name="fake_portone", default_port=DEFAULT_PORT, options=OPTIONS)
