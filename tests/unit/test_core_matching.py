"""Core matching: price-time priority, partial fills, IOC/FOK, MARKET (quantity and
quoteOrderQty), LIMIT_MAKER, icebergs and commissions."""
from __future__ import annotations

import pytest

from spotex.core.book import COMPACT_SLACK, Book
from spotex.core.numbers import SCALE, mul
from spotex.core.orders import Order

from tests.unit.test_core_support import D, Harness, check_invariants, default_doc, settings, \
    settings_with_filters

THIN = "Order book liquidity is less than symbol minimum quantity."


@pytest.fixture
def h() -> Harness:
    return Harness()


def rich(h: Harness, **extra: str) -> int:
    return h.account(USDT="1000000", BTC="100", ETH="1000", **extra)


def seller_ids(h: Harness) -> list[int]:
    """Maker (seller) order ids of the trades of the last command, in execution order."""
    return [t.seller_order_id for t in h.ex.events]


# ----------------------------------------------------------------------------- priority
def test_price_then_time_priority_on_asks(h):
    s1, s2, s3, b = rich(h), rich(h), rich(h), rich(h)
    worse = h.limit(s1, "SELL", "0.1", "50001").order
    first = h.limit(s2, "SELL", "0.1", "50000").order
    second = h.limit(s3, "SELL", "0.1", "50000").order
    third = h.limit(s1, "SELL", "0.1", "50000").order
    p = h.limit(b, "BUY", "0.25", "50001")
    assert [(f[0], f[1]) for f in p.fills] == [(D("50000"), D("0.1")), (D("50000"), D("0.1")),
                                              (D("50000"), D("0.05"))]
    assert seller_ids(h) == [first.id, second.id, third.id]
    assert p.order.status == "FILLED"
    assert (first.status, second.status, third.status, worse.status) == (
        "FILLED", "FILLED", "PARTIALLY_FILLED", "NEW")
    assert h.book(side="asks") == [(D("50000"), D("0.05"), [third.id]),
                                   (D("50001"), D("0.1"), [worse.id])]
    check_invariants(h.ex)


def test_price_then_time_priority_on_bids(h):
    b1, b2, s = rich(h), rich(h), rich(h)
    low = h.limit(b1, "BUY", "0.1", "49000").order
    high1 = h.limit(b2, "BUY", "0.1", "49500").order
    high2 = h.limit(b1, "BUY", "0.1", "49500").order
    p = h.limit(s, "SELL", "0.3", "48000")
    assert [t.buyer_order_id for t in h.ex.events] == [high1.id, high2.id, low.id]
    assert [f[0] for f in p.fills] == [D("49500"), D("49500"), D("49000")]  # maker prices
    assert p.order.status == "FILLED"
    assert h.book(side="bids") == []


def test_partial_fill_rests_remainder_and_releases_price_improvement(h):
    s, b = rich(h), h.account(USDT="20000")
    h.limit(s, "SELL", "0.1", "50000")
    p = h.limit(b, "BUY", "0.3", "51000")
    o = p.order
    assert o.status == "PARTIALLY_FILLED" and o.executed == D("0.1") and o.in_book
    assert o.cum_quote == D("5000")
    # 0.2 rests at 51000: exactly its notional stays locked; the 100 USDT improvement is free
    assert o.locked == D("10200") and h.locked(b, "USDT") == D("10200")
    assert h.free(b, "USDT") == D("20000") - D("5000") - D("10200")
    assert h.book(side="bids") == [(D("51000"), D("0.2"), [o.id])]
    assert h.free(b, "BTC") == D("0.1") - D("0.0001")  # taker fee 0.1 % in BTC
    check_invariants(h.ex)


def test_maker_partially_filled_then_filled(h):
    s, b = rich(h), rich(h)
    m = h.limit(s, "SELL", "1", "50000").order
    h.limit(b, "BUY", "0.4", "50000")
    assert m.status == "PARTIALLY_FILLED" and m.executed == D("0.4") and m.visible == D("0.6")
    assert m.locked == D("0.6")
    h.limit(b, "BUY", "0.6", "50000")
    assert m.status == "FILLED" and m.locked == 0 and not m.in_book
    assert h.book(side="asks") == []
    assert m.id not in h.ex.accounts[s].open_orders.get("BTCUSDT", {})
    assert h.locked(s, "BTC") == 0 and h.free(s, "BTC") == D("99")


