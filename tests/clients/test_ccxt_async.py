"""ccxt.async_support.binance (aiohttp) against spotex: the same unified calls as the
sync client (clients.md §1.2: identical requests), awaited."""
from __future__ import annotations

import asyncio
import time

import ccxt.async_support as ccxt
import pytest

from .conftest import Account, Market, Seeded, Spotex


@pytest.fixture
async def binance(spotex: Spotex):
    """Factory of configured exchanges; all are closed (aiohttp sessions) at teardown."""
    made: list[ccxt.binance] = []

    def make(acct: Account | None = None) -> ccxt.binance:
        ex = ccxt.binance({
            "apiKey": acct.api_key if acct else None,
            "secret": acct.secret if acct else None,
            "enableRateLimit": False,  # no client-side pacing needed for a local server
            "options": {"fetchCurrencies": False, "fetchMargins": False,
                        "fetchMarkets": {"types": ["spot"]}},
        })
        ex.urls["api"]["public"] = spotex.url + "/api/v3"
        ex.urls["api"]["private"] = spotex.url + "/api/v3"
        ex.urls["api"]["v1"] = spotex.url + "/api/v1"
        made.append(ex)
        return ex

    yield make
    await asyncio.gather(*(ex.close() for ex in made))  # each close() sleeps timeout_on_exit


@pytest.fixture
def trader(spotex: Spotex, binance):
    def make(market: Market, key_type: str = "HMAC_SHA256", base: str = "10",
             quote: str = "10000") -> ccxt.binance:
        return binance(spotex.account(key_type, **{market.base: base, market.quote: quote}))
    return make


async def test_time_and_markets(binance, market):
    ex = binance()
    assert abs(await ex.fetch_time() - time.time() * 1000) < 5000
    markets = await ex.load_markets()
    assert market.symbol in markets and markets["BTC/USDT"]["precision"]["price"] == 0.01


