"""Every symbol and exchange filter of filters.md, checked in one fixed order.

The order is the order filters appear in exchangeInfo (our config lists them in the
documented order), then the exchange filters. Each check raises
`ApiError("FILTER_FAILURE", <filterType>)`.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from .enums import BUY, LIMIT_PRICED, MARKET, STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT
from .errors import ApiError
from .numbers import SCALE, mul
from .orders import Order
from .symbols import Symbol

AvgPrice = Callable[[int], Optional[int]]  # avgPriceMins -> price or None (no trades)


def _fail(kind: str) -> ApiError:
    return ApiError("FILTER_FAILURE", kind)


def _in_range(value: int, lo: int, hi: int, step: int) -> bool:
    """Binance's rule: each bound is disabled when it is 0."""
    return (lo == 0 or value >= lo) and (hi == 0 or value <= hi) and (step == 0 or value % step == 0)


def _price(f: Any, o: Order, _: Any) -> None:
    # a zero price is a price (it must fail minPrice), not an absent one; only a trailing
    # stop may omit stopPrice
    prices = [o.price] if o.type in LIMIT_PRICED else []
    if o.stop_price or (o.is_algo and not o.trailing_delta):
        prices.append(o.stop_price)
    for p in prices:
        if not _in_range(p, f.min_price, f.max_price, f.tick_size):
            raise _fail(f.kind)


def _percent(f: Any, o: Order, avg: AvgPrice) -> None:
    if o.type == MARKET or not o.price:
        return
    ref = avg(f.avg_price_mins)
    if ref is None:
        return
    if f.kind == "PERCENT_PRICE":
        up, down = f.multiplier_up, f.multiplier_down
    elif o.side == BUY:
        up, down = f.bid_multiplier_up, f.bid_multiplier_down
    else:
        up, down = f.ask_multiplier_up, f.ask_multiplier_down
    # price <= ref*up and price >= ref*down, exactly: compare price*SCALE to ref*mult
    if o.price * SCALE > ref * up or o.price * SCALE < ref * down:
        raise _fail(f.kind)


def _lot(f: Any, o: Order, _: Any) -> None:
    if o.type == MARKET and o.quote_qty:
        return  # reverse market orders pick a quantity that respects the step
    if not _in_range(o.qty, f.min_qty, f.max_qty, f.step_size) or o.qty <= 0:
        raise _fail(f.kind)
    if o.iceberg_qty and not _in_range(o.iceberg_qty, f.min_qty, f.max_qty, f.step_size):
        raise _fail(f.kind)


def _market_lot(f: Any, o: Order, _: Any) -> None:
    if o.type in (MARKET, STOP_LOSS, TAKE_PROFIT) and not o.quote_qty:
        if not _in_range(o.qty, f.min_qty, f.max_qty, f.step_size):
            raise _fail(f.kind)


def check_reverse_market_qty(symbol: Symbol, qty: int) -> None:
    """MARKET_LOT_SIZE for a quoteOrderQty order, once the book says how much it would
    trade: no more than maxQty (changelog 2023-07-11: reverse market orders over it are
    rejected)."""
    f = symbol.get("MARKET_LOT_SIZE")
    if f and f.max_qty and qty > f.max_qty:
        raise _fail(f.kind)


def _notional_value(o: Order, avg: AvgPrice, mins: int) -> int | None:
    if o.type == MARKET and o.quote_qty:
        return o.quote_qty
    price = o.price or o.stop_price
    if not price:  # MARKET, or a trailing STOP_LOSS/TAKE_PROFIT without stopPrice
        price = avg(mins)
        if price is None:
            return None
    return mul(price, o.qty)


def _min_notional(f: Any, o: Order, avg: AvgPrice) -> None:
    if o.type == MARKET and not f.apply_to_market:
        return
    value = _notional_value(o, avg, f.avg_price_mins)
    if value is not None and value < f.min_notional:
        raise _fail(f.kind)


