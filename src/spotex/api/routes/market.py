"""Market data endpoints (endpoints.md §2): depth, trades, aggTrades, klines, avgPrice, tickers.

Reads the live book and the `spotex.market` projection. "Now" is `engine.now()`, the
commands' clock: the core's average price drops old trades lazily by the time it is
given, so a read must never run ahead of the next command's time.
"""
from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from operator import itemgetter
from typing import Any, Callable

import orjson

from ...core.book import Book, BookSide
from ...core.errors import ApiError
from ...core.numbers import SCALE, fmt, to_str_pct
from ...engine import Engine
from ...market import MarketData, SymbolMarket
from ...market import candles as k
from ...market.intervals import DAY, INTERVALS, MINUTE, parse_time_zone, parse_window, source_for
from ...market.stats import window
from ..http import Request, Route
from ..params import Params
from ..render import ZERO
from .general import symbols_param
from .trading import limit_param

DEPTH_DEFAULT, DEPTH_MAX = 100, 5000
MAX_SYMBOLS = 100  # tradingDay and rolling-window tickers
TICKER_TYPES = frozenset({"FULL", "MINI"})
_ID = itemgetter(0)
_AGG_ID, _AGG_TIME = itemgetter(0), itemgetter(5)


def _memo_fmt() -> Callable[[int], str]:
    """`fmt` remembering its answers for one response: long lists repeat prices and sizes."""
    memo: dict[int, str] = {}

    def f(v: int) -> str:
        s = memo.get(v)
        if s is None:
            s = memo[v] = fmt(v)
        return s
    return f


def _levels(side: BookSide, limit: int, f: Callable[[int], str]) -> list[list[str]]:
    levels = side.levels
    pick = heapq.nlargest if side.is_bid else heapq.nsmallest
    return [[fmt(p), f(levels[p].qty)] for p in pick(limit, levels)]


def _best(side: BookSide) -> tuple[str, str]:
    level = side.best()
    return (fmt(level.price), fmt(level.qty)) if level is not None else (ZERO, ZERO)


def _book_top(book: Book) -> dict[str, str]:
    (bid, bid_qty), (ask, ask_qty) = _best(book.bids), _best(book.asks)
    return {"bidPrice": bid, "bidQty": bid_qty, "askPrice": ask, "askQty": ask_qty}


def _trades(items: list[tuple]) -> list[dict[str, Any]]:
    f = _memo_fmt()
    return [{"id": t[0], "price": f(t[1]), "qty": f(t[2]), "quoteQty": f(t[3]), "time": t[4],
             "isBuyerMaker": t[5], "isBestMatch": True} for t in items]


def _aggs(items: list[list]) -> list[dict[str, Any]]:
    f = _memo_fmt()
    return [{"a": a[0], "p": f(a[1]), "q": f(a[2]), "f": a[3], "l": a[4], "T": a[5], "m": a[6],
             "M": True} for a in items]


def _klines(rows: list[tuple[list[int], int]]) -> list[list[Any]]:
    f = _memo_fmt()
    return [[c[k.OPEN], f(c[k.O]), f(c[k.H]), f(c[k.L]), f(c[k.C]), f(c[k.V]), close_time,
             f(c[k.QV]), c[k.N], f(c[k.TBV]), f(c[k.TBQ]), "0"] for c, close_time in rows]


def _time_zone(p: Params) -> int:
    v = p.get("timeZone")
    if not v:
        return 0
    try:
        return parse_time_zone(v)
    except ValueError:
        raise ApiError("INVALID_PARAMETER", "timeZone") from None


def _ticker_type(p: Params) -> bool:
    """True for FULL (the default), False for MINI; -1139 otherwise."""
    return (p.enum("type", TICKER_TYPES, "INVALID_TICKER_TYPE") or "FULL") == "FULL"


class Window:
    """What a ticker reports about the trades of one window (no trades: zeros and -1 ids)."""

    __slots__ = ("open", "high", "low", "last", "volume", "quote", "first_id", "last_id", "count")

    def __init__(self, agg: list[int] | None, last_price: int) -> None:
        if agg is None:
            self.open = self.last = last_price
            self.high = self.low = self.volume = self.quote = self.count = 0
            self.first_id = self.last_id = -1
            return
        self.open, self.high, self.low, self.last = agg[k.O], agg[k.H], agg[k.L], agg[k.C]
        self.volume, self.quote, self.count = agg[k.V], agg[k.QV], agg[k.N]
        self.first_id, self.last_id = agg[k.FIRST], agg[k.LAST]

    def change(self) -> dict[str, str]:
        diff = self.last - self.open
        avg = self.quote * SCALE // self.volume if self.volume else 0
        return {"priceChange": fmt(diff), "priceChangePercent": to_str_pct(diff, self.open),
                "weightedAvgPrice": fmt(avg)}

    def tail(self, open_time: int, close_time: int) -> dict[str, Any]:
        return {"openPrice": fmt(self.open), "highPrice": fmt(self.high),
                "lowPrice": fmt(self.low), "lastPrice": fmt(self.last),
                "volume": fmt(self.volume), "quoteVolume": fmt(self.quote),
                "openTime": open_time, "closeTime": close_time, "firstId": self.first_id,
                "lastId": self.last_id, "count": self.count}


