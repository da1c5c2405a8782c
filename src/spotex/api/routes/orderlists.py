"""Order lists (OCO, OTO, OTOCO, deprecated order/oco), their queries, and cancelReplace."""
from __future__ import annotations

from typing import Any

from ...core.enums import (CANCEL_RESTRICTIONS, GTC, ORDER_TYPES, RESP_TYPES, SIDES,
                           STP_MODES, TIFS)
from ...core.errors import ApiError
from ...core.orderlists import CancelReplaced
from ...engine import Engine
from .. import render
from ..http import SIGNED, Request, Route
from ..params import Params
from .trading import (client_id, limit_param, order_command, order_count_headers, select,
                      time_range)

_TYPES = frozenset(ORDER_TYPES)
_MODES = frozenset(("STOP_ON_FAILURE", "ALLOW_FAILURE"))
_LIMIT_MODES = frozenset(("DO_NOTHING", "CANCEL_ONLY"))


def leg(p: Params, prefix: str, side: str | None = None, qty: int | None = None,
        type_error: str = "INVALID_ORDER_TYPE", required_type: bool = True) -> dict[str, Any] | None:
    """One leg's params, named `<prefix>Type`, `<prefix>Price`, ... (camel case)."""
    otype = p.enum(f"{prefix}Type", _TYPES, type_error, required=required_type)
    if otype is None:
        return None
    tif = p.enum(f"{prefix}TimeInForce", TIFS, "INVALID_TIF")
    iceberg = p.decimal(f"{prefix}IcebergQty")
    if iceberg is not None and tif is not None and tif != GTC:
        raise ApiError("OCO_ICEBERGQTY_TIMEINFORCE", f"{prefix}IcebergQty")
    return {
        "side": side or p.enum(f"{prefix}Side", SIDES, "INVALID_SIDE", required=True),
        "type": otype,
        "qty": qty if qty is not None else p.decimal(f"{prefix}Quantity", required=True),
        "price": p.decimal(f"{prefix}Price"), "stop_price": p.decimal(f"{prefix}StopPrice"),
        "trailing_delta": p.long(f"{prefix}TrailingDelta"), "tif": tif, "iceberg_qty": iceberg,
        "client_id": client_id(p, f"{prefix}ClientOrderId", "EMPTY_NEW_CL_ORD_ID"),
        "strategy_id": p.long(f"{prefix}StrategyId"),
        "strategy_type": p.int(f"{prefix}StrategyType"),
    }


def list_base(p: Params, kind: str, account: int) -> dict[str, Any]:
    return {"t": kind, "account": account, "symbol": p.str("symbol", required=True),
            "list_client_id": client_id(p, "listClientOrderId", "EMPTY_NEW_CL_ORD_ID"),
            "stp": p.enum("selfTradePreventionMode", frozenset(STP_MODES), None)}


def oco_command(p: Params, account: int) -> dict[str, Any]:
    c = list_base(p, "list.oco", account)
    side = p.enum("side", SIDES, "INVALID_SIDE", required=True)
    qty = p.decimal("quantity", required=True)
    c["above"] = leg(p, "above", side, qty, "OCO_ORDER_TYPE_REJECTED")
    c["below"] = leg(p, "below", side, qty, "OCO_ORDER_TYPE_REJECTED")
    return c


