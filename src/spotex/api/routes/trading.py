"""Orders: place, test, query, cancel, cancel all, open orders, all orders."""
from __future__ import annotations

import functools
import re
from typing import Any

from ...core.enums import (CANCEL_RESTRICTIONS, ORDER_TYPES, RESP_TYPES, SIDES, STP_MODES,
                           TIFS)
from ...core.errors import ApiError
from ...core.numbers import fmt
from ...engine import Engine
from .. import render
from ..http import SIGNED, Request, Route
from ..params import Params

CLIENT_ID_RANGE = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"
_CLIENT_ID = re.compile(CLIENT_ID_RANGE)
DAY_MS = 86_400_000
_LETTER = {"SECOND": "S", "MINUTE": "M", "HOUR": "H", "DAY": "D"}


def client_id(p: Params, name: str, empty_error: str) -> str | None:
    """A client order id: -1118/-1119 when empty, -1100 outside Binance's legal range."""
    v = p.get(name)
    if v is None:
        return None
    if v == "":
        raise ApiError(empty_error)
    if not _CLIENT_ID.fullmatch(v):
        raise ApiError("ILLEGAL_CHARS", name, CLIENT_ID_RANGE)
    return v


def order_command(p: Params, account: int) -> dict[str, Any]:
    """POST /api/v3/order params -> an `order.new` command (syntax checks only)."""
    symbol = p.str("symbol", required=True)
    side = p.enum("side", SIDES, "INVALID_SIDE", required=True)
    otype = p.enum("type", frozenset(ORDER_TYPES), "INVALID_ORDER_TYPE", required=True)
    return {
        "t": "order.new", "account": account, "symbol": symbol, "side": side, "type": otype,
        "tif": p.enum("timeInForce", TIFS, "INVALID_TIF"),
        "qty": p.decimal("quantity"), "quote_qty": p.decimal("quoteOrderQty"),
        "price": p.decimal("price"), "stop_price": p.decimal("stopPrice"),
        "trailing_delta": p.long("trailingDelta"), "iceberg_qty": p.decimal("icebergQty"),
        "client_id": client_id(p, "newClientOrderId", "EMPTY_NEW_CL_ORD_ID"),
        "strategy_id": p.long("strategyId"), "strategy_type": p.int("strategyType"),
        "stp": p.enum("selfTradePreventionMode", frozenset(STP_MODES), None),
    }


def order_ids(p: Params) -> tuple[int | None, str | None]:
    """orderId / origClientOrderId; neither -> -1128 (baseline rule)."""
    order_id = p.long("orderId")
    orig = client_id(p, "origClientOrderId", "EMPTY_ORG_CL_ORD_ID")
    if order_id is None and orig is None:
        raise ApiError("OPTIONAL_PARAMS_BAD_COMBO")
    return order_id, orig


def limit_param(p: Params, default: int = 500, maximum: int = 1000) -> int:
    limit = p.int("limit")
    if limit is None:
        return default
    if limit <= 0 or limit > maximum:
        raise ApiError("INVALID_PARAMETER", "limit")
    return limit


def time_range(p: Params) -> tuple[int | None, int | None]:
    start, end = p.long("startTime"), p.long("endTime")
    if start is not None and end is not None and end - start > DAY_MS:
        raise ApiError("MORE_THAN_XX_HOURS", 24)
    if start is not None and end is not None and end < start:
        raise ApiError("OPTIONAL_PARAMS_BAD_COMBO")
    return start, end


def select(items: list, key, start: int | None, end: int | None, limit: int) -> list:
    """Binance's selection rule: no range -> newest; start -> oldest from it; end -> newest up to it."""
    if start is not None:
        items = [i for i in items if key(i) >= start and (end is None or key(i) <= end)]
        return items[:limit]
    if end is not None:
        items = [i for i in items if key(i) <= end]
    return items[-limit:]


@functools.lru_cache(maxsize=None)
def _count_header(interval_num: int, interval: str) -> bytes:
    return f"x-mbx-order-count-{interval_num}{_LETTER[interval]}".lower().encode()


def order_count_headers(engine: Engine, account: int) -> list[tuple[bytes, bytes]]:
    """X-MBX-ORDER-COUNT-<n><unit> for each ORDERS limit, as of the last command."""
    counts = engine.exchange.order_counter.counts(account, engine.exchange.last_ts)
    return [(_count_header(lim.interval_num, lim.interval), str(n).encode())
            for lim, n in counts]


