"""Statistics over a time window (24hr, rolling-window and trading-day tickers).

A window [lo, hi) starting on a minute is covered by the fewest candles of the nested
UTC series 1m ⊂ 1h ⊂ 1d: minutes up to the first whole hour, hours up to the first
whole day, days, then hours and minutes again. A 7-day window reads at most about 300
candles, whatever the trade count.
"""
from __future__ import annotations

from .candles import Series, merge
from .intervals import DAY, HOUR, MINUTE

_LEVELS = (MINUTE, HOUR, DAY)


def cover(lo: int, hi: int, level: int = 0) -> list[tuple[int, int, int]]:
    """[lo, hi) as (level, from, to) pieces in time order; lo is aligned to `level`."""
    if level + 1 < len(_LEVELS):
        g = _LEVELS[level + 1]
        a, b = -(-lo // g) * g, hi // g * g
        if a < b:
            return [(level, lo, a), *cover(a, b, level + 1), (level, b, hi)]
    return [(level, lo, hi)]


def window(levels: tuple[Series, Series, Series], lo: int, hi: int) -> list[int] | None:
    """All trades in [lo, hi) as one candle (None if there were none).

    `lo` starts a minute; `hi` ends one too, or is later than every trade (now + 1).
    """
    out: list[int] | None = None
    for level, a, b in cover(lo, hi):
        if a >= b:
            continue
        for c in levels[level].between(a, b):
            if out is None:
                out = c.copy()
            else:
                merge(out, c)
    return out
