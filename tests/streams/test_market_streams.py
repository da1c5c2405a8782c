"""Every market stream over raw websockets: names, URL forms, payload fields and types."""
from __future__ import annotations

import asyncio
import time

from .conftest import QUOTE, collect, connect, recv, recv_until, room_in_minute

DEC = str  # decimals are strings
TRADE_KEYS = ["e", "E", "s", "t", "p", "q", "T", "m", "M"]
AGG_KEYS = ["e", "E", "s", "a", "p", "q", "f", "l", "T", "m", "M"]
KLINE_KEYS = ["t", "T", "s", "i", "f", "L", "o", "c", "h", "l", "v", "n", "x", "q", "V", "Q", "B"]
MINI_KEYS = ["e", "E", "s", "c", "o", "h", "l", "v", "q"]
TICKER_KEYS = ["e", "E", "s", "p", "P", "w", "x", "c", "Q", "b", "B", "a", "A", "o", "h", "l",
               "v", "q", "O", "C", "F", "L", "n"]
WINDOW_KEYS = ["e", "E", "s", "p", "P", "o", "h", "l", "c", "w", "v", "q", "O", "C", "F", "L", "n"]


def types(msg: dict, ints: str, bools: str = "") -> None:
    """Keys in `ints` are ints, in `bools` bools, the rest except e/s strings."""
    for key, value in msg.items():
        if key in ints:
            assert type(value) is int, (key, value)
        elif key in bools:
            assert type(value) is bool, (key, value)
        elif key not in ("b", "a", "bids", "asks", "k"):
            assert type(value) is str, (key, value)


