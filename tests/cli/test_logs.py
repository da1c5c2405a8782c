"""Logs: text or JSON lines on stderr, levels from the flags or the config's [logging];
the start-up lines stay on stdout."""
from __future__ import annotations

import io
import json
import logging
import re
import tomllib
from pathlib import Path

import httpx
import pytest
import tomli_w

from spotex import logs
from spotex.config import default_text

from .run import Serve

TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture
def capture():
    """logs.setup into a buffer; the root logger as it was afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    buf = io.StringIO()
    yield buf
    root.handlers[:], _ = saved[0], root.setLevel(saved[1])
    logging.getLogger("spotex.access").setLevel(logging.NOTSET)
    logging.getLogger("uvicorn").setLevel(logging.NOTSET)


def _access(status: int = 200) -> None:
    logging.getLogger("spotex.access").info(
        "%s %s %s %d %.1fms weight=%s", "127.0.0.1", "POST", "/api/v3/order", status, 0.8, 1,
        extra={"method": "POST", "path": "/api/v3/order", "status": status, "ms": 0.812,
               "client": "127.0.0.1", "weight": 1})


def test_text_lines(capture):
    logs.setup("info", "text", stream=capture)
    _access()
    logging.getLogger("spotex.engine").warning("state rebuilt from the journal", extra={"seq": 7})
    logging.getLogger("spotex.engine").debug("not shown at info")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("spotex.http").exception("handler failed")
    lines = capture.getvalue().splitlines()
    assert re.fullmatch(TS + r" INFO spotex.access 127.0.0.1 POST /api/v3/order 200 0.8ms weight=1",
                        lines[0]), lines[0]
    assert re.fullmatch(TS + " WARNING spotex.engine state rebuilt from the journal seq=7", lines[1])
    assert re.fullmatch(TS + " ERROR spotex.http handler failed", lines[2])
    assert lines[3] == "Traceback (most recent call last):" and lines[-1] == "RuntimeError: boom"


def test_json_lines(capture):
    logs.setup("debug", "json", stream=capture)
    _access(404)
    logging.getLogger("spotex.engine").debug("replayed %d commands", 12, extra={"obj": object()})
    first, second = map(json.loads, capture.getvalue().splitlines())
    assert re.fullmatch(TS, first.pop("ts"))
    assert first == {"level": "info", "logger": "spotex.access",
                     "msg": "127.0.0.1 POST /api/v3/order 404 0.8ms weight=1",
                     "method": "POST", "path": "/api/v3/order", "status": 404, "ms": 0.812,
                     "client": "127.0.0.1", "weight": 1}
    assert second["msg"] == "replayed 12 commands" and second["level"] == "debug"
    assert second["obj"].startswith("<object object")


def test_access_log_switch_and_levels(capture):
    logs.setup("info", "text", access_log=False, stream=capture)
    _access()
    logging.getLogger("uvicorn.error").info("Started server process")  # uvicorn: warnings only
    logs.setup("warning", "text", stream=capture)  # replaces the first handler
    _access()
    logging.getLogger("spotex.engine").warning("once")
    assert capture.getvalue().count("once") == 1 and "spotex.access" not in capture.getvalue()
    with pytest.raises(ValueError):
        logs.setup("loud", "text")
    with pytest.raises(ValueError):
        logs.setup("info", "xml")


def _requests(server: Serve) -> None:
    assert server.ping() == 200
    assert httpx.get(server.url + "/nowhere", timeout=5).status_code == 404


def test_serve_access_log_text_on_stderr(tmp_path: Path):
    with Serve("--data-dir", str(tmp_path / "data"), "--port", "0") as server:
        lines = server.started()
        _requests(server)
        out, err = server.stop()
    assert all(line.startswith(("spotex: ", "  ")) for line in lines)  # stdout: start-up lines
    assert "spotex.access" not in out
    ping = [line for line in err.splitlines() if " GET /api/v3/ping " in line]
    assert ping and re.fullmatch(TS + r" INFO spotex.access 127.0.0.1 GET /api/v3/ping 200 "
                                 r"\d+\.\dms weight=1", ping[-1]), err
    assert re.search(r" INFO spotex.access 127.0.0.1 GET /nowhere 404 ", err)


def test_serve_json_debug_from_flags_after_and_before_the_subcommand(tmp_path: Path):
    with Serve("--data-dir", str(tmp_path / "data"), "--port", "0", "--log-format", "json",
               before=("--log-level", "debug")) as server:
        server.started()
        _requests(server)
        out, err = server.stop()
    records = [json.loads(line) for line in err.splitlines()]
    assert {"ts", "level", "logger", "msg"} <= set(records[0])
    assert any(r["logger"].startswith("uvicorn") and r["level"] == "info" for r in records)
    access = [r for r in records if r["logger"] == "spotex.access"]
    assert {"method": "GET", "path": "/nowhere", "status": 404, "client": "127.0.0.1"}.items() \
        <= access[-1].items()
    assert isinstance(access[-1]["ms"], float) and access[-1]["weight"] == 0


def _config(tmp_path: Path, **logging_table: object) -> Path:
    """The default config with these [logging] keys."""
    doc = tomllib.loads(default_text())
    doc["logging"] = {**doc.get("logging", {}), **logging_table}
    path = tmp_path / "spotex.toml"
    path.write_text(tomli_w.dumps(doc))
    return path


def test_serve_logging_from_the_config_and_flags_over_it(tmp_path: Path):
    cfg = _config(tmp_path, format="json", access_log=False)
    with Serve("--data-dir", str(tmp_path / "data"), "--port", "0", "--config", str(cfg)) as server:
        server.started()
        _requests(server)
        out, err = server.stop()
    assert err == ""  # no access log; nothing else at info
    with Serve("--data-dir", str(tmp_path / "data"), "--port", "0", "--config", str(cfg),
               "--access-log", "--log-format", "text") as server:
        server.started()
        _requests(server)
        out, err = server.stop()
    assert re.search(TS + " INFO spotex.access 127.0.0.1 GET /nowhere 404", err), err
    cfg = _config(tmp_path, level="warning")
    with Serve("--data-dir", str(tmp_path / "data"), "--port", "0", "--config", str(cfg)) as server:
        server.started()
        _requests(server)
        out, err = server.stop()
    assert err == ""