# ----------------------------------------------------------------------------- IOC / FOK
def test_ioc_partial_fill_expires_rest(h):
    s, b = rich(h), h.account(USDT="20000")
    h.limit(s, "SELL", "0.1", "50000")
    h.limit(s, "SELL", "0.1", "50100")
    p = h.limit(b, "BUY", "0.3", "50000", tif="IOC")
    assert p.order.status == "EXPIRED" and p.order.executed == D("0.1")
    assert not p.order.in_book and h.locked(b, "USDT") == 0
    assert h.free(b, "USDT") == D("15000")
    assert h.book(side="asks") == [(D("50100"), D("0.1"), [2])]


def test_ioc_full_fill_and_no_fill(h):
    s, b = rich(h), rich(h)
    h.limit(s, "SELL", "0.1", "50000")
    assert h.limit(b, "BUY", "0.1", "50000", tif="IOC").order.status == "FILLED"
    p = h.limit(b, "BUY", "0.1", "50000", tif="IOC")
    assert p.order.status == "EXPIRED" and p.order.executed == 0 and p.fills == []


def test_fok_expires_without_any_fill_when_not_fully_fillable(h):
    s, b = rich(h), rich(h)
    m1 = h.limit(s, "SELL", "0.1", "50000").order
    h.limit(s, "SELL", "0.1", "50200")  # beyond the FOK's limit
    before = (h.free(b, "USDT"), h.free(b, "BTC"))
    p = h.limit(b, "BUY", "0.2", "50100", tif="FOK")
    assert p.order.status == "EXPIRED" and p.order.executed == 0 and p.fills == []
    assert m1.status == "NEW" and m1.executed == 0
    assert (h.free(b, "USDT"), h.free(b, "BTC")) == before and h.locked(b, "USDT") == 0
    check_invariants(h.ex)


def test_fok_fills_entirely_across_levels(h):
    s, b = rich(h), rich(h)
    h.limit(s, "SELL", "0.1", "50000")
    h.limit(s, "SELL", "0.1", "50100")
    p = h.limit(b, "BUY", "0.2", "50100", tif="FOK")
    assert p.order.status == "FILLED"
    assert [(f[0], f[1]) for f in p.fills] == [(D("50000"), D("0.1")), (D("50100"), D("0.1"))]


def test_fok_counts_hidden_iceberg_quantity(h):
    s, b = rich(h), rich(h)
    h.limit(s, "SELL", "1", "50000", iceberg_qty="0.1")
    p = h.limit(b, "BUY", "0.5", "50000", tif="FOK")
    assert p.order.status == "FILLED" and p.order.executed == D("0.5")


# ----------------------------------------------------------------------------- MARKET by quantity
def test_market_buy_by_quantity_walks_the_book(h):
    s, b = rich(h), h.account(USDT="10000")
    h.limit(s, "SELL", "0.1", "50000")
    h.limit(s, "SELL", "0.1", "50100")
    p = h.market(b, "BUY", "0.15")
    assert p.order.status == "FILLED" and p.order.executed == D("0.15")
    assert p.order.cum_quote == D("5000") + D("2505")
    assert h.free(b, "USDT") == D("10000") - D("7505") and h.locked(b, "USDT") == 0
    assert h.free(b, "BTC") == D("0.15") - D("0.00015")
    assert p.order.price == 0 and p.order.tif == "GTC"
    check_invariants(h.ex)


def test_market_on_thin_book_is_expired(h):
    s, b = rich(h), rich(h)
    h.limit(s, "SELL", "0.1", "50000")
    p = h.market(b, "BUY", "0.3")
    assert p.order.status == "EXPIRED" and p.order.executed == D("0.1")
    h.limit(b, "BUY", "0.1", "49000")
    p = h.market(s, "SELL", "0.25")
    assert p.order.status == "EXPIRED" and p.order.executed == D("0.1")
    assert h.locked(s, "BTC") == 0
    p = h.market(s, "SELL", "0.25")  # empty book: accepted, nothing filled
    assert p.order.status == "EXPIRED" and p.order.executed == 0
    check_invariants(h.ex)