def legacy_oco_command(p: Params, account: int) -> dict[str, Any]:
    """POST /api/v3/order/oco: a LIMIT_MAKER leg and a STOP_LOSS(_LIMIT) leg."""
    c = list_base(p, "list.oco", account)
    side = p.enum("side", SIDES, "INVALID_SIDE", required=True)
    qty = p.decimal("quantity", required=True)
    limit = {"side": side, "type": "LIMIT_MAKER", "qty": qty,
             "price": p.decimal("price", required=True),
             "iceberg_qty": p.decimal("limitIcebergQty"),
             "client_id": client_id(p, "limitClientOrderId", "EMPTY_NEW_CL_ORD_ID"),
             "strategy_id": p.long("limitStrategyId"),
             "strategy_type": p.int("limitStrategyType")}
    stop_limit = p.decimal("stopLimitPrice")
    tif = p.enum("stopLimitTimeInForce", TIFS, "INVALID_TIF")
    if stop_limit is not None and tif is None:
        raise ApiError("STOP_LIMIT_TIF_MISSING")
    stop = {"side": side, "type": "STOP_LOSS_LIMIT" if stop_limit is not None else "STOP_LOSS",
            "qty": qty, "price": stop_limit, "tif": tif if stop_limit is not None else None,
            "stop_price": p.decimal("stopPrice", required=True),
            "trailing_delta": p.long("trailingDelta"),
            "iceberg_qty": p.decimal("stopIcebergQty"),
            "client_id": client_id(p, "stopClientOrderId", "EMPTY_NEW_CL_ORD_ID"),
            "strategy_id": p.long("stopStrategyId"),
            "strategy_type": p.int("stopStrategyType")}
    c["above"], c["below"] = (limit, stop) if side == "SELL" else (stop, limit)
    return c


def oto_command(p: Params, account: int) -> dict[str, Any]:
    c = list_base(p, "list.oto", account)
    c["working"] = leg(p, "working")
    c["pending"] = [leg(p, "pending")]
    return c


def otoco_command(p: Params, account: int) -> dict[str, Any]:
    c = list_base(p, "list.oto", account)
    c["working"] = leg(p, "working")
    side = p.enum("pendingSide", SIDES, "INVALID_SIDE", required=True)
    qty = p.decimal("pendingQuantity", required=True)
    c["pending"] = []
    c["above"] = leg(p, "pendingAbove", side, qty, "OCO_ORDER_TYPE_REJECTED")
    c["below"] = leg(p, "pendingBelow", side, qty, "OCO_ORDER_TYPE_REJECTED")
    return c


def cancel_replace_command(p: Params, account: int) -> dict[str, Any]:
    new = order_command(p, account)
    mode = p.enum("cancelReplaceMode", _MODES, None, required=True)
    restriction = p.get("cancelRestrictions")
    if restriction and restriction not in CANCEL_RESTRICTIONS:
        raise ApiError("INVALID_CANCEL_RESTRICTIONS")
    cancel_id = p.long("cancelOrderId")
    cancel_orig = client_id(p, "cancelOrigClientOrderId", "EMPTY_ORG_CL_ORD_ID")
    if cancel_id is None and cancel_orig is None:
        raise ApiError("EITHER_PARAM", "cancelOrderId", "cancelOrigClientOrderId")
    return {
        "t": "order.cancel_replace", "account": account, "symbol": new["symbol"],
        "mode": mode,
        "rate_limit_mode": p.enum("orderRateLimitExceededMode", _LIMIT_MODES, None) or "DO_NOTHING",
        "cancel": {"order_id": cancel_id, "orig_client_id": cancel_orig,
                   "new_client_id": client_id(p, "cancelNewClientOrderId", "EMPTY_NEW_CL_ORD_ID"),
                   "cancel_restrictions": restriction or None},
        "new": {k: v for k, v in new.items() if k not in ("t", "account", "symbol")},
    }


def cancel_replace_response(r: CancelReplaced, mode: str, resp_type: str,
                            ts: int) -> tuple[int, str | None, dict]:
    """(HTTP status, error name or None, data) per the outcome table (endpoints.md §3.6).

    Runs as the engine's render step, so it must not raise: the command is applied.
    """
    cancel_ok = not isinstance(r.cancel, ApiError)
    new_ok = r.new is not None and not isinstance(r.new, ApiError)
    data = {
        "cancelResult": "SUCCESS" if cancel_ok else "FAILURE",
        "newOrderResult": "SUCCESS" if new_ok else ("NOT_ATTEMPTED" if r.new is None else "FAILURE"),
        "cancelResponse": render.any_canceled(r.cancel, ts) if cancel_ok else r.cancel.body(),
        "newOrderResponse": (render.new_order(r.new, resp_type, ts) if new_ok
                             else None if r.new is None else r.new.body()),
    }
    if cancel_ok and new_ok:
        return 200, None, data
    name = "CANCEL_REPLACE_PARTIAL" if cancel_ok or new_ok else "CANCEL_REPLACE_FAILED"
    status = 409 if name == "CANCEL_REPLACE_PARTIAL" else 400
    if r.rate_limited is not None and mode == "STOP_ON_FAILURE":
        status = 429
    return status, name, data


