"""The one table of endpoint weights (endpoints.md §0), including per-parameter weights."""
from __future__ import annotations

from typing import Callable

from .params import Params

Weight = int | Callable[[Params], int]


def _truthy(p: Params, name: str) -> bool:
    """A BOOLEAN parameter sent as true, in any case (as Params.bool reads it)."""
    return (p.get(name) or "").lower() == "true"


def _depth(p: Params) -> int:
    try:
        limit = int(p.get("limit") or 100)
    except ValueError:
        return 5
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def _symbol_count(p: Params) -> int | None:
    if p.has("symbol"):
        return 1
    raw = p.get("symbols")
    return raw.count(",") + 1 if raw else None


def _ticker_24hr(p: Params) -> int:
    n = _symbol_count(p)
    return 80 if n is None or n > 100 else 40 if n > 20 else 2


def _per_symbol_4(p: Params) -> int:
    n = _symbol_count(p) or 1
    return 200 if n > 50 else 4 * n


def _price_ticker(p: Params) -> int:
    return 2 if p.has("symbol") else 4


WEIGHTS: dict[tuple[str, str], Weight] = {
    ("GET", "/api/v3/ping"): 1,
    ("GET", "/api/v3/time"): 1,
    ("GET", "/api/v3/exchangeInfo"): 20,
    ("GET", "/api/v3/depth"): _depth,
    ("GET", "/api/v3/trades"): 25,
    ("GET", "/api/v3/historicalTrades"): 25,
    ("GET", "/api/v3/aggTrades"): 2,
    ("GET", "/api/v3/klines"): 2,
    ("GET", "/api/v3/uiKlines"): 2,
    ("GET", "/api/v3/avgPrice"): 2,
    ("GET", "/api/v3/ticker/24hr"): _ticker_24hr,
    ("GET", "/api/v3/ticker/tradingDay"): _per_symbol_4,
    ("GET", "/api/v3/ticker/price"): _price_ticker,
    ("GET", "/api/v3/ticker/bookTicker"): _price_ticker,
    ("GET", "/api/v3/ticker"): _per_symbol_4,
    ("POST", "/api/v3/order"): 1,
    ("POST", "/api/v3/order/test"): lambda p: 20 if _truthy(p, "computeCommissionRates") else 1,
    ("GET", "/api/v3/order"): 4,
    ("DELETE", "/api/v3/order"): 1,
    ("DELETE", "/api/v3/openOrders"): 1,
    ("GET", "/api/v3/openOrders"): lambda p: 6 if p.has("symbol") else 80,
    ("GET", "/api/v3/allOrders"): 20,
    ("GET", "/api/v3/account"): 20,
    ("GET", "/api/v3/myTrades"): 20,
    ("GET", "/api/v3/rateLimit/order"): 40,
    ("GET", "/api/v3/myPreventedMatches"): lambda p: 20 if p.has("orderId") else 2,
    ("GET", "/api/v3/account/commission"): 20,
    ("POST", "/api/v3/order/cancelReplace"): 1,
    ("POST", "/api/v3/order/oco"): 1,
    ("POST", "/api/v3/orderList/oco"): 1,
    ("POST", "/api/v3/orderList/oto"): 1,
    ("POST", "/api/v3/orderList/otoco"): 1,
    ("DELETE", "/api/v3/orderList"): 1,
    ("GET", "/api/v3/orderList"): 4,
    ("GET", "/api/v3/allOrderList"): 20,
    ("GET", "/api/v3/openOrderList"): 6,
    ("POST", "/api/v3/userDataStream"): 2,
    ("PUT", "/api/v3/userDataStream"): 2,
    ("DELETE", "/api/v3/userDataStream"): 2,
}


def weight_of(method: str, path: str, params: Params) -> int:
    w = WEIGHTS.get((method, path), 1)
    return w if isinstance(w, int) else w(params)
