"""Command line entry point shared by `python -m fake_iamport`, `fake_toss` and `fake_portone`."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import NamedTuple

from flask import Flask

from fake_common.server import KEEP_ALIVE_THREADS, keep_alive_server


class Option(NamedTuple):
    """A fake's own command-line option: --flag VALUE sets config[key] (default shown in --help)."""

    flag: str
    key: str
    default: str
    help: str


def main(
    create_app: Callable[[dict | None], Flask],
    *,
    name: str,
    default_port: int,
    argv: Sequence[str] | None = None,
    options: Sequence[Option] = (),
) -> None:
    """Parse --host, --port, --threads and --webhook-url, then serve the fake until interrupted.

    The server keeps connections alive (HTTP/1.1, as real gateways do), in one process so the
    fake's state stays whole.
    """
    parser = argparse.ArgumentParser(prog=f"python -m {name}", description=f"Run the {name} fake.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=default_port, help=f"port (default {default_port})"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=KEEP_ALIVE_THREADS,
        help=f"requests served at once (default {KEEP_ALIVE_THREADS})",
    )
    parser.add_argument(
        "--webhook-url", default=None, help="where webhooks go when a payment names no URL"
    )
    for option in options:
        parser.add_argument(
            option.flag, default=option.default, help=f"{option.help} (default {option.default})"
        )
    args = parser.parse_args(argv)
    config: dict = {}
    for option in options:
        config[option.key] = getattr(args, option.flag.lstrip("-").replace("-", "_"))
    if args.webhook_url:
        config["WEBHOOK_URL"] = args.webhook_url
    app = create_app(config)
    server = keep_alive_server(app, args.host, args.port, threads=args.threads)
    print(f"{name} listening on http://{args.host}:{server.bind_addr[1]}", flush=True)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