def routes(engine: Engine) -> list[Route]:
    ex = lambda: engine.exchange  # noqa: E731 - replaced on rebuild

    def placer(build):
        async def handler(req: Request) -> Any:
            p = req.params
            cmd = build(p, req.account)
            resp_type = p.enum("newOrderRespType", RESP_TYPES, None) or "FULL"
            out = await engine.execute(cmd, lambda lp: render.list_placed(lp, resp_type, cmd["ts"]))
            req.response_headers += order_count_headers(engine, req.account)
            return out
        return handler

    async def cancel_list(req: Request) -> Any:
        p = req.params
        symbol = p.str("symbol", required=True)
        list_id = p.long("orderListId")
        list_cid = client_id(p, "listClientOrderId", "EMPTY_ORG_CL_ORD_ID")
        if list_id is None and list_cid is None:
            raise ApiError("OPTIONAL_PARAMS_BAD_COMBO")
        cmd = {"t": "list.cancel", "account": req.account, "symbol": symbol,
               "list_id": list_id, "list_client_id": list_cid,
               "new_client_id": client_id(p, "newClientOrderId", "EMPTY_NEW_CL_ORD_ID")}
        return await engine.execute(cmd, lambda lc: render.list_canceled(lc, cmd["ts"]))

    async def get_list(req: Request) -> Any:
        p = req.params
        list_id = p.long("orderListId")
        cid = client_id(p, "origClientOrderId", "EMPTY_ORG_CL_ORD_ID")
        if list_id is None and cid is None:
            raise ApiError("OPTIONAL_PARAMS_BAD_COMBO")
        ol = ex().find_list(req.account, list_id, cid)
        if ol is None:
            raise ApiError("NO_SUCH_ORDER_LIST")
        return render.order_list(ol)

    async def all_lists(req: Request) -> Any:
        p = req.params
        from_id, limit = p.long("fromId"), limit_param(p)
        start, end = time_range(p)
        mine = ex().account_lists.get(req.account, [])
        if from_id is not None and start is None and end is None:
            return [render.order_list(ol) for ol in mine if ol.id >= from_id][:limit]
        return [render.order_list(ol)
                for ol in select(mine, lambda ol: ol.update_time, start, end, limit)]

    async def open_lists(req: Request) -> Any:
        return [render.order_list(ol) for ol in ex().account_lists.get(req.account, [])
                if ol.is_open]

    async def cancel_replace(req: Request) -> Any:
        p = req.params
        cmd = cancel_replace_command(p, req.account)
        resp_type = (p.enum("newOrderRespType", RESP_TYPES, None)
                     or render.default_resp_type(cmd["new"]["type"]))
        status, error, data = await engine.execute(
            cmd, lambda r: cancel_replace_response(r, cmd["mode"], resp_type, cmd["ts"]))
        req.response_headers += order_count_headers(engine, req.account)
        if error is not None:
            raise ApiError(error, status=status, data=data)
        return data

    return [
        Route("POST", "/api/v3/orderList/oco", placer(oco_command), SIGNED),
        Route("POST", "/api/v3/order/oco", placer(legacy_oco_command), SIGNED),
        Route("POST", "/api/v3/orderList/oto", placer(oto_command), SIGNED),
        Route("POST", "/api/v3/orderList/otoco", placer(otoco_command), SIGNED),
        Route("DELETE", "/api/v3/orderList", cancel_list, SIGNED),
        Route("GET", "/api/v3/orderList", get_list, SIGNED),
        Route("GET", "/api/v3/allOrderList", all_lists, SIGNED),
        Route("GET", "/api/v3/openOrderList", open_lists, SIGNED),
        Route("POST", "/api/v3/order/cancelReplace", cancel_replace, SIGNED),
    ]
