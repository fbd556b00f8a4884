"""Text log lines cannot be forged: a message argument holding CR/LF or other controls (a
request path, an address, a remote server's error text) is escaped, one record a line; a
traceback keeps its lines. The uvicorn configuration of ``paperroute serve`` uses the same
formatter."""

from __future__ import annotations

import io
import logging
import logging.config

from paperroute.logs import TEXT_FORMAT, formatter, server_log_config

FORGED = "/x\r\nERROR paperroute.web.problems: forged\u2028\x1b[31m"


def _written(handler_formatter: logging.Formatter, *, exc: bool = False) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(handler_formatter)
    logger = logging.getLogger("paperroute.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        if exc:
            try:
                raise ValueError("boom")
            except ValueError:
                logger.exception("storage error on %s", FORGED)
        else:
            logger.error("storage error on %s: %s", FORGED, "reply\nline two")
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_text_line_escapes_line_breaks_and_controls() -> None:
    text = _written(formatter("text"))
    assert text.count("\n") == 1 and "\r" not in text and "\x1b" not in text
    assert text == (
        "ERROR paperroute.test_logs: storage error on "
        "/x\\r\\nERROR paperroute.web.problems: forged\\u2028\\x1b[31m: reply\\nline two\n"
    )


def test_a_traceback_keeps_its_lines_but_the_message_is_one() -> None:
    lines = _written(formatter("text"), exc=True).splitlines()
    assert lines[0].startswith("ERROR paperroute.test_logs: storage error on /x\\r\\n")
    assert lines[1] == "Traceback (most recent call last):" and lines[-1] == "ValueError: boom"
    assert not any(line.startswith("ERROR paperroute.web.problems") for line in lines)


def test_the_servers_text_configuration_escapes_too() -> None:
    config = server_log_config("text")
    chosen = logging.config.DictConfigurator(config).configure_formatter(
        config["formatters"]["chosen"]
    )
    assert chosen._fmt == TEXT_FORMAT
    assert _written(chosen).count("\n") == 1
