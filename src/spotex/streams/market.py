"""Market streams: real-time ones from each live command, periodic ones from the timer.

trade, aggTrade and bookTicker go out as the command that caused them is applied: its
trades (core), its aggregate trades (market projection), the book's best levels. The rest
is sampled on the streams timer with the reads REST uses: tickers, avgPrice, 1s klines
every second, other klines every 2 s, partial depth every 1 s or 100 ms.

Diff depth: a live command on a watched symbol marks the price levels its order updates
touched; every 1 s (or 100 ms) the marked levels go out with their current quantity
(0: gone), covering update ids U..u = previous u + 1 .. the symbol's id now. The id is
the projection's per-symbol command count, REST depth's lastUpdateId too, so a client
can keep a local book by the documented procedure. Nothing is tracked for symbols
nobody watches, and no state is scanned per event.
"""
from __future__ import annotations

from typing import Any

from ..api.render import ZERO
from ..api.routes.market import book_levels, book_top, prev_close, rolling_open, window_stats
from ..core.numbers import fmt
from ..core.trades import Trade
from ..engine import Engine
from ..market import MarketData
from ..market import candles as k
from ..market.intervals import DAY, INTERVALS, source_for
from . import payloads as P
from .hub import Hub, dumps, publish_text
from .names import WINDOWS, Topic

_EVERY_SECOND = frozenset(("miniTicker", "ticker", "windowTicker", "avgPrice", "kline",
                           "allMini", "allTicker", "allWindow"))


class DepthDiff:
    """Levels touched since the last diff event of one symbol at one speed."""

    __slots__ = ("last", "bids", "asks", "names")

    def __init__(self, last: int) -> None:
        self.last = last  # u of the last event (or the id when watching began)
        self.bids: set[int] = set()
        self.asks: set[int] = set()
        self.names: list[str] = []


