"""Every filter of filters.md: the pass and the fail side of each edge, exact messages, and
that a failure changes nothing."""
from __future__ import annotations

from typing import Any

import pytest

from spotex.core.errors import ApiError
from tests.unit.test_core_support import D, Harness, check_invariants, default_doc, settings, \
    settings_with_filters


def only(*filters: dict[str, Any], exchange_filters: list[dict[str, Any]] | None = None,
         symbol: str = "BTCUSDT") -> Harness:
    """A harness whose BTCUSDT has just `filters` (so other filters cannot interfere)."""
    return Harness(settings_with_filters(symbol, list(filters), exchange_filters=exchange_filters))


def funded(h: Harness) -> int:
    return h.account(USDT="100000000", BTC="100000", ETH="100000")


def fails(h: Harness, a: int, kind: str, side: str, otype: str, qty: str | None = None,
          price: str | None = None, **kw: Any) -> None:
    err = h.reject(h.order_cmd(a, "BTCUSDT", side, otype, qty, price, **kw),
                   f"Filter failure: {kind}")
    assert err.code == -1013 and err.status == 400


def passes(h: Harness, a: int, side: str, otype: str, qty: str | None = None,
           price: str | None = None, **kw: Any):
    return h.order(a, "BTCUSDT", side, otype, qty, price, **kw).order


def prime(h: Harness, price: str, qty: str = "1") -> None:
    """Print a trade at `price` between two fresh accounts (sets last and average price)."""
    x, y = funded(h), funded(h)
    h.limit(y, "SELL", qty, price)
    h.limit(x, "BUY", qty, price, tif="IOC")


PRICE = {"filterType": "PRICE_FILTER", "minPrice": "1.00", "maxPrice": "1000", "tickSize": "0.01"}


# ----------------------------------------------------------------------------- PRICE_FILTER
def test_price_filter_edges():
    h = only(PRICE)
    a = funded(h)
    for p in ("1.00", "1000", "500.01"):
        assert passes(h, a, "BUY", "LIMIT", "1", p).in_book
    for p in ("0.99", "1000.01", "500.005", "0"):
        fails(h, a, "PRICE_FILTER", "BUY", "LIMIT", "1", p)


def test_price_filter_applies_to_stop_price():
    h = only(PRICE)
    a = funded(h)
    assert passes(h, a, "BUY", "STOP_LOSS", "1", stop_price="1000").is_open
    for sp in ("1000.01", "0.99", "2.001", "0"):
        fails(h, a, "PRICE_FILTER", "BUY", "STOP_LOSS", "1", stop_price=sp)
        fails(h, a, "PRICE_FILTER", "SELL", "STOP_LOSS_LIMIT", "1", "5", stop_price=sp)
    # a trailing stop may omit stopPrice
    assert passes(h, a, "SELL", "STOP_LOSS", "1", trailing_delta=100).is_open


def test_price_filter_zero_fields_disable_rules():
    h = only({"filterType": "PRICE_FILTER", "minPrice": "0", "maxPrice": "0", "tickSize": "0"})
    a = funded(h)
    for p in ("0.00000001", "123456.78901234", "9999999"):
        assert passes(h, a, "BUY", "LIMIT", "0.001", p).in_book


def test_zero_price_is_never_a_market_order():
    """With no PRICE_FILTER bound, a LIMIT price of 0 must be rejected, not matched as MARKET."""
    h = only({"filterType": "PRICE_FILTER", "minPrice": "0", "maxPrice": "0", "tickSize": "0"})
    a, b = funded(h), funded(h)
    h.limit(b, "SELL", "1", "100")
    for otype in ("LIMIT", "LIMIT_MAKER"):
        h.reject(h.order_cmd(a, "BTCUSDT", "BUY", otype, "1", "0"),
                 "Price * QTY is zero or less.", -2010)
    h.reject(h.order_cmd(a, "BTCUSDT", "SELL", "STOP_LOSS_LIMIT", "1", "0", stop_price="1"),
             "Price * QTY is zero or less.")


def test_stop_price_zero_buy_stop_would_trigger():
    h = only({"filterType": "PRICE_FILTER", "minPrice": "0", "maxPrice": "0", "tickSize": "0"})
    a = funded(h)
    prime(h, "100")
    h.reject(h.order_cmd(a, "BTCUSDT", "BUY", "STOP_LOSS", "1", stop_price=0),
             "Order would trigger immediately.")


