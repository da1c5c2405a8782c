"""Core objects -> Binance JSON shapes (endpoints.md §A), field order as documented."""
from __future__ import annotations

from typing import Any

from ..core.enums import ACK, ALGO_TYPES, FULL, MARKET
from ..core.numbers import fmt
from ..core.orders import Order
from ..core.symbols import Symbol, filter_json
from ..core.trading import Canceled, Placed

ZERO = "0.00000000"


def _price(o: Order) -> str:
    return fmt(o.price) if o.price else ZERO


def _cond(o: Order, out: dict[str, Any], query: bool) -> dict[str, Any]:
    """Conditional fields (§A.6)."""
    if not query:
        if o.type in ALGO_TYPES:
            out["stopPrice"] = fmt(o.stop_price)
        if o.iceberg_qty:
            out["icebergQty"] = fmt(o.iceberg_qty)
    if o.trailing_delta:
        out["trailingDelta"] = o.trailing_delta
        out["trailingTime"] = o.trailing_time
    if o.strategy_id is not None:
        out["strategyId"] = o.strategy_id
    if o.strategy_type is not None:
        out["strategyType"] = o.strategy_type
    if o.prevented_match_id is not None:
        out["preventedMatchId"] = o.prevented_match_id
        out["preventedQuantity"] = fmt(o.prevented_qty)
    return out


def _prevented(p: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"preventedMatchId": p.id, "makerOrderId": p.maker_order_id,
                           "price": fmt(p.price)}
    if p.taker_prevented_qty:
        out["takerPreventedQuantity"] = fmt(p.taker_prevented_qty)
    if p.maker_prevented_qty:
        out["makerPreventedQuantity"] = fmt(p.maker_prevented_qty)
    return out


def new_order(placed: Placed, resp_type: str, ts: int) -> dict[str, Any]:
    """The placement response (§A.1) for ACK, RESULT or FULL."""
    o = placed.order
    out: dict[str, Any] = {"symbol": o.symbol, "orderId": o.id, "orderListId": o.list_id,
                           "clientOrderId": o.client_id, "transactTime": ts}
    if resp_type == ACK:
        return out
    out["price"] = _price(o)
    out["origQty"] = fmt(o.qty)
    out["executedQty"] = fmt(o.executed)
    out["origQuoteOrderQty"] = fmt(o.quote_qty)
    out["cummulativeQuoteQty"] = fmt(o.cum_quote)
    out["status"] = o.status
    out["timeInForce"] = o.tif
    out["type"] = o.type
    out["side"] = o.side
    _cond(o, out, False)
    out["workingTime"] = o.working_time
    if resp_type == FULL:
        out["fills"] = [{"price": fmt(p), "qty": fmt(q), "commission": fmt(c),
                         "commissionAsset": a, "tradeId": t}
                        for p, q, c, a, t in placed.fills]
    out["selfTradePreventionMode"] = o.stp
    if placed.prevented:
        out["preventedMatches"] = [_prevented(p) for p in placed.prevented]
        out["preventedQuantity"] = fmt(o.prevented_qty)
    return out


def query_order(o: Order) -> dict[str, Any]:
    """GET order / openOrders / allOrders object (§A.2)."""
    out = {
        "symbol": o.symbol, "orderId": o.id, "orderListId": o.list_id,
        "clientOrderId": o.client_id, "price": _price(o), "origQty": fmt(o.qty),
        "executedQty": fmt(o.executed), "cummulativeQuoteQty": fmt(o.cum_quote),
        "status": o.status, "timeInForce": o.tif, "type": o.type, "side": o.side,
        "stopPrice": fmt(o.stop_price), "icebergQty": fmt(o.iceberg_qty), "time": o.time,
        "updateTime": o.update_time, "isWorking": o.working, "workingTime": o.working_time,
        "origQuoteOrderQty": fmt(o.quote_qty), "selfTradePreventionMode": o.stp,
    }
    return _cond(o, out, True)


def canceled(c: Canceled, ts: int) -> dict[str, Any]:
    """DELETE order object (§A.3)."""
    o = c.order
    out: dict[str, Any] = {
        "symbol": o.symbol, "origClientOrderId": c.orig_client_id, "orderId": o.id,
        "orderListId": o.list_id, "clientOrderId": c.client_id, "transactTime": ts,
        "price": _price(o), "origQty": fmt(o.qty), "executedQty": fmt(o.executed),
        "origQuoteOrderQty": fmt(o.quote_qty), "cummulativeQuoteQty": fmt(o.cum_quote),
        "status": o.status, "timeInForce": o.tif, "type": o.type, "side": o.side,
    }
    _cond(o, out, False)
    out["selfTradePreventionMode"] = o.stp
    return out


