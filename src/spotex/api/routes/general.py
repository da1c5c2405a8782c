"""ping, time, exchangeInfo."""
from __future__ import annotations

from typing import Any

from ...core.errors import ApiError
from ...core.symbols import Symbol, filter_json
from ...engine import Engine
from .. import render
from ..http import Request, Route
from ..params import Params

_DEFAULT_PERMISSIONS = {"SPOT", "MARGIN", "LEVERAGED"}


def symbols_param(engine: Engine, p: Params) -> list[Symbol] | None:
    """`symbol` or `symbols` (JSON array): -1121 unknown, -1151 duplicates, None if neither."""
    ex = engine.exchange
    name = p.str("symbol")
    if name is not None:
        if p.has("symbols"):
            raise ApiError("OPTIONAL_PARAMS_BAD_COMBO")
        return [ex.symbol(name)]
    names = p.json_list("symbols")
    if names is None:
        return None
    if len(set(names)) != len(names):
        raise ApiError("DUPLICATE_SYMBOLS")
    return [ex.symbol(n) for n in names]


def _permissions(p: Params) -> set[str] | None:
    raw = p.get("permissions")
    if not raw:
        return None
    if raw.startswith("["):
        return set(p.json_list("permissions") or ())
    return {raw}


def routes(engine: Engine) -> list[Route]:
    async def ping(req: Request) -> Any:
        return {}

    async def time(req: Request) -> Any:
        return {"serverTime": engine.clock()}

    async def exchange_info(req: Request) -> Any:
        p = req.params
        chosen = symbols_param(engine, p)
        perms = _permissions(p)
        status = p.get("symbolStatus")
        if status and status not in ("TRADING", "HALT", "BREAK"):
            raise ApiError("INVALID_SYMBOLSTATUS")
        if chosen is not None and (perms is not None or status):
            raise ApiError("OPTIONAL_PARAMS_BAD_COMBO")
        show = p.bool("showPermissionSets", True)
        symbols = chosen if chosen is not None else list(engine.exchange.symbols.values())
        if chosen is None:
            want = perms or _DEFAULT_PERMISSIONS
            symbols = [s for s in symbols
                       if any(set(g) & want for g in s.permission_sets)]
        if status:
            symbols = [s for s in symbols if s.status == status]
        return {
            "timezone": "UTC",
            "serverTime": engine.clock(),
            "rateLimits": [{"rateLimitType": r.type, "interval": r.interval,
                            "intervalNum": r.interval_num, "limit": r.limit}
                           for r in engine.config.rate_limits],
            "exchangeFilters": [filter_json(f) for f in engine.exchange.exchange_filters],
            "symbols": [render.symbol_info(s, bool(show)) for s in symbols],
        }

    return [
        Route("GET", "/api/v3/ping", ping),
        Route("GET", "/api/v3/time", time),
        Route("GET", "/api/v3/exchangeInfo", exchange_info),
    ]

