"""The market-data read model: fed by the engine after every applied command.

Per symbol it keeps recent trades, aggregate trades, one candle series per kline
interval, the last trade and a book update counter. Everything is plain picklable data,
saved in snapshots with the core and rebuilt by replaying the journal tail.
"""
from __future__ import annotations

from typing import Any, Iterable

from ..core.trades import Trade
from .candles import Series, rollup
from .intervals import INTERVALS

TRADES_KEPT = 10_000  # trades and aggregate trades per symbol
CANDLES_KEPT = 5_000  # candles with trades per interval ...
CANDLES_KEPT_1M = 10_200  # ... except 1m: rolling windows need 7 days + 1 hour of minutes

# synthetic history: each interval from a finer one that divides it (1s: trades only)
_ROLLUPS = (("3m", "1m"), ("5m", "1m"), ("15m", "5m"), ("30m", "15m"), ("1h", "30m"),
            ("2h", "1h"), ("4h", "2h"), ("6h", "2h"), ("8h", "4h"), ("12h", "4h"),
            ("1d", "12h"), ("3d", "1d"), ("1w", "1d"), ("1M", "1d"))

# trade record: (id, price, qty, quoteQty, time, isBuyerMaker)
# aggregate trade record: [a, p, q, f, l, T, m, taker order id]


class SymbolMarket:
    __slots__ = ("trades", "aggs", "next_agg", "series", "last_price", "last_qty", "updates")

    def __init__(self) -> None:
        self.trades: list[tuple[int, int, int, int, int, bool]] = []
        self.aggs: list[list[Any]] = []
        self.next_agg = 1
        self.series = {name: Series(i, CANDLES_KEPT_1M if name == "1m" else CANDLES_KEPT)
                       for name, i in INTERVALS.items()}
        self.last_price = 0
        self.last_qty = 0
        self.updates = 0  # commands applied to this symbol: the depth's lastUpdateId

    def add_history(self, h: Any) -> None:
        """Synthetic history (core/simhistory.py): its minute candles summed into every
        series from 1m up (each from the finest that divides it), then its newest trades
        one by one, like live ones."""
        by_name = {"1m": h.candles}
        for name, source in _ROLLUPS:
            by_name[name] = rollup(by_name[source], INTERVALS[name])
        for name, candles in by_name.items():
            self.series[name].extend(candles)
        for t in h.trades:
            self.add([t])

    def add(self, run: list[Trade]) -> None:
        """Trades of one command, all at the same time."""
        trades, aggs = self.trades, self.aggs
        first = run[0]
        t = first.time
        hi = lo = first.price
        vol = quote = buy_vol = buy_quote = 0
        for tr in run:
            price, qty = tr.price, tr.qty
            trades.append((tr.id, price, qty, tr.quote_qty, t, tr.is_buyer_maker))
            taker = tr.seller_order_id if tr.is_buyer_maker else tr.buyer_order_id
            agg = aggs[-1] if aggs else None
            # same taker, same price, same time, consecutive trade ids: one aggregate
            if agg is not None and agg[7] == taker and agg[1] == price and agg[5] == t \
                    and agg[4] + 1 == tr.id:
                agg[2] += qty
                agg[4] = tr.id
            else:
                aggs.append([self.next_agg, price, qty, tr.id, tr.id, t, tr.is_buyer_maker, taker])
                self.next_agg += 1
            if price > hi:
                hi = price
            elif price < lo:
                lo = price
            vol += qty
            quote += tr.quote_qty
            if not tr.is_buyer_maker:
                buy_vol += qty
                buy_quote += tr.quote_qty
        last = run[-1]
        batch = [t, first.price, hi, lo, last.price, vol, quote, len(run), buy_vol, buy_quote,
                 first.id, last.id]
        for s in self.series.values():
            s.add(t, batch)
        self.last_price, self.last_qty = last.price, last.qty
        _trim(trades)
        _trim(aggs)


def _trim(items: list) -> None:
    if len(items) > TRADES_KEPT + TRADES_KEPT // 10:
        del items[:len(items) - TRADES_KEPT]


class MarketData:
    """Engine listener and projection (`reset`, `state`, `restore`).

    A symbol's market exists from the command that lists it (the journal's config.set,
    or the settings a journal from before config.set started with) onward.
    """

    def __init__(self, symbols: Iterable[str] = ()) -> None:
        self.initial = list(symbols)
        self.markets: dict[str, SymbolMarket] = {}
        self.reset()

    def reset(self) -> None:
        self.markets = {s: SymbolMarket() for s in self.initial}

    def state(self) -> dict[str, SymbolMarket]:
        return self.markets  # pickled at once by the engine's snapshot

    def restore(self, state: dict[str, SymbolMarket]) -> None:
        self.markets = dict(state)

    def __getitem__(self, symbol: str) -> SymbolMarket:
        return self.markets[symbol]

    def _sync_symbols(self, exchange: Any) -> None:
        """After config.set: a market for each symbol of the exchange, none for others."""
        self.markets = {s: self.markets.get(s) or SymbolMarket() for s in exchange.symbols}

    def on_command(self, exchange: Any, cmd: dict[str, Any]) -> None:
        if cmd["t"] == "config.set":
            self._sync_symbols(exchange)
            return
        if exchange.history_out is not None:
            self.markets[cmd["symbol"]].add_history(exchange.history_out)
        m = self.markets.get(cmd.get("symbol", ""))
        if m is not None:
            m.updates += 1
        if not exchange.events:
            return
        events = [e for e in exchange.events if type(e) is Trade]
        start = 0
        for k in range(1, len(events) + 1):
            if k == len(events) or events[k].symbol != events[start].symbol \
                    or events[k].time != events[start].time:
                self.markets[events[start].symbol].add(events[start:k])
                start = k