def test_market_buy_needs_balance_for_the_whole_cost(h):
    s, b = rich(h), h.account(USDT="7504.99")
    h.limit(s, "SELL", "0.1", "50000")
    h.limit(s, "SELL", "0.1", "50100")
    h.reject(h.order_cmd(b, "BTCUSDT", "BUY", "MARKET", "0.15"),
             "Account has insufficient balance for requested action.", -2010)
    h.ex.apply({"t": "account.deposit", "ts": h.tick(), "account": b, "asset": "USDT",
                "amount": D("0.01")})
    assert h.market(b, "BUY", "0.15").order.status == "FILLED"
    assert h.free(b, "USDT") == 0


def test_market_sell_needs_the_base_quantity(h):
    b, s = rich(h), h.account(BTC="0.09999")
    h.limit(b, "BUY", "1", "50000")
    h.reject(h.order_cmd(s, "BTCUSDT", "SELL", "MARKET", "0.1"),
             "Account has insufficient balance for requested action.")


# ----------------------------------------------------------------------------- quoteOrderQty
def test_quote_market_buy_respects_step_and_fills(h):
    s, b = rich(h), h.account(USDT="10000")
    h.limit(s, "SELL", "0.1", "50000")
    h.limit(s, "SELL", "0.1", "50100")
    p = h.market(b, "BUY", quote_qty="7000")
    o = p.order
    # 0.1 @ 50000 = 5000, then 2000/50100 = 0.0399201.. -> 0.03992 (step 0.00001)
    assert o.executed == D("0.13992") and o.qty == D("0.13992")
    assert o.cum_quote == D("5000") + mul(D("50100"), D("0.03992"))
    assert o.cum_quote <= D("7000")
    assert o.executed % D("0.00001") == 0
    assert o.status == "FILLED" and o.quote_qty == D("7000")
    assert h.free(b, "USDT") == D("10000") - o.cum_quote and h.locked(b, "USDT") == 0
    check_invariants(h.ex)


def test_quote_market_buy_exact_budget_is_filled(h):
    s, b = rich(h), rich(h)
    h.limit(s, "SELL", "1", "50000")
    p = h.market(b, "BUY", quote_qty="5000")
    assert p.order.status == "FILLED" and p.order.executed == D("0.1")
    assert p.order.cum_quote == D("5000")


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_quote_market_spending_exactly_the_whole_book_is_filled(h, side):
    a, mm = rich(h), rich(h)
    h.limit(mm, "SELL" if side == "BUY" else "BUY", "0.1", "50000")
    p = h.market(a, side, quote_qty="5000")
    assert p.order.status == "FILLED" and p.order.executed == D("0.1")
    assert p.order.cum_quote == D("5000") and h.book(side="asks") == h.book(side="bids") == []


def test_quote_market_buy_thin_book_expired(h):
    s, b = rich(h), rich(h)
    h.limit(s, "SELL", "0.1", "50000")
    h.limit(s, "SELL", "0.1", "50100")
    p = h.market(b, "BUY", quote_qty="20000")
    assert p.order.status == "EXPIRED" and p.order.executed == D("0.2")
    assert p.order.qty == D("0.2") and p.order.cum_quote == D("10010")


def test_quote_market_sell_receives_quote(h):
    b, s = rich(h), h.account(BTC="1")
    h.limit(b, "BUY", "0.1", "50000")
    h.limit(b, "BUY", "0.1", "49900")
    p = h.market(s, "SELL", quote_qty="7000")
    o = p.order
    # 0.1 @ 50000 = 5000, then 2000/49900 = 0.0400801.. -> 0.04008
    assert o.executed == D("0.14008") and o.qty == D("0.14008") and o.status == "FILLED"
    assert o.cum_quote == D("5000") + mul(D("49900"), D("0.04008"))
    assert h.free(s, "BTC") == D("1") - D("0.14008") and h.locked(s, "BTC") == 0
    assert h.free(s, "USDT") == o.cum_quote - o.cum_quote * 100_000 // SCALE
    check_invariants(h.ex)


