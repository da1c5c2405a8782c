"""Kline intervals, time zones and ticker window sizes: where candles open and close.

Times are integer milliseconds since the epoch (UTC). A time zone shifts the boundaries
of an interval (`1d` opens at local midnight) but never `startTime`/`endTime`. Fixed
intervals are aligned to the epoch (`3d` too), `1w` to Mondays, `1M` to calendar months.
"""
from __future__ import annotations

import re
from datetime import date

SECOND, MINUTE, HOUR, DAY, WEEK = 1_000, 60_000, 3_600_000, 86_400_000, 7 * 86_400_000
_MONDAY = 4 * DAY  # 1970-01-05, the first Monday after the epoch
_EPOCH = date(1970, 1, 1).toordinal()


class Interval:
    """Candle boundaries of one interval; `off` is the time zone offset in ms."""

    __slots__ = ("name", "length", "base")

    def __init__(self, name: str, length: int | None, base: int = 0) -> None:
        self.name = name
        self.length = length  # None: calendar month
        self.base = base

    def floor(self, t: int, off: int = 0) -> int:
        """Open time of the candle containing `t`."""
        if self.length is None:
            d = date.fromordinal(_EPOCH + (t + off) // DAY)
            return _ms(d.year, d.month, off)
        k = (t + off - self.base) // self.length
        return k * self.length + self.base - off

    def next(self, open_time: int, off: int = 0) -> int:
        return self.shift(open_time, 1, off)

    def shift(self, open_time: int, k: int, off: int = 0) -> int:
        """Open time `k` candles after (k<0: before) the candle opening at `open_time`."""
        if self.length is not None:
            return open_time + k * self.length
        d = date.fromordinal(_EPOCH + (open_time + off) // DAY)
        y, m = divmod(d.year * 12 + d.month - 1 + k, 12)
        return _ms(y, m + 1, off)

    def ceil(self, t: int, off: int = 0) -> int:
        """Open time of the first candle opening at or after `t`."""
        f = self.floor(t, off)
        return f if f == t else self.next(f, off)

    def utc_aligned(self, off: int) -> bool:
        """Does the offset leave this interval's UTC boundaries unchanged?"""
        if self.length is None or self.base:
            return off == 0
        return off % self.length == 0


def _ms(year: int, month: int, off: int) -> int:
    return (date(year, month, 1).toordinal() - _EPOCH) * DAY - off


INTERVALS = {i.name: i for i in (
    Interval("1s", SECOND), Interval("1m", MINUTE), Interval("3m", 3 * MINUTE),
    Interval("5m", 5 * MINUTE), Interval("15m", 15 * MINUTE), Interval("30m", 30 * MINUTE),
    Interval("1h", HOUR), Interval("2h", 2 * HOUR), Interval("4h", 4 * HOUR),
    Interval("6h", 6 * HOUR), Interval("8h", 8 * HOUR), Interval("12h", 12 * HOUR),
    Interval("1d", DAY), Interval("3d", 3 * DAY), Interval("1w", WEEK, _MONDAY),
    Interval("1M", None),
)}
# UTC series that can be merged into shifted candles, coarsest first
_SOURCES = [INTERVALS[n] for n in ("1d", "12h", "8h", "6h", "4h", "2h", "1h", "30m", "15m",
                                   "5m", "3m", "1m")]


def source_for(interval: Interval, off: int) -> Interval:
    """The coarsest UTC series whose candles tile `interval`'s candles in this time zone.

    Offsets are whole minutes, so the 1m series always qualifies.
    """
    if interval.utc_aligned(off):
        return interval
    for g in _SOURCES:
        if off % g.length == 0 and (interval.length is None or interval.length % g.length == 0):
            return g
    raise AssertionError("offsets are whole minutes")  # pragma: no cover


_TZ = re.compile(r"^([+-]?)([0-9]{1,2})(?::([0-9]{2}))?$")


def parse_time_zone(text: str) -> int:
    """`[-]H:MM` or `[-]H` within [-12:00, +14:00] -> offset in ms; ValueError otherwise.

    A leading space is a `+` that the client left unencoded in the query string.
    """
    if text.startswith(" "):
        text = "+" + text[1:]
    m = _TZ.fullmatch(text)
    if m is None:
        raise ValueError(text)
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    if m.group(3) and int(m.group(3)) >= 60:
        raise ValueError(text)
    if m.group(1) == "-":
        minutes = -minutes
    if not -12 * 60 <= minutes <= 14 * 60:
        raise ValueError(text)
    return minutes * MINUTE


_WINDOW = re.compile(r"^([1-9][0-9]?)([mhd])$")
_WINDOW_UNITS = {"m": (MINUTE, 59), "h": (HOUR, 23), "d": (DAY, 7)}


def parse_window(text: str) -> int:
    """GET /ticker windowSize (`1m`..`59m`, `1h`..`23h`, `1d`..`7d`) -> ms; ValueError otherwise."""
    m = _WINDOW.fullmatch(text)
    if m is None:
        raise ValueError(text)
    unit, most = _WINDOW_UNITS[m.group(2)]
    n = int(m.group(1))
    if n > most:
        raise ValueError(text)
    return n * unit
