"""The ORDERS limit: unfilled order count per account in fixed, clock-aligned windows.

It lives in the core because fills decrement it and commands carry their own time,
so replaying the journal rebuilds the same counts.
"""
from __future__ import annotations

from dataclasses import dataclass

INTERVAL_MS = {"SECOND": 1_000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}


@dataclass(frozen=True)
class OrderLimit:
    interval: str  # SECOND | MINUTE | HOUR | DAY
    interval_num: int
    limit: int

    @property
    def window_ms(self) -> int:
        return INTERVAL_MS[self.interval] * self.interval_num


class OrderCounter:
    """Counts per account and limit: {account: [[window_start, count], ...]}."""

    def __init__(self, limits: list[OrderLimit]) -> None:
        self.limits = limits
        self.windows = [lim.window_ms for lim in limits]
        self.state: dict[int, list[list[int]]] = {}
        self.seen: dict[int, int] = {}  # account -> ts its windows were last rolled to

    def _slots(self, account: int, ts: int) -> list[list[int]]:
        slots = self.state.get(account)
        if slots is None:
            slots = self.state[account] = [[0, 0] for _ in self.limits]
        elif self.seen.get(account) == ts:  # same command time: windows already current
            return slots
        self.seen[account] = ts
        for slot, window in zip(slots, self.windows):
            start = ts - ts % window
            if slot[0] != start:
                slot[0], slot[1] = start, 0
        return slots

    def exceeded(self, account: int, ts: int, n: int) -> OrderLimit | None:
        """The first limit that adding `n` orders would break, if any."""
        for slot, lim in zip(self._slots(account, ts), self.limits):
            if slot[1] + n > lim.limit:
                return lim
        return None

    def add(self, account: int, ts: int, n: int) -> None:
        for slot in self._slots(account, ts):
            slot[1] += n

    def on_first_fill(self, account: int, ts: int) -> None:
        for slot in self._slots(account, ts):
            if slot[1] > 0:
                slot[1] -= 1

    def counts(self, account: int, ts: int) -> list[tuple[OrderLimit, int]]:
        return [(lim, slot[1]) for slot, lim in zip(self._slots(account, ts), self.limits)]
