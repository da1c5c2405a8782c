"""A bug in the middle of a command answers 5XX JSON and leaves no trace: the engine
rebuilds its state from the journal before it accepts the next command."""
from __future__ import annotations

import asyncio

from spotex.core import matching


async def test_bug_mid_command_changes_nothing(exchange, monkeypatch):
    maker = await exchange.new_trader(BTC="1")
    taker = await exchange.new_trader(USDT="100000")
    r = await maker.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                          quantity="0.5", price="50000")
    assert r.status_code == 200
    before = (await maker.balances(), await taker.balances())

    real_trade = matching._trade
    calls = []

    def broken_trade(*args, **kwargs):
        real_trade(*args, **kwargs)  # the state is already half changed...
        calls.append(1)
        raise RuntimeError("bug")  # ...when the bug strikes

    monkeypatch.setattr(matching, "_trade", broken_trade)
    r = await taker.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1")
    assert calls and r.status_code == 500
    assert r.json() == {"code": -1000, "msg": "An unknown error occurred while processing the request."}
    monkeypatch.setattr(matching, "_trade", real_trade)

    for _ in range(100):  # the rebuild runs in the background; commands wait for it
        r = await taker.signed("GET", "/api/v3/account")
        if not exchange.server.engine.broken:
            break
        await asyncio.sleep(0.01)
    assert not exchange.server.engine.broken
    assert (await maker.balances(), await taker.balances()) == before
    orders = (await taker.signed("GET", "/api/v3/allOrders", symbol="BTCUSDT")).json()
    assert orders == []
    r = await taker.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1")
    assert r.status_code == 200 and r.json()["status"] == "FILLED"
    assert r.json()["orderId"] == 2  # the failed command consumed no id


async def test_commands_during_rebuild_get_a_5xx(exchange, monkeypatch):
    t = await exchange.new_trader(USDT="100000")
    engine = exchange.server.engine
    engine.broken = True
    r = await t.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                      quantity="0.1", price="40000")
    assert r.status_code == 503
    assert r.json() == {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."}
    engine.broken = False
    assert (await t.balances())["USDT"] == ("100000.00000000", "0.00000000")
