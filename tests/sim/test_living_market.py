"""The living market through the wire: a real `spotex serve` with the sim on.

A fresh default server is quoted and trading on every symbol, with history; a ccxt
market buy fills near the reference; with a manual clock, a shock moves the market
through a user's resting order; two servers with the same seed give the same market;
kill -9 and a restart continue it.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path
from urllib.parse import urlencode

import ccxt
import httpx
import pytest

from spotex.config import default_text
from tests.live import ADMIN_TOKEN, LiveServer

SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT", "ETHBTC", "BNBBTC", "SOLUSDT")
START = "2024-03-01T00:00:00Z"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _get(server: LiveServer, path: str, **params) -> object:
    r = httpx.get(server.url + path, params=params, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _admin(server: LiveServer, path: str, body: dict) -> dict:
    r = httpx.post(server.url + path, json=body, headers=ADMIN, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def _manual_config(tmp: Path, history: str = "1d") -> Path:
    """The default config with a short history (the manual tests start many servers)."""
    path = tmp / f"manual-{history}.toml"
    path.write_text(default_text().replace('history = "30d"', f'history = "{history}"'))
    return path


def _manual(tmp: Path, name: str, *more: str) -> LiveServer:
    return LiveServer(tmp / name, config=_manual_config(tmp), sim=True,
                      args=("--clock", "manual", "--start", START, *more))


def _signed(server: LiveServer, method: str, path: str, **params) -> httpx.Response:
    """A signed request of the demo account, timestamped by the exchange's clock."""
    demo = server.demo
    params["timestamp"] = _get(server, "/api/v3/time")["serverTime"]
    qs = urlencode(params)
    qs += "&signature=" + hmac.new(demo["secretKey"].encode(), qs.encode(),
                                   hashlib.sha256).hexdigest()
    return httpx.request(method, f"{server.url}{path}?{qs}",
                         headers={"X-MBX-APIKEY": demo["apiKey"]}, timeout=30)


def _market_view(server: LiveServer) -> list:
    """What two equal markets must agree on: books, trades, klines of every symbol."""
    out = []
    for s in SYMBOLS:
        out.append(_get(server, "/api/v3/depth", symbol=s, limit=100))
        out.append(_get(server, "/api/v3/trades", symbol=s, limit=1000))
        out.append(_get(server, "/api/v3/klines", symbol=s, interval="1m", limit=100))
    return out


def test_a_fresh_default_server_is_quoted_trading_and_has_history(tmp_path: Path):
    with LiveServer(tmp_path / "data", sim=True, log_level="info") as server:
        time.sleep(3)  # a few steps of the wall clock
        for s in SYMBOLS:
            depth = _get(server, "/api/v3/depth", symbol=s, limit=100)
            assert len(depth["bids"]) >= 20 and len(depth["asks"]) >= 20, s
            assert float(depth["bids"][0][0]) < float(depth["asks"][0][0])
            assert len(_get(server, "/api/v3/klines", symbol=s, interval="1m", limit=1000)) == 1000
            assert len(_get(server, "/api/v3/klines", symbol=s, interval="1h", limit=500)) == 500
            assert _get(server, "/api/v3/trades", symbol=s, limit=10), s
            ticker = _get(server, "/api/v3/ticker/24hr", symbol=s)
            assert ticker["count"] > 1000 and float(ticker["lastPrice"]) > 0
            assert float(_get(server, "/api/v3/avgPrice", symbol=s)["price"]) > 0
        ref = float(_get(server, "/api/v3/ticker/price", symbol="BTCUSDT")["price"])

        demo = server.demo
        ex = ccxt.binance({"apiKey": demo["apiKey"], "secret": demo["secretKey"],
                           "enableRateLimit": False,
                           "options": {"fetchCurrencies": False, "fetchMargins": False,
                                       "fetchMarkets": {"types": ["spot"]}}})
        for api in ("public", "private"):
            ex.urls["api"][api] = server.url + "/api/v3"
        ex.urls["api"]["v1"] = server.url + "/api/v1"
        order = ex.create_order("BTC/USDT", "market", "buy", 0.5)
        assert order["status"] == "closed" and order["filled"] == 0.5
        assert abs(order["average"] - ref) / ref < 0.005  # near the reference ...
        assert len({t["price"] for t in order["trades"]}) > 1  # ... walking the ladder


