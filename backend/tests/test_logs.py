"""make run's logs: plain lines on a terminal, JSON lines elsewhere or when asked."""

from __future__ import annotations

import io
import json
import logging

import pytest

from payment_backend.config import SettingsError, load_settings
from payment_backend.logs import (
    JsonFormatter,
    TextFormatter,
    chosen_format,
    configure_logging,
    request_id,
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


COLOURED = '\x1b[32m"GET /api/checkout/config HTTP/1.1" 200 -\x1b[0m'


def record(message: str = COLOURED, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("werkzeug", level, __file__, 1, message, (), None)


def test_auto_is_text_on_a_terminal_and_json_in_a_pipe_or_file():
    assert chosen_format("auto", Terminal()) == "text"
    assert chosen_format("auto", io.StringIO()) == "json"
    assert chosen_format("json", Terminal()) == "json"
    assert chosen_format("text", io.StringIO()) == "text"


def test_the_mode_defaults_and_bad_values(tmp_path):
    assert load_settings(str(tmp_path), {"PAYMENT_MODE": "local"})["LOG_FORMAT"] == "auto"
    assert load_settings(str(tmp_path), {"PAYMENT_MODE": "test"})["LOG_FORMAT"] == "none"
    given = {"PAYMENT_MODE": "local", "LOG_FORMAT": "JSON"}
    assert load_settings(str(tmp_path), given)["LOG_FORMAT"] == "json"
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        load_settings(str(tmp_path), {"PAYMENT_MODE": "local", "LOG_FORMAT": "xml"})


def test_json_lines_carry_no_escaped_colour_codes():
    line = JsonFormatter().format(record())
    assert "\\u001b" not in line and "\x1b" not in line
    assert json.loads(line)["message"] == '"GET /api/checkout/config HTTP/1.1" 200 -'


def test_a_text_line_is_for_a_person():
    token = request_id.set("req_text_0001")
    try:
        line = TextFormatter().format(record("order ord_1 paid", logging.WARNING))
    finally:
        request_id.reset(token)
    assert "{" not in line and "\x1b" not in line
    assert "WARNING" in line and "werkzeug: order ord_1 paid" in line
    assert line.endswith("[req_text_0001]")
    assert "\x1b[32m" in TextFormatter(colour=True).format(record())


@pytest.mark.parametrize(("fmt", "stream_type"), [("json", io.StringIO), ("text", Terminal)])
def test_configure_logging_writes_the_chosen_format(fmt, stream_type):
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    stream = stream_type()
    root.handlers = []  # an app made earlier in this process may have configured it already
    try:
        configure_logging(fmt, stream)
        logging.getLogger("payment_backend.test").info("hello")
    finally:
        root.handlers, root.level = saved, level
    written = stream.getvalue().strip()
    if fmt == "json":
        assert json.loads(written)["message"] == "hello"
    else:
        assert written.endswith("payment_backend.test: hello")