async def test_market_data(binance, seeded: Seeded):
    ex = binance()
    sym = seeded.market.symbol
    book = await ex.fetch_order_book(sym, 5)
    assert book["bids"] == [[99.0, 1.75], [98.0, 1.0]] and book["asks"][0] == [101.0, 1.5]
    trades = await ex.fetch_trades(sym)
    assert [(t["price"], t["amount"], t["side"]) for t in trades] == [
        (101.0, 0.5, "buy"), (99.0, 0.25, "sell")]
    candles = await ex.fetch_ohlcv(sym, "1m", since=seeded.start_ms // 60_000 * 60_000, limit=2)
    assert sum(c[5] for c in candles) == 0.75
    t = await ex.fetch_ticker(sym)
    assert (t["symbol"], t["last"], t["bid"], t["ask"]) == (sym, 99.0, 99.0, 101.0)
    assert (await ex.fetch_last_prices([sym]))[sym]["price"] == 99.0
    assert (await ex.fetch_bids_asks([sym]))[sym]["askVolume"] == 1.5
    assert float((await ex.public_get_avgprice({"symbol": seeded.market.id}))["price"]) > 0


async def test_order_lifecycle(trader, market):
    ex = trader(market, quote="250")
    sym = market.symbol
    # ccxt truncates the amount to stepSize but rounds the price to tickSize (clients.md
    # says both are truncated; price_to_precision uses ROUND)
    o = await ex.create_order(sym, "limit", "buy", 0.499999, 100.006)
    assert (o["status"], o["price"], o["amount"]) == ("open", 100.01, 0.49999)
    usdt = (await ex.fetch_balance())["USDT"]
    assert usdt["used"] == pytest.approx(0.49999 * 100.01) and usdt["total"] == 250.0
    assert (await ex.fetch_order(o["id"], sym))["status"] == "open"
    assert [x["id"] for x in await ex.fetch_open_orders(sym)] == [o["id"]]
    assert (await ex.cancel_order(o["id"], sym))["status"] == "canceled"
    assert [x["status"] for x in await ex.fetch_orders(sym)] == ["canceled"]
    for price in (90, 91):
        await ex.create_order(sym, "limit", "buy", 0.1, price)
    assert len(await ex.cancel_all_orders(sym)) == 2
    assert await ex.fetch_open_orders(sym) == []


async def test_market_order_and_my_trades(trader, market):
    maker, taker = trader(market), trader(market)
    sym = market.symbol
    await maker.create_order(sym, "limit", "sell", 0.5, 100)
    o = await taker.create_order(sym, "market", "buy", 0.2)
    assert (o["status"], o["filled"], o["average"]) == ("closed", 0.2, 100.0)
    trades = await taker.fetch_my_trades(sym)
    assert [(t["side"], t["takerOrMaker"], t["amount"]) for t in trades] == [("buy", "taker", 0.2)]
    o = await taker.create_market_buy_order_with_cost(sym, 10)
    assert (o["filled"], o["cost"]) == (0.1, 10.0)


async def test_stop_loss_limit(trader, market):
    maker, ex = trader(market), trader(market)
    sym = market.symbol
    await maker.create_order(sym, "limit", "buy", 0.1, 100)
    await ex.create_order(sym, "market", "sell", 0.1)  # last price 100
    stop = await ex.create_order(sym, "limit", "sell", 0.1, 95, {"triggerPrice": 96})
    assert stop["info"]["type"] == "STOP_LOSS_LIMIT"
    got = await ex.fetch_order(stop["id"], sym)
    assert (got["status"], got["triggerPrice"]) == ("open", 96.0)
    with pytest.raises(ccxt.OrderImmediatelyFillable):
        await ex.create_order(sym, "limit", "sell", 0.1, 100, {"triggerPrice": 101})


async def test_oco(trader, market):
    maker, ex = trader(market), trader(market)
    await maker.create_order(market.symbol, "limit", "buy", 0.1, 100)
    await ex.create_order(market.symbol, "market", "sell", 0.1)
    placed = await ex.private_post_orderlist_oco({
        "symbol": market.id, "side": "SELL", "quantity": "0.2",
        "aboveType": "LIMIT_MAKER", "abovePrice": "110",
        "belowType": "STOP_LOSS", "belowStopPrice": "90"})
    assert placed["contingencyType"] == "OCO" and len(placed["orderReports"]) == 2
    assert len(await ex.fetch_open_orders(market.symbol)) == 2
    done = await ex.private_delete_orderlist({"symbol": market.id,
                                              "orderListId": placed["orderListId"]})
    assert done["listOrderStatus"] == "ALL_DONE"


async def test_errors(binance, trader, market):
    ex = trader(market, quote="10")
    sym = market.symbol
    with pytest.raises(ccxt.InsufficientFunds):
        await ex.create_order(sym, "limit", "buy", 1, 100)
    with pytest.raises(ccxt.OrderNotFound, match="-2013"):
        await ex.fetch_order("987654321", sym)
    with pytest.raises(ccxt.OrderNotFound, match="-2011"):
        await ex.cancel_order("987654321", sym)
    with pytest.raises(ccxt.BadSymbol, match="-1121"):
        await ex.public_get_ticker_price({"symbol": "NOPEUSDT"})
    with pytest.raises(ccxt.BadRequest, match="Filter failure: NOTIONAL"):
        await ex.create_order(sym, "limit", "buy", 0.001, 100)
    with pytest.raises(ccxt.InvalidOrder, match="Filter failure: LOT_SIZE"):
        await ex.create_order(sym, "limit", "buy", 9001, 1)
    real_clock = ex.milliseconds
    ex.milliseconds = lambda: real_clock() - 30_000  # a local clock 30 s slow
    with pytest.raises(ccxt.InvalidNonce, match="-1021"):
        await ex.fetch_balance()
    ex.milliseconds = real_clock
    bad = binance(Account(0, ex.apiKey, "x" * 64))
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        await bad.fetch_balance()


@pytest.mark.parametrize("key_type", ["ED25519", "RSA"])
async def test_asymmetric_keys(trader, market, key_type):
    ex = trader(market, key_type, quote="1000")
    assert (await ex.fetch_balance())["USDT"]["free"] == 1000.0
    o = await ex.create_order(market.symbol, "limit", "buy", 0.1, 90)
    assert (await ex.cancel_order(o["id"], market.symbol))["status"] == "canceled"
