"""Market stream payloads (streams.md §2.4): Binance's field names, order and JSON types.

Decimals are 8-place strings like the REST answers; ids and times are integers. The
numbers come from the core's trades, the market projection and the live book; the
ticker arithmetic is the REST tickers' own (`api.routes.market.Window`).
"""
from __future__ import annotations

from typing import Any

from ..api.routes.market import Window
from ..core.numbers import fmt
from ..market import candles as k


def trade(t: Any, ts: int) -> dict[str, Any]:
    return {"e": "trade", "E": ts, "s": t.symbol, "t": t.id, "p": fmt(t.price),
            "q": fmt(t.qty), "T": t.time, "m": t.is_buyer_maker, "M": True}


def agg_trade(symbol: str, a: list, ts: int) -> dict[str, Any]:
    """`a` is the projection's record [id, price, qty, first, last, time, buyerMaker, taker]."""
    return {"e": "aggTrade", "E": ts, "s": symbol, "a": a[0], "p": fmt(a[1]), "q": fmt(a[2]),
            "f": a[3], "l": a[4], "T": a[5], "m": a[6], "M": True}


def kline(symbol: str, interval: str, c: list[int], close_time: int, closed: bool,
          ts: int) -> dict[str, Any]:
    return {"e": "kline", "E": ts, "s": symbol, "k": {
        "t": c[k.OPEN], "T": close_time, "s": symbol, "i": interval, "f": c[k.FIRST],
        "L": c[k.LAST], "o": fmt(c[k.O]), "c": fmt(c[k.C]), "h": fmt(c[k.H]),
        "l": fmt(c[k.L]), "v": fmt(c[k.V]), "n": c[k.N], "x": closed, "q": fmt(c[k.QV]),
        "V": fmt(c[k.TBV]), "Q": fmt(c[k.TBQ]), "B": "0"}}


def mini_ticker(symbol: str, w: Window, ts: int) -> dict[str, Any]:
    return {"e": "24hrMiniTicker", "E": ts, "s": symbol, "c": fmt(w.last), "o": fmt(w.open),
            "h": fmt(w.high), "l": fmt(w.low), "v": fmt(w.volume), "q": fmt(w.quote)}


def ticker(symbol: str, w: Window, prev_close: int, last_qty: int, top: dict[str, str],
           open_time: int, ts: int) -> dict[str, Any]:
    ch = w.change()
    return {"e": "24hrTicker", "E": ts, "s": symbol, "p": ch["priceChange"],
            "P": ch["priceChangePercent"], "w": ch["weightedAvgPrice"], "x": fmt(prev_close),
            "c": fmt(w.last), "Q": fmt(last_qty), "b": top["bidPrice"], "B": top["bidQty"],
            "a": top["askPrice"], "A": top["askQty"], "o": fmt(w.open), "h": fmt(w.high),
            "l": fmt(w.low), "v": fmt(w.volume), "q": fmt(w.quote), "O": open_time, "C": ts,
            "F": w.first_id, "L": w.last_id, "n": w.count}


def window_ticker(symbol: str, window: str, w: Window, open_time: int, ts: int) -> dict[str, Any]:
    ch = w.change()
    return {"e": f"{window}Ticker", "E": ts, "s": symbol, "p": ch["priceChange"],
            "P": ch["priceChangePercent"], "o": fmt(w.open), "h": fmt(w.high), "l": fmt(w.low),
            "c": fmt(w.last), "w": ch["weightedAvgPrice"], "v": fmt(w.volume),
            "q": fmt(w.quote), "O": open_time, "C": ts, "F": w.first_id, "L": w.last_id,
            "n": w.count}


def book_ticker(symbol: str, update_id: int, top: dict[str, str]) -> dict[str, Any]:
    return {"u": update_id, "s": symbol, "b": top["bidPrice"], "B": top["bidQty"],
            "a": top["askPrice"], "A": top["askQty"]}


def avg_price(symbol: str, mins: int, price: int | None, last_time: int, ts: int) -> dict[str, Any]:
    return {"e": "avgPrice", "E": ts, "s": symbol, "i": f"{mins}m", "w": fmt(price or 0),
            "T": last_time}


def depth_update(symbol: str, first: int, last: int, bids: list, asks: list,
                 ts: int) -> dict[str, Any]:
    return {"e": "depthUpdate", "E": ts, "s": symbol, "U": first, "u": last, "b": bids,
            "a": asks}
