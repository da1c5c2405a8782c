"""Synthetic history: the market a new exchange appears to have had before its first start.

A bot that loads 500 candles to compute its indicators must find them at once, so the
sim's first start writes `[sim] history` of minutes before "now": a seeded walk of the
reference price, one step a minute (a cross such as ETHBTC divides its legs' walks),
made into 1-minute candles with highs, lows, trade counts and volumes. Only the newest minutes are expanded into individual trades (as many as
the market data keeps); older minutes exist as candles, their trade ids counted, so ids
stay contiguous with the live trades that follow. Everything derives from the seed,
symbol and time range: the journal stores one `sim.history` command, not the data.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .numbers import SCALE
from .symbols import Symbol
from .trades import Trade
from .walk import DAY_MS, NORMAL_BITS, normal, step_sigma

if TYPE_CHECKING:
    from .sim import SimMarket

MINUTE_MS = 60_000
# candle: [openTime, open, high, low, close, volume, quoteVolume, count, takerBuyVolume,
#          takerBuyQuoteVolume, firstTradeId, lastTradeId] (market/candles.py)
HISTORY_TRADES = 10_000  # the newest trades made one by one (as many as market data keeps)


@dataclass
class History:
    """What `synthesize` made: candles of the older minutes, then the newest minutes as
    trades; the next trade id and where the reference ended."""

    symbol: str
    candles: list[list[int]] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    next_trade_id: int = 1
    last_ref: int = 0


def walk(m: "SimMarket", seed: int, name: str, minutes: range) -> list[int]:
    """The reference at the close of each minute: the symbol's own seeded walk from its
    configured price (one normal draw a minute)."""
    cfg = m.cfg
    rng = random.Random(f"{seed}:{name}:walk:{minutes.start}:{minutes.stop}")
    sigma = step_sigma(cfg.volatility, MINUTE_MS)
    drift = cfg.drift * MINUTE_MS // DAY_MS
    price, floor, out = cfg.price, m.gap, []
    for _ in minutes:
        price = max(price + price * (drift + (sigma * normal(rng) >> NORMAL_BITS)) // SCALE,
                    floor)
        out.append(price)
    return out


def synthesize(sym: Symbol, m: "SimMarket", closes: list[int], seed: int,
               minutes: range) -> History:
    """Candles and trades of `sym` over `minutes` around the given closes: the live sim
    continues from the last one (`last_ref`)."""
    cfg, tick, step = m.cfg, sym.tick, sym.step
    rng = random.Random(f"{seed}:{sym.name}:history:{minutes.start}:{minutes.stop}")
    wick = step_sigma(cfg.volatility, MINUTE_MS)  # how far highs and lows reach
    expand_from = max(0, len(minutes) - HISTORY_TRADES // 10)  # ~10 trades a minute
    out = History(sym.name)
    trade_id, prev = 1, closes[0] if closes else cfg.price
    for i, (t, close) in enumerate(zip(minutes, closes)):
        bits = rng.getrandbits(64)
        up = max(prev, close) * wick * (bits & 0xFFFF) // SCALE >> 16
        down = min(prev, close) * wick * (bits >> 16 & 0xFFFF) // SCALE >> 16
        o, c = max(prev - prev % tick, tick), max(close - close % tick, tick)
        hi = max(o, c) + up // tick * tick
        lo = max(min(o, c) - down // tick * tick, tick)
        n = 2 + (bits >> 32 & 0xF)  # trades this minute: 2 to 17
        size = _size(cfg, bits >> 36 & 0xFFFFFFF, (hi + lo) // 2, step)
        if i >= expand_from:
            _expand(out, t, (o, hi, lo, c) if bits >> 63 else (o, lo, hi, c), n, rng,
                    trade_id, cfg, step)
        else:
            volume = size * n
            quote = volume * ((hi + lo) // 2) // SCALE
            buy = volume * (bits >> 56 & 0x7F) // 127
            out.candles.append([t, o, hi, lo, c, volume, quote, n, buy,
                                buy * ((hi + lo) // 2) // SCALE, trade_id, trade_id + n - 1])
        trade_id += n
        prev = close
    out.next_trade_id = trade_id
    out.last_ref = prev
    return out


def _size(cfg: Any, u28: int, price: int, step: int) -> int:
    """A taker's size: notional between the configured bounds, small far more often
    (a uniform draw of 28 bits, cubed)."""
    span = cfg.taker_max_notional - cfg.taker_min_notional
    notional = cfg.taker_min_notional + span * u28 * u28 * u28 // (1 << 84)
    return max(notional * SCALE // price // step * step, step)


def _expand(out: History, t: int, prices: tuple[int, ...], n: int, rng: random.Random,
            first_id: int, cfg: Any, step: int) -> None:
    """A recent minute as n trades through open, its extremes and close (n >= 2: the
    first is the open and the last the close; the extremes once there are 4)."""
    for k in range(n):
        price = prices[k * (len(prices) - 1) // (n - 1)]
        qty = _size(cfg, rng.getrandbits(28), price, step)
        tid = first_id + k
        out.trades.append(Trade(symbol=out.symbol, id=tid, price=price, qty=qty,
                                quote_qty=qty * price // SCALE, time=t + k * MINUTE_MS // n,
                                buyer_order_id=-tid, seller_order_id=-tid, buyer_list_id=-1,
                                seller_list_id=-1, is_buyer_maker=bool(rng.getrandbits(1)),
                                buyer_fee=0, seller_fee=0, buyer_fee_asset="",
                                seller_fee_asset="", buyer_account=0, seller_account=0))
