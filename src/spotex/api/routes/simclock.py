"""Admin API of the living market: the exchange clock and the simulated participants.

GET/POST /admin/v1/clock, POST /admin/v1/clock/advance, GET /admin/v1/sim and
POST /admin/v1/sim/{symbol}. Operator changes to the market are journaled commands
(`sim.set`); clock changes are not (the clock is an adapter; time itself is in every
command).
"""
from __future__ import annotations

from typing import Any

from ...clock import Clock
from ...core import numbers
from ...core.errors import ApiError
from ...core.sim import SimMarket
from ...engine import Engine
from ..http import ADMIN, Request, Route
from .admin import decimal_field, json_body

_SIM_FIELDS = ("price", "volatility", "liquidity", "paused")


def _decimal(doc: dict[str, Any], name: str) -> int | None:
    return None if doc.get(name) is None else decimal_field(doc[name], name)


def market_view(engine: Engine, name: str, m: SimMarket) -> dict[str, Any]:
    """One symbol of GET /admin/v1/sim."""
    book = engine.exchange.books[name]
    bid, ask = book.bids.best(), book.asks.best()
    fmt = numbers.fmt
    return {"symbol": name, "reference": fmt(m.ref),
            "bidPrice": fmt(bid.price) if bid else None,
            "askPrice": fmt(ask.price) if ask else None,
            "spread": fmt(ask.price - bid.price) if bid and ask else None,
            "makerInventory": fmt(m.inventory), "volatility": fmt(m.volatility),
            "liquidity": fmt(m.liquidity), "takersPerMinute": fmt(m.cfg.takers_per_minute),
            "follows": list(m.cross) if m.cross else None, "paused": m.paused}


def routes(engine: Engine, clock: Clock) -> list[Route]:
    def sim_markets() -> dict[str, SimMarket]:
        sim = engine.exchange.sim
        return sim.markets if sim is not None and sim.enabled else {}

    async def show_sim(_: Request) -> Any:
        markets = sim_markets()
        return {"enabled": bool(markets),
                "symbols": [market_view(engine, n, m) for n, m in markets.items()]}

    async def set_sim(req: Request) -> Any:
        name = req.path_args[0]
        if name not in sim_markets():
            raise ApiError("BAD_SYMBOL")
        doc = json_body(req)
        unknown = [k for k in doc if k not in _SIM_FIELDS]
        if unknown:
            raise ApiError("INVALID_PARAMETER", unknown[0])
        paused = doc.get("paused")
        if paused is not None and not isinstance(paused, bool):
            raise ApiError("INVALID_PARAMETER", "paused")
        cmd = {"t": "sim.set", "symbol": name, "paused": paused,
               **{k: _decimal(doc, k) for k in ("price", "volatility", "liquidity")}}
        if cmd["price"] == 0:
            raise ApiError("INVALID_PARAMETER", "price")
        m = await engine.execute(cmd, lambda m: m)
        return market_view(engine, name, m)

    async def show_clock(_: Request) -> Any:
        return clock.state()

    async def set_clock(req: Request) -> Any:
        doc = json_body(req)
        try:
            if "speed" in doc:
                speed = doc["speed"]
                if isinstance(speed, bool) or not isinstance(speed, (int, float)):
                    raise ApiError("INVALID_PARAMETER", "speed")
                clock.set_speed(float(speed))
            if "paused" in doc:
                if not isinstance(doc["paused"], bool):
                    raise ApiError("INVALID_PARAMETER", "paused")
                clock.set_paused(doc["paused"])
        except ValueError:
            raise ApiError("INVALID_PARAMETER", "speed" if "speed" in doc else "paused") \
                from None
        return clock.state()

    async def advance(req: Request) -> Any:
        ms = json_body(req).get("ms")
        if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
            raise ApiError("INVALID_PARAMETER", "ms")
        if clock.mode != "manual":
            raise ApiError("INVALID_PARAMETER", "ms")
        await clock.advance(ms)
        await engine.journal.flush()  # everything that happened is durable
        return clock.state()

    return [
        Route("GET", "/admin/v1/sim", show_sim, ADMIN),
        Route("POST", "/admin/v1/sim/{symbol}", set_sim, ADMIN),
        Route("GET", "/admin/v1/clock", show_clock, ADMIN),
        Route("POST", "/admin/v1/clock", set_clock, ADMIN),
        Route("POST", "/admin/v1/clock/advance", advance, ADMIN),
    ]
