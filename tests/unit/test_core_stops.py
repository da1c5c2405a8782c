"""Stops and take-profits: the trigger table of enums.md §2.1, what a triggered order becomes,
and trailing stops per the trailing-stop FAQ (scenarios A-E)."""
from __future__ import annotations

import pytest

from spotex.core.numbers import mul_ceil

from tests.unit.test_core_support import D, Harness, check_invariants, default_doc, settings

WOULD_TRIGGER = "Order would trigger immediately."


class Market:
    """A harness with two market makers that print trades at chosen prices."""

    def __init__(self, last: str | None = "50000") -> None:
        self.h = Harness()
        self.mm1 = self.h.account(USDT="100000000", BTC="1000")
        self.mm2 = self.h.account(USDT="100000000", BTC="1000")
        self.trader = self.h.account(USDT="1000000", BTC="100")
        if last is not None:
            self.trade(last)

    def trade(self, price: str) -> None:
        self.h.trade_at(self.mm1, self.mm2, price)

    def stop(self, otype: str, side: str, stop: str | None = None, price: str | None = None,
             qty: str = "0.1", **kw):
        if stop is not None:
            kw["stop_price"] = stop
        return self.h.order(self.trader, "BTCUSDT", side, otype, qty, price, **kw).order

    def stop_cmd(self, otype: str, side: str, stop: str, price: str | None = None,
                 qty: str = "0.1"):
        return self.h.order_cmd(self.trader, "BTCUSDT", side, otype, qty, price, stop_price=stop)


@pytest.fixture
def m() -> Market:
    return Market()


def armed(m: Market, o) -> bool:
    return o.status == "NEW" and not o.working and o.id in m.h.ex.stops["BTCUSDT"]


# ----------------------------------------------------------------------------- trigger table
# (type, side, stop price that is valid at last=50000, a price that does not trigger, trigger price)
TABLE = [
    ("STOP_LOSS", "SELL", "49000", "49000.01", "49000"),
    ("STOP_LOSS", "BUY", "51000", "50999.99", "51000"),
    ("TAKE_PROFIT", "SELL", "51000", "50999.99", "51000"),
    ("TAKE_PROFIT", "BUY", "49000", "49000.01", "49000"),
]


@pytest.mark.parametrize("otype,side,stop,near,hit", TABLE)
def test_market_stop_triggers_exactly_at_its_condition(m, otype, side, stop, near, hit):
    o = m.stop(otype, side, stop)
    assert armed(m, o) and o.working_time == -1
    m.trade(near)
    assert armed(m, o)
    m.trade("50000")
    assert armed(m, o)
    # liquidity for the triggered MARKET order on the opposite side, away from the trade prices
    if side == "SELL":
        m.h.limit(m.mm1, "BUY", "1", "40000")
    else:
        m.h.limit(m.mm2, "SELL", "1", "60000")
    ts = m.h.ts + 2
    m.trade(hit)
    assert o.status == "FILLED" and o.working and o.working_time == ts
    assert o.id not in m.h.ex.stops["BTCUSDT"]
    fill_price = D("40000" if side == "SELL" else "60000")
    assert o.executed == D("0.1") and o.cum_quote == mul_ceil(fill_price, D("0.1"))
    assert o.type == otype and o.price == 0
    check_invariants(m.h.ex)


@pytest.mark.parametrize("otype,side,stop,near,hit", TABLE)
def test_limit_stop_becomes_a_working_limit(m, otype, side, stop, near, hit):
    limit = "48000" if side == "SELL" else "52000"  # never crosses anything: it must rest
    o = m.stop(otype + "_LIMIT", side, stop, limit)
    m.trade(near)
    assert armed(m, o)
    m.trade(hit)
    assert o.status == "NEW" and o.working and o.in_book and o.id not in m.h.ex.stops["BTCUSDT"]
    book_side = "asks" if side == "SELL" else "bids"
    assert m.h.book(side=book_side)[0] == (D(limit), D("0.1"), [o.id])
    if side == "BUY":
        assert o.locked == mul_ceil(D(limit), D("0.1"))
    else:
        assert o.locked == D("0.1")
    check_invariants(m.h.ex)


