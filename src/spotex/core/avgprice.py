"""Weighted average price over the last N minutes, fed by trades.

One running window per symbol (the longest avgPriceMins it uses) keeps the common
query O(1); shorter windows scan the small recent deque. The same numbers serve
GET /api/v3/avgPrice and the PERCENT_PRICE / NOTIONAL filters.
"""
from __future__ import annotations

from collections import deque


class AvgPrice:
    __slots__ = ("window_ms", "trades", "sum_pq", "sum_q", "last_price", "last_time")

    def __init__(self, minutes: int) -> None:
        self.window_ms = max(minutes, 1) * 60_000
        self.trades: deque[tuple[int, int, int]] = deque()
        self.sum_pq = 0
        self.sum_q = 0
        self.last_price: int | None = None
        self.last_time = 0

    def add(self, ts: int, price: int, qty: int) -> None:
        self.trades.append((ts, price, qty))
        self.sum_pq += price * qty
        self.sum_q += qty
        self.last_price = price
        self.last_time = ts

    def _evict(self, now: int) -> None:
        cutoff = now - self.window_ms
        trades = self.trades
        while trades and trades[0][0] <= cutoff:
            _, p, q = trades.popleft()
            self.sum_pq -= p * q
            self.sum_q -= q

    def price(self, minutes: int, now: int) -> int | None:
        """Σ(p·q)/Σq over the window; the last price if the window is empty or minutes=0."""
        if minutes == 0 or self.last_price is None:
            return self.last_price
        self._evict(now)
        window = minutes * 60_000
        if window >= self.window_ms:
            return self.sum_pq // self.sum_q if self.sum_q else self.last_price
        cutoff = now - window
        pq = q = 0
        for ts, p, qty in reversed(self.trades):
            if ts <= cutoff:
                break
            pq += p * qty
            q += qty
        return pq // q if q else self.last_price
