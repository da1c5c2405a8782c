"""The core's per-command order reports (what executionReport and listStatus render from):
one per order state change, values captured when it happened."""
from __future__ import annotations

import random

import pytest

from spotex.core.numbers import INT64_MAX

from tests.unit.test_core_support import D, Harness


@pytest.fixture
def h() -> Harness:
    return Harness()


def rich(h: Harness) -> int:
    return h.account(USDT="1000000", BTC="100")


def summary(h: Harness) -> list[tuple]:
    """(x, order id, status, executed) of the last command's order reports."""
    return [(r[0], r[1].id, r[2], r[3]) for r in h.ex.reports if r[0] != "LIST"]


def check_last_reports_match(h: Harness) -> None:
    """The last report of each order shows the order as the command left it."""
    last = {}
    for r in h.ex.reports:
        if r[0] != "LIST":
            last[r[1]] = r
    for o, r in last.items():
        assert (r[2], r[3], r[4]) == (o.status, o.executed, o.cum_quote), (r, o.status)
        if r[0] != "CANCELED":
            assert r[6] == o.client_id


def test_new_resting_order(h):
    a = rich(h)
    p = h.limit(a, "BUY", "1", "100")
    assert summary(h) == [("NEW", p.order.id, "NEW", 0)]
    r = h.ex.reports[0]
    assert (r[5], r[6], r[7], r[9]) == (D("1"), p.order.client_id, False, None)


def test_trade_reports_both_sides_in_order(h):
    a, b = rich(h), rich(h)
    m1 = h.limit(a, "SELL", "1", "100").order
    m2 = h.limit(a, "SELL", "1", "101").order
    t = h.limit(b, "BUY", "1.5", "101").order
    assert summary(h) == [
        ("NEW", t.id, "NEW", 0),
        ("TRADE", t.id, "PARTIALLY_FILLED", D("1")), ("TRADE", m1.id, "FILLED", D("1")),
        ("TRADE", t.id, "FILLED", D("1.5")), ("TRADE", m2.id, "PARTIALLY_FILLED", D("0.5"))]
    trades = [r[9] for r in h.ex.reports if r[0] == "TRADE"]
    assert [x.id for x in trades] == [1, 1, 2, 2]
    check_last_reports_match(h)


def test_cancel_captures_the_original_client_id(h):
    a = rich(h)
    o = h.limit(a, "BUY", "1", "100", client_id="orig").order
    h.cancel(a, o.id, new_client_id="cxl")
    (r,) = h.ex.reports
    assert (r[0], r[2], r[6], o.client_id) == ("CANCELED", "CANCELED", "orig", "cxl")


def test_ioc_remainder_expires(h):
    a, b = rich(h), rich(h)
    h.limit(a, "SELL", "1", "100")
    t = h.limit(b, "BUY", "2", "100", tif="IOC").order
    assert [x[0] for x in summary(h)] == ["NEW", "TRADE", "TRADE", "EXPIRED"]
    assert summary(h)[-1] == ("EXPIRED", t.id, "EXPIRED", D("1"))


def test_self_trade_prevention_reports_the_match(h):
    a = rich(h)
    m = h.limit(a, "SELL", "1", "100").order
    t = h.limit(a, "BUY", "1", "100", stp="EXPIRE_BOTH").order
    assert summary(h) == [("NEW", t.id, "NEW", 0),
                          ("TRADE_PREVENTION", m.id, "EXPIRED_IN_MATCH", 0),
                          ("TRADE_PREVENTION", t.id, "EXPIRED_IN_MATCH", 0)]
    pm = h.ex.reports[1][9]
    assert (pm.maker_order_id, pm.taker_order_id) == (m.id, t.id)
    assert h.ex.reports[1][8] == D("1")  # prevented quantity at that moment


def test_quote_order_filled_by_its_budget_restates_the_last_fill(h):
    a, b = rich(h), rich(h)
    h.limit(a, "SELL", "5", "10")
    t = h.market(b, "BUY", quote_qty="25").order
    mine = [r for r in h.ex.reports if r[1] is t]
    new, trade = mine[0], mine[-1]
    assert new[5] == INT64_MAX  # quantity unknown until it finishes
    assert (trade[0], trade[2], trade[5]) == ("TRADE", "FILLED", D("2.5")) and t.status == "FILLED"


