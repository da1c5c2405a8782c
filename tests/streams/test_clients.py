"""The real client libraries' stream APIs against spotex: ccxt.pro, python-binance's
BinanceSocketManager and WebSocket API, binance-sdk-spot's websocket streams and API.

Pointing them at spotex (clients.md) takes only URLs, set as the comments say; nothing
else is patched except python-binance's read-loop timeout (see `quick_exits`).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import ccxt.pro as ccxtpro
import pytest
from binance import AsyncClient, BinanceSocketManager
from binance.ws.reconnecting_websocket import ReconnectingWebsocket
from binance_common.configuration import ConfigurationWebSocketAPI, ConfigurationWebSocketStreams
from binance_sdk_spot.spot import Spot

from .conftest import QUOTE, Account, Live


async def until(pred, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def later(fn, delay: float = 0.4) -> asyncio.Task:
    """Run `fn` (REST set-up) once the watcher is subscribed."""
    async def run() -> None:
        await asyncio.sleep(delay)
        await asyncio.to_thread(fn)
    return asyncio.get_running_loop().create_task(run())


# ---------------------------------------------------------------- ccxt.pro
def ccxt_pro(live: Live, acct: Account | None = None) -> Any:
    cfg: dict[str, Any] = {"options": {"fetchCurrencies": False, "fetchMargins": False,
                                       "fetchMarkets": {"types": ["spot"]}}}
    if acct is not None:
        cfg.update(apiKey=acct.api_key, secret=acct.secret)  # secret: HMAC or Ed25519 PEM
    ex = ccxtpro.binance(cfg)
    ex.urls["api"]["public"] = ex.urls["api"]["private"] = live.url + "/api/v3"
    ex.urls["api"]["ws"]["spot"] = live.ws_url + "/ws"  # ccxt appends /<n>: /ws/0, /ws/1...
    ex.urls["api"]["ws"]["ws-api"]["spot"] = live.ws_url + "/ws-api/v3"
    return ex


async def test_ccxt_pro_market_streams(live):
    sym = live.market()
    uni = f"{sym[:-4]}/{QUOTE}"
    maker, taker = live.pair(sym)
    ex = ccxt_pro(live)
    try:
        await ex.load_markets()
        later(lambda: (live.order(maker, sym, "SELL", "2", "100"), live.order(taker, sym, "BUY", "0.5")))
        trades = await asyncio.wait_for(ex.watch_trades(uni), 5)
        assert [(t["symbol"], t["price"], t["amount"], t["side"]) for t in trades] == [(uni, 100.0, 0.5, "buy")]
        book = await asyncio.wait_for(ex.watch_order_book(uni), 5)  # depth@100ms + REST snapshot
        later(lambda: (live.order(maker, sym, "BUY", "1", "95"), live.order(maker, sym, "SELL", "1", "101")), 0.1)
        await until(lambda: len(ex.orderbooks[uni]["bids"]) == 1 and len(ex.orderbooks[uni]["asks"]) == 2)
        book = ex.orderbooks[uni]
        rest = live.depth(sym)
        assert book["nonce"] == rest["lastUpdateId"]
        assert [[float(p), float(q)] for p, q in rest["asks"]] == [list(x) for x in book["asks"]]
        assert list(book["bids"][0]) == [95.0, 1.0]
        ticker = await asyncio.wait_for(ex.watch_ticker(uni), 5)
        assert (ticker["symbol"], ticker["last"], ticker["baseVolume"]) == (uni, 100.0, 0.5)
        ohlcv = await asyncio.wait_for(ex.watch_ohlcv(uni, "1m"), 5)  # <symbol>@kline_1m
        assert ohlcv[-1][1:] == [100.0, 100.0, 100.0, 100.0, 0.5]
    finally:
        await ex.close()


@pytest.mark.parametrize("key_type", ["HMAC_SHA256", "ED25519"])
async def test_ccxt_pro_orders_and_balance(live, key_type):
    """watch_orders / watch_balance: userDataStream.subscribe.signature on the WS API."""
    sym = live.market()
    uni = f"{sym[:-4]}/{QUOTE}"
    acct = live.account(key_type, **{sym[:-4]: "10", QUOTE: "1000"})
    maker, _ = live.pair(sym)
    ex = ccxt_pro(live, acct)
    try:
        await ex.load_markets()
        later(lambda: live.order(acct, sym, "BUY", "1", "90", newClientOrderId="ccxt-1"))
        orders = await asyncio.wait_for(ex.watch_orders(uni), 5)
        assert [(o["clientOrderId"], o["status"], o["price"], o["amount"]) for o in orders] == [
            ("ccxt-1", "open", 90.0, 1.0)]
        later(lambda: live.order(maker, sym, "SELL", "0.4", "90"))
        orders = await asyncio.wait_for(ex.watch_orders(uni), 5)
        assert (orders[-1]["filled"], orders[-1]["status"]) == (0.4, "open")
        later(lambda: live.order(acct, sym, "BUY", "1", "80"))
        balance = await asyncio.wait_for(ex.watch_balance(), 5)  # outboundAccountPosition
        assert (balance[QUOTE]["free"], balance[QUOTE]["used"]) == (1000 - 90 - 80.0, 54 + 80.0)
        assert balance[sym[:-4]]["free"] == 10.4 - 0.0004
        later(lambda: live.transfer(acct, "deposit", QUOTE, "10"))
        balance = await asyncio.wait_for(ex.watch_balance(), 5)  # balanceUpdate
        assert balance[QUOTE]["free"] == 1000 - 90 - 80 + 10.0
    finally:
        await ex.close()


# ---------------------------------------------------------------- python-binance
@pytest.fixture
def quick_exits(monkeypatch):
    """python-binance's socket read loop notices an exit only after its recv timeout
    (10 s) when the stream is quiet; 1 s keeps the tests short. Nothing else changes."""
    monkeypatch.setattr(ReconnectingWebsocket, "TIMEOUT", 1)


async def python_binance(live: Live, acct: Account) -> Any:
    class Local(AsyncClient):  # clients.md §2.1: class attributes, formatted in __init__
        API_URL = live.url + "/api"
        WS_API_URL = live.ws_url + "/ws-api/v3"
    client = await Local.create(acct.api_key, acct.secret)
    bm = BinanceSocketManager(client)
    bm.STREAM_URL = live.ws_url + "/"  # sockets open STREAM_URL + "ws/<stream>" or "stream?streams="
    return client, bm


async def test_python_binance_sockets(live, quick_exits):
    sym = live.market()
    maker, taker = live.pair(sym)
    low = sym.lower()
    client, bm = await python_binance(live, taker)
    try:
        async with bm.trade_socket(sym) as trades, bm.aggtrade_socket(sym) as aggs, \
                bm.depth_socket(sym, depth=bm.WEBSOCKET_DEPTH_5) as depth5, \
                bm.depth_socket(sym, interval=100) as diffs, \
                bm.kline_socket(sym, AsyncClient.KLINE_INTERVAL_1MINUTE) as klines, \
                bm.symbol_ticker_socket(sym) as ticker, bm.symbol_book_ticker_socket(sym) as book, \
                bm.miniticker_socket() as minis, \
                bm.multiplex_socket([f"{low}@trade", f"{low}@miniTicker"]) as multi:
            later(lambda: (live.order(maker, sym, "SELL", "1", "100"), live.order(taker, sym, "BUY", "0.5")), 0.3)
            assert (await asyncio.wait_for(trades.recv(), 5))["p"] == "100.00000000"
            assert (await asyncio.wait_for(aggs.recv(), 5))["e"] == "aggTrade"
            assert (await asyncio.wait_for(book.recv(), 5))["s"] == sym
            diff = await asyncio.wait_for(diffs.recv(), 5)
            assert diff["e"] == "depthUpdate" and diff["a"][0][0] == "100.00000000"
            snap = await asyncio.wait_for(depth5.recv(), 5)
            assert "lastUpdateId" in snap
            assert (await asyncio.wait_for(klines.recv(), 5))["k"]["i"] == "1m"
            assert (await asyncio.wait_for(ticker.recv(), 5))["e"] == "24hrTicker"
            assert all(t["e"] == "24hrMiniTicker" for t in await asyncio.wait_for(minis.recv(), 5))
            got = {(await asyncio.wait_for(multi.recv(), 5))["stream"] for _ in range(2)}
            assert got == {f"{low}@trade", f"{low}@miniTicker"}
    finally:
        await client.close_connection()


async def test_python_binance_user_socket_and_ws_api(live, quick_exits):
    """user_socket() subscribes through the WebSocket API (userDataStream.subscribe.signature)."""
    sym = live.market()
    maker, taker = live.pair(sym)
    client, bm = await python_binance(live, taker)
    try:
        async with bm.user_socket() as user:
            later(lambda: live.order(taker, sym, "BUY", "1", "90"), 0.1)
            new = await asyncio.wait_for(user.recv(), 5)
            pos = await asyncio.wait_for(user.recv(), 5)
        assert (new["e"], new["x"], new["p"]) == ("executionReport", "NEW", "90.00000000")
        assert pos["e"] == "outboundAccountPosition"
        placed = await client.ws_create_order(symbol=sym, side="SELL", type="LIMIT", timeInForce="GTC",
                                              quantity="0.5", price="120")
        assert placed["status"] == "NEW"
        assert (await client.ws_get_order(symbol=sym, orderId=placed["orderId"]))["price"] == "120.00000000"
        assert (await client.ws_cancel_order(symbol=sym, orderId=placed["orderId"]))["status"] == "CANCELED"
        book = await client.ws_get_order_book(symbol=sym, limit=5)
        assert book["bids"] == [["90.00000000", "1.00000000"]]
        assert (await client.ws_get_account())["balances"]
        # the listenKey flow is still there through stream_get_listen_key()
        key = await client.stream_get_listen_key()
        assert len(key) == 64
    finally:
        await client.close_connection()


# ---------------------------------------------------------------- binance-sdk-spot
@pytest.fixture
def sdk_warnings(caplog):
    """The SDK logs a WARNING when a payload does not match its strict models."""
    caplog.set_level(logging.WARNING)
    yield
    bad = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert bad == []


async def test_sdk_websocket_streams(live, sdk_warnings):
    sym = live.market()
    maker, taker = live.pair(sym)
    low = sym.lower()
    got: dict[str, list] = {}
    # clients.md §3.4: stream_url is the server; the SDK appends "/stream"
    client = Spot(config_ws_streams=ConfigurationWebSocketStreams(stream_url=live.ws_url))
    conn = await client.websocket_streams.create_connection()
    try:
        subs = {
            "trade": await conn.trade(symbol=low),
            "agg": await conn.agg_trade(symbol=low),
            "kline": await conn.kline(symbol=low, interval="1s"),
            "ticker": await conn.ticker(symbol=low),
            "mini": await conn.mini_ticker(symbol=low),
            "book": await conn.book_ticker(symbol=low),
            "depth5": await conn.partial_book_depth(symbol=low, levels=5, update_speed="100ms"),
            "diff": await conn.diff_book_depth(symbol=low, update_speed="100ms"),
            "window": await conn.rolling_window_ticker(symbol=low, window_size="1h"),
            "avg": await conn.avg_price(symbol=low),
            "user": await conn.user_data(live.listen_key(taker)),  # the key as a stream name
        }
        for name, handle in subs.items():
            handle.on("message", lambda m, n=name: got.setdefault(n, []).append(m))
        await asyncio.sleep(0.3)
        live.order(maker, sym, "SELL", "1", "100")
        live.order(taker, sym, "BUY", "0.5")
        await until(lambda: set(got) == set(subs), 4)
    finally:
        await conn.close_connection(close_session=True)
    assert (got["trade"][0].p, got["trade"][0].t) == ("100.00000000", 1)
    assert got["agg"][0].a == 1
    assert got["kline"][-1].k.i == "1s"
    assert got["ticker"][-1].c == "100.00000000"
    assert got["diff"][0].U == 1
    assert got["book"][0].a == "100.00000000"
    events = [m.actual_instance for m in got["user"]]
    assert [type(e).__name__ for e in events][:2] == ["ExecutionReport", "ExecutionReport"]
    assert events[1].x == "TRADE"


async def test_sdk_websocket_api_user_data(live, sdk_warnings):
    sym = live.market()
    acct, _ = live.pair(sym)
    client = Spot(config_ws_api=ConfigurationWebSocketAPI(
        api_key=acct.api_key, api_secret=acct.secret, stream_url=live.ws_url + "/ws-api/v3"))
    conn = await client.websocket_api.create_connection()
    events: list = []
    try:
        sub = await conn.user_data_stream_subscribe_signature()
        sub.stream.on("message", events.append)
        assert sub.response.data().result.subscription_id == 0
        placed = await conn.order_place(symbol=sym, side="BUY", type="LIMIT", time_in_force="GTC",
                                        quantity=1.0, price=50.0)
        assert placed.data().result.status == "NEW"
        assert [r.rateLimitType for r in placed.rate_limits] == ["REQUEST_WEIGHT", "ORDERS", "ORDERS"]
        depth = await conn.depth(symbol=sym, limit=5)
        assert depth.data().result.bids == [["50.00000000", "1.00000000"]]
        await until(lambda: len(events) == 2)
    finally:
        await conn.close_connection(close_session=True)
    report = events[0].actual_instance
    assert (report.x, report.i, report.p) == ("NEW", placed.data().result.order_id, "50.00000000")


async def test_sdk_session_logon_ed25519(live, sdk_warnings):
    sym = live.market()
    acct = live.account("ED25519", **{sym[:-4]: "10", QUOTE: "1000"})
    client = Spot(config_ws_api=ConfigurationWebSocketAPI(
        api_key=acct.api_key, private_key=acct.secret, stream_url=live.ws_url + "/ws-api/v3"))
    conn = await client.websocket_api.create_connection()
    events: list = []
    try:
        logon = (await conn.session_logon()).data().result
        assert logon.api_key == acct.api_key
        sub = await conn.user_data_stream_subscribe()
        sub.stream.on("message", events.append)
        status = (await conn.session_status()).data().result
        assert status.user_data_stream is True
        await asyncio.to_thread(live.transfer, acct, "deposit", QUOTE, "5")
        account = (await conn.account_status()).data().result  # signed by the session
        assert {b.asset: b.free for b in account.balances}[QUOTE] == "1005.00000000"
        await until(lambda: len(events) == 2)
    finally:
        await conn.close_connection(close_session=True)
    assert type(events[0].actual_instance).__name__ == "BalanceUpdate"
    assert events[0].actual_instance.d == "5.00000000"