class MarketFeed:
    def __init__(self, engine: Engine, market: MarketData, hub: Hub) -> None:
        self.engine, self.market, self.hub = engine, market, hub
        names = list(engine.exchange.symbols)
        self.symbols = {s.lower(): s for s in names}  # for stream-name parsing
        self.live_names = {s: (s.lower() + "@trade", s.lower() + "@aggTrade",
                               s.lower() + "@bookTicker") for s in names}
        self.watched: set[str] = set()  # symbols of any subscribed topic
        self.diffs: dict[tuple[str, bool], DepthDiff] = {}
        self.partial: list[tuple[str, Topic]] = []  # depth<levels> streams
        self.periodic: list[tuple[str, Topic]] = []  # 1 s / 2 s streams
        self.tops: dict[str, tuple[str, ...]] = {}  # last bookTicker sent per symbol
        self.kline_open: dict[str, int] = {}  # kline stream -> open time last sent
        self.seen: dict[str, dict[str, int]] = {}  # array stream -> symbol -> id last sent
        hub.on_change.append(self.rebuild)

    def rebuild(self) -> None:
        """Subscriptions changed: keep trackers only for what someone watches."""
        topics = self.hub.topics
        self.watched = {t.symbol for t in topics.values() if t.symbol}
        wanted: dict[tuple[str, bool], list[str]] = {}
        for name, t in topics.items():
            if t.kind == "depth":
                wanted.setdefault((t.symbol, t.fast), []).append(name)
        diffs = {}
        for key, names in wanted.items():
            d = self.diffs.get(key) or DepthDiff(self.market[key[0]].updates)
            d.names = names
            diffs[key] = d
        self.diffs = diffs
        self.partial = [(n, t) for n, t in topics.items() if t.kind == "depthN"]
        self.periodic = [(n, t) for n, t in topics.items() if t.kind in _EVERY_SECOND]
        self.tops = {s: v for s, v in self.tops.items() if self.live_names[s][2] in topics}
        self.kline_open = {n: v for n, v in self.kline_open.items() if n in topics}
        self.seen = {n: v for n, v in self.seen.items() if n in topics}

    # ---------------------------------------------------------------- live commands
    def on_command(self, ex: Any, cmd: dict[str, Any]) -> None:
        sym = cmd.get("symbol")
        if sym not in self.watched:
            return
        ts, subs, hub = cmd["ts"], self.hub.subs, self.hub
        trade_name, agg_name, book_name = self.live_names[sym]
        trades = [e for e in ex.events if type(e) is Trade] if ex.events else None
        if trades:
            if trade_name in subs:
                for t in trades:
                    hub.publish(trade_name, P.trade(t, ts))
            if agg_name in subs:
                aggs = self.market[sym].aggs
                i, first = len(aggs), trades[0].id
                while i and aggs[i - 1][3] >= first:  # this command's aggregates
                    i -= 1
                for a in aggs[i:]:
                    hub.publish(agg_name, P.agg_trade(sym, a, ts))
        slow, fast = self.diffs.get((sym, False)), self.diffs.get((sym, True))
        if slow is not None or fast is not None:
            for r in ex.reports:
                o = r[1]
                if r[0] != "LIST" and o.price:
                    for d in (slow, fast):
                        if d is not None:
                            (d.bids if o.is_buy else d.asks).add(o.price)
        if book_name in subs:
            top = book_top(ex.books[sym])
            key = tuple(top.values())
            if key != self.tops.get(sym):
                self.tops[sym] = key
                hub.publish(book_name, P.book_ticker(sym, self.market[sym].updates, top))

    # ---------------------------------------------------------------- timer
    def tick(self, whole_second: bool, even_second: bool) -> None:
        """Every 100 ms; `whole_second` on every 10th tick, `even_second` every 20th."""
        now = self.engine.now()
        ex = self.engine.exchange
        for (sym, fast), d in self.diffs.items():
            if fast or whole_second:
                self._diff(sym, d, ex, now)
        self._partial(ex, whole_second)
        if whole_second:
            self._periodic(ex, now, even_second)

    def _diff(self, sym: str, d: DepthDiff, ex: Any, now: int) -> None:
        u = self.market[sym].updates
        if u == d.last or not (d.bids or d.asks):
            return  # an event without levels would be empty; the next one covers these ids
        book = ex.books[sym]
        bids, asks = book.bids.levels, book.asks.levels
        b = [[fmt(p), fmt(bids[p].qty) if p in bids else ZERO] for p in sorted(d.bids, reverse=True)]
        a = [[fmt(p), fmt(asks[p].qty) if p in asks else ZERO] for p in sorted(d.asks)]
        raw = dumps(P.depth_update(sym, d.last + 1, u, b, a, now))
        for name in d.names:
            publish_text(name, raw, self.hub.subs.get(name, ()))
        d.last = u
        d.bids.clear()
        d.asks.clear()

    def _partial(self, ex: Any, whole_second: bool) -> None:
        done: dict[tuple[str, int], str] = {}
        for name, t in self.partial:
            if not (t.fast or whole_second):
                continue
            raw = done.get((t.symbol, t.levels))
            if raw is None:
                book = ex.books[t.symbol]
                raw = done[(t.symbol, t.levels)] = dumps({
                    "lastUpdateId": self.market[t.symbol].updates,
                    "bids": book_levels(book.bids, t.levels, fmt),
                    "asks": book_levels(book.asks, t.levels, fmt)})
            publish_text(name, raw, self.hub.subs.get(name, ()))

    def _periodic(self, ex: Any, now: int, even_second: bool) -> None:
        day: dict[str, tuple] = {}  # symbol -> (24h Window, open time), once per tick

        def stats(sym: str) -> tuple:
            got = day.get(sym)
            if got is None:
                open_time = rolling_open(now, DAY)
                got = day[sym] = (window_stats(self.market[sym], open_time, now), open_time)
            return got

        def full(sym: str) -> dict[str, Any]:
            w, open_time = stats(sym)
            m = self.market[sym]
            return P.ticker(sym, w, prev_close(m, open_time), m.last_qty, book_top(ex.books[sym]),
                            open_time, now)

        def windowed(sym: str, window: str) -> dict[str, Any]:
            open_time = rolling_open(now, WINDOWS[window])
            return P.window_ticker(sym, window, window_stats(self.market[sym], open_time, now),
                                   open_time, now)

        for name, t in self.periodic:
            kind, sym = t.kind, t.symbol
            if kind == "ticker":
                self.hub.publish(name, full(sym))
            elif kind == "miniTicker":
                self.hub.publish(name, P.mini_ticker(sym, stats(sym)[0], now))
            elif kind == "windowTicker":
                self.hub.publish(name, windowed(sym, t.window))
            elif kind == "avgPrice":
                mins = ex.settings.avg_price_mins
                self.hub.publish(name, P.avg_price(sym, mins, ex.avg_price(sym, mins, now),
                                                   ex.avg[sym].last_time, now))
            elif kind == "kline":
                if t.interval == "1s" or even_second:
                    self._kline(name, t, now)
            else:  # all-market arrays: the symbols that changed since the last push
                changed = self._changed(name)
                if changed:
                    render = {"allMini": lambda s: P.mini_ticker(s, stats(s)[0], now),
                              "allTicker": full,
                              "allWindow": lambda s: windowed(s, t.window)}[kind]
                    self.hub.publish(name, [render(s) for s in changed])

    def _changed(self, name: str) -> list[str]:
        seen = self.seen.setdefault(name, {})
        out = []
        for sym, m in self.market.markets.items():
            if seen.get(sym) != m.updates:
                seen[sym] = m.updates
                out.append(sym)
        return out

    def _kline(self, name: str, t: Topic, now: int) -> None:
        """The current candle; when a new one has opened, the previous one closed first."""
        interval = INTERVALS[t.interval]
        src = self.market[t.symbol].series[source_for(interval, t.offset).name]
        rows = k.klines(src, interval, t.offset, None, None, 2, now)
        if not rows:
            return
        (cur, cur_close), sent = rows[-1], self.kline_open.get(name)
        if sent is not None and sent != cur[k.OPEN] and len(rows) == 2 and rows[0][0][k.OPEN] == sent:
            prev, prev_close_time = rows[0]
            self.hub.publish(name, P.kline(t.symbol, t.interval, prev, prev_close_time, True, now))
        self.kline_open[name] = cur[k.OPEN]
        self.hub.publish(name, P.kline(t.symbol, t.interval, cur, cur_close, False, now))