async def test_trade_stream_raw(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    async with connect(live, f"/ws/{sym.lower()}@trade") as ws:
        live.order(maker, sym, "SELL", "1.5", "100")
        placed = live.order(taker, sym, "BUY", "1")
        msg = await recv(ws)
    assert list(msg) == TRADE_KEYS
    assert msg["e"] == "trade" and msg["s"] == sym and msg["t"] == 1
    assert (msg["p"], msg["q"]) == ("100.00000000", "1.00000000")
    assert msg["m"] is False and msg["M"] is True  # the buyer took
    assert msg["T"] == placed["transactTime"] == msg["E"]
    types(msg, "ETt", "mM")


async def test_agg_trade_spans_one_takers_fills(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    async with connect(live, f"/ws/{sym.lower()}@aggTrade") as ws:
        live.order(maker, sym, "SELL", "1", "100")
        live.order(maker, sym, "SELL", "1", "100")
        live.order(maker, sym, "SELL", "1", "101")
        live.order(taker, sym, "BUY", "2.5")
        first, second = await recv(ws), await recv(ws)
    assert list(first) == AGG_KEYS
    assert (first["a"], first["p"], first["q"], first["f"], first["l"]) == (1, "100.00000000", "2.00000000", 1, 2)
    assert (second["a"], second["p"], second["q"], second["f"], second["l"]) == (2, "101.00000000", "0.50000000", 3, 3)
    types(first, "EaflT", "mM")
    rest = live.http.get("/api/v3/aggTrades", params={"symbol": sym}).json()
    assert [{k: a[k] for k in ("a", "p", "q", "f", "l", "T", "m")} for a in rest] == \
        [{k: e[k] for k in ("a", "p", "q", "f", "l", "T", "m")} for e in (first, second)]


async def test_combined_stream_wraps_events(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    low = sym.lower()
    async with connect(live, f"/stream?streams={low}@trade/{low}@aggTrade") as ws:
        live.order(maker, sym, "SELL", "1", "100")
        live.order(taker, sym, "BUY", "1")
        got = {m["stream"]: m for m in [await recv(ws), await recv(ws)]}
    assert set(got) == {f"{low}@trade", f"{low}@aggTrade"}
    assert all(list(m) == ["stream", "data"] for m in got.values())
    assert got[f"{low}@trade"]["data"]["e"] == "trade"
    assert got[f"{low}@aggTrade"]["data"]["e"] == "aggTrade"


async def test_several_raw_streams_in_the_path(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    low = sym.lower()
    async with connect(live, f"/ws/{low}@trade/{low}@aggTrade") as ws:
        live.order(maker, sym, "SELL", "1", "100")
        live.order(taker, sym, "BUY", "1")
        events = {(await recv(ws))["e"], (await recv(ws))["e"]}
    assert events == {"trade", "aggTrade"}


async def test_book_ticker_on_each_change_with_depth_ids(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    async with connect(live, f"/ws/{sym.lower()}@bookTicker") as ws:
        live.order(maker, sym, "BUY", "2", "99")
        first = await recv(ws)
        live.order(maker, sym, "SELL", "3", "101")
        second = await recv(ws)
        live.order(maker, sym, "BUY", "1", "98")  # not the best: no event
        live.order(taker, sym, "SELL", "0.5")  # best bid qty changes
        third = await recv(ws)
        assert await collect(ws, 0.3) == []
    assert list(first) == ["u", "s", "b", "B", "a", "A"]
    assert first == {"u": 1, "s": sym, "b": "99.00000000", "B": "2.00000000",
                     "a": "0.00000000", "A": "0.00000000"}
    assert (second["a"], second["A"], second["u"]) == ("101.00000000", "3.00000000", 2)
    assert (third["B"], third["u"]) == ("1.50000000", 4)
    assert live.depth(sym)["lastUpdateId"] == 4  # the same sequence as REST depth


async def test_partial_depth_snapshots(live):
    sym = live.market()
    maker, _ = live.pair(sym)
    for i in range(7):
        live.order(maker, sym, "BUY", "1", str(90 + i))
        live.order(maker, sym, "SELL", "1", str(110 + i))
    low = sym.lower()
    async with connect(live, f"/stream?streams={low}@depth5/{low}@depth10@100ms/{low}@depth20@1000ms") as ws:
        got: dict[str, list] = {}
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.6:
            m = await recv(ws)
            got.setdefault(m["stream"], []).append((time.monotonic() - t0, m["data"]))
    rest = live.depth(sym, 20)
    five = got[f"{low}@depth5"][0][1]
    assert list(five) == ["lastUpdateId", "bids", "asks"]
    assert five == {"lastUpdateId": rest["lastUpdateId"], "bids": rest["bids"][:5], "asks": rest["asks"][:5]}
    assert got[f"{low}@depth10@100ms"][0][1]["bids"] == rest["bids"][:10]
    assert got[f"{low}@depth20@1000ms"][0][1]["asks"] == rest["asks"]  # 7 levels: all of them
    assert len(got[f"{low}@depth10@100ms"]) >= 6  # every 100 ms
    assert 1 <= len(got[f"{low}@depth5"]) <= 2  # every second


async def test_diff_depth_ids_chain_and_match_rest(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    async with connect(live, f"/ws/{sym.lower()}@depth@100ms") as ws:
        live.order(maker, sym, "BUY", "1", "99")
        live.order(maker, sym, "SELL", "1", "101")
        first = await recv(ws)
        o = live.order(maker, sym, "SELL", "2", "102")
        live.signed(maker, "DELETE", "/api/v3/order", symbol=sym, orderId=o["orderId"])
        live.order(taker, sym, "BUY", "0.25")
        second = await recv(ws)
    assert list(first) == ["e", "E", "s", "U", "u", "b", "a"]
    assert first["e"] == "depthUpdate" and first["s"] == sym
    assert (first["U"], first["u"]) == (1, 2) and second["U"] == first["u"] + 1
    assert first["b"] == [["99.00000000", "1.00000000"]]
    assert first["a"] == [["101.00000000", "1.00000000"]]
    assert second["u"] == live.depth(sym)["lastUpdateId"] == 5
    assert second["b"] == []
    assert second["a"] == [["101.00000000", "0.75000000"], ["102.00000000", "0.00000000"]]
    types(first, "EUu")


async def test_diff_depth_every_second_by_default(live):
    sym = live.market()
    maker, _ = live.pair(sym)
    low = sym.lower()
    names = (f"{low}@depth", f"{low}@depth@1000ms")
    async with connect(live, f"/stream?streams={'/'.join(names)}") as ws:
        t0 = time.monotonic()
        for i in range(5):
            live.order(maker, sym, "BUY", "1", str(90 + i))
            await asyncio.sleep(0.05)
        events: dict[str, list] = {n: [] for n in names}
        while any(not ev or ev[-1]["u"] < 5 for ev in events.values()):
            m = await recv(ws, 3)
            events[m["stream"]].append(m["data"])
        seconds = time.monotonic() - t0
    a, b = events.values()
    assert a == b  # one event a push, sent to both names
    # the five updates, in one push or (on a slow machine) split over consecutive ones
    assert a[0]["U"] == 1 and a[-1]["u"] == 5
    assert all(n["U"] == p["u"] + 1 for p, n in zip(a, a[1:]))
    assert sorted(p for e in a for p, _ in e["b"]) == [f"{90 + i}.00000000" for i in range(5)]
    assert len(a) <= 1 + seconds  # at most one a second


async def test_klines_current_then_closed(live):
    await room_in_minute(needs_s=8)  # the trades' 1m candle is the one the stream pushes
    sym = live.market()
    maker, taker = live.pair(sym)
    low = sym.lower()
    live.order(maker, sym, "SELL", "2", "100")
    live.order(maker, sym, "SELL", "2", "103")
    placed = live.order(taker, sym, "BUY", "3")
    t = placed["transactTime"]
    async with connect(live, f"/stream?streams={low}@kline_1s/{low}@kline_1m/{low}@kline_1d@+08:00") as ws:
        msgs = await collect(ws, 2.6)
    by = {}
    for m in msgs:
        by.setdefault(m["stream"], []).append(m["data"])
    one_m = by[f"{low}@kline_1m"][0]
    assert list(one_m) == ["e", "E", "s", "k"] and one_m["e"] == "kline"
    k = one_m["k"]
    assert list(k) == KLINE_KEYS
    assert k["t"] == t - t % 60_000 and k["T"] == k["t"] + 59_999 and k["i"] == "1m"
    assert (k["o"], k["h"], k["l"], k["c"]) == ("100.00000000", "103.00000000", "100.00000000", "103.00000000")
    assert (k["v"], k["q"], k["n"], k["f"], k["L"], k["x"]) == ("3.00000000", "303.00000000", 2, 1, 2, False)
    assert (k["V"], k["Q"]) == ("3.00000000", "303.00000000")  # the buyer took
    types(k, "tTfLn", "x")
    rest = live.http.get("/api/v3/klines", params={"symbol": sym, "interval": "1m"}).json()[-1]
    assert [k["t"], k["o"], k["h"], k["l"], k["c"], k["v"], k["T"], k["q"], k["n"], k["V"], k["Q"]] == rest[:11]
    day = by[f"{low}@kline_1d@+08:00"][0]["k"]
    assert (day["t"] + 8 * 3_600_000) % 86_400_000 == 0  # opens at midnight UTC+8
    ones = by[f"{low}@kline_1s"]
    assert len(ones) >= 2  # every second (1m/1d every 2 s)
    closed = [e["k"] for e in ones if e["k"]["x"]]
    assert closed and closed[0]["T"] == closed[0]["t"] + 999
    assert len(by[f"{low}@kline_1m"]) <= 2


async def test_tickers(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    low = sym.lower()
    live.order(maker, sym, "SELL", "1", "100")
    live.order(maker, sym, "SELL", "1", "110")
    live.order(maker, sym, "BUY", "1", "90")
    live.order(taker, sym, "BUY", "1.5")
    names = [f"{low}@ticker", f"{low}@miniTicker", f"{low}@ticker_1h", f"{low}@ticker_4h",
             f"{low}@ticker_1d", f"{low}@avgPrice"]
    async with connect(live, "/stream?streams=" + "/".join(names)) as ws:
        got = {}
        while len(got) < len(names):
            m = await recv(ws, 3)
            got.setdefault(m["stream"], m["data"])
    full, mini = got[f"{low}@ticker"], got[f"{low}@miniTicker"]
    assert list(full) == TICKER_KEYS and full["e"] == "24hrTicker"
    rest = live.http.get("/api/v3/ticker/24hr", params={"symbol": sym}).json()
    for key, name in [("p", "priceChange"), ("P", "priceChangePercent"), ("w", "weightedAvgPrice"),
                      ("x", "prevClosePrice"), ("c", "lastPrice"), ("Q", "lastQty"),
                      ("b", "bidPrice"), ("B", "bidQty"), ("a", "askPrice"), ("A", "askQty"),
                      ("o", "openPrice"), ("h", "highPrice"), ("l", "lowPrice"), ("v", "volume"),
                      ("q", "quoteVolume"), ("O", "openTime"), ("F", "firstId"), ("L", "lastId"),
                      ("n", "count")]:
        assert full[key] == rest[name], key
    assert (full["c"], full["h"], full["v"], full["n"]) == ("110.00000000", "110.00000000", "1.50000000", 2)
    assert full["C"] == full["E"]
    types(full, "EOCFLn")
    assert list(mini) == MINI_KEYS and mini["e"] == "24hrMiniTicker"
    assert (mini["c"], mini["o"], mini["q"]) == ("110.00000000", "100.00000000", "155.00000000")
    for w in ("1h", "4h", "1d"):
        win = got[f"{low}@ticker_{w}"]
        assert list(win) == WINDOW_KEYS and win["e"] == f"{w}Ticker"
        assert (win["c"], win["n"], win["F"], win["L"]) == ("110.00000000", 2, 1, 2)
        assert win["O"] % 60_000 == 0  # windows open on a minute
    avg = got[f"{low}@avgPrice"]
    assert list(avg) == ["e", "E", "s", "i", "w", "T"]
    assert avg["e"] == "avgPrice" and avg["i"] == "5m"
    assert avg["w"] == live.http.get("/api/v3/avgPrice", params={"symbol": sym}).json()["price"]


async def test_all_market_arrays_carry_changed_symbols(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    async with connect(live, "/stream?streams=!miniTicker@arr/!ticker@arr/!ticker_1h@arr") as ws:
        first = {}
        while len(first) < 3:
            m = await recv(ws, 3)
            first.setdefault(m["stream"], m["data"])
        assert all(isinstance(v, list) and v for v in first.values())
        live.order(maker, sym, "SELL", "1", "100")
        live.order(taker, sym, "BUY", "1")
        later = await recv_until(ws, lambda m: m["stream"] == "!ticker@arr", timeout=3)
    assert [t["s"] for t in later["data"]] == [sym]  # only what changed since the last push
    assert later["data"][0]["e"] == "24hrTicker" and later["data"][0]["c"] == "100.00000000"
    assert {t["e"] for t in first["!miniTicker@arr"]} == {"24hrMiniTicker"}
    assert {t["e"] for t in first["!ticker_1h@arr"]} == {"1hTicker"}


async def test_unknown_names_are_silent(live):
    async with connect(live, "/ws/nosuchsym@trade/0") as ws:
        await ws.send('{"method":"LIST_SUBSCRIPTIONS","id":7}')
        assert await recv(ws) == {"result": ["nosuchsym@trade", "0"], "id": 7}


async def test_quote_asset_in_names_is_lowercase_only(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    async with connect(live, f"/ws/{sym}@trade") as ws:  # upper case: not a stream
        live.order(maker, sym, "SELL", "1", "100")
        live.order(taker, sym, "BUY", "1")
        assert await collect(ws, 0.5) == []
    assert QUOTE in sym
