"""Market data endpoints over HTTP, against trades made through the API (endpoints.md §2)."""
from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from spotex.server import build
from tests.conftest import Clock

S = "BTCUSDT"
MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000
T0 = int(datetime(2024, 3, 10, 23, 30, tzinfo=timezone.utc).timestamp()) * 1000  # a Sunday
ZERO = "0.00000000"
FULL_24HR = ["symbol", "priceChange", "priceChangePercent", "weightedAvgPrice", "prevClosePrice",
             "lastPrice", "lastQty", "bidPrice", "bidQty", "askPrice", "askQty", "openPrice",
             "highPrice", "lowPrice", "volume", "quoteVolume", "openTime", "closeTime", "firstId",
             "lastId", "count"]
MINI = ["symbol", "openPrice", "highPrice", "lowPrice", "lastPrice", "volume", "quoteVolume",
        "openTime", "closeTime", "firstId", "lastId", "count"]
FULL_WINDOW = ["symbol", "priceChange", "priceChangePercent", "weightedAvgPrice", *MINI[1:]]


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)  # from the first command on (the journal's config): time only moves forward


@pytest.fixture
async def traders(exchange):
    maker = await exchange.new_trader(BTC="100", USDT="10000000")
    taker = await exchange.new_trader(BTC="100", USDT="10000000")
    return maker, taker


async def rest(trader, side: str, price: str, qty: str):
    r = await trader.order(symbol=S, side=side, type="LIMIT", timeInForce="GTC", quantity=qty,
                           price=price)
    assert r.status_code == 200, r.text
    return r.json()


async def take(trader, side: str, qty: str):
    r = await trader.order(symbol=S, side=side, type="MARKET", quantity=qty)
    assert r.status_code == 200, r.text
    return r.json()


async def trade(maker, taker, price: str, qty: str, taker_side: str = "BUY"):
    await rest(maker, "SELL" if taker_side == "BUY" else "BUY", price, qty)
    return await take(taker, taker_side, qty)


async def get(exchange, path: str, status: int = 200, **params):
    r = await exchange.http.get(f"/api/v3/{path}", params=params)
    assert r.status_code == status, r.text
    return r.json()


async def error(exchange, path: str, code: int, msg: str | None = None, **params):
    body = await get(exchange, path, 400, **params)
    assert body["code"] == code, body
    if msg is not None:
        assert body["msg"] == msg
    return body


# ----------------------------------------------------------------------------- depth

async def test_depth_levels_order_limits_and_update_id(exchange, traders):
    maker, _ = traders
    empty = await get(exchange, "depth", symbol=S)
    assert empty == {"lastUpdateId": 0, "bids": [], "asks": []}
    for price in ("49000", "49500", "48000"):
        await rest(maker, "BUY", price, "0.01")
    await rest(maker, "BUY", "49500", "0.02")
    for price in ("51000", "50500"):
        await rest(maker, "SELL", price, "0.1")
    d = await get(exchange, "depth", symbol=S)
    assert list(d) == ["lastUpdateId", "bids", "asks"]
    assert d["lastUpdateId"] == 6
    assert d["bids"] == [["49500.00000000", "0.03000000"], ["49000.00000000", "0.01000000"],
                         ["48000.00000000", "0.01000000"]]
    assert d["asks"] == [["50500.00000000", "0.10000000"], ["51000.00000000", "0.10000000"]]
    top = await get(exchange, "depth", symbol=S, limit=1)
    assert top["bids"] == d["bids"][:1] and top["asks"] == d["asks"][:1]
    assert (await get(exchange, "depth", symbol=S, limit=9999))["bids"] == d["bids"]  # truncated
    # other symbols' books and counters are their own
    assert await get(exchange, "depth", symbol="ETHUSDT") == {"lastUpdateId": 0, "bids": [], "asks": []}


async def test_depth_weight_follows_limit(exchange):
    used = []
    for limit in (100, 101, 1000, 5000):
        r = await exchange.http.get("/api/v3/depth", params={"symbol": S, "limit": limit})
        used.append(int(r.headers["x-mbx-used-weight-1m"]))
    assert [b - a for a, b in zip([0] + used, used)] == [5, 25, 50, 250]