def test_stop_reports_placement_and_trigger(h):
    a, b = rich(h), rich(h)
    h.trade_at(a, b, "100", "0.1")
    stop = h.order(a, "BTCUSDT", "BUY", "STOP_LOSS_LIMIT", "0.1", "106", stop_price="105").order
    assert (h.ex.reports[0][0], h.ex.reports[0][7]) == ("NEW", False)
    h.limit(b, "SELL", "0.1", "105")
    h.limit(b, "SELL", "1", "106")
    h.limit(a, "BUY", "0.1", "105")  # trades at 105: fires the stop
    mine = [r for r in h.ex.reports if r[1] is stop]
    assert [(r[0], r[2], r[7]) for r in mine] == [("NEW", "NEW", True), ("TRADE", "FILLED", True)]


def test_lists_report_start_and_end(h):
    a, b = rich(h), rich(h)
    h.trade_at(a, b, "100", "0.1")
    c = {"t": "list.oco", "ts": h.tick(), "account": a, "symbol": "BTCUSDT",
         "above": {"side": "SELL", "type": "LIMIT_MAKER", "qty": D("1"), "price": D("110")},
         "below": {"side": "SELL", "type": "STOP_LOSS", "qty": D("1"), "stop_price": D("90")}}
    lp = h.ex.apply(c)
    assert [r[0] for r in h.ex.reports] == ["NEW", "NEW", "LIST"]
    assert h.ex.reports[-1][2] == "EXEC_STARTED"
    h.limit(b, "BUY", "1", "110")  # fills the LIMIT_MAKER: the stop leg expires, list done
    kinds = [(r[0], r[1].id if r[0] != "LIST" else r[2]) for r in h.ex.reports]
    legs = {o.type: o.id for o in lp.order_list.legs}
    assert ("EXPIRED", legs["STOP_LOSS"]) in kinds and ("LIST", "ALL_DONE") in kinds
    assert ("TRADE", legs["LIMIT_MAKER"]) in kinds  # (streams send listStatus after the orders')
    check_last_reports_match(h)


def test_oto_pending_leg(h):
    a, b = rich(h), rich(h)
    c = {"t": "list.oto", "ts": h.tick(), "account": a, "symbol": "BTCUSDT",
         "working": {"side": "BUY", "type": "LIMIT", "qty": D("1"), "price": D("100"), "tif": "GTC"},
         "pending": [{"side": "SELL", "type": "LIMIT", "qty": D("1"), "price": D("120"), "tif": "GTC"}]}
    h.ex.apply(c)
    assert [(r[0], r[2]) for r in h.ex.reports] == [("NEW", "NEW"), ("NEW", "PENDING_NEW"),
                                                    ("LIST", "EXEC_STARTED")]
    h.limit(b, "SELL", "1", "100")
    assert [(r[0], r[2]) for r in h.ex.reports][-1] == ("NEW", "NEW")  # the pending leg works


def test_rejected_commands_report_nothing(h):
    a = h.account(USDT="1")
    with pytest.raises(Exception):
        h.limit(a, "BUY", "1", "100")
    assert h.ex.reports == []


def test_random_flow_last_reports_match_orders():
    h = Harness()
    accts = [rich(h) for _ in range(3)]
    rng = random.Random(7)
    open_orders: list = []
    for _ in range(400):
        a = rng.choice(accts)
        roll = rng.random()
        try:
            if roll < 0.2 and open_orders:
                acct, oid = open_orders.pop(rng.randrange(len(open_orders)))
                h.cancel(acct, oid)
            elif roll < 0.3:
                h.market(a, rng.choice(("BUY", "SELL")), str(rng.randint(1, 300) / 1000),
                         stp=rng.choice(("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH")))
            else:
                p = h.limit(a, rng.choice(("BUY", "SELL")), str(rng.randint(1, 300) / 1000),
                            str(rng.randint(95, 105)), tif=rng.choice(("GTC", "GTC", "IOC", "FOK")))
                if p.order.is_open:
                    open_orders.append((a, p.order.id))
        except Exception:
            continue
        check_last_reports_match(h)