def commission_rates(engine: Engine, account: int, symbol: str) -> dict[str, Any]:
    ex = engine.exchange
    sym, acct = ex.symbol(symbol), ex.account(account)
    maker = sym.maker_commission if sym.maker_commission is not None else acct.maker_rate
    taker = sym.taker_commission if sym.taker_commission is not None else acct.taker_rate
    zero = fmt(0)
    return {
        "standardCommission": {"maker": fmt(maker), "taker": fmt(taker),
                               "buyer": fmt(acct.buyer_rate), "seller": fmt(acct.seller_rate)},
        "taxCommission": {"maker": zero, "taker": zero, "buyer": zero, "seller": zero},
        "discount": {"enabledForAccount": False, "enabledForSymbol": False,
                     "discountAsset": "BNB", "discount": fmt(0)},
    }


def routes(engine: Engine) -> list[Route]:
    ex = lambda: engine.exchange  # noqa: E731 - the exchange object is replaced on rebuild

    async def new_order(req: Request) -> Any:
        p = req.params
        cmd = order_command(p, req.account)
        resp_type = p.enum("newOrderRespType", RESP_TYPES, None) or render.default_resp_type(cmd["type"])
        out = await engine.execute(cmd, lambda placed: render.new_order(placed, resp_type, cmd["ts"]))
        req.response_headers += order_count_headers(engine, req.account)
        return out

    async def test_order(req: Request) -> Any:
        p = req.params
        cmd = order_command(p, req.account)
        p.enum("newOrderRespType", RESP_TYPES, None)
        rates = p.bool("computeCommissionRates", False)
        cmd["ts"], cmd["test"] = engine.clock(), True
        ex().validate_order(cmd)
        if not rates:
            return {}
        r = commission_rates(engine, req.account, cmd["symbol"])
        return {"standardCommissionForOrder": {k: r["standardCommission"][k] for k in ("maker", "taker")},
                "taxCommissionForOrder": {k: r["taxCommission"][k] for k in ("maker", "taker")},
                "discount": r["discount"]}

    async def get_order(req: Request) -> Any:
        p = req.params
        symbol = p.str("symbol", required=True)
        ex().symbol(symbol)
        order_id, orig = order_ids(p)
        o = ex().find_order(req.account, symbol, order_id, orig)
        if o is None:
            if order_id is not None and ex().is_archived(symbol, order_id, req.account):
                raise ApiError("ORDER_ARCHIVED")
            raise ApiError("NO_SUCH_ORDER")
        return render.query_order(o)

    async def cancel_order(req: Request) -> Any:
        p = req.params
        symbol = p.str("symbol", required=True)
        order_id, orig = order_ids(p)
        restriction = p.get("cancelRestrictions")
        if restriction and restriction not in CANCEL_RESTRICTIONS:
            raise ApiError("INVALID_CANCEL_RESTRICTIONS")
        cmd = {"t": "order.cancel", "account": req.account, "symbol": symbol,
               "order_id": order_id, "orig_client_id": orig,
               "new_client_id": client_id(p, "newClientOrderId", "EMPTY_NEW_CL_ORD_ID"),
               "cancel_restrictions": restriction or None}
        return await engine.execute(cmd, lambda c: render.any_canceled(c, cmd["ts"]))

    async def cancel_all(req: Request) -> Any:
        symbol = req.params.str("symbol", required=True)
        cmd = {"t": "order.cancel_all", "account": req.account, "symbol": symbol}
        return await engine.execute(cmd, lambda cs: [render.any_canceled(c, cmd["ts"]) for c in cs])

    async def open_orders(req: Request) -> Any:
        symbol = req.params.str("symbol")
        acct = ex().account(req.account)
        if symbol is not None:
            ex().symbol(symbol)
            books = [acct.open_orders.get(symbol, {})]
        else:
            books = list(acct.open_orders.values())
        orders = sorted((o for b in books for o in b.values()), key=lambda o: (o.time, o.id))
        return [render.query_order(o) for o in orders]

    async def all_orders(req: Request) -> Any:
        p = req.params
        symbol = p.str("symbol", required=True)
        ex().symbol(symbol)
        order_id, limit = p.long("orderId"), limit_param(p)
        start, end = time_range(p)
        mine = ex().kept_orders(req.account, symbol)
        if start is None and end is None and order_id is not None:
            return [render.query_order(o) for o in mine if o.id >= order_id][:limit]
        return [render.query_order(o)
                for o in select(mine, lambda o: o.update_time, start, end, limit)]

    return [
        Route("POST", "/api/v3/order", new_order, SIGNED),
        Route("POST", "/api/v3/order/test", test_order, SIGNED),
        Route("GET", "/api/v3/order", get_order, SIGNED),
        Route("DELETE", "/api/v3/order", cancel_order, SIGNED),
        Route("DELETE", "/api/v3/openOrders", cancel_all, SIGNED),
        Route("GET", "/api/v3/openOrders", open_orders, SIGNED),
        Route("GET", "/api/v3/allOrders", all_orders, SIGNED),
    ]
