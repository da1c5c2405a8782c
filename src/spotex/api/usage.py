"""Request-weight accounting per client IP in fixed, clock-aligned windows.

Reports `X-MBX-USED-WEIGHT-<n><unit>` on every response. Enforcement (429/418) builds
on these counters.
"""
from __future__ import annotations

import time
from typing import Callable

from ..config import RateLimit
from ..core.ratelimits import INTERVAL_MS

_LETTER = {"SECOND": "S", "MINUTE": "M", "HOUR": "H", "DAY": "D"}


class Usage:
    def __init__(self, limits: list[RateLimit],
                 clock: Callable[[], int] = lambda: time.time_ns() // 1_000_000) -> None:
        self.limits = [r for r in limits if r.type == "REQUEST_WEIGHT"]
        self.names = [f"x-mbx-used-weight-{r.interval_num}{_LETTER[r.interval]}".lower().encode()
                      for r in self.limits]
        self.windows = [INTERVAL_MS[r.interval] * r.interval_num for r in self.limits]
        self.clock = clock
        self.used: dict[str, list[list[int]]] = {}

    def _slots(self, ip: str) -> list[list[int]]:
        now = self.clock()
        slots = self.used.get(ip)
        if slots is None:
            slots = self.used[ip] = [[0, 0] for _ in self.limits]
        for slot, window in zip(slots, self.windows):
            start = now - now % window
            if slot[0] != start:
                slot[0], slot[1] = start, 0
        return slots

    def add(self, ip: str, weight: int) -> None:
        for slot in self._slots(ip):
            slot[1] += weight

    def headers(self, ip: str) -> list[tuple[bytes, bytes]]:
        return [(name, str(slot[1]).encode())
                for name, slot in zip(self.names, self._slots(ip))]