def test_quote_market_sell_thin_book_expired(h):
    b, s = rich(h), h.account(BTC="1")
    h.limit(b, "BUY", "0.1", "50000")
    p = h.market(s, "SELL", quote_qty="20000")
    assert p.order.status == "EXPIRED" and p.order.executed == D("0.1")
    assert h.free(s, "BTC") == D("0.9") and h.locked(s, "BTC") == 0


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_quote_market_on_empty_book_rejected(h, side):
    a = rich(h)
    h.reject(h.order_cmd(a, "BTCUSDT", side, "MARKET", quote_qty="100"), THIN, -2010)


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_quote_market_liquidity_below_lot_size_min(side):
    st = settings_with_filters("BTCUSDT", [
        {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "100", "stepSize": "0.00001"},
        {"filterType": "MARKET_LOT_SIZE", "minQty": "0.01", "maxQty": "100", "stepSize": "0"}])
    h = Harness(st)
    a, mm = rich(h), rich(h)
    maker_side = "SELL" if side == "BUY" else "BUY"
    h.limit(mm, maker_side, "0.002", "50000")
    h.limit(a, side, "0.00195", "50000")  # leaves 0.00005 < minQty on the book
    h.reject(h.order_cmd(a, "BTCUSDT", side, "MARKET", quote_qty="100"),
             "Order book liquidity is less than LOT_SIZE filter minimum quantity.", -2010)


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_quote_market_liquidity_below_market_lot_size_min(side):
    st = settings_with_filters("BTCUSDT", [
        {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "100", "stepSize": "0.001"},
        {"filterType": "MARKET_LOT_SIZE", "minQty": "0.01", "maxQty": "100", "stepSize": "0"}])
    h = Harness(st)
    a, mm = rich(h), rich(h)
    maker_side = "SELL" if side == "BUY" else "BUY"
    h.limit(mm, maker_side, "0.005", "50000")
    h.reject(h.order_cmd(a, "BTCUSDT", side, "MARKET", quote_qty="100"),
             "Order book liquidity is less than MARKET_LOT_SIZE filter minimum quantity.", -2010)
    h.limit(mm, maker_side, "0.005", "50000")  # 0.01 total: enough
    assert h.market(a, side, quote_qty="100").order.executed == D("0.002")


def test_quote_market_not_allowed_for_symbol():
    doc = default_doc()
    doc["symbols"][0]["quoteOrderQtyMarketAllowed"] = False
    h = Harness(settings(doc))
    a, b = rich(h), rich(h)
    h.limit(b, "SELL", "1", "50000")
    h.reject(h.order_cmd(a, "BTCUSDT", "BUY", "MARKET", quote_qty="100"),
             "Quote order qty market orders are not support for this symbol.")


def test_quote_market_rounds_each_fill_to_step(h):
    s, b = rich(h), rich(h)
    h.limit(s, "SELL", "0.00013", "50000.01")
    h.limit(s, "SELL", "1", "50000.03")
    p = h.market(b, "BUY", quote_qty="20")
    o = p.order
    assert all(f[1] % D("0.00001") == 0 for f in p.fills)
    # 0.00013 @ 50000.01 = 6.5000013; (20 - 6.5000013) / 50000.03 = 0.000269.. -> 0.00026
    assert [f[1] for f in p.fills] == [D("0.00013"), D("0.00026")]
    assert o.executed == D("0.00039") and o.status == "FILLED"
    assert o.cum_quote == D("6.5000013") + mul(D("50000.03"), D("0.00026")) <= D("20")


# ----------------------------------------------------------------------------- LIMIT_MAKER
def test_limit_maker_rejected_when_it_would_take(h):
    s, b = rich(h), rich(h)
    h.limit(s, "SELL", "0.1", "50000")
    for price in ("50000", "50001"):
        h.reject(h.order_cmd(b, "BTCUSDT", "BUY", "LIMIT_MAKER", "0.1", price),
                 "Order would immediately match and take.", -2010)
    p = h.order(b, "BTCUSDT", "BUY", "LIMIT_MAKER", "0.1", "49999.99")
    assert p.order.status == "NEW" and p.order.in_book and p.fills == []
    h.reject(h.order_cmd(s, "BTCUSDT", "SELL", "LIMIT_MAKER", "0.1", "49999.99"),
             "Order would immediately match and take.")
    assert h.order(s, "BTCUSDT", "SELL", "LIMIT_MAKER", "0.1", "50000").order.in_book


