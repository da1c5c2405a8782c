"""End-to-end smoke: a maker and a taker trade through HTTP; balances add up."""
from __future__ import annotations


async def test_limit_then_market_trade(exchange):
    maker = await exchange.new_trader(BTC="1", USDT="0")
    taker = await exchange.new_trader(USDT="10000")
    r = await maker.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                          quantity="0.5", price="50000")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "NEW"
    r = await taker.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1", body=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "FILLED"
    assert body["fills"] == [{"price": "50000.00000000", "qty": "0.10000000",
                              "commission": "0.00010000", "commissionAsset": "BTC",
                              "tradeId": 1}]
    assert r.headers["x-mbx-used-weight-1m"]
    assert r.headers["x-mbx-order-count-10s"] == "0"
    assert (await taker.balances())["BTC"] == ("0.09990000", "0.00000000")
    assert (await maker.balances())["BTC"] == ("0.50000000", "0.40000000")
    assert (await maker.balances())["USDT"] == ("4995.00000000", "0.00000000")
