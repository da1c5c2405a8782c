"""Self-trade prevention (enums.md §3): each mode, the taker's mode wins, EXPIRED_IN_MATCH and
prevented quantities (executedQty + preventedQty == origQty once expired in match)."""
from __future__ import annotations

import pytest

from tests.unit.test_core_support import D, Harness, check_invariants, default_doc, settings


@pytest.fixture
def h() -> Harness:
    return Harness()


def rich(h: Harness) -> int:
    return h.account(USDT="1000000", BTC="100")


def three_bids(h: Harness, a: int):
    """FAQ scenario B's resting BUYs (scaled to pass NOTIONAL): 1.2@1200, 1.3@1100, 8.1@1000."""
    return [h.limit(a, "BUY", q, p).order for q, p in (("1.2", "1200"), ("1.3", "1100"),
                                                        ("8.1", "1000"))]


def assert_expired_in_match(o) -> None:
    assert o.status == "EXPIRED_IN_MATCH"
    assert o.executed + o.prevented_qty == o.qty
    assert o.locked == 0 and not o.in_book


def test_none_mode_trades_with_itself(h):
    a = rich(h)
    m = h.limit(a, "BUY", "0.1", "50000").order
    p = h.limit(a, "SELL", "0.1", "50000", stp="NONE")
    assert p.order.status == "FILLED" and m.status == "FILLED" and p.prevented == []
    # both sides pay their commission
    assert h.ex.fees == {"BTC": D("0.0001"), "USDT": D("5")}
    assert h.free(a, "BTC") == D("100") - D("0.0001")


def test_expire_maker_scenario_b(h):
    a = rich(h)
    makers = three_bids(h, a)
    usdt_before = h.free(a, "USDT") + h.locked(a, "USDT")
    p = h.limit(a, "SELL", "3", "1000", stp="EXPIRE_MAKER")
    for m in makers:
        assert_expired_in_match(m)
        assert m.prevented_qty == m.qty
    assert [pm.maker_order_id for pm in p.prevented] == [m.id for m in makers]
    assert [pm.id for pm in p.prevented] == [1, 2, 3]
    assert [(pm.taker_prevented_qty, pm.maker_prevented_qty) for pm in p.prevented] == [
        (0, D("1.2")), (0, D("1.3")), (0, D("8.1"))]
    assert [pm.price for pm in p.prevented] == [D("1200"), D("1100"), D("1000")]
    assert [m.prevented_match_id for m in makers] == [1, 2, 3]
    # the taker continues and rests with no fills
    assert p.order.status == "NEW" and p.order.executed == 0 and p.order.prevented_qty == 0
    assert p.order.in_book and p.fills == []
    assert h.book(side="bids") == [] and h.locked(a, "USDT") == 0
    assert h.free(a, "USDT") == usdt_before
    check_invariants(h.ex)


def test_expire_taker_scenario_c(h):
    a = rich(h)
    makers = three_bids(h, a)
    p = h.limit(a, "SELL", "3", "1000", stp="EXPIRE_TAKER")
    assert_expired_in_match(p.order)
    assert p.order.prevented_qty == D("3") and p.order.prevented_match_id == 1
    assert [(pm.maker_order_id, pm.taker_prevented_qty, pm.maker_prevented_qty)
            for pm in p.prevented] == [(makers[0].id, D("3"), 0)]
    assert all(m.status == "NEW" and m.in_book and m.prevented_qty == 0 for m in makers)
    assert h.locked(a, "BTC") == 0
    check_invariants(h.ex)


def test_expire_both_scenario_d(h):
    a = rich(h)
    makers = three_bids(h, a)
    p = h.limit(a, "SELL", "3", "1000", stp="EXPIRE_BOTH")
    assert_expired_in_match(p.order)
    assert_expired_in_match(makers[0])
    assert makers[1].status == makers[2].status == "NEW"
    pm = p.prevented[0]
    assert (pm.taker_prevented_qty, pm.maker_prevented_qty) == (D("3"), D("1.2"))
    assert len(p.prevented) == 1
    check_invariants(h.ex)