def test_triggered_limit_takes_liquidity_at_its_limit_price(m):
    o = m.stop("STOP_LOSS_LIMIT", "BUY", "51000", "51500", qty="0.5")
    m.h.limit(m.mm2, "SELL", "0.2", "51400")
    m.h.limit(m.mm2, "SELL", "0.2", "51600")
    m.trade("51000")
    assert o.executed == D("0.2") and o.status == "PARTIALLY_FILLED" and o.in_book
    assert m.h.book(side="bids")[0] == (D("51500"), D("0.3"), [o.id])
    # price improvement released: 0.2 paid at 51400, 0.3 locked at 51500
    assert o.locked == mul_ceil(D("51500"), D("0.3"))
    check_invariants(m.h.ex)


@pytest.mark.parametrize("otype,side,stop,near,hit", TABLE)
def test_stop_already_met_is_rejected(m, otype, side, stop, near, hit):
    mirror = {"49000": "51000", "51000": "49000"}[stop]  # the stop price on the wrong side
    for t in (otype, otype + "_LIMIT"):
        price = "50000" if t.endswith("LIMIT") else None
        m.h.reject(m.stop_cmd(t, side, "50000", price), WOULD_TRIGGER, -2010)  # equality meets it
        m.h.reject(m.stop_cmd(t, side, mirror, price), WOULD_TRIGGER, -2010)
        assert armed(m, m.h.apply_ok(m.stop_cmd(t, side, stop, price)).order)


def test_stops_accepted_without_any_trade():
    m = Market(last=None)
    o = m.stop("STOP_LOSS", "BUY", "60")
    assert armed(m, o)
    m.h.limit(m.mm2, "SELL", "1", "60000")
    m.trade("50000")
    assert o.status == "FILLED"


def test_stop_buy_market_locks_at_stop_then_pays_market(m):
    o = m.stop("STOP_LOSS", "BUY", "51000", qty="1")
    assert o.locked == D("51000") and m.h.locked(m.trader, "USDT") == D("51000")
    m.h.limit(m.mm2, "SELL", "0.4", "52000")
    m.h.limit(m.mm2, "SELL", "1", "52500")
    m.trade("51000")
    assert o.status == "FILLED" and o.cum_quote == D("20800") + D("31500")
    assert m.h.locked(m.trader, "USDT") == 0
    assert m.h.free(m.trader, "USDT") == D("1000000") - D("52300")
    check_invariants(m.h.ex)


def test_cascading_stops_trigger_in_one_command(m):
    # a resting bid ladder; the first stop's sale prints lower prices that fire the second
    m.h.limit(m.mm1, "BUY", "0.1", "48500")
    m.h.limit(m.mm1, "BUY", "0.1", "47500")
    first = m.stop("STOP_LOSS", "SELL", "49000")
    second = m.stop("STOP_LOSS", "SELL", "48600")
    m.trade("49000")
    assert first.status == "FILLED" and first.cum_quote == D("4850")
    assert second.status == "FILLED" and second.cum_quote == D("4750")
    check_invariants(m.h.ex)


def test_stops_fired_by_one_command_run_in_id_order(m):
    m.h.limit(m.mm1, "BUY", "0.1", "48000")
    m.h.limit(m.mm1, "BUY", "0.1", "47000")
    a = m.stop("STOP_LOSS", "SELL", "48500")
    b = m.stop("STOP_LOSS", "SELL", "49000")
    m.trade("48500")  # fires both; lower id first takes the better bid
    assert a.cum_quote == D("4800") and b.cum_quote == D("4700")


def test_cancel_armed_stop_releases_lock(m):
    o = m.stop("STOP_LOSS_LIMIT", "BUY", "51000", "51500")
    m.h.cancel(m.trader, o.id)
    assert o.status == "CANCELED" and o.id not in m.h.ex.stops["BTCUSDT"]
    assert m.h.locked(m.trader, "USDT") == 0
    m.trade("51000")
    assert o.status == "CANCELED" and not o.in_book