def _notional(f: Any, o: Order, avg: AvgPrice) -> None:
    is_market = o.type == MARKET
    value = _notional_value(o, avg, f.avg_price_mins)
    if value is None:
        return
    if (not is_market or f.apply_min_to_market) and value < f.min_notional:
        raise _fail(f.kind)
    if (not is_market or f.apply_max_to_market) and f.max_notional and value > f.max_notional:
        raise _fail(f.kind)


def _iceberg_parts(f: Any, o: Order, _: Any) -> None:
    if o.iceberg_qty and -(-o.qty // o.iceberg_qty) > f.limit:
        raise _fail(f.kind)


def _trailing(f: Any, o: Order, _: Any) -> None:
    if not o.trailing_delta:
        return
    above = (o.type in (STOP_LOSS, STOP_LOSS_LIMIT)) == (o.side == BUY)
    lo, hi = (f.min_above, f.max_above) if above else (f.min_below, f.max_below)
    if not lo <= o.trailing_delta <= hi:
        raise _fail(f.kind)


_ORDER_CHECKS = {
    "PRICE_FILTER": _price, "PERCENT_PRICE": _percent, "PERCENT_PRICE_BY_SIDE": _percent,
    "LOT_SIZE": _lot, "MARKET_LOT_SIZE": _market_lot, "MIN_NOTIONAL": _min_notional,
    "NOTIONAL": _notional, "ICEBERG_PARTS": _iceberg_parts, "TRAILING_DELTA": _trailing,
}


def _plan(symbol: Symbol) -> list[tuple[Callable[..., None], Any]]:
    """(check, filter) pairs of a symbol, in exchangeInfo order; built once per symbol."""
    plan = symbol.__dict__.get("order_checks")
    if plan is None:
        plan = symbol.order_checks = [(_ORDER_CHECKS[f.kind], f) for f in symbol.filters
                                      if f.kind in _ORDER_CHECKS]
    return plan


def check_order(symbol: Symbol, o: Order, avg: AvgPrice) -> None:
    """Filters that depend only on the order and the market (not the account)."""
    for check, f in _plan(symbol):
        check(f, o, avg)


def check_counts(symbol: Symbol, exchange_filters: list[Any], orders: list[Order],
                 sym_counts: tuple[int, int, int], acct_counts: tuple[int, int, int],
                 position: Callable[[], int]) -> None:
    """Account-state filters for `orders` about to be added (an order list adds several).

    `sym_counts`/`acct_counts` are (open, algo, iceberg) already open; `position` is the
    account's base position on the symbol (free + locked base + open BUY quantity), a
    callable because it costs a scan and only MAX_POSITION needs it.
    """
    n = len(orders)
    algo = sum(1 for o in orders if o.is_algo)
    ice = sum(1 for o in orders if o.is_iceberg)
    for f in symbol.filters:
        k = f.kind
        if k == "MAX_NUM_ORDERS" and sym_counts[0] + n > f.max_num_orders:
            raise _fail(k)
        if k == "MAX_NUM_ALGO_ORDERS" and algo and sym_counts[1] + algo > f.max_num_algo_orders:
            raise _fail(k)
        if k == "MAX_NUM_ICEBERG_ORDERS" and ice and sym_counts[2] + ice > f.max_num_iceberg_orders:
            raise _fail(k)
        if k == "MAX_POSITION" and any(o.side == BUY for o in orders):
            # a BUY by quoteOrderQty has no quantity yet: the position alone decides
            buy_qty = sum(o.qty for o in orders if o.side == BUY)
            if position() + buy_qty > f.max_position:
                raise _fail(k)
    for f in exchange_filters:
        k = f.kind
        if k == "EXCHANGE_MAX_NUM_ORDERS" and acct_counts[0] + n > f.max_num_orders:
            raise _fail(k)
        if k == "EXCHANGE_MAX_NUM_ALGO_ORDERS" and algo and acct_counts[1] + algo > f.max_num_algo_orders:
            raise _fail(k)
        if (k == "EXCHANGE_MAX_NUM_ICEBERG_ORDERS" and ice
                and acct_counts[2] + ice > f.max_num_iceberg_orders):
            raise _fail(k)