# ----------------------------------------------------------------------------- PERCENT_PRICE
def test_percent_price_edges():
    h = only({"filterType": "PERCENT_PRICE", "multiplierUp": "1.3", "multiplierDown": "0.7",
              "avgPriceMins": 5})
    a = funded(h)
    o = passes(h, a, "BUY", "LIMIT", "1", "1000000")  # no trades yet: no reference price
    h.cancel(a, o.id)
    prime(h, "100")
    for side in ("BUY", "SELL"):
        for p in ("130", "70", "100"):
            assert passes(h, a, side, "LIMIT", "0.001", p).is_open
        for p in ("130.01", "69.99"):
            fails(h, a, "PERCENT_PRICE", side, "LIMIT", "0.001", p)
    # stop-limit orders are checked by their limit price; MARKET orders are not checked
    fails(h, a, "PERCENT_PRICE", "SELL", "STOP_LOSS_LIMIT", "0.001", "130.01", stop_price="90")
    assert passes(h, a, "BUY", "MARKET", "0.001").status in ("FILLED", "EXPIRED")


def test_percent_price_uses_weighted_average():
    h = only({"filterType": "PERCENT_PRICE", "multiplierUp": "1.2", "multiplierDown": "0.8",
              "avgPriceMins": 5})
    a = funded(h)
    prime(h, "100", "1")
    prime(h, "120", "3")
    # average = (100 + 360) / 4 = 115 -> [92, 138]
    assert passes(h, a, "BUY", "LIMIT", "0.001", "138").in_book
    assert passes(h, a, "SELL", "LIMIT", "0.001", "138").in_book
    fails(h, a, "PERCENT_PRICE", "SELL", "LIMIT", "0.001", "138.01")
    fails(h, a, "PERCENT_PRICE", "BUY", "LIMIT", "0.001", "91.99")
    # the window slides: 5 minutes later only the last trade counts (last price 120)
    h.tick(5 * 60_000 + 1)
    fails(h, a, "PERCENT_PRICE", "SELL", "LIMIT", "0.001", "144.01")
    assert passes(h, a, "SELL", "LIMIT", "0.001", "144").in_book


def test_percent_price_avg_mins_zero_uses_last_price():
    h = only({"filterType": "PERCENT_PRICE", "multiplierUp": "1.1", "multiplierDown": "0.9",
              "avgPriceMins": 0})
    a = funded(h)
    prime(h, "100", "3")
    prime(h, "105", "0.001")  # the 5-minute average would still be ~100
    assert passes(h, a, "BUY", "LIMIT", "0.001", "115.5").in_book
    fails(h, a, "PERCENT_PRICE", "BUY", "LIMIT", "0.001", "115.51")
    fails(h, a, "PERCENT_PRICE", "SELL", "LIMIT", "0.001", "94.49")


def test_percent_price_by_side_edges():
    h = only({"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "1.2",
              "bidMultiplierDown": "0.2", "askMultiplierUp": "5", "askMultiplierDown": "0.8",
              "avgPriceMins": 1})
    a = funded(h)
    prime(h, "100")
    assert passes(h, a, "BUY", "LIMIT", "0.001", "120").in_book
    assert passes(h, a, "BUY", "LIMIT", "0.001", "20").in_book
    fails(h, a, "PERCENT_PRICE_BY_SIDE", "BUY", "LIMIT", "0.001", "120.01")
    fails(h, a, "PERCENT_PRICE_BY_SIDE", "BUY", "LIMIT", "0.001", "19.99")
    assert passes(h, a, "SELL", "LIMIT", "0.001", "500").in_book
    assert passes(h, a, "SELL", "LIMIT", "0.001", "120.01").in_book
    fails(h, a, "PERCENT_PRICE_BY_SIDE", "SELL", "LIMIT", "0.001", "500.01")
    fails(h, a, "PERCENT_PRICE_BY_SIDE", "SELL", "LIMIT", "0.001", "79.99")


# ----------------------------------------------------------------------------- LOT_SIZE
LOT = {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "100", "stepSize": "0.001"}


def test_lot_size_edges():
    h = only(LOT)
    a = funded(h)
    for q in ("0.001", "100", "12.345"):
        assert passes(h, a, "BUY", "LIMIT", q, "10").in_book
        assert passes(h, a, "BUY", "MARKET", q).status == "EXPIRED"
    for q in ("0.0009", "100.001", "12.3455", "0"):
        fails(h, a, "LOT_SIZE", "BUY", "LIMIT", q, "10")
        fails(h, a, "LOT_SIZE", "SELL", "MARKET", q)
        fails(h, a, "LOT_SIZE", "SELL", "STOP_LOSS", q, stop_price="1")