def test_stop_params():
    m = Market()
    h = m.h
    h.reject(h.order_cmd(m.trader, "BTCUSDT", "SELL", "STOP_LOSS", "0.1"),
             "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!")
    h.reject(h.order_cmd(m.trader, "BTCUSDT", "SELL", "LIMIT", "0.1", "50000", stop_price="1"),
             "Parameter 'stopPrice' sent when not required.")
    h.reject(h.order_cmd(m.trader, "BTCUSDT", "SELL", "LIMIT", "0.1", "50000", trailing_delta=100),
             "Parameter 'trailingDelta' sent when not required.")
    h.reject(h.order_cmd(m.trader, "BTCUSDT", "SELL", "STOP_LOSS", "0.1", "50000", stop_price="1"),
             "Parameter 'price' sent when not required.")
    h.reject(h.order_cmd(m.trader, "BTCUSDT", "SELL", "STOP_LOSS_LIMIT", "0.1", stop_price="1"),
             "Mandatory parameter 'price' was not sent, was empty/null, or malformed.")


def test_stop_price_zero_is_rejected(m):
    h = m.h
    h.reject(h.order_cmd(m.trader, "BTCUSDT", "BUY", "STOP_LOSS", "0.1", stop_price=0),
             "Filter failure: PRICE_FILTER")


# ----------------------------------------------------------------------------- trailing stops
def walk(m: Market, *prices: str) -> None:
    for p in prices:
        m.trade(p)


def test_faq_a_trailing_stop_loss_limit_buy():
    m = Market(last="40000")
    o = m.stop("STOP_LOSS_LIMIT", "BUY", "44000", "45000", trailing_delta=500)
    walk(m, "39000", "37000")  # falls 7.5 %, but tracking has not started
    assert armed(m, o) and o.trailing_time == -1
    walk(m, "43999.99")
    assert o.trailing_time == -1
    start = m.h.ts + 2
    walk(m, "44000")
    assert o.trailing_time == start and o.trail_extreme == D("44000")
    walk(m, "45000", "46000")  # +454 BIPS from 44000: not enough
    assert armed(m, o)
    walk(m, "42000", "44099.99")
    assert armed(m, o) and o.trail_extreme == D("42000")
    walk(m, "44100")  # = 42000 * 1.05
    assert o.working and o.in_book and o.price == D("45000")
    assert m.h.book(side="bids")[0] == (D("45000"), D("0.1"), [o.id])
    assert o.trailing_time == start
    check_invariants(m.h.ex)


def test_faq_b_trailing_stop_loss_limit_sell():
    m = Market(last="40000")
    o = m.stop("STOP_LOSS_LIMIT", "SELL", "39000", "38000", trailing_delta=1000)
    walk(m, "41500", "39000.01")
    assert o.trailing_time == -1
    walk(m, "39000")
    assert o.trail_extreme == D("39000") and o.trailing_time != -1
    walk(m, "37000", "41000", "36900.01")
    assert armed(m, o) and o.trail_extreme == D("41000")
    walk(m, "36900")  # = 41000 * 0.90
    assert o.working and o.in_book
    assert m.h.book(side="asks")[0] == (D("38000"), D("0.1"), [o.id])


def test_faq_c_trailing_take_profit_limit_buy():
    m = Market(last="40000")
    o = m.stop("TAKE_PROFIT_LIMIT", "BUY", "38000", "38500", trailing_delta=850)
    walk(m, "42000", "38000.01")
    assert o.trailing_time == -1
    walk(m, "38000", "37000", "39000", "38000", "40144.99")
    assert armed(m, o) and o.trail_extreme == D("37000")
    walk(m, "40145")  # = 37000 * 1.085
    assert o.working and o.status == "NEW" and o.in_book


