"""Candles: one sparse UTC series per kline interval, and klines composed from them.

A series stores only candles that had trades, oldest first, as plain lists
`[openTime, open, high, low, close, volume, quoteVolume, count, takerBuyVolume,
takerBuyQuoteVolume, firstTradeId, lastTradeId]` of scaled ints. Trades arrive in time
order, so an update touches only the last candle. Klines fill the gaps between stored
candles with flat zero-volume candles (Binance makes a kline for every period the
market is open) and merge finer candles when a time zone moves the boundaries.
"""
from __future__ import annotations

from bisect import bisect_left

from .intervals import Interval

OPEN, O, H, L, C, V, QV, N, TBV, TBQ, FIRST, LAST = range(12)


def _open(c: list[int]) -> int:
    return c[OPEN]


def merge(into: list[int], c: list[int]) -> None:
    """Append candle (or trade batch) `c`, which comes after `into`, to `into`."""
    if c[H] > into[H]:
        into[H] = c[H]
    if c[L] < into[L]:
        into[L] = c[L]
    into[C] = c[C]
    into[V] += c[V]
    into[QV] += c[QV]
    into[N] += c[N]
    into[TBV] += c[TBV]
    into[TBQ] += c[TBQ]
    into[LAST] = c[LAST]


class Series:
    """The latest `keep` candles with trades of one interval (UTC), trimmed in chunks.

    After a trim, `cut_close` is the close of the newest dropped candle: the price
    before the first kept one.
    """

    __slots__ = ("interval", "keep", "candles", "end", "trimmed", "cut_close")

    def __init__(self, interval: Interval, keep: int) -> None:
        self.interval = interval
        self.keep = keep
        self.candles: list[list[int]] = []
        self.end = 0  # open time of the candle after the last one
        self.trimmed = False
        self.cut_close = 0

    def add(self, t: int, batch: list[int]) -> None:
        """Account trades at time `t` (never before earlier ones), summed up in `batch`."""
        if t < self.end:
            merge(self.candles[-1], batch)
            return
        c = batch.copy()
        c[OPEN] = self.interval.floor(t)
        self.end = self.interval.next(c[OPEN])
        candles = self.candles
        candles.append(c)
        if len(candles) > self.keep + self.keep // 8:
            drop = len(candles) - self.keep
            self.cut_close = candles[drop - 1][C]
            self.trimmed = True
            del candles[:drop]

    def extend(self, candles: list[list[int]]) -> None:
        """Append whole candles of this interval, in time order, after the kept ones."""
        for c in candles:
            if c[OPEN] < self.end:
                merge(self.candles[-1], c)
            else:
                self.candles.append(c)
                self.end = self.interval.next(c[OPEN])
        drop = len(self.candles) - self.keep
        if drop > 0:
            self.cut_close = self.candles[drop - 1][C]
            self.trimmed = True
            del self.candles[:drop]

    def between(self, lo: int, hi: int) -> list[list[int]]:
        """Kept candles opening in [lo, hi)."""
        cs = self.candles
        return cs[bisect_left(cs, lo, key=_open):bisect_left(cs, hi, key=_open)]

    def close_before(self, t: int) -> int:
        """Close of the last candle opening before `t` (0 if none is known)."""
        i = bisect_left(self.candles, t, key=_open)
        return self.candles[i - 1][C] if i else self.cut_close


def rollup(candles: list[list[int]], interval: Interval) -> list[list[int]]:
    """Finer candles (in time order) summed into candles of `interval` (UTC)."""
    out: list[list[int]] = []
    end = 0
    for c in candles:
        if out and c[OPEN] < end:
            merge(out[-1], c)
        else:
            c = c.copy()
            c[OPEN] = interval.floor(c[OPEN])
            end = interval.next(c[OPEN])
            out.append(c)
    return out


def klines(src: Series, interval: Interval, off: int, start: int | None, end: int | None,
           limit: int, now: int) -> list[tuple[list[int], int]]:
    """(candle, closeTime) pairs of `interval` in time zone `off`, built from `src`.

    Candles run from the first fully kept one to the one containing `now`; the
    selection follows Binance: start -> oldest from it, else the newest up to end.
    """
    cs = src.candles
    if not cs:
        return []
    first_open = cs[0][OPEN]
    first = interval.ceil(first_open, off) if src.trimmed else interval.floor(first_open, off)
    last = interval.floor(max(now, cs[-1][OPEN]), off)
    if first > last or (start is not None and start > last) or (end is not None and end < first):
        return []
    stop = last if end is None or end >= last else interval.floor(end, off)
    grid: list[int] = []
    if start is not None:
        g = first if start <= first else interval.ceil(start, off)
        while g <= stop and len(grid) < limit:
            grid.append(g)
            g = interval.next(g, off)
    else:
        g = stop
        while g >= first and len(grid) < limit:
            grid.append(g)
            g = interval.shift(g, -1, off)
        grid.reverse()
    return _fill(src, interval, off, grid)


def _fill(src: Series, interval: Interval, off: int, grid: list[int]) -> list[tuple[list[int], int]]:
    if not grid:
        return []
    cs = src.candles
    n = len(cs)
    i = bisect_left(cs, grid[0], key=_open)
    close = cs[i - 1][C] if i else src.cut_close
    out = []
    for g in grid:
        nxt = interval.next(g, off)
        c: list[int] | None = None
        while i < n and cs[i][OPEN] < nxt:
            if c is None:
                c = cs[i].copy()
            else:
                merge(c, cs[i])
            i += 1
        if c is None:
            c = [g, close, close, close, close, 0, 0, 0, 0, 0, -1, -1]
        c[OPEN] = g
        close = c[C]
        out.append((c, nxt - 1))
    return out