def _series3(m: SymbolMarket) -> tuple:
    s = m.series
    return s["1m"], s["1h"], s["1d"]


# shared with spotex.streams (depth and ticker streams render from the same reads)
book_levels, book_top = _levels, _book_top


def window_stats(m: SymbolMarket, open_time: int, close_time: int) -> Window:
    """The trades in [open_time, close_time] (tickers here and in the ticker streams)."""
    return Window(window(_series3(m), open_time, close_time + 1), m.last_price)


def rolling_open(now: int, span: int) -> int:
    """A rolling window of `span` ending now opens at the start of a minute."""
    return (now - span) // MINUTE * MINUTE


def prev_close(m: SymbolMarket, open_time: int) -> int:
    """The last price before `open_time` (prevClosePrice)."""
    return m.series["1m"].close_before(open_time)


def routes(engine: Engine, market: MarketData) -> list[Route]:
    ex = lambda: engine.exchange  # noqa: E731 - the exchange object is replaced on rebuild

    def symbol(p: Params) -> str:
        name = p.str("symbol", required=True)
        ex().symbol(name)
        return name

    def some_symbols(p: Params) -> tuple[list[str], bool]:
        """`symbol` -> ([it], True); `symbols` -> (them, False); neither -> (all, False)."""
        chosen = symbols_param(engine, p)
        if chosen is None:
            return list(ex().symbols), False
        return [s.name for s in chosen], p.has("symbol")

    def required_symbols(p: Params) -> tuple[list[str], bool]:
        if not p.has("symbol"):
            names = p.json_list("symbols")
            if names is None:
                raise ApiError("EITHER_PARAM", "symbol", "symbols")
            if len(names) > MAX_SYMBOLS:
                raise ApiError("TOO_MANY_SYMBOLS")
        return some_symbols(p)

    # per (symbol, shape): the latest answer with its window start and symbol version. A
    # ticker's numbers change only with the symbol's commands or a new window minute;
    # closeTime (often "now") is set on a copy.
    ticker_memo: dict[tuple[str, bool, bool], tuple[int, int, dict]] = {}

    def ticker(name: str, open_time: int, close_time: int, full: bool, day: bool) -> dict:
        """One ticker over the trades in [open_time, close_time]; `day`: the 24hr shape."""
        m = market[name]
        memo = ticker_memo.get((name, full, day))
        if memo is None or memo[0] != open_time or memo[1] != m.updates:
            memo = ticker_memo[(name, full, day)] = (
                open_time, m.updates, render_ticker(name, open_time, close_time, full, day))
        out = memo[2].copy()
        out["closeTime"] = close_time
        return out

    def render_ticker(name: str, open_time: int, close_time: int, full: bool,
                      day: bool) -> dict:
        m = market[name]
        w = window_stats(m, open_time, close_time)
        if not full:
            return {"symbol": name} | w.tail(open_time, close_time)
        out = {"symbol": name, **w.change()}
        if day:  # keys keep this order when w.tail() sets lastPrice again
            out |= {"prevClosePrice": fmt(prev_close(m, open_time)),
                    "lastPrice": fmt(w.last), "lastQty": fmt(m.last_qty),
                    **_book_top(ex().books[name])}
        return out | w.tail(open_time, close_time)

    def tickers(p: Params, names: list[str], single: bool, open_time: int, close_time: int,
                day: bool = False) -> Any:
        full = _ticker_type(p)
        out = [ticker(n, open_time, close_time, full, day) for n in names]
        return out[0] if single else out

    # one encoded answer per (symbol, limit), valid while lastUpdateId is unchanged;
    # orjson embeds a Fragment as is, in a REST body or a WebSocket API envelope alike
    depth_cache: dict[tuple[str, int], tuple[int, orjson.Fragment]] = {}

    async def depth(req: Request) -> Any:
        p = req.params
        name = symbol(p)
        limit = p.int("limit")
        if limit is None:
            limit = DEPTH_DEFAULT
        elif limit <= 0:
            raise ApiError("INVALID_PARAMETER", "limit")
        limit = min(limit, DEPTH_MAX)
        updates = market[name].updates
        cached = depth_cache.get((name, limit))
        if cached is not None and cached[0] == updates:
            return cached[1]  # the book has not changed since: the same bytes
        book, f = ex().books[name], _memo_fmt()
        out = orjson.Fragment(orjson.dumps({
            "lastUpdateId": updates, "bids": _levels(book.bids, limit, f),
            "asks": _levels(book.asks, limit, f)}))
        depth_cache[(name, limit)] = (updates, out)
        return out

    async def trades(req: Request) -> Any:
        p = req.params
        name = symbol(p)
        limit = limit_param(p)
        return _trades(market[name].trades[-limit:])

    async def historical_trades(req: Request) -> Any:
        p = req.params
        name = symbol(p)
        limit, from_id = limit_param(p), p.long("fromId")
        items = market[name].trades
        if from_id is None:
            return _trades(items[-limit:])
        i = bisect_left(items, from_id, key=_ID)
        return _trades(items[i:i + limit])

    async def agg_trades(req: Request) -> Any:
        p = req.params
        name = symbol(p)
        limit, from_id = limit_param(p), p.long("fromId")
        start, end = p.long("startTime"), p.long("endTime")
        if from_id is not None and (start is not None or end is not None):
            raise ApiError("OPTIONAL_PARAMS_BAD_COMBO")
        aggs = market[name].aggs
        if from_id is not None:
            i = bisect_left(aggs, from_id, key=_AGG_ID)
            chosen = aggs[i:i + limit]
        elif start is not None:
            i = bisect_left(aggs, start, key=_AGG_TIME)
            j = len(aggs) if end is None else bisect_right(aggs, end, key=_AGG_TIME)
            chosen = aggs[i:min(j, i + limit)]
        elif end is not None:
            j = bisect_right(aggs, end, key=_AGG_TIME)
            chosen = aggs[max(0, j - limit):j]
        else:
            chosen = aggs[-limit:]
        return _aggs(chosen)

    async def get_klines(req: Request) -> Any:
        p = req.params
        name = symbol(p)
        interval = INTERVALS.get(p.str("interval", required=True) or "")
        if interval is None:
            raise ApiError("BAD_INTERVAL")
        start, end = p.long("startTime"), p.long("endTime")
        off = _time_zone(p)
        limit = limit_param(p)
        src = market[name].series[source_for(interval, off).name]
        return _klines(k.klines(src, interval, off, start, end, limit, engine.now()))

    async def avg_price(req: Request) -> Any:
        name = symbol(req.params)
        x = ex()
        mins = x.settings.avg_price_mins
        price = x.avg_price(name, mins, engine.now())
        return {"mins": mins, "price": fmt(price or 0), "closeTime": x.avg[name].last_time}

    async def ticker_24hr(req: Request) -> Any:
        names, single = some_symbols(req.params)
        now = engine.now()
        return tickers(req.params, names, single, rolling_open(now, DAY), now, day=True)

    async def ticker_trading_day(req: Request) -> Any:
        p = req.params
        names, single = required_symbols(p)
        open_time = INTERVALS["1d"].floor(engine.now(), _time_zone(p))
        return tickers(p, names, single, open_time, open_time + DAY - 1)

    async def ticker_rolling(req: Request) -> Any:
        p = req.params
        names, single = required_symbols(p)
        size = p.get("windowSize")
        try:
            span = parse_window(size) if size else DAY
        except ValueError:
            raise ApiError("INVALID_PARAMETER", "windowSize") from None
        now = engine.now()
        return tickers(p, names, single, rolling_open(now, span), now)

    async def ticker_price(req: Request) -> Any:
        names, single = some_symbols(req.params)
        out = [{"symbol": n, "price": fmt(market[n].last_price)} for n in names]
        return out[0] if single else out

    async def book_ticker(req: Request) -> Any:
        names, single = some_symbols(req.params)
        out = [{"symbol": n, **_book_top(ex().books[n])} for n in names]
        return out[0] if single else out

    return [
        Route("GET", "/api/v3/depth", depth),
        Route("GET", "/api/v3/trades", trades),
        Route("GET", "/api/v3/historicalTrades", historical_trades),
        Route("GET", "/api/v3/aggTrades", agg_trades),
        Route("GET", "/api/v3/klines", get_klines),
        Route("GET", "/api/v3/uiKlines", get_klines),
        Route("GET", "/api/v3/avgPrice", avg_price),
        Route("GET", "/api/v3/ticker/24hr", ticker_24hr),
        Route("GET", "/api/v3/ticker/tradingDay", ticker_trading_day),
        Route("GET", "/api/v3/ticker/price", ticker_price),
        Route("GET", "/api/v3/ticker/bookTicker", book_ticker),
        Route("GET", "/api/v3/ticker", ticker_rolling),
    ]