def test_limit_maker_rejects_tif(h):
    a = rich(h)
    h.reject(h.order_cmd(a, "BTCUSDT", "BUY", "LIMIT_MAKER", "0.1", "100", tif="GTC"),
             "TimeInForce parameter sent when not required.")


def test_limit_maker_rejected_even_against_own_order(h):
    a = rich(h)
    h.limit(a, "SELL", "0.1", "50000")
    h.reject(h.order_cmd(a, "BTCUSDT", "BUY", "LIMIT_MAKER", "0.1", "50000"),
             "Order would immediately match and take.")


# ----------------------------------------------------------------------------- icebergs
def test_iceberg_shows_a_slice_and_refills_at_the_back(h):
    s1, s2, b = rich(h), rich(h), rich(h)
    ice = h.limit(s1, "SELL", "1", "50000", iceberg_qty="0.3").order
    other = h.limit(s2, "SELL", "0.2", "50000").order
    assert ice.visible == D("0.3")
    assert h.book() == [(D("50000"), D("0.5"), [ice.id, other.id])]
    # the first slice fills; the refill goes behind `other`
    h.limit(b, "BUY", "0.3", "50000")
    assert seller_ids(h) == [ice.id]
    assert ice.visible == D("0.3") and ice.executed == D("0.3")
    assert h.book() == [(D("50000"), D("0.5"), [other.id, ice.id])]
    h.limit(b, "BUY", "0.1", "50000")
    assert seller_ids(h) == [other.id]
    # 0.1 (other) + 0.3 (slice) + refill 0.3 of which 0.1
    h.limit(b, "BUY", "0.5", "50000")
    assert seller_ids(h) == [other.id, ice.id, ice.id]
    assert [t.qty for t in h.ex.events] == [D("0.1"), D("0.3"), D("0.1")]
    assert ice.executed == D("0.7") and ice.visible == D("0.2")
    assert h.book() == [(D("50000"), D("0.2"), [ice.id])]
    # then the last slice is the remainder (0.1)
    h.limit(b, "BUY", "0.3", "50000")
    assert [t.qty for t in h.ex.events] == [D("0.2"), D("0.1")]
    assert ice.status == "FILLED" and h.book() == []
    check_invariants(h.ex)


def test_iceberg_last_slice_is_min_of_slice_and_remaining(h):
    s, b = rich(h), rich(h)
    ice = h.limit(s, "SELL", "1", "50000", iceberg_qty="0.3").order
    h.limit(b, "BUY", "0.9", "50000")
    assert ice.visible == D("0.1") and ice.remaining == D("0.1")
    assert h.book() == [(D("50000"), D("0.1"), [ice.id])]


def test_iceberg_as_taker_takes_its_full_quantity_then_rests_a_slice(h):
    s, b = rich(h), rich(h)
    h.limit(s, "SELL", "0.5", "50000")
    p = h.limit(b, "BUY", "1", "50000", iceberg_qty="0.1")
    assert p.order.executed == D("0.5") and p.order.visible == D("0.1")
    assert h.book(side="bids") == [(D("50000"), D("0.1"), [p.order.id])]
    assert p.order.locked == D("25000")  # the hidden part stays locked


def test_iceberg_rules(h):
    a = rich(h)
    h.reject(h.order_cmd(a, "BTCUSDT", "BUY", "LIMIT", "1", "100", iceberg_qty="1"),
             "IcebergQty exceeds QTY.", -2010)
    h.reject(h.order_cmd(a, "BTCUSDT", "BUY", "LIMIT", "1", "100", iceberg_qty="1.1"),
             "IcebergQty exceeds QTY.")
    for tif in ("IOC", "FOK"):
        h.reject(h.order_cmd(a, "BTCUSDT", "BUY", "LIMIT", "1", "100", tif=tif, iceberg_qty="0.5"),
                 "Unsupported order combination")
    h.reject(h.order_cmd(a, "BTCUSDT", "BUY", "LIMIT", "1", "100", iceberg_qty="0.099999"),
             "Filter failure: LOT_SIZE")
    h.reject(h.order_cmd(a, "BTCUSDT", "BUY", "MARKET", "1", iceberg_qty="0.5"),
             "Parameter 'icebergQty' sent when not required.")
    # ICEBERG_PARTS limit 10: ceil(1 / 0.1) = 10 passes, ceil(1.00001 / 0.1) = 11 fails
    assert h.limit(a, "BUY", "1", "100", iceberg_qty="0.1").order.in_book
    h.reject(h.order_cmd(a, "BTCUSDT", "BUY", "LIMIT", "1.00001", "100", iceberg_qty="0.1"),
             "Filter failure: ICEBERG_PARTS", -1013)
    # LIMIT_MAKER may be an iceberg
    p = h.order(a, "BTCUSDT", "BUY", "LIMIT_MAKER", "1", "100", iceberg_qty="0.5")
    assert p.order.visible == D("0.5")