def test_taker_mode_wins_scenario_e(h):
    a = rich(h)
    m = h.limit(a, "BUY", "1", "1000", stp="EXPIRE_MAKER").order
    p = h.limit(a, "SELL", "1", "1000", stp="EXPIRE_TAKER")
    assert_expired_in_match(p.order)
    assert m.status == "NEW" and m.in_book
    # and the other way round: maker says EXPIRE_TAKER, taker EXPIRE_MAKER -> maker expires
    m2 = h.limit(a, "SELL", "1", "2000", stp="EXPIRE_TAKER").order
    p2 = h.limit(a, "BUY", "1", "2000", stp="EXPIRE_MAKER")
    assert_expired_in_match(m2)
    assert p2.order.status == "NEW" and p2.order.in_book and p2.order.executed == 0


def test_maker_none_does_not_exempt_the_taker(h):
    a = rich(h)
    m = h.limit(a, "BUY", "1", "1000", stp="NONE").order
    p = h.limit(a, "SELL", "1", "1000", stp="EXPIRE_MAKER")
    assert_expired_in_match(m)
    assert p.order.in_book and p.order.executed == 0


def test_market_taker_scenario_f(h):
    a = rich(h)
    m = h.limit(a, "BUY", "1", "1000").order
    p = h.market(a, "SELL", "1", stp="EXPIRE_MAKER")
    assert_expired_in_match(m)
    assert p.order.status == "EXPIRED" and p.order.executed == 0 and p.order.prevented_qty == 0
    assert h.locked(a, "BTC") == 0 and h.locked(a, "USDT") == 0


def test_default_mode_is_the_symbols_default(h):
    a = rich(h)
    m = h.limit(a, "BUY", "1", "1000").order
    p = h.limit(a, "SELL", "1", "1000")
    assert p.order.stp == "EXPIRE_MAKER"
    assert_expired_in_match(m)


def test_expire_maker_then_trades_with_other_accounts(h):
    a, other = rich(h), rich(h)
    own = h.limit(a, "BUY", "0.5", "1000").order
    theirs = h.limit(other, "BUY", "0.5", "1000").order
    p = h.limit(a, "SELL", "0.7", "1000", stp="EXPIRE_MAKER")
    assert_expired_in_match(own)
    assert theirs.status == "FILLED"
    assert p.order.executed == D("0.5") and p.order.status == "PARTIALLY_FILLED"
    assert p.order.in_book and p.order.visible == D("0.2")
    check_invariants(h.ex)


def test_expire_taker_after_partial_fill(h):
    a, other = rich(h), rich(h)
    theirs = h.limit(other, "BUY", "0.5", "1000").order
    own = h.limit(a, "BUY", "0.5", "1000").order
    p = h.limit(a, "SELL", "2", "1000", stp="EXPIRE_TAKER")
    o = p.order
    assert theirs.status == "FILLED"
    assert o.executed == D("0.5") and o.prevented_qty == D("1.5")
    assert_expired_in_match(o)
    assert own.status == "NEW" and own.in_book
    assert h.locked(a, "BTC") == 0 and h.free(a, "BTC") == D("99.5")
    check_invariants(h.ex)


def test_expire_maker_on_partially_filled_maker_and_iceberg(h):
    a, other = rich(h), rich(h)
    m = h.limit(a, "SELL", "1", "1000", iceberg_qty="0.2").order
    h.limit(other, "BUY", "0.3", "1000")  # m: executed 0.3, visible 0.1, hidden 0.6
    assert m.status == "PARTIALLY_FILLED"
    p = h.limit(a, "BUY", "0.1", "1000", stp="EXPIRE_MAKER")
    assert_expired_in_match(m)
    assert m.prevented_qty == D("0.7") and m.executed == D("0.3")
    assert p.prevented[0].maker_prevented_qty == D("0.7")
    assert p.order.in_book and h.book(side="asks") == []
    check_invariants(h.ex)


def test_quote_market_expire_taker(h):
    a, other = rich(h), rich(h)
    h.limit(other, "SELL", "0.1", "1000")
    own = h.limit(a, "SELL", "1", "1000").order
    p = h.market(a, "BUY", quote_qty="500", stp="EXPIRE_TAKER")
    o = p.order
    assert o.executed == D("0.1")
    assert_expired_in_match(o)
    assert o.qty == o.executed + o.prevented_qty
    assert own.status == "NEW"
    assert h.locked(a, "USDT") == 0
    check_invariants(h.ex)


