"""Runs the simulated market on the exchange clock: the sim's only adapter.

Every `step_ms` of exchange time, one `sim.step` command per simulated symbol goes
through the engine like any command (journaled, seen by market data and streams). The
core decides everything a step does; this module only keeps time. Steps are aligned to
multiples of `step_ms`, so two servers with the same clock step at the same times.
"""
from __future__ import annotations

import logging
import time

from .clock import Clock, Timer
from .engine import Engine

log = logging.getLogger("spotex.sim")


class SimDriver:
    def __init__(self, engine: Engine, clock: Clock, history_ms: int = 0) -> None:
        self.engine, self.clock, self.history_ms = engine, clock, history_ms
        self.timer: Timer | None = None
        self.steps = 0  # sim.step commands applied since start (for tests and metrics)

    def start(self) -> None:
        """Write the history of symbols that have none yet, then schedule the first step
        after now (nothing if the sim is off)."""
        sim = self.engine.exchange.sim
        if sim is None or not sim.enabled or self.timer is not None:
            return
        self.write_history()
        self._step_all(fresh_only=True)  # quoted from the first request, whatever the clock
        step = sim.settings.step_ms
        self.timer = self.clock.call_at((self.clock() // step + 1) * step, self._step)

    def write_history(self) -> None:
        """Synthetic history before now for each simulated symbol that never traded:
        walks first, then the crosses (which divide their legs' walks)."""
        sim, ex = self.engine.exchange.sim, self.engine.exchange
        if not self.history_ms or sim is None:
            return
        now = self.clock()
        todo = [n for n, m in sim.markets.items() if not m.history and ex.next_trade_id[n] == 1]
        for name in sorted(todo, key=lambda n: sim.markets[n].cross is not None):
            started = time.perf_counter()
            self.engine.execute_internal({"t": "sim.history", "symbol": name,
                                          "from": now - self.history_ms})
            log.info("sim: %s history written in %.2f s", name, time.perf_counter() - started)

    def _step_all(self, fresh_only: bool = False) -> None:
        """A step of every symbol (`fresh_only`: of those that never stepped)."""
        for name, m in list(self.engine.exchange.sim.markets.items()):
            if fresh_only and m.step:
                continue
            if self.engine.execute_internal({"t": "sim.step", "symbol": name}):
                self.steps += 1

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _step(self) -> None:
        """One step of every simulated symbol at this timer's due time, then the next."""
        assert self.timer is not None
        due = self.timer.due
        sim = self.engine.exchange.sim
        if sim is None or not sim.enabled:
            self.timer = None
            return
        self._step_all()
        step, now = sim.settings.step_ms, self.clock()
        nxt = due + step
        if nxt <= now:  # fell behind (a long pause of the loop): skip, don't burst
            nxt = (now // step + 1) * step
        self.timer = self.clock.call_at(nxt, self._step)