def test_faq_d_trailing_take_profit_limit_sell():
    m = Market(last="40000")
    o = m.stop("TAKE_PROFIT_LIMIT", "SELL", "42000", "41000", trailing_delta=750)
    walk(m, "41500", "39000", "42000", "45000", "44000", "46500", "43012.51")
    assert armed(m, o) and o.trail_extreme == D("46500")
    walk(m, "43012.50")  # = 46500 * 0.925
    assert o.working and o.in_book


def test_faq_e_trailing_without_stop_price_starts_at_placement():
    m = Market(last="40000")
    ts = m.h.ts + 1
    o = m.stop("STOP_LOSS_LIMIT", "SELL", None, "39000", trailing_delta=700)
    assert o.trailing_time == ts and o.trail_extreme == D("40000")
    walk(m, "42000", "39500", "45500", "42315.01")
    assert armed(m, o) and o.trail_extreme == D("45500")
    walk(m, "42315")  # = 45500 * 0.93
    assert o.working and o.in_book


def test_trailing_without_stop_price_and_without_trades_starts_at_next_trade():
    m = Market(last=None)
    o = m.stop("STOP_LOSS", "BUY", None, trailing_delta=100)
    assert o.trailing_time == -1
    m.h.limit(m.mm2, "SELL", "1", "60000")
    walk(m, "50000")
    assert o.trailing_time != -1 and o.trail_extreme == D("50000") and armed(m, o)
    walk(m, "50499.99")
    assert armed(m, o)
    walk(m, "50500")
    assert o.status == "FILLED" and o.cum_quote == D("6000")


def test_trailing_market_stop_without_stop_price_passes_notional(m):
    """A trailing STOP_LOSS/TAKE_PROFIT without stopPrice has no price to value it by."""
    o = m.stop("STOP_LOSS", "SELL", None, trailing_delta=100)
    assert armed(m, o)
    o = m.stop("TAKE_PROFIT", "BUY", None, trailing_delta=100)
    assert armed(m, o)


@pytest.mark.parametrize("otype,side,above", [
    ("STOP_LOSS", "BUY", True), ("STOP_LOSS_LIMIT", "BUY", True),
    ("TAKE_PROFIT", "SELL", True), ("TAKE_PROFIT_LIMIT", "SELL", True),
    ("STOP_LOSS", "SELL", False), ("STOP_LOSS_LIMIT", "SELL", False),
    ("TAKE_PROFIT", "BUY", False), ("TAKE_PROFIT_LIMIT", "BUY", False)])
def test_trailing_delta_filter_edges(otype, side, above):
    doc = default_doc()
    for f in doc["symbols"][0]["filters"]:
        if f["filterType"] == "TRAILING_DELTA":
            f.update(minTrailingAboveDelta=10, maxTrailingAboveDelta=2000,
                     minTrailingBelowDelta=20, maxTrailingBelowDelta=1000)
        if f["filterType"] == "MAX_NUM_ALGO_ORDERS":
            f["maxNumAlgoOrders"] = 100
    h = Harness(settings(doc))
    a = h.account(USDT="1000000", BTC="100")
    lo, hi = (10, 2000) if above else (20, 1000)
    price = "50000" if otype.endswith("LIMIT") else None
    for delta in (lo - 1, hi + 1):
        h.reject(h.order_cmd(a, "BTCUSDT", side, otype, "0.1", price, trailing_delta=delta),
                 "Filter failure: TRAILING_DELTA", -1013)
    for delta in (lo, hi):
        assert h.order(a, "BTCUSDT", side, otype, "0.1", price, trailing_delta=delta).order.is_open


def test_trailing_not_allowed_for_symbol():
    doc = default_doc()
    doc["symbols"][0]["allowTrailingStop"] = False
    h = Harness(settings(doc))
    a = h.account(USDT="1000000")
    h.reject(h.order_cmd(a, "BTCUSDT", "BUY", "STOP_LOSS", "0.1", trailing_delta=100),
             "Trailing stop orders are not supported for this symbol.")
