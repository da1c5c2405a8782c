"""Logs of `spotex serve`: one line per record on stderr, as text or as JSON.

text: `2026-12-01T21:03:02.123Z INFO spotex.engine message key=value ...`; an access record
(logger `spotex.access`, fields method/path/status/ms/client/weight) reads
`... INFO spotex.access 127.0.0.1 POST /api/v3/order 200 0.8ms weight=1`.
json: `{"ts", "level", "logger", "msg", ...every extra field, "exc"}` for log shippers.
"""
from __future__ import annotations

import logging
import sys
import time
from typing import Any, TextIO

import orjson

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
          "error": logging.ERROR}
FORMATS = ("text", "json")
ACCESS_LOGGER = "spotex.access"
# what every LogRecord has; anything else on a record came from `extra=`
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def setup(level: str = "info", fmt: str = "text", access_log: bool = True,
          stream: TextIO | None = None) -> None:
    """Send every log record at `level` and above to stderr (or `stream`) as `fmt`.

    Calling it again replaces what an earlier call installed. uvicorn's own messages
    are kept to warnings unless the level is debug (its access log is off: spotex
    writes its own, on `spotex.access`, switched by `access_log`)."""
    lvl = LEVELS.get(str(level).lower())
    if lvl is None:
        raise ValueError(f"unknown log level {level!r} (use {', '.join(LEVELS)})")
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r} (use {', '.join(FORMATS)})")
    # nothing of ours prints threads, processes or source lines: not looking them up
    # takes ~40 % off each record (an access line per request adds up)
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(lvl)
    logging.getLogger("uvicorn").setLevel(lvl if lvl == logging.DEBUG else max(lvl, logging.WARNING))
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.NOTSET if access_log else logging.WARNING)


class _Handler(logging.StreamHandler):
    """The handler `setup` installs (so a second call can find and replace it)."""


def timestamp(record: logging.LogRecord) -> str:
    """UTC, millisecond precision: 2026-12-01T21:03:02.123Z."""
    return (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z")


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _ms(value: Any) -> str:
    return f"{value:.1f}ms" if isinstance(value, (int, float)) else f"{value}ms"


def _access_line(fields: dict[str, Any]) -> str:
    """client method path status ms, then the other fields as key=value."""
    parts = [str(fields.pop(k, "-")) for k in ("client", "method", "path", "status")]
    if "ms" in fields:
        parts.append(_ms(fields.pop("ms")))
    return " ".join(parts + [f"{k}={v}" for k, v in fields.items()])


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = extra_fields(record)
        if "method" in fields and "path" in fields:
            body = _access_line(fields)
        else:
            body = " ".join([record.getMessage()] + [f"{k}={v}" for k, v in fields.items()])
        line = f"{timestamp(record)} {record.levelname} {record.name} {body}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {"ts": timestamp(record), "level": record.levelname.lower(),
                               "logger": record.name, "msg": record.getMessage()}
        for key, value in extra_fields(record).items():
            doc.setdefault(key, value)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            doc["stack"] = self.formatStack(record.stack_info)
        try:
            return orjson.dumps(doc, default=str).decode()
        except (TypeError, orjson.JSONEncodeError):  # e.g. an int over 64 bits
            return orjson.dumps({k: v if isinstance(v, str) else str(v)
                                 for k, v in doc.items()}).decode()