def test_a_shock_moves_the_market_through_a_resting_order(tmp_path: Path):
    with _manual(tmp_path, "data") as server:
        assert _get(server, "/api/v3/time")["serverTime"] == 1709251200000
        best_ask = float(_get(server, "/api/v3/depth", symbol="BTCUSDT", limit=5)["asks"][0][0])
        price = f"{round(best_ask * 1.02, 2):.2f}"
        r = _signed(server, "POST", "/api/v3/order", symbol="BTCUSDT", side="SELL",
                    type="LIMIT", timeInForce="GTC", quantity="0.01", price=price)
        assert r.status_code == 200 and r.json()["status"] == "NEW", r.text
        order_id = r.json()["orderId"]
        _admin(server, "/admin/v1/clock/advance", {"ms": 10_000})
        r = _signed(server, "GET", "/api/v3/order", symbol="BTCUSDT", orderId=order_id)
        assert r.json()["status"] == "NEW"  # the walk alone does not go 2 % in 10 s
        shocked = _admin(server, "/admin/v1/sim/BTCUSDT", {"price": f"{best_ask * 1.05:.2f}"})
        assert float(shocked["bidPrice"]) > float(price)
        r = _signed(server, "GET", "/api/v3/order", symbol="BTCUSDT", orderId=order_id)
        assert r.json()["status"] == "FILLED", r.text
        clock = httpx.get(server.url + "/admin/v1/clock", headers=ADMIN).json()
        assert clock == {"mode": "manual", "time": 1709251210000, "speed": 1.0,
                         "paused": False}
        for path, body, code, msg in (
                ("/admin/v1/sim/NOPE", {"price": "1"}, -1121, "Invalid symbol."),
                ("/admin/v1/sim/BTCUSDT", {"price": 61000}, -1130,
                 "Data sent for parameter 'price' is not valid."),
                ("/admin/v1/sim/BTCUSDT", {"prize": "1"}, -1130,
                 "Data sent for parameter 'prize' is not valid."),
                ("/admin/v1/clock/advance", {"ms": -5}, -1130,
                 "Data sent for parameter 'ms' is not valid."),
                ("/admin/v1/clock", {"speed": 10}, -1130,
                 "Data sent for parameter 'speed' is not valid.")):  # manual: no speed
            r = httpx.post(server.url + path, json=body, headers=ADMIN)
            assert (r.status_code, r.json()) == (400, {"code": code, "msg": msg}), path


def test_same_seed_same_market_and_kill9_continues_it(tmp_path: Path):
    """Three manual servers: a and b alike, c another seed; a is killed midway."""
    with _manual(tmp_path, "a") as a, _manual(tmp_path, "b") as b, \
            _manual(tmp_path, "c", "--seed", "2") as c:
        for s in (a, b, c):
            _admin(s, "/admin/v1/clock/advance", {"ms": 5 * 60_000})
        assert _market_view(a) == _market_view(b)
        assert _market_view(a) != _market_view(c)
        a.kill9()
        a.start()
        assert _market_view(a) == _market_view(b)  # nothing acknowledged was lost
        for s in (a, b):
            _admin(s, "/admin/v1/clock/advance", {"ms": 2 * 60_000})
        assert _market_view(a) == _market_view(b)  # and it goes on the same way


def test_no_sim_is_an_empty_exchange(tmp_path: Path):
    with LiveServer(tmp_path / "data") as server:
        for s in SYMBOLS:
            assert _get(server, "/api/v3/depth", symbol=s) == {"lastUpdateId": 0, "bids": [],
                                                               "asks": []}
            assert _get(server, "/api/v3/klines", symbol=s, interval="1m") == []
        assert httpx.get(server.url + "/admin/v1/sim", headers=ADMIN).json() == {
            "enabled": False, "symbols": []}


async def test_stream_pushes_follow_the_manual_clock(tmp_path: Path):
    import asyncio
    import json

    import websockets

    with _manual(tmp_path, "data") as server:
        ws_url = server.url.replace("http", "ws") + "/ws/btcusdt@depth"
        async with websockets.connect(ws_url) as ws:
            with pytest.raises(asyncio.TimeoutError):  # time stands still: nothing is due
                await asyncio.wait_for(ws.recv(), 1.5)
            now = _get(server, "/api/v3/time")["serverTime"]
            await asyncio.to_thread(_admin, server, "/admin/v1/clock/advance", {"ms": 5_000})
            events = []
            while True:
                try:
                    events.append(json.loads(await asyncio.wait_for(ws.recv(), 1.5)))
                except asyncio.TimeoutError:
                    break
        times = [e["E"] for e in events]
        # a diff a second of exchange time it passed (the last may wait for the next tick)
        assert len(times) in (4, 5) and times == sorted(times), times
        assert all(t % 1000 == 0 for t in times) and now < times[0] and times[-1] <= now + 5_000
