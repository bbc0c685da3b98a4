"""Logs with a request id that follows a payment across calls and jobs: JSON lines for machines,
plain lines for a person at a terminal (LOG_FORMAT auto, the default, picks by stderr)."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime
from typing import TextIO

from flask import Flask, g, request

REQUEST_ID_HEADER = "X-Request-Id"
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
LOG_FORMATS = ("auto", "json", "text", "none")
CONTEXT_KEYS = ("order_id", "payment_id", "job_id", "delivery_id", "vendor")
# The Flask dev server colours its request lines; in a JSON value they would be escaped noise.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def new_request_id() -> str:
    """A fresh request id."""
    return "req_" + secrets.token_hex(8)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": ANSI_ESCAPE.sub("", record.getMessage()),
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        for key in CONTEXT_KEYS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """One plain line for a person: time, level, logger, message, then the request id and context."""

    def __init__(self, colour: bool = False) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        message = record.getMessage()
        if not self.colour:
            message = ANSI_ESCAPE.sub("", message)
        context = [f"{key}={getattr(record, key)}" for key in CONTEXT_KEYS if hasattr(record, key)]
        rid = request_id.get()
        if rid:
            context.insert(0, rid)
        line = f"{moment} {record.levelname:<7} {record.name}: {message}"
        if context:
            line += "  [" + " ".join(context) + "]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def chosen_format(setting: str, stream: TextIO) -> str:
    """json, text or none: auto is text on a terminal and JSON anywhere else (files, pipes)."""
    if setting != "auto":
        return setting
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def configure_logging(fmt: str, stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Send every log record to stream (stderr) in fmt, json or text (idempotent per format)."""
    if fmt not in ("json", "text"):
        return
    stream = stream or sys.stderr
    wanted = JsonFormatter if fmt == "json" else TextFormatter
    root = logging.getLogger()
    if any(type(h.formatter) is wanted for h in root.handlers):
        return
    handler = logging.StreamHandler(stream)
    isatty = getattr(stream, "isatty", None)
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else TextFormatter(bool(isatty and isatty()))
    )
    root.handlers = [handler]
    root.setLevel(level)


def register_logging(app: Flask) -> None:
    """Logs in the chosen format (none in tests) and a request id on every request and response."""
    configure_logging(chosen_format(app.config["LOG_FORMAT"], sys.stderr))

    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else new_request_id()
        g.request_id_token = request_id.set(rid)

    @app.after_request
    def _echo_request_id(response):
        rid = request_id.get()
        if rid:
            response.headers[REQUEST_ID_HEADER] = rid
        return response

    @app.teardown_request
    def _forget_request_id(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id.reset(token)
