"""The exchange clock: the engine's only source of time, and the timers that run on it.

Three modes behind one interface (`now()`, `call_at()`):
- `wall`: the system clock;
- `accelerated`: exchange time runs `speed` times faster than the wall from an anchor
  (the start time on a first start, the journal's last time on a restart);
- `manual`: time moves only through `advance(ms)`, which runs every timer that falls due
  up to the new time, in time order, each seeing `now()` equal to its due time.

Timers (sim steps, stream pushes, expiries) are scheduled in exchange time, so a manual
`advance` runs exactly what falls due. In wall and accelerated modes one asyncio task
sleeps until the next due timer (the real delay is the exchange delay divided by the
speed). Pausing stops time in every mode but wall.
"""
from __future__ import annotations

import asyncio
import heapq
import inspect
import itertools
import logging
import time
from typing import Any, Awaitable, Callable

log = logging.getLogger("spotex.clock")

MODES = ("wall", "accelerated", "manual")
YIELD_EVERY = 256  # timers an advance runs between two turns of the event loop
Callback = Callable[[], "Awaitable[None] | None"]


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class Timer:
    """A scheduled callback; `cancel()` keeps it from running."""

    __slots__ = ("due", "callback", "cancelled")

    def __init__(self, due: int, callback: Callback) -> None:
        self.due, self.callback, self.cancelled = due, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class Clock:
    """Exchange time in ms since the epoch. Callable: `clock()` is `clock.now()`."""

    def __init__(self, mode: str = "wall", start: int | None = None, speed: float = 1.0,
                 paused: bool = False, wall: Callable[[], int] = wall_ms) -> None:
        if mode not in MODES:
            raise ValueError(f"clock mode must be one of {', '.join(MODES)}")
        self.mode = mode
        self._wall = wall
        self.speed = 1.0 if mode == "wall" else speed
        self.paused = paused and mode != "wall"
        self._anchor_wall = wall()
        self._anchor = start if start is not None and mode != "wall" else self._anchor_wall
        self._timers: list[tuple[int, int, Timer]] = []
        self._order = itertools.count()  # equal due times run in scheduling order
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._advancing = False
        # accelerated time starts running with the timers (`start`): the start-up
        # (recovery, the sim's history) takes no exchange time
        self._frozen = mode == "accelerated"

    # ------------------------------------------------------------------ time
    def now(self) -> int:
        if self.mode == "wall":
            return self._wall()
        if self.mode == "manual" or self.paused or self._frozen:
            return self._anchor
        return self._anchor + int((self._wall() - self._anchor_wall) * self.speed)

    __call__ = now

    def resume_from(self, ts: int) -> None:
        """Never before `ts` (a restart continues the journal's time, not the config's
        start). Wall time cannot be moved: the engine keeps its commands in order."""
        if self.mode != "wall" and ts > self.now():
            self._rebase(ts)

    def set_speed(self, speed: float) -> None:
        if self.mode != "accelerated":
            raise ValueError("speed applies to the accelerated clock only")
        if not speed > 0:
            raise ValueError("speed must be a number above 0")
        self._rebase(self.now())
        self.speed = speed
        self._poke()

    def set_paused(self, paused: bool) -> None:
        if self.mode == "wall":
            raise ValueError("the wall clock cannot be paused")
        self._rebase(self.now())
        self.paused = paused
        self._poke()

    def _rebase(self, ts: int) -> None:
        self._anchor, self._anchor_wall = ts, self._wall()

    def state(self) -> dict[str, Any]:
        """GET /admin/v1/clock."""
        return {"mode": self.mode, "time": self.now(), "speed": self.speed,
                "paused": self.paused}

    # ------------------------------------------------------------------ timers
    def call_at(self, due: int, callback: Callback) -> Timer:
        t = Timer(due, callback)
        heapq.heappush(self._timers, (due, next(self._order), t))
        if self._timers[0][2] is t:
            self._poke()
        return t

    def call_later(self, ms: int, callback: Callback) -> Timer:
        return self.call_at(self.now() + ms, callback)

    async def advance(self, ms: int) -> int:
        """Manual mode: move time forward by `ms`, running every timer due on the way
        (each at its own due time). Returns the new time."""
        if self.mode != "manual":
            raise ValueError("time can be advanced only with the manual clock")
        if ms < 0:
            raise ValueError("time cannot go backwards")
        if self._advancing:
            raise RuntimeError("an advance is already running")
        self._advancing = True
        try:
            target = self._anchor + ms
            ran = 0
            while self._timers and self._timers[0][0] <= target:
                due, _, timer = heapq.heappop(self._timers)
                if not timer.cancelled:
                    self._anchor = max(self._anchor, due)
                    await self._run(timer)
                    ran += 1
                    if ran % YIELD_EVERY == 0:  # let the journal commit, requests run
                        await asyncio.sleep(0)
            self._anchor = target
            return target
        finally:
            self._advancing = False

    async def _run(self, timer: Timer) -> None:
        try:
            result = timer.callback()
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("timer callback failed")

    # ------------------------------------------------------------------ the loop
    def start(self) -> None:
        """Wall and accelerated modes: run timers as they fall due (call on the loop)."""
        if self._frozen:
            self._frozen = False
            self._rebase(self._anchor)
        if self.mode != "manual" and self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _loop(self) -> None:
        assert self._wake is not None
        while True:
            delay = self._delay()
            self._wake.clear()
            if delay != 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except asyncio.TimeoutError:
                    pass
                continue
            _, _, timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                await self._run(timer)

    def _delay(self) -> float | None:
        """Real seconds until the next timer is due (None: nothing scheduled or paused)."""
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        if not self._timers or self.paused:
            return None
        wait_ms = self._timers[0][0] - self.now()
        return 0 if wait_ms <= 0 else wait_ms / 1000 / self.speed