def default_resp_type(order_type: str) -> str:
    return FULL if order_type in ("LIMIT", MARKET) else ACK


def symbol_info(s: Symbol, show_permission_sets: bool = True) -> dict[str, Any]:
    return {
        "symbol": s.name, "status": s.status, "baseAsset": s.base,
        "baseAssetPrecision": s.base_precision, "quoteAsset": s.quote,
        "quotePrecision": s.quote_precision, "quoteAssetPrecision": s.quote_precision,
        "baseCommissionPrecision": s.base_precision,
        "quoteCommissionPrecision": s.quote_precision,
        "orderTypes": list(s.order_types), "icebergAllowed": s.iceberg_allowed,
        "ocoAllowed": s.oco_allowed, "otoAllowed": s.oto_allowed,
        "quoteOrderQtyMarketAllowed": s.quote_order_qty_market_allowed,
        "allowTrailingStop": s.allow_trailing_stop,
        "cancelReplaceAllowed": s.cancel_replace_allowed,
        "isSpotTradingAllowed": s.is_spot_trading_allowed,
        "isMarginTradingAllowed": s.is_margin_trading_allowed,
        "filters": [filter_json(f) for f in s.filters],
        "permissions": [],
        "permissionSets": [list(g) for g in s.permission_sets] if show_permission_sets else [],
        "defaultSelfTradePreventionMode": s.default_stp,
        "allowedSelfTradePreventionModes": list(s.allowed_stp),
    }


def my_trade(t: Any, account: int, is_buyer: bool) -> dict[str, Any]:
    return {
        "symbol": t.symbol, "id": t.id,
        "orderId": t.buyer_order_id if is_buyer else t.seller_order_id,
        "orderListId": t.buyer_list_id if is_buyer else t.seller_list_id,
        "price": fmt(t.price), "qty": fmt(t.qty), "quoteQty": fmt(t.quote_qty),
        "commission": fmt(t.buyer_fee if is_buyer else t.seller_fee),
        "commissionAsset": t.buyer_fee_asset if is_buyer else t.seller_fee_asset,
        "time": t.time, "isBuyer": is_buyer, "isMaker": t.is_buyer_maker == is_buyer,
        "isBestMatch": True,
    }


def prevented_match(p: Any, symbol: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "symbol": symbol, "preventedMatchId": p.id, "takerOrderId": p.taker_order_id,
        "makerSymbol": symbol, "makerOrderId": p.maker_order_id, "tradeGroupId": -1,
        "selfTradePreventionMode": p.mode, "price": fmt(p.price),
    }
    if p.taker_prevented_qty:
        out["takerPreventedQuantity"] = fmt(p.taker_prevented_qty)
    if p.maker_prevented_qty:
        out["makerPreventedQuantity"] = fmt(p.maker_prevented_qty)
    out["transactTime"] = p.time
    return out


# ---------------------------------------------------------------- order lists (§A.4)
def order_list(ol: Any, ts: int | None = None) -> dict[str, Any]:
    """The list object without orderReports (queries); `ts` overrides transactionTime."""
    done = ol.status == "ALL_DONE"
    return {
        "orderListId": ol.id, "contingencyType": ol.contingency,
        "listStatusType": ol.status, "listOrderStatus": "ALL_DONE" if done else "EXECUTING",
        "listClientOrderId": ol.client_id,
        "transactionTime": ol.time if ts is None else ts, "symbol": ol.symbol,
        "orders": [{"symbol": o.symbol, "orderId": o.id, "clientOrderId": o.client_id}
                   for o in ol.legs],
    }


def list_placed(lp: Any, resp_type: str, ts: int) -> dict[str, Any]:
    out = order_list(lp.order_list, ts)
    reports = sorted(lp.placements, key=lambda p: p.order.id)
    out["orderReports"] = [new_order(p, resp_type, ts) for p in reports]
    return out


def list_canceled(lc: Any, ts: int) -> dict[str, Any]:
    out = order_list(lc.order_list, ts)
    orig = {c.order.id: c.orig_client_id for c in lc.cancels}
    for leg in out["orders"]:  # the legs as they were: their ids before this cancel
        leg["clientOrderId"] = orig.get(leg["orderId"], leg["clientOrderId"])
    out["orderReports"] = [canceled(c, ts) for c in lc.cancels]
    return out


def any_canceled(c: Any, ts: int) -> dict[str, Any]:
    """A cancel of a single order or, for a list leg, of its whole list."""
    return list_canceled(c, ts) if hasattr(c, "cancels") else canceled(c, ts)
