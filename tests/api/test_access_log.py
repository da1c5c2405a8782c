"""The `spotex.access` log: one line per HTTP request, never a signature or a key."""
from __future__ import annotations

import logging

from tests.api.test_metrics import with_config  # noqa: F401 (fixture)


def access_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "spotex.access"]


async def test_one_line_per_request_without_secrets(exchange, caplog):
    trader = await exchange.new_trader(USDT="100000")
    caplog.set_level(logging.INFO, logger="spotex.access")
    caplog.clear()
    order = dict(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                 quantity="0.01", price="40000")
    r = await trader.order(**order)  # signature and key in the query
    assert r.status_code == 200, r.text
    signatures = [r.request.url.params["signature"]]
    r = await trader.signed("POST", "/api/v3/order", body=True, **order)  # in a form body
    assert r.status_code == 200, r.text
    signatures.append(r.request.content.decode().rsplit("signature=", 1)[1])
    assert (await exchange.http.get("/api/v3/depth?symbol=BTCUSDT&limit=5000")).status_code == 200
    assert (await exchange.http.get("/nowhere?x=1")).status_code == 404

    records = access_records(caplog)
    assert [(r.method, r.path, r.status, r.weight) for r in records] == [
        ("POST", "/api/v3/order", 200, 1), ("POST", "/api/v3/order", 200, 1),
        ("GET", "/api/v3/depth", 200, 250), ("GET", "/nowhere", 404, 0)]
    first = records[0]
    assert first.levelno == logging.INFO and first.client == "127.0.0.1"
    assert first.ms >= 0
    assert first.getMessage().startswith("127.0.0.1 POST /api/v3/order 200 ")
    assert first.getMessage().endswith("ms weight=1")
    text = "\n".join(r.getMessage() + repr(r.__dict__) for r in records)
    for signature in signatures:
        assert len(signature) == 64 and signature not in text
    assert trader.api_key not in text
    assert trader.secret not in text
    assert "signature" not in text and "timestamp" not in text


async def test_nothing_logged_below_info(exchange, caplog):
    caplog.set_level(logging.WARNING, logger="spotex.access")
    assert (await exchange.http.get("/api/v3/ping")).status_code == 200
    assert not access_records(caplog)


async def test_access_log_off_in_config(with_config, caplog):  # noqa: F811
    ex = await with_config(logging={"access_log": False})
    caplog.set_level(logging.INFO, logger="spotex.access")
    assert (await ex.http.get("/api/v3/ping")).status_code == 200
    assert not access_records(caplog)