def test_iceberg_not_allowed_for_symbol():
    doc = default_doc()
    doc["symbols"][0]["icebergAllowed"] = False
    h = Harness(settings(doc))
    a = rich(h)
    h.reject(h.order_cmd(a, "BTCUSDT", "BUY", "LIMIT", "1", "100", iceberg_qty="0.5"),
             "Iceberg orders are not supported for this symbol.")


def test_cancel_iceberg_not_at_head_keeps_level_consistent(h):
    s1, s2, b = rich(h), rich(h), rich(h)
    ice = h.limit(s1, "SELL", "1", "50000", iceberg_qty="0.3").order
    other = h.limit(s2, "SELL", "0.2", "50000").order
    h.limit(b, "BUY", "0.3", "50000")  # ice requeued behind other
    h.cancel(s1, ice.id)
    assert h.book() == [(D("50000"), D("0.2"), [other.id])]
    assert h.locked(s1, "BTC") == 0 and h.free(s1, "BTC") == D("100") - D("0.3")
    h.limit(b, "BUY", "0.5", "50000")
    assert seller_ids(h) == [other.id] and h.book() == []
    check_invariants(h.ex)


# ----------------------------------------------------------------------------- commissions
def test_commission_in_received_asset_at_maker_and_taker_rates(h):
    maker = h.account(maker_rate=D("0.0005"), taker_rate=D("0.002"), BTC="1")
    taker = h.account(maker_rate=D("0.0004"), taker_rate=D("0.003"), USDT="10000")
    h.limit(maker, "SELL", "0.1", "50000")
    p = h.limit(taker, "BUY", "0.1", "50000")
    # buyer (taker) receives BTC: 0.1 * 0.003; seller (maker) receives USDT: 5000 * 0.0005
    assert p.fills == [(D("50000"), D("0.1"), D("0.0003"), "BTC", 1)]
    assert h.free(taker, "BTC") == D("0.0997") and h.free(taker, "USDT") == D("5000")
    assert h.free(maker, "USDT") == D("4997.5") and h.free(maker, "BTC") == D("0.9")
    assert h.ex.fees == {"BTC": D("0.0003"), "USDT": D("2.5")}
    t = h.ex.events[0]
    assert (t.buyer_fee, t.buyer_fee_asset, t.seller_fee, t.seller_fee_asset, t.is_buyer_maker) == (
        D("0.0003"), "BTC", D("2.5"), "USDT", False)


def test_commission_when_seller_takes(h):
    maker = h.account(maker_rate=D("0.0005"), taker_rate=D("0.002"), USDT="10000")
    taker = h.account(maker_rate=D("0.0004"), taker_rate=D("0.003"), BTC="1")
    h.limit(maker, "BUY", "0.1", "50000")
    p = h.limit(taker, "SELL", "0.1", "50000")
    assert p.fills == [(D("50000"), D("0.1"), D("15"), "USDT", 1)]  # 5000 * 0.003
    assert h.free(taker, "USDT") == D("4985")
    assert h.free(maker, "BTC") == D("0.09995")  # 0.1 * 0.0005
    assert h.ex.fees == {"BTC": D("0.00005"), "USDT": D("15")}
    assert h.ex.events[0].is_buyer_maker is True


