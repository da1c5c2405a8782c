"""The exchange clock: wall, accelerated and manual time, and timers on it."""
from __future__ import annotations

import asyncio

import pytest

from spotex.clock import Clock

T0 = 1_700_000_000_000


class FakeWall:
    def __init__(self) -> None:
        self.ms = T0

    def __call__(self) -> int:
        return self.ms


async def test_accelerated_time_runs_speed_times_faster_and_pauses():
    wall = FakeWall()
    c = Clock("accelerated", start=T0 - 86_400_000, speed=60, wall=wall)
    wall.ms += 5_000  # start-up takes no exchange time
    assert c() == T0 - 86_400_000
    c.start()
    wall.ms += 1_000
    assert c() == T0 - 86_400_000 + 60_000
    c.set_paused(True)
    wall.ms += 5_000
    assert c() == T0 - 86_400_000 + 60_000
    c.set_paused(False)
    c.set_speed(2)
    wall.ms += 1_000
    assert c() == T0 - 86_400_000 + 62_000
    assert c.state() == {"mode": "accelerated", "time": c(), "speed": 2.0, "paused": False}
    await c.stop()


def test_wall_clock_cannot_be_changed():
    c = Clock("wall", start=0)
    assert abs(c() - Clock("wall")()) < 1_000
    with pytest.raises(ValueError):
        c.set_paused(True)
    with pytest.raises(ValueError):
        c.set_speed(10)


def test_restart_continues_the_journal_time():
    c = Clock("manual", start=T0)
    c.resume_from(T0 + 5_000)
    assert c() == T0 + 5_000
    c.resume_from(T0)  # never backwards
    assert c() == T0 + 5_000


async def test_manual_advance_runs_due_timers_in_order_at_their_time():
    c = Clock("manual", start=T0)
    seen: list[tuple[str, int]] = []

    def every_second() -> None:
        seen.append(("tick", c()))
        c.call_later(1_000, every_second)

    async def once() -> None:
        await asyncio.sleep(0)
        seen.append(("once", c()))

    c.call_at(T0 + 1_000, every_second)
    c.call_at(T0 + 1_500, once)
    cancelled = c.call_at(T0 + 2_000, lambda: seen.append(("never", c())))
    cancelled.cancel()
    assert await c.advance(3_200) == T0 + 3_200
    assert seen == [("tick", T0 + 1_000), ("once", T0 + 1_500), ("tick", T0 + 2_000),
                    ("tick", T0 + 3_000)]
    assert c() == T0 + 3_200
    with pytest.raises(ValueError):
        await c.advance(-1)


async def test_accelerated_timers_fire_in_real_time_divided_by_speed():
    c = Clock("accelerated", start=T0, speed=100)
    c.start()
    fired = asyncio.Event()
    c.call_at(T0 + 5_000, fired.set)  # 5 s of exchange time: 50 ms of real time
    await asyncio.wait_for(fired.wait(), 2)
    assert c() >= T0 + 5_000
    await c.stop()