def test_fok_with_stp_never_fills_partially(h):
    """FOK must fill entirely or not at all; own orders that STP would expire are no liquidity."""
    a, other = rich(h), rich(h)
    own = h.limit(a, "SELL", "0.5", "1000").order
    theirs = h.limit(other, "SELL", "0.5", "1000").order
    p = h.limit(a, "BUY", "1", "1000", tif="FOK", stp="EXPIRE_MAKER")
    assert p.order.status == "EXPIRED" and p.order.executed == 0 and p.fills == []
    assert theirs.status == "NEW" and own.status == "NEW"
    # with NONE its own order is liquidity
    p = h.limit(a, "BUY", "1", "1000", tif="FOK", stp="NONE")
    assert p.order.status == "FILLED"
    check_invariants(h.ex)


def test_fok_with_stp_fills_from_others_when_enough(h):
    a, other = rich(h), rich(h)
    own = h.limit(a, "SELL", "0.5", "1000").order
    h.limit(other, "SELL", "1", "1000")
    p = h.limit(a, "BUY", "1", "1000", tif="FOK", stp="EXPIRE_MAKER")
    assert p.order.status == "FILLED" and p.order.executed == D("1")
    assert_expired_in_match(own)


def test_fok_with_expire_taker_counts_only_what_precedes_its_own_order(h):
    a, other, x = rich(h), rich(h), rich(h)
    h.limit(other, "SELL", "1", "1000", iceberg_qty="0.2")  # visible 0.2 ahead of `own`
    own = h.limit(a, "SELL", "0.5", "1000").order
    h.limit(x, "SELL", "5", "999")
    # 5 @ 999 + 0.2 visible @ 1000 = 5.2 fillable before the taker would meet its own order
    p = h.limit(a, "BUY", "5.3", "1000", tif="FOK", stp="EXPIRE_TAKER")
    assert p.order.status == "EXPIRED" and p.order.executed == 0 and p.prevented == []
    p = h.limit(a, "BUY", "5.2", "1000", tif="FOK", stp="EXPIRE_TAKER")
    assert p.order.status == "FILLED" and p.prevented == [] and own.status == "NEW"
    check_invariants(h.ex)


def test_mode_not_allowed():
    doc = default_doc()
    doc["symbols"][0]["allowedSelfTradePreventionModes"] = ["NONE", "EXPIRE_MAKER"]
    h = Harness(settings(doc))
    a = rich(h)
    err = h.reject(h.order_cmd(a, "BTCUSDT", "BUY", "LIMIT", "1", "1000", stp="EXPIRE_TAKER"),
                   "This symbol does not allow the specified self-trade prevention mode.")
    assert err.code == -1013
    assert h.limit(a, "BUY", "1", "1000", stp="NONE").order.stp == "NONE"


def test_prevented_match_ids_are_per_symbol(h):
    a = h.account(USDT="1000000", BTC="100", ETH="1000")
    h.limit(a, "BUY", "1", "1000")
    p = h.limit(a, "SELL", "1", "1000")
    h.limit(a, "BUY", "1", "1000", symbol="ETHUSDT")
    q = h.limit(a, "SELL", "1", "1000", symbol="ETHUSDT")
    assert p.prevented[0].id == 1 and q.prevented[0].id == 1
    assert len(h.ex.prevented[(a, "BTCUSDT")]) == 1


def test_market_orders_reserve_for_the_liquidity_stp_leaves_them():
    """Under EXPIRE_MAKER the taker's own orders are no liquidity: a MARKET BUY reserves
    for the others' asks and fills in full; a quote SELL gets its whole quote amount."""
    h = Harness(settings())
    maker, a = h.account(USDT="100000", BTC="10"), h.account(USDT="100000", BTC="10")
    h.limit(a, "SELL", "0.1", "20000")  # own ask, the best one
    h.limit(maker, "SELL", "0.1", "40000")
    o = h.market(a, "BUY", "0.1").order
    assert (o.status, o.executed, o.cum_quote) == ("FILLED", D("0.1"), D("4000"))

    h = Harness(settings())
    maker, a = h.account(USDT="100000", BTC="10"), h.account(USDT="100000", BTC="10")
    h.limit(a, "BUY", "0.1", "40000")  # own bid, the best one
    h.limit(maker, "BUY", "0.1", "20000")
    o = h.market(a, "SELL", quote_qty="2000").order
    assert (o.status, o.executed, o.cum_quote) == ("FILLED", D("0.1"), D("2000"))