def test_commission_truncates_and_zero_rate():
    h = Harness()
    maker = h.account(maker_rate=0, taker_rate=0, BTC="1")
    taker = h.account(maker_rate=0, taker_rate=D("0.00015"), USDT="100")
    h.limit(maker, "SELL", "0.00011", "50000")
    p = h.limit(taker, "BUY", "0.00011", "50000")
    # 0.00011 * 0.00015 = 0.0000000165 -> truncated to 0.00000001; maker pays nothing
    assert p.fills[0][2] == 1 and h.free(taker, "BTC") == D("0.00011") - 1
    assert h.free(maker, "USDT") == D("5.5")
    assert h.ex.fees == {"BTC": 1, "USDT": 0}


def test_symbol_commission_overrides_account_rates():
    doc = default_doc()
    doc["symbols"][0]["makerCommission"] = "0.0001"
    doc["symbols"][0]["takerCommission"] = "0.0002"
    h = Harness(settings(doc))
    maker = h.account(maker_rate=D("0.01"), taker_rate=D("0.01"), BTC="1")
    taker = h.account(maker_rate=D("0.01"), taker_rate=D("0.01"), USDT="10000")
    h.limit(maker, "SELL", "0.1", "50000")
    h.limit(taker, "BUY", "0.1", "50000")
    assert h.ex.fees == {"BTC": D("0.00002"), "USDT": D("0.5")}


def test_fees_conserve_totals(h):
    a, b = rich(h), rich(h)
    for i in range(5):
        h.limit(a, "SELL", "0.37", str(50000 + i))
        h.limit(a, "BUY", "0.21", str(49000 - i))
        h.market(b, "BUY", "0.2")
        h.market(b, "SELL", quote_qty="333.33")
        h.limit(b, "SELL", "0.05", str(49000 - i))
    totals = h.ex.total_balances()
    assert totals["BTC"] == D("200") and totals["USDT"] == D("2000000")
    assert h.ex.fees["BTC"] > 0 and h.ex.fees["USDT"] > 0
    check_invariants(h.ex)


def test_cancelled_orders_behind_a_resting_head_do_not_pile_up():
    """Lazy cancels leave dead entries in a level; a level keeps at most about as many
    dead entries as live ones, so a long-lived head order cannot make memory grow."""
    side = Book().bids
    head = Order("BTCUSDT", 1, 1, "h", "BUY", "LIMIT", "GTC", 100, 5, 0)
    head.visible = 5
    side.add(head)
    for i in range(2, 1002):
        o = Order("BTCUSDT", i, 1, f"c{i}", "BUY", "LIMIT", "GTC", 100, 1, 0)
        o.visible = 1
        side.add(o)
        side.remove(o)
    level = side.levels[100]
    assert level.live == 1 and level.qty == 5
    assert len(level.orders) <= 2 * level.live + COMPACT_SLACK + 1
    assert level.head() is head


def test_price_heap_stays_near_the_number_of_levels():
    """A level emptied and made again below the best pushes its price each time; the heap
    is rebuilt before stale prices can pile up."""
    side = Book().bids
    best = Order("BTCUSDT", 1, 1, "b", "BUY", "LIMIT", "GTC", 300, 1, 0)
    side.add(best)
    for i in range(2, 5002):
        o = Order("BTCUSDT", i, 1, f"c{i}", "BUY", "LIMIT", "GTC", 200, 1, 0)
        side.add(o)
        side.remove(o)
    assert len(side.levels) == 1
    assert len(side.heap) <= 2 * (len(side.levels) + 1) + COMPACT_SLACK + 1
    assert side.best().price == 300


def test_market_fills_are_not_cut_to_a_coarser_market_step():
    """MARKET_LOT_SIZE stepSize coarser than LOT_SIZE's: a resting order smaller than one
    market step is still taken whole (only a fill the budget cuts short is whole steps)."""
    doc = default_doc()
    btc = next(s for s in doc["symbols"] if s["symbol"] == "BTCUSDT")
    for f in btc["filters"]:
        if f["filterType"] == "MARKET_LOT_SIZE":
            f["stepSize"] = "0.001"
    h = Harness(settings(doc))
    maker, a = h.account(USDT="100000", BTC="10"), h.account(USDT="100000", BTC="10")
    h.limit(maker, "SELL", "0.0005", "20000")
    h.limit(maker, "SELL", "0.01", "20001")
    o = h.market(a, "BUY", "0.002").order
    assert (o.status, o.executed) == ("FILLED", D("0.002"))