def test_lot_size_applies_to_iceberg_qty():
    h = only(LOT)
    a = funded(h)
    assert passes(h, a, "BUY", "LIMIT", "1", "10", iceberg_qty="0.001").in_book
    fails(h, a, "LOT_SIZE", "BUY", "LIMIT", "1", "10", iceberg_qty="0.0005")
    fails(h, a, "LOT_SIZE", "BUY", "LIMIT", "1", "10", iceberg_qty="0.0015")


def test_lot_size_zero_step_disables_step_rule():
    h = only({"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "100", "stepSize": "0"})
    a = funded(h)
    assert passes(h, a, "BUY", "LIMIT", "0.00123457", "10").in_book


def test_lot_size_skipped_for_quote_market():
    h = only(LOT)
    a, b = funded(h), funded(h)
    h.limit(b, "SELL", "10", "3")
    p = h.market(a, "BUY", quote_qty="10")
    assert p.order.executed == D("3.333") and p.order.status == "FILLED"


# ----------------------------------------------------------------------------- MARKET_LOT_SIZE
def test_market_lot_size_edges():
    h = only({"filterType": "MARKET_LOT_SIZE", "minQty": "0.01", "maxQty": "1", "stepSize": "0.01"})
    a = funded(h)
    for q in ("0.01", "1"):
        assert passes(h, a, "SELL", "MARKET", q).status == "EXPIRED"
        assert passes(h, a, "SELL", "STOP_LOSS", q, stop_price="1").is_open
    for q in ("0.009", "1.01", "0.015"):
        fails(h, a, "MARKET_LOT_SIZE", "SELL", "MARKET", q)
        fails(h, a, "MARKET_LOT_SIZE", "BUY", "TAKE_PROFIT", q, stop_price="1")
    # LIMIT orders (and stop-limits) are not market orders
    assert passes(h, a, "BUY", "LIMIT", "5.555", "1").in_book
    assert passes(h, a, "BUY", "STOP_LOSS_LIMIT", "5.555", "1", stop_price="2").is_open


# ----------------------------------------------------------------------------- MIN_NOTIONAL
def test_min_notional_edges():
    h = only({"filterType": "MIN_NOTIONAL", "minNotional": "10", "applyToMarket": True,
              "avgPriceMins": 5})
    a = funded(h)
    assert passes(h, a, "BUY", "LIMIT", "0.001", "10000").in_book
    fails(h, a, "MIN_NOTIONAL", "BUY", "LIMIT", "0.001", "9999.99")
    assert passes(h, a, "SELL", "STOP_LOSS", "0.001", stop_price="10000").is_open
    fails(h, a, "MIN_NOTIONAL", "SELL", "STOP_LOSS", "0.001", stop_price="9999.99")
    # MARKET: no trades yet -> no reference price, not checked
    assert passes(h, a, "BUY", "MARKET", "0.0001").status == "EXPIRED"
    prime(h, "10000")
    assert passes(h, a, "BUY", "MARKET", "0.001").status == "EXPIRED"
    fails(h, a, "MIN_NOTIONAL", "BUY", "MARKET", "0.0009")


def test_min_notional_not_applied_to_market():
    h = only({"filterType": "MIN_NOTIONAL", "minNotional": "10", "applyToMarket": False,
              "avgPriceMins": 5})
    a = funded(h)
    prime(h, "10000")
    assert passes(h, a, "BUY", "MARKET", "0.00001").status == "EXPIRED"
    fails(h, a, "MIN_NOTIONAL", "BUY", "LIMIT", "0.00001", "10000")


# ----------------------------------------------------------------------------- NOTIONAL
def notional(apply_min: bool, apply_max: bool) -> dict[str, Any]:
    return {"filterType": "NOTIONAL", "minNotional": "10", "applyMinToMarket": apply_min,
            "maxNotional": "1000", "applyMaxToMarket": apply_max, "avgPriceMins": 5}


def test_notional_edges_for_limit():
    h = only(notional(False, False))
    a = funded(h)
    for q in ("0.001", "0.1"):  # 10 and 1000
        assert passes(h, a, "BUY", "LIMIT", q, "10000").in_book
    for q in ("0.00099", "0.10001"):
        fails(h, a, "NOTIONAL", "BUY", "LIMIT", q, "10000")
    fails(h, a, "NOTIONAL", "BUY", "STOP_LOSS_LIMIT", "0.00099", "10000", stop_price="10000")


@pytest.mark.parametrize("apply_min,apply_max", [(True, True), (False, False), (True, False)])
def test_notional_market_flags(apply_min, apply_max):
    h = only(notional(apply_min, apply_max))
    a = funded(h)
    prime(h, "10000", "0.01")
    for q, applies in (("0.00099", apply_min), ("0.10001", apply_max)):
        if applies:
            fails(h, a, "NOTIONAL", "SELL", "MARKET", q)
        else:
            assert passes(h, a, "SELL", "MARKET", q).status == "EXPIRED"
    assert passes(h, a, "SELL", "MARKET", "0.001").status == "EXPIRED"


def test_notional_for_quote_market_is_the_quote_qty():
    h = only(notional(True, True))
    a, b = funded(h), funded(h)
    h.limit(b, "SELL", "0.1", "10000")
    fails(h, a, "NOTIONAL", "BUY", "MARKET", quote_qty="9.99999999")
    fails(h, a, "NOTIONAL", "BUY", "MARKET", quote_qty="1000.00000001")
    assert passes(h, a, "BUY", "MARKET", quote_qty="10").status == "FILLED"


def test_notional_for_trailing_stop_without_stop_price_uses_average_price():
    h = only(notional(True, False))
    a = funded(h)
    assert passes(h, a, "SELL", "STOP_LOSS", "0.00001", trailing_delta=100).is_open  # no reference
    prime(h, "10000", "0.01")
    assert passes(h, a, "SELL", "STOP_LOSS", "0.001", trailing_delta=100).is_open
    fails(h, a, "NOTIONAL", "SELL", "STOP_LOSS", "0.00099", trailing_delta=100)


# ----------------------------------------------------------------------------- ICEBERG_PARTS
def test_iceberg_parts_edges():
    h = only({"filterType": "ICEBERG_PARTS", "limit": 4})
    a = funded(h)
    assert passes(h, a, "BUY", "LIMIT", "1", "10", iceberg_qty="0.25").in_book  # 4 parts
    fails(h, a, "ICEBERG_PARTS", "BUY", "LIMIT", "1", "10", iceberg_qty="0.24999999")  # 5 parts
    assert passes(h, a, "BUY", "LIMIT", "1", "10", iceberg_qty="0.9").in_book  # 2 parts


# ----------------------------------------------------------------------------- counts
def test_max_num_orders():
    h = only({"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 2})
    a, b = funded(h), funded(h)
    o1 = passes(h, a, "BUY", "LIMIT", "1", "10")
    passes(h, a, "SELL", "STOP_LOSS", "1", stop_price="5")  # algo orders count too
    fails(h, a, "MAX_NUM_ORDERS", "BUY", "LIMIT", "1", "10")
    assert passes(h, b, "BUY", "LIMIT", "1", "10").in_book  # per account
    assert h.order(a, "ETHUSDT", "BUY", "LIMIT", "1", "10").order.in_book  # per symbol
    h.cancel(a, o1.id)
    o3 = passes(h, a, "BUY", "LIMIT", "1", "10")
    h.limit(b, "SELL", "1", "10")  # fills o3 (b's own bid is behind it) -> no longer open
    assert o3.status == "FILLED"
    assert passes(h, a, "BUY", "LIMIT", "1", "9").in_book


def test_max_num_algo_orders_default_five():
    h = Harness()
    a = funded(h)
    for i in range(5):
        passes(h, a, "SELL", "STOP_LOSS", "1", stop_price=str(100 + i))
    fails(h, a, "MAX_NUM_ALGO_ORDERS", "SELL", "TAKE_PROFIT_LIMIT", "1", "200", stop_price="200")
    assert passes(h, a, "BUY", "LIMIT", "1", "10").in_book  # non-algo orders still allowed
    h.cancel_all(a)
    assert passes(h, a, "SELL", "STOP_LOSS", "1", stop_price="100").is_open


def test_max_num_iceberg_orders():
    h = only({"filterType": "MAX_NUM_ICEBERG_ORDERS", "maxNumIcebergOrders": 1})
    a = funded(h)
    passes(h, a, "BUY", "LIMIT", "1", "10", iceberg_qty="0.5")
    fails(h, a, "MAX_NUM_ICEBERG_ORDERS", "BUY", "LIMIT", "1", "10", iceberg_qty="0.5")
    assert passes(h, a, "BUY", "LIMIT", "1", "10").in_book


def test_max_position():
    h = only({"filterType": "MAX_POSITION", "maxPosition": "1"})
    a = h.account(USDT="1000000", BTC="0.3")
    seller = funded(h)
    passes(h, a, "BUY", "LIMIT", "0.5", "10")  # 0.3 + 0.5 = 0.8
    passes(h, a, "BUY", "LIMIT", "0.2", "10")  # = 1.0 exactly: allowed
    fails(h, a, "MAX_POSITION", "BUY", "LIMIT", "0.00000001", "10")
    fails(h, a, "MAX_POSITION", "BUY", "MARKET", "0.1")
    assert passes(h, a, "SELL", "LIMIT", "0.3", "20").in_book  # SELL not constrained
    # locked base still counts; filling a BUY moves quantity from orders to the balance
    fails(h, a, "MAX_POSITION", "BUY", "LIMIT", "0.1", "10")
    h.limit(seller, "SELL", "0.5", "10")
    fails(h, a, "MAX_POSITION", "BUY", "LIMIT", "0.1", "10")


def test_exchange_max_num_orders_across_symbols():
    h = only(exchange_filters=[{"filterType": "EXCHANGE_MAX_NUM_ORDERS", "maxNumOrders": 2}])
    a = funded(h)
    passes(h, a, "BUY", "LIMIT", "1", "10")
    h.order(a, "ETHUSDT", "BUY", "LIMIT", "1", "10")
    fails(h, a, "EXCHANGE_MAX_NUM_ORDERS", "BUY", "LIMIT", "1", "10")
    h.reject(h.order_cmd(a, "ETHBTC", "BUY", "LIMIT", "1", "0.05"),
             "Filter failure: EXCHANGE_MAX_NUM_ORDERS")


def test_exchange_max_num_algo_orders():
    h = only(exchange_filters=[{"filterType": "EXCHANGE_MAX_NUM_ALGO_ORDERS",
                                "maxNumAlgoOrders": 1}])
    a = funded(h)
    passes(h, a, "SELL", "STOP_LOSS", "1", stop_price="5")
    h.reject(h.order_cmd(a, "ETHUSDT", "SELL", "STOP_LOSS", "1", stop_price="5"),
             "Filter failure: EXCHANGE_MAX_NUM_ALGO_ORDERS")
    assert passes(h, a, "BUY", "LIMIT", "1", "10").in_book


def test_exchange_max_num_iceberg_orders():
    h = only(exchange_filters=[{"filterType": "EXCHANGE_MAX_NUM_ICEBERG_ORDERS",
                                "maxNumIcebergOrders": 1}])
    a = funded(h)
    passes(h, a, "BUY", "LIMIT", "1", "10", iceberg_qty="0.5")
    h.reject(h.order_cmd(a, "ETHUSDT", "BUY", "LIMIT", "1", "10", iceberg_qty="0.5"),
             "Filter failure: EXCHANGE_MAX_NUM_ICEBERG_ORDERS")


# ----------------------------------------------------------------------------- order and defaults
def test_filters_checked_in_configured_order():
    h = Harness()  # PRICE_FILTER, LOT_SIZE, ICEBERG_PARTS, MARKET_LOT_SIZE, TRAILING_DELTA, ...
    a = funded(h)
    fails(h, a, "PRICE_FILTER", "BUY", "LIMIT", "0.000001", "10.001")
    fails(h, a, "LOT_SIZE", "BUY", "LIMIT", "0.000001", "10")
    fails(h, a, "NOTIONAL", "BUY", "LIMIT", "0.0001", "10")
    st = settings_with_filters("BTCUSDT", [LOT, PRICE])
    h2 = Harness(st)
    b = funded(h2)
    fails(h2, b, "LOT_SIZE", "BUY", "LIMIT", "0.0001", "0.001")


def test_default_btcusdt_notional_min_five():
    h = Harness()
    a = funded(h)
    assert passes(h, a, "BUY", "LIMIT", "0.0001", "50000").in_book  # exactly 5
    fails(h, a, "NOTIONAL", "BUY", "LIMIT", "0.0001", "49999.99")
    check_invariants(h.ex)


def test_symbol_without_filters_accepts_anything_positive():
    doc = default_doc()
    doc["symbols"][0]["filters"] = []
    h = Harness(settings(doc))
    a = funded(h)
    assert passes(h, a, "BUY", "LIMIT", "0.00000001", "0.00000001").in_book


def test_quote_market_order_over_market_max_qty_is_rejected():
    """Reverse MARKET orders that would execute more than MARKET_LOT_SIZE maxQty are
    rejected, as quantity orders are (changelog 2023-07-11)."""
    h = Harness(settings())
    maker, a = h.account(USDT="100000", BTC="1000"), h.account(USDT="100000", BTC="200")
    h.limit(maker, "SELL", "150", "100")
    h.limit(maker, "BUY", "150", "99")
    for side in ("BUY", "SELL"):
        with pytest.raises(ApiError, match="Filter failure: MARKET_LOT_SIZE"):
            h.market(a, side, quote_qty="14900")
    assert h.market(a, "BUY", quote_qty="5000").order.executed == D("50")
