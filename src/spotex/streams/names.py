"""Stream names -> topics: what a market stream name asks for, parsed once per subscription.

Names are Binance's (streams.md §2.3): lowercase symbol, `@`, kind, then an optional speed
(`@100ms`, `@1000ms`) or kline time zone (`@+08:00`). A well-formed name for an unknown
symbol, or a malformed name, is no error on Binance: it is subscribed and listed but never
carries data. `parse` returns None for those.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..market.intervals import DAY, HOUR, INTERVALS, parse_time_zone

WINDOWS = {"1h": HOUR, "4h": 4 * HOUR, "1d": DAY}  # <symbol>@ticker_<window>
DEPTH_LEVELS = frozenset(("5", "10", "20"))
_SPEED = re.compile(r"@[0-9]+ms$")
_PLAIN = frozenset(("trade", "aggTrade", "miniTicker", "ticker", "bookTicker", "avgPrice"))


@dataclass(frozen=True, slots=True)
class Topic:
    """kind: trade, aggTrade, kline, miniTicker, ticker, windowTicker, bookTicker, avgPrice,
    depth (diff), depthN (partial), allMini, allTicker, allWindow (the `!...@arr` ones)."""

    kind: str
    symbol: str = ""  # exchange symbol name; "" for all-market arrays
    interval: str = ""  # kline interval
    offset: int = 0  # kline time zone, ms
    window: str = ""  # 1h | 4h | 1d
    levels: int = 0  # partial depth levels
    fast: bool = False  # depth @100ms


def parse(name: str, symbols: dict[str, str]) -> Topic | None:
    """Topic of `name`; `symbols` maps lowercase names to the exchange's symbols."""
    if name.startswith("!"):
        return _all_market(name)
    low, _, rest = name.partition("@")
    symbol = symbols.get(low)
    if symbol is None:
        return None
    kind, _, suffix = rest.partition("@")
    if kind in _PLAIN:
        return None if suffix else Topic(kind, symbol)
    if kind.startswith("ticker_"):
        window = kind[7:]
        return Topic("windowTicker", symbol, window=window) if window in WINDOWS and not suffix else None
    if kind.startswith("kline_"):
        return _kline(symbol, kind[6:], suffix)
    if kind.startswith("depth") and suffix in ("", "100ms", "1000ms"):
        levels, fast = kind[5:], suffix == "100ms"
        if not levels:
            return Topic("depth", symbol, fast=fast)
        if levels in DEPTH_LEVELS:
            return Topic("depthN", symbol, levels=int(levels), fast=fast)
    return None


def _kline(symbol: str, interval: str, zone: str) -> Topic | None:
    if interval not in INTERVALS:
        return None
    offset = 0
    if zone:
        try:
            offset = parse_time_zone(zone)
        except ValueError:
            return None
    return Topic("kline", symbol, interval=interval, offset=offset)


def _all_market(name: str) -> Topic | None:
    """`!miniTicker@arr`, `!ticker@arr`, `!ticker_<window>@arr`; an `@<n>ms` speed (what
    python-binance's miniticker_socket asks for) is accepted and served every second."""
    speed = _SPEED.search(name)
    if speed is not None:
        name = name[:speed.start()]
    if name == "!miniTicker@arr":
        return Topic("allMini")
    if name == "!ticker@arr":
        return Topic("allTicker")
    if name.startswith("!ticker_") and name.endswith("@arr") and name[8:-4] in WINDOWS:
        return Topic("allWindow", window=name[8:-4])
    return None