async def test_depth_errors(exchange):
    await error(exchange, "depth", -1102,
                "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
    await error(exchange, "depth", -1121, "Invalid symbol.", symbol="NOPE")
    await error(exchange, "depth", -1130, "Data sent for parameter 'limit' is not valid.",
                symbol=S, limit=0)
    await error(exchange, "depth", -1100, symbol=S, limit="ten")


# ----------------------------------------------------------------------------- trades

async def test_trades_and_historical_trades(exchange, traders):
    maker, taker = traders
    assert await get(exchange, "trades", symbol=S) == []
    await trade(maker, taker, "50000", "0.01")                      # id 1: taker buys
    exchange.clock.advance(5)
    await trade(maker, taker, "49990", "0.02", taker_side="SELL")   # id 2: taker sells
    exchange.clock.advance(5)
    await trade(maker, taker, "50010", "0.03")                      # id 3
    trades = await get(exchange, "trades", symbol=S)
    assert trades[0] == {"id": 1, "price": "50000.00000000", "qty": "0.01000000",
                         "quoteQty": "500.00000000", "time": T0, "isBuyerMaker": False,
                         "isBestMatch": True}
    assert [(t["id"], t["isBuyerMaker"], t["time"]) for t in trades] == [
        (1, False, T0), (2, True, T0 + 5), (3, False, T0 + 10)]
    assert [t["id"] for t in await get(exchange, "trades", symbol=S, limit=2)] == [2, 3]
    hist = await get(exchange, "historicalTrades", symbol=S, fromId=2, limit=1)
    assert hist == [trades[1]]
    assert await get(exchange, "historicalTrades", symbol=S, fromId=2) == trades[1:]
    assert await get(exchange, "historicalTrades", symbol=S) == trades
    assert await get(exchange, "historicalTrades", symbol=S, fromId=99) == []
    await error(exchange, "trades", -1130, symbol=S, limit=1001)
    await error(exchange, "historicalTrades", -1100, symbol=S, fromId=-1)


async def test_agg_trades_group_one_takers_fills_at_one_price(exchange, traders):
    maker, taker = traders
    for price in ("50000", "50000", "50100"):
        await rest(maker, "SELL", price, "0.01")
    await take(taker, "BUY", "0.03")            # trades 1,2 @50000 -> agg 1; trade 3 -> agg 2
    exchange.clock.advance(1_000)
    await trade(maker, taker, "50100", "0.01")  # same price, another taker -> agg 3
    exchange.clock.advance(1_000)
    await trade(maker, taker, "50200", "0.01", taker_side="SELL")  # agg 4
    aggs = await get(exchange, "aggTrades", symbol=S)
    assert aggs[0] == {"a": 1, "p": "50000.00000000", "q": "0.02000000", "f": 1, "l": 2, "T": T0,
                       "m": False, "M": True}
    assert [(a["a"], a["f"], a["l"], a["T"], a["m"]) for a in aggs] == [
        (1, 1, 2, T0, False), (2, 3, 3, T0, False), (3, 4, 4, T0 + 1000, False),
        (4, 5, 5, T0 + 2000, True)]
    assert [a["a"] for a in await get(exchange, "aggTrades", symbol=S, fromId=2, limit=2)] == [2, 3]
    assert [a["a"] for a in await get(exchange, "aggTrades", symbol=S, limit=1)] == [4]
    by_time = lambda **p: get(exchange, "aggTrades", symbol=S, **p)  # noqa: E731
    assert [a["a"] for a in await by_time(startTime=T0 + 1)] == [3, 4]
    assert [a["a"] for a in await by_time(startTime=T0, limit=1)] == [1]  # oldest first
    assert [a["a"] for a in await by_time(endTime=T0 + 1000)] == [1, 2, 3]
    assert [a["a"] for a in await by_time(endTime=T0 + 1000, limit=1)] == [3]  # newest up to end
    assert [a["a"] for a in await by_time(startTime=T0 + 1000, endTime=T0 + 1000)] == [3]
    assert await by_time(startTime=T0 + 2001) == []
    for extra in ({"startTime": T0}, {"endTime": T0}):
        await error(exchange, "aggTrades", -1128, "Combination of optional parameters invalid.",
                    symbol=S, fromId=1, **extra)


# ----------------------------------------------------------------------------- klines

def kline_fields(k):
    return k[0], k[1:6], k[6], k[7], k[8], k[9:11], k[11]


async def test_klines_shape_values_gaps_and_boundaries(exchange, traders):
    maker, taker = traders
    await trade(maker, taker, "50000", "0.01")                     # 23:30:00
    exchange.clock.advance(59_999)
    await trade(maker, taker, "50100", "0.02", taker_side="SELL")  # 23:30:59.999, same minute
    exchange.clock.advance(1)
    await trade(maker, taker, "49900", "0.01")                     # 23:31:00.000, next minute
    exchange.clock.advance(2 * MIN)                                # 23:33: a quiet minute between
    await trade(maker, taker, "50300", "0.01")
    ks = await get(exchange, "klines", symbol=S, interval="1m")
    assert [k[0] for k in ks] == [T0, T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]
    first = ks[0]
    assert len(first) == 12 and [type(v) for v in first] == [int, str, str, str, str, str, int,
                                                             str, int, str, str, str]
    assert first == [T0, "50000.00000000", "50100.00000000", "50000.00000000", "50100.00000000",
                     "0.03000000", T0 + MIN - 1, "1502.00000000", 2, "0.01000000",
                     "500.00000000", "0"]
    assert ks[2] == [T0 + 2 * MIN, "49900.00000000", "49900.00000000", "49900.00000000",
                     "49900.00000000", ZERO, T0 + 3 * MIN - 1, ZERO, 0, ZERO, ZERO, "0"]
    assert ks[3][1] == "50300.00000000" and ks[3][8] == 1
    # the current (open) candle is included; later quiet candles appear as time passes
    exchange.clock.advance(2 * MIN)
    ks = await get(exchange, "klines", symbol=S, interval="1m")
    assert [k[0] for k in ks][-2:] == [T0 + 4 * MIN, T0 + 5 * MIN]
    assert ks[-1][1:5] == ["50300.00000000"] * 4
    # selection: start -> oldest from it (open >= start); end -> newest up to it
    opens = lambda ks: [k[0] for k in ks]  # noqa: E731
    assert opens(await get(exchange, "klines", symbol=S, interval="1m", startTime=T0 + 1,
                           limit=2)) == [T0 + MIN, T0 + 2 * MIN]
    assert opens(await get(exchange, "klines", symbol=S, interval="1m", endTime=T0 + 2 * MIN,
                           limit=2)) == [T0 + MIN, T0 + 2 * MIN]
    assert opens(await get(exchange, "klines", symbol=S, interval="1m", startTime=T0,
                           endTime=T0 + MIN)) == [T0, T0 + MIN]
    assert opens(await get(exchange, "klines", symbol=S, interval="1m", limit=1)) == [T0 + 5 * MIN]
    assert await get(exchange, "klines", symbol=S, interval="1m", endTime=T0 - 1) == []
    # coarser intervals and uiKlines
    h = await get(exchange, "klines", symbol=S, interval="1h")
    assert len(h) == 1 and h[0][0] == T0 - 30 * MIN and h[0][8] == 4 and h[0][5] == "0.05000000"
    assert await get(exchange, "uiKlines", symbol=S, interval="1m") == ks


async def test_kline_intervals_and_errors(exchange, traders):
    maker, taker = traders
    await trade(maker, taker, "50000", "0.01")
    sunday_midnight = T0 - 23 * HOUR - 30 * MIN
    expected = {"1s": T0, "1m": T0, "3m": T0, "5m": T0, "15m": T0, "30m": T0,
                "1h": T0 - 30 * MIN, "2h": T0 - 90 * MIN, "4h": T0 - 210 * MIN,
                "6h": T0 - 330 * MIN, "8h": T0 - 450 * MIN, "12h": T0 - 690 * MIN,
                "1d": sunday_midnight, "3d": sunday_midnight - DAY,  # epoch-aligned
                "1w": sunday_midnight - 6 * DAY,  # Monday 4 March
                "1M": int(datetime(2024, 3, 1, tzinfo=timezone.utc).timestamp()) * 1000}
    for name, open_time in expected.items():
        ks = await get(exchange, "klines", symbol=S, interval=name)
        assert [k[0] for k in ks] == [open_time], name
    month = (await get(exchange, "klines", symbol=S, interval="1M"))[0]
    assert month[6] == int(datetime(2024, 4, 1, tzinfo=timezone.utc).timestamp()) * 1000 - 1
    for bad in ("1H", "2m", "1y", "60s", "1mo"):
        await error(exchange, "klines", -1120, "Invalid interval.", symbol=S, interval=bad)
    await error(exchange, "klines", -1102,
                "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.",
                symbol=S)
    await error(exchange, "klines", -1121, symbol="NOPE", interval="1m")
    await error(exchange, "uiKlines", -1130, symbol=S, interval="1m", limit=1001)


async def test_klines_time_zone_moves_boundaries(exchange, traders):
    maker, taker = traders
    await trade(maker, taker, "50000", "0.01")   # Sun 23:30 UTC
    exchange.clock.advance(HOUR)
    await trade(maker, taker, "51000", "0.01")   # Mon 00:30 UTC
    utc = await get(exchange, "klines", symbol=S, interval="1d")
    assert [k[8] for k in utc] == [1, 1]
    local = await get(exchange, "klines", symbol=S, interval="1d", timeZone="8")
    # 07:30 and 08:30 on Monday in UTC+8: one candle opening at local midnight
    assert [(k[0], k[6], k[8]) for k in local] == [(T0 + 30 * MIN - 8 * HOUR,
                                                    T0 + 30 * MIN + 16 * HOUR - 1, 2)]
    west = await get(exchange, "klines", symbol=S, interval="1d", timeZone="-1:00")
    assert [k[0] for k in west] == [T0 - 22 * HOUR - 30 * MIN]
    nepal = await get(exchange, "klines", symbol=S, interval="1h", timeZone="05:45")
    assert [(k[0] % HOUR, k[8]) for k in nepal] == [(15 * MIN, 1), (15 * MIN, 1)]
    # minute-level intervals do not move with whole-hour zones
    assert await get(exchange, "klines", symbol=S, interval="1m", timeZone="-3") == \
        await get(exchange, "klines", symbol=S, interval="1m")
    week = await get(exchange, "klines", symbol=S, interval="1w", timeZone="+14:00")
    assert [k[0] for k in week] == [T0 + 30 * MIN - 14 * HOUR]  # Monday already in UTC+14
    for bad in ("14:01", "-12:30", "abc", "8:5", "1:60", "99"):
        await error(exchange, "klines", -1130, "Data sent for parameter 'timeZone' is not valid.",
                    symbol=S, interval="1d", timeZone=bad)


async def test_klines_of_symbol_without_trades(exchange):
    assert await get(exchange, "klines", symbol="SOLUSDT", interval="1m") == []


# ----------------------------------------------------------------------------- avgPrice

async def test_avg_price(exchange, traders):
    maker, taker = traders
    assert await get(exchange, "avgPrice", symbol=S) == {"mins": 5, "price": ZERO, "closeTime": 0}
    await trade(maker, taker, "50000", "0.01")
    exchange.clock.advance(MIN)
    await trade(maker, taker, "50300", "0.02")
    avg = await get(exchange, "avgPrice", symbol=S)
    assert avg == {"mins": 5, "price": "50200.00000000", "closeTime": T0 + MIN}
    exchange.clock.advance(4 * MIN + 1)  # the first trade leaves the 5-minute window
    assert (await get(exchange, "avgPrice", symbol=S))["price"] == "50300.00000000"
    await error(exchange, "avgPrice", -1121, symbol="NOPE")


# ----------------------------------------------------------------------------- tickers

async def test_ticker_24hr_full_and_mini(exchange, traders):
    maker, taker = traders
    await trade(maker, taker, "50000", "0.01")
    exchange.clock.advance(MIN)
    await trade(maker, taker, "40000", "0.01", taker_side="SELL")
    exchange.clock.advance(MIN)
    await trade(maker, taker, "45000", "0.02")
    await rest(maker, "BUY", "44000", "0.5")
    await rest(maker, "SELL", "46000", "0.25")
    await rest(maker, "SELL", "46000", "0.25")
    now = exchange.clock.now
    t = await get(exchange, "ticker/24hr", symbol=S)
    assert list(t) == FULL_24HR
    assert t == {
        "symbol": S, "priceChange": "-5000.00000000", "priceChangePercent": "-10.000",
        "weightedAvgPrice": "45000.00000000", "prevClosePrice": ZERO,
        "lastPrice": "45000.00000000", "lastQty": "0.02000000",
        "bidPrice": "44000.00000000", "bidQty": "0.50000000",
        "askPrice": "46000.00000000", "askQty": "0.50000000",
        "openPrice": "50000.00000000", "highPrice": "50000.00000000",
        "lowPrice": "40000.00000000", "volume": "0.04000000", "quoteVolume": "1800.00000000",
        "openTime": (now - DAY) // MIN * MIN, "closeTime": now, "firstId": 1, "lastId": 3,
        "count": 3}
    mini = await get(exchange, "ticker/24hr", symbol=S, type="MINI")
    assert list(mini) == MINI and mini == {k: t[k] for k in MINI}
    many = await get(exchange, "ticker/24hr", symbols='["ETHUSDT","BTCUSDT"]')
    assert [x["symbol"] for x in many] == ["ETHUSDT", S] and many[1] == t
    everything = await get(exchange, "ticker/24hr")
    assert [x["symbol"] for x in everything] == ["BTCUSDT", "ETHUSDT", "BNBUSDT", "ETHBTC",
                                                 "BNBBTC", "SOLUSDT"]
    await error(exchange, "ticker/24hr", -1139, "Invalid ticker type.", symbol=S, type="mini")
    await error(exchange, "ticker/24hr", -1128, symbol=S, symbols='["BTCUSDT"]')
    await error(exchange, "ticker/24hr", -1151, symbols='["BTCUSDT","BTCUSDT"]')
    await error(exchange, "ticker/24hr", -1121, symbols='["BTCUSDT","NOPE"]')
    await error(exchange, "ticker/24hr", -1135, symbols='[BTCUSDT]')


async def test_ticker_24hr_weights(exchange):
    used = []
    for params in ({"symbol": S}, {}, {"symbols": '["BTCUSDT","ETHUSDT"]'}):
        r = await exchange.http.get("/api/v3/ticker/24hr", params=params)
        used.append(int(r.headers["x-mbx-used-weight-1m"]))
    assert [b - a for a, b in zip([0] + used, used)] == [2, 80, 2]


async def test_ticker_24hr_window_slides_past_old_trades(exchange, traders):
    maker, taker = traders
    await trade(maker, taker, "50000", "0.01")
    exchange.clock.advance(HOUR)
    await trade(maker, taker, "51000", "0.01")
    exchange.clock.advance(DAY - HOUR + MIN)  # first trade's minute left the window
    t = await get(exchange, "ticker/24hr", symbol=S)
    assert (t["count"], t["firstId"], t["lastId"]) == (1, 2, 2)
    assert t["prevClosePrice"] == "50000.00000000" and t["openPrice"] == "51000.00000000"
    exchange.clock.advance(HOUR)  # nothing left: zeros, ids -1, last price kept
    t = await get(exchange, "ticker/24hr", symbol=S)
    assert {k: t[k] for k in ("count", "firstId", "lastId", "volume", "highPrice", "lowPrice",
                              "priceChange", "priceChangePercent", "weightedAvgPrice")} == {
        "count": 0, "firstId": -1, "lastId": -1, "volume": ZERO, "highPrice": ZERO,
        "lowPrice": ZERO, "priceChange": ZERO, "priceChangePercent": "0.000",
        "weightedAvgPrice": ZERO}
    assert t["lastPrice"] == t["openPrice"] == t["prevClosePrice"] == "51000.00000000"
    assert t["lastQty"] == "0.01000000"


async def test_polled_ticker_follows_trades_book_and_clock(exchange, traders):
    """Tickers are memoized per symbol between its commands: a poll right after a trade,
    a book change or a new window minute sees it, and closeTime is always the time asked."""
    maker, taker = traders
    await trade(maker, taker, "50000", "0.01")
    t1 = await get(exchange, "ticker/24hr", symbol=S)
    exchange.clock.advance(5)
    t2 = await get(exchange, "ticker/24hr", symbol=S)
    assert t2["closeTime"] == t1["closeTime"] + 5 == exchange.clock.now
    assert {k: v for k, v in t2.items() if k != "closeTime"} == {
        k: v for k, v in t1.items() if k != "closeTime"}
    await rest(maker, "BUY", "49000", "0.02")  # the book changes, no trade
    t3 = await get(exchange, "ticker/24hr", symbol=S)
    assert (t3["bidPrice"], t3["bidQty"], t3["count"]) == ("49000.00000000", "0.02000000", 1)
    await trade(maker, taker, "50500", "0.01")
    t4 = await get(exchange, "ticker/24hr", symbol=S)
    assert (t4["count"], t4["lastPrice"], t4["highPrice"]) == (2, "50500.00000000", "50500.00000000")
    exchange.clock.advance(DAY + MIN)
    t5 = await get(exchange, "ticker/24hr", symbol=S)
    assert (t5["count"], t5["closeTime"]) == (0, exchange.clock.now)
    mini = await get(exchange, "ticker/24hr", symbol=S, type="MINI")
    assert mini["count"] == 0 and "bidPrice" not in mini


async def test_tickers_of_symbol_without_trades_or_orders(exchange):
    now = exchange.clock.now
    t = await get(exchange, "ticker/24hr", symbol="SOLUSDT")
    assert t == {"symbol": "SOLUSDT", "priceChange": ZERO, "priceChangePercent": "0.000",
                 "weightedAvgPrice": ZERO, "prevClosePrice": ZERO, "lastPrice": ZERO,
                 "lastQty": ZERO, "bidPrice": ZERO, "bidQty": ZERO, "askPrice": ZERO,
                 "askQty": ZERO, "openPrice": ZERO, "highPrice": ZERO, "lowPrice": ZERO,
                 "volume": ZERO, "quoteVolume": ZERO, "openTime": (now - DAY) // MIN * MIN,
                 "closeTime": now, "firstId": -1, "lastId": -1, "count": 0}
    assert await get(exchange, "ticker/price", symbol="SOLUSDT") == {"symbol": "SOLUSDT",
                                                                      "price": ZERO}
    assert await get(exchange, "ticker/bookTicker", symbol="SOLUSDT") == {
        "symbol": "SOLUSDT", "bidPrice": ZERO, "bidQty": ZERO, "askPrice": ZERO, "askQty": ZERO}
    day = await get(exchange, "ticker/tradingDay", symbol="SOLUSDT")
    assert list(day) == FULL_WINDOW and day["count"] == 0 and day["lastPrice"] == ZERO
    rolling = await get(exchange, "ticker", symbol="SOLUSDT", type="MINI")
    assert list(rolling) == MINI and (rolling["firstId"], rolling["lastId"]) == (-1, -1)


async def test_ticker_trading_day_in_time_zones(exchange, traders):
    maker, taker = traders
    await trade(maker, taker, "50000", "0.01")   # Sun 23:30 UTC
    exchange.clock.advance(HOUR)
    await trade(maker, taker, "52000", "0.01")   # Mon 00:30 UTC
    monday = T0 + 30 * MIN
    t = await get(exchange, "ticker/tradingDay", symbol=S)
    assert list(t) == FULL_WINDOW
    assert (t["openTime"], t["closeTime"], t["count"], t["firstId"]) == (monday, monday + DAY - 1,
                                                                         1, 2)
    east = await get(exchange, "ticker/tradingDay", symbol=S, timeZone="8")
    assert (east["openTime"], east["count"], east["openPrice"], east["priceChangePercent"]) == (
        monday - 8 * HOUR, 2, "50000.00000000", "4.000")
    assert east["weightedAvgPrice"] == "51000.00000000"
    west = await get(exchange, "ticker/tradingDay", symbols='["BTCUSDT"]', timeZone="-1:00",
                     type="MINI")
    assert [(x["openTime"], x["count"]) for x in west] == [(monday - DAY + HOUR, 2)]
    await error(exchange, "ticker/tradingDay", -1130,
                "Data sent for parameter 'timeZone' is not valid.", symbol=S, timeZone="15")
    await error(exchange, "ticker/tradingDay", -1102,
                "Param 'symbol' or 'symbols' must be sent, but both were empty/null!")
    await error(exchange, "ticker/tradingDay", -1139, symbol=S, type="FOO")


async def test_rolling_window_ticker(exchange, traders):
    maker, taker = traders
    await trade(maker, taker, "50000", "0.01")
    exchange.clock.advance(10 * MIN)
    await trade(maker, taker, "50500", "0.01")
    exchange.clock.advance(30_000)
    now = exchange.clock.now
    t = await get(exchange, "ticker", symbol=S, windowSize="5m")
    assert list(t) == FULL_WINDOW
    assert (t["openTime"], t["closeTime"], t["count"], t["firstId"]) == (
        (now - 5 * MIN) // MIN * MIN, now, 1, 2)
    day = await get(exchange, "ticker", symbol=S)  # default 1d
    assert (day["count"], day["priceChange"], day["priceChangePercent"]) == (2, "500.00000000",
                                                                             "1.000")
    # the window opens at the start of the minute: 10m from T0+10m30s reaches back to T0
    assert (await get(exchange, "ticker", symbol=S, windowSize="9m"))["count"] == 1
    assert (await get(exchange, "ticker", symbol=S, windowSize="10m"))["count"] == 2
    seven = await get(exchange, "ticker", symbols='["BTCUSDT","ETHUSDT"]', windowSize="7d",
                      type="MINI")
    assert [(x["symbol"], x["count"]) for x in seven] == [(S, 2), ("ETHUSDT", 0)]
    for bad in ("0m", "60m", "24h", "8d", "1d2h", "1w", "01m"):
        await error(exchange, "ticker", -1130, "Data sent for parameter 'windowSize' is not valid.",
                    symbol=S, windowSize=bad)
    too_many = "[" + ",".join(f'"S{i}"' for i in range(101)) + "]"
    await error(exchange, "ticker", -1101,
                "Too many values sent for parameter 'symbols', maximum allowed up to 100.",
                symbols=too_many)
    await error(exchange, "ticker", -1102, windowSize="1h")


async def test_ticker_price_and_book_ticker(exchange, traders):
    maker, taker = traders
    await trade(maker, taker, "50000", "0.01")
    await rest(maker, "BUY", "49000", "0.3")
    await rest(maker, "SELL", "51000", "0.2")
    assert await get(exchange, "ticker/price", symbol=S) == {"symbol": S, "price": "50000.00000000"}
    prices = await get(exchange, "ticker/price")
    assert len(prices) == 6 and prices[0] == {"symbol": S, "price": "50000.00000000"}
    assert await get(exchange, "ticker/bookTicker", symbols='["BTCUSDT"]') == [{
        "symbol": S, "bidPrice": "49000.00000000", "bidQty": "0.30000000",
        "askPrice": "51000.00000000", "askQty": "0.20000000"}]
    assert len(await get(exchange, "ticker/bookTicker")) == 6
    await error(exchange, "ticker/price", -1121, symbol="NOPE")
    await error(exchange, "ticker/bookTicker", -1151, symbols='["ETHBTC","ETHBTC"]')


# ----------------------------------------------------------------------------- restart

MARKET_GETS = [
    ("depth", {"symbol": S}), ("trades", {"symbol": S}), ("historicalTrades", {"symbol": S, "fromId": 2}),
    ("aggTrades", {"symbol": S}), ("klines", {"symbol": S, "interval": "1m"}),
    ("klines", {"symbol": S, "interval": "1d", "timeZone": "05:45"}),
    ("klines", {"symbol": S, "interval": "1M"}), ("avgPrice", {"symbol": S}),
    ("ticker/24hr", {}), ("ticker/tradingDay", {"symbol": S, "timeZone": "-4"}),
    ("ticker", {"symbol": S, "windowSize": "2h"}), ("ticker/price", {}),
    ("ticker/bookTicker", {}),
]


async def snapshot_of(http: httpx.AsyncClient) -> list:
    out = []
    for path, params in MARKET_GETS:
        r = await http.get(f"/api/v3/{path}", params=params)
        assert r.status_code == 200, r.text
        out.append(r.json())
    return out


@pytest.mark.parametrize("with_snapshot", [True, False])
async def test_market_data_survives_restart(exchange, traders, with_snapshot):
    maker, taker = traders
    for i in range(12):
        await trade(maker, taker, str(50000 + 10 * i), "0.01", "BUY" if i % 3 else "SELL")
        exchange.clock.advance(7 * MIN + 13)
    await rest(maker, "BUY", "48000", "0.1")
    await rest(maker, "SELL", "53000", "0.1")
    before = await snapshot_of(exchange.http)
    server = exchange.server
    if with_snapshot:
        await server.engine.close()  # snapshot (core + market projection), then close
    else:
        await server.engine.journal.close()  # journal only: the restart replays everything
    again = build(server.data_dir, admin_token="test-admin-token", clock=exchange.clock)
    transport = httpx.ASGITransport(app=again.app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://spotex") as http:
        assert await snapshot_of(http) == before
        # and it keeps going: the next trade extends the same series and ids
        assert again.engine.exchange.next_trade_id[S] == 13
    await again.engine.journal.close()
