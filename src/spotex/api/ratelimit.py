"""IP rate limits: REQUEST_WEIGHT and RAW_REQUESTS in fixed, clock-aligned windows, with
429 then 418 bans, as general.md §7 describes.

Our ban rule (Binance documents none): an IP over a limit gets `ban_after` answers 429 in
that window; the next request it sends in the same window bans it. Ban durations
escalate per ban along `ban_schedule` (2 minutes up to 3 days); an IP with no ban for
`ban_memory` starts again at the first step. Banned requests are answered 418 without
being counted.

Cost per request: one dict lookup and a few integer operations per configured limit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..config import LimitPolicy, RateLimit
from ..core.errors import ApiError
from ..core.ratelimits import INTERVAL_MS

_LETTER = {"SECOND": "S", "MINUTE": "M", "HOUR": "H", "DAY": "D"}


@dataclass
class _Ip:
    """Per-IP state: [window_start, used] per limit, strikes, ban."""

    slots: list[list[int]]
    strikes: int = 0
    strike_window: int = -1
    banned_until: int = 0
    bans: int = 0
    last_ban: int = 0


@dataclass
class IpLimiter:
    limits: list[RateLimit]
    policy: LimitPolicy
    clock: Callable[[], int]
    ips: dict[str, _Ip] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.limits = [r for r in self.limits if r.type in ("REQUEST_WEIGHT", "RAW_REQUESTS")]
        self.windows = [INTERVAL_MS[r.interval] * r.interval_num for r in self.limits]
        self.is_weight = [r.type == "REQUEST_WEIGHT" for r in self.limits]
        self.header_names = [
            (i, f"x-mbx-used-weight-{r.interval_num}{_LETTER[r.interval]}".lower().encode())
            for i, r in enumerate(self.limits) if r.type == "REQUEST_WEIGHT"]
        # for metrics: answers 429 by limit type, 418 answers (BANNED), bans imposed
        self.rejections = dict.fromkeys([r.type for r in self.limits] + ["BANNED"], 0)
        self.bans = 0

    def _state(self, ip: str, now: int) -> _Ip:
        st = self.ips.get(ip)
        if st is None:
            st = self.ips[ip] = _Ip([[0, 0] for _ in self.limits])
        for slot, window in zip(st.slots, self.windows):
            start = now - now % window
            if slot[0] != start:
                slot[0], slot[1] = start, 0
        return st

    def admit(self, ip: str, weight: int) -> None:
        """Count this request; raise 418 (banned) or 429 (over a limit)."""
        now = self.clock()
        st = self._state(ip, now)
        if st.banned_until > now:
            self.rejections["BANNED"] += 1
            raise self._banned(st, now)
        over = None
        for i, slot in enumerate(st.slots):
            slot[1] += weight if self.is_weight[i] else 1
            if over is None and slot[1] > self.limits[i].limit:
                over = i
        if over is None or not self.policy.enabled:
            return
        window_end = st.slots[over][0] + self.windows[over]
        if st.strike_window != st.slots[over][0]:
            st.strike_window, st.strikes = st.slots[over][0], 0
        st.strikes += 1
        if st.strikes > self.policy.ban_after:
            self._ban(st, now)
            self.rejections["BANNED"] += 1
            raise self._banned(st, now)
        lim = self.limits[over]
        self.rejections[lim.type] += 1
        raise ApiError("TOO_MANY_REQUESTS", lim.limit, f"{lim.interval_num} {lim.interval}",
                       retry_after=_seconds(window_end - now))

    def _ban(self, st: _Ip, now: int) -> None:
        if now - st.last_ban > self.policy.ban_memory_ms:
            st.bans = 0
        schedule = self.policy.ban_schedule_ms
        st.banned_until = now + schedule[min(st.bans, len(schedule) - 1)]
        st.bans += 1
        st.last_ban = now
        st.strikes = 0
        self.bans += 1

    def _banned(self, st: _Ip, now: int) -> ApiError:
        return ApiError("IP_BANNED", st.banned_until, status=418,
                        retry_after=_seconds(st.banned_until - now))

    def usage(self, ip: str) -> list[tuple[RateLimit, int]]:
        """(limit, used) for every REQUEST_WEIGHT limit: the WebSocket API's rateLimits."""
        st = self._state(ip, self.clock())
        return [(self.limits[i], st.slots[i][1]) for i, _ in self.header_names]

    def headers(self, ip: str) -> list[tuple[bytes, bytes]]:
        """X-MBX-USED-WEIGHT-<n><unit> for every REQUEST_WEIGHT limit."""
        st = self._state(ip, self.clock())
        return [(name, str(st.slots[i][1]).encode()) for i, name in self.header_names]


def _seconds(ms: int) -> int:
    return max(1, -(-ms // 1000))
