"""POST /api/v3/order/cancelReplace: every row of the docs' outcome table (endpoints.md §3.6)."""
from __future__ import annotations

import pytest

S = "BTCUSDT"
PARTIAL = "Order cancel-replace partially failed."
FAILED = "Order cancel-replace failed."
UNKNOWN = {"code": -2011, "msg": "Unknown order sent."}
TAKES = {"code": -2010, "msg": "Order would immediately match and take."}
LIMITED = {"code": -1015, "msg": "Too many new orders; current limit is 100 orders per 10 SECOND."}


async def _setup(exchange, exceeded: bool):
    """A trader with one open BUY @40000 (id 2 after the market maker's bid) and a rival
    bid @45000 so that a LIMIT_MAKER SELL @45000 would take. Optionally at the order limit."""
    rival = await exchange.new_trader(USDT="100000")
    r = await rival.order(symbol=S, side="BUY", type="LIMIT", timeInForce="GTC",
                          quantity="0.01", price="45000")
    assert r.status_code == 200
    t = await exchange.new_trader(USDT="10000", BTC="1")
    r = await t.order(symbol=S, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.01",
                      price="40000", newClientOrderId="old")
    assert r.status_code == 200
    if exceeded:
        for i in range(99):
            r = await t.order(symbol=S, side="SELL", type="LIMIT", timeInForce="GTC",
                              quantity="0.001", price=str(60000 + i))
            assert r.status_code == 200, r.text
    return t


async def _cr(t, mode: str, limit_mode: str, cancel_ok: bool, new_ok: bool):
    params = dict(symbol=S, cancelReplaceMode=mode, orderRateLimitExceededMode=limit_mode,
                  cancelOrigClientOrderId="old" if cancel_ok else "nope",
                  side="SELL" if not new_ok else "BUY", type="LIMIT_MAKER",
                  quantity="0.01", price="45000" if not new_ok else "41000",
                  newOrderRespType="RESULT")
    return await t.signed("POST", "/api/v3/order/cancelReplace", **params)


async def _old_status(t) -> str:
    return (await t.signed("GET", "/api/v3/order", symbol=S, origClientOrderId="old")).json()["status"]


WITHIN = [
    # mode, cancel ok, new ok, HTTP, code, cancelResult, newOrderResult
    ("STOP_ON_FAILURE", True, True, 200, None, "SUCCESS", "SUCCESS"),
    ("STOP_ON_FAILURE", False, True, 400, -2022, "FAILURE", "NOT_ATTEMPTED"),
    ("STOP_ON_FAILURE", True, False, 409, -2021, "SUCCESS", "FAILURE"),
    ("ALLOW_FAILURE", True, True, 200, None, "SUCCESS", "SUCCESS"),
    ("ALLOW_FAILURE", False, False, 400, -2022, "FAILURE", "FAILURE"),
    ("ALLOW_FAILURE", False, True, 409, -2021, "FAILURE", "SUCCESS"),
    ("ALLOW_FAILURE", True, False, 409, -2021, "SUCCESS", "FAILURE"),
]


@pytest.mark.parametrize("limit_mode", ["DO_NOTHING", "CANCEL_ONLY"])
@pytest.mark.parametrize("mode,cancel_ok,new_ok,status,code,cancel_res,new_res", WITHIN)
async def test_within_the_order_limit(exchange, limit_mode, mode, cancel_ok, new_ok, status,
                                      code, cancel_res, new_res):
    t = await _setup(exchange, exceeded=False)
    count_before = (await t.signed("GET", "/api/v3/rateLimit/order")).json()[0]["count"]
    r = await _cr(t, mode, limit_mode, cancel_ok, new_ok)
    assert r.status_code == status, r.text
    body = r.json()
    data = body if code is None else body["data"]
    if code is not None:
        assert body["code"] == code
        assert body["msg"] == (PARTIAL if code == -2021 else FAILED)
    assert data["cancelResult"] == cancel_res
    assert data["newOrderResult"] == new_res
    if cancel_ok:
        assert data["cancelResponse"]["status"] == "CANCELED"
        assert data["cancelResponse"]["origClientOrderId"] == "old"
    else:
        assert data["cancelResponse"] == UNKNOWN
    if new_res == "SUCCESS":
        assert data["newOrderResponse"]["status"] == "NEW"
        assert data["newOrderResponse"]["type"] == "LIMIT_MAKER"
    elif new_res == "FAILURE":
        assert data["newOrderResponse"] == TAKES
    else:
        assert data["newOrderResponse"] is None
    assert await _old_status(t) == ("CANCELED" if cancel_ok else "NEW")
    # funds: the old BUY's 400 USDT are free again iff it was canceled; a new BUY locks 410
    locked = (400 if not cancel_ok else 0) + (410 if new_res == "SUCCESS" else 0)
    assert (await t.balances())["USDT"] == (f"{10000 - locked}.00000000", f"{locked}.00000000")
    # +1 to the unfilled order count whatever happened to the new order
    count_after = (await t.signed("GET", "/api/v3/rateLimit/order")).json()[0]["count"]
    assert count_after == count_before + 1


@pytest.mark.parametrize("mode", ["STOP_ON_FAILURE", "ALLOW_FAILURE"])
async def test_exceeded_do_nothing_is_a_plain_1015(exchange, mode):
    t = await _setup(exchange, exceeded=True)
    before = await t.balances()
    r = await _cr(t, mode, "DO_NOTHING", True, True)
    assert r.status_code == 429
    assert r.json() == LIMITED
    assert 1 <= int(r.headers["retry-after"]) <= 10  # the rest of the 10 s window, as /order
    assert await _old_status(t) == "NEW"
    assert await t.balances() == before


EXCEEDED_CANCEL_ONLY = [
    ("STOP_ON_FAILURE", False, 429, -2022, "FAILURE", "NOT_ATTEMPTED"),
    ("STOP_ON_FAILURE", True, 429, -2021, "SUCCESS", "FAILURE"),
    ("ALLOW_FAILURE", False, 400, -2022, "FAILURE", "FAILURE"),
    ("ALLOW_FAILURE", True, 409, -2021, "SUCCESS", "FAILURE"),
]


@pytest.mark.parametrize("mode,cancel_ok,status,code,cancel_res,new_res", EXCEEDED_CANCEL_ONLY)
async def test_exceeded_cancel_only(exchange, mode, cancel_ok, status, code, cancel_res, new_res):
    t = await _setup(exchange, exceeded=True)
    r = await _cr(t, mode, "CANCEL_ONLY", cancel_ok, True)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code
    data = body["data"]
    assert data["cancelResult"] == cancel_res
    assert data["newOrderResult"] == new_res
    if new_res == "FAILURE":
        assert data["newOrderResponse"] == LIMITED
    else:
        assert data["newOrderResponse"] is None
    assert await _old_status(t) == ("CANCELED" if cancel_ok else "NEW")
    locked = 0 if cancel_ok else 400
    assert (await t.balances())["USDT"] == (f"{10000 - locked}.00000000", f"{locked}.00000000")
    assert (await t.signed("GET", "/api/v3/rateLimit/order")).json()[0]["count"] == 100


async def test_cancel_replace_parameter_errors(exchange):
    t = await _setup(exchange, exceeded=False)
    r = await t.signed("POST", "/api/v3/order/cancelReplace", symbol=S, side="BUY",
                       type="LIMIT", timeInForce="GTC", quantity="0.01", price="41000",
                       cancelOrderId=2)
    assert r.json() == {"code": -1102, "msg": "Mandatory parameter 'cancelReplaceMode' was not sent, was empty/null, or malformed."}
    r = await t.signed("POST", "/api/v3/order/cancelReplace", symbol=S, side="BUY",
                       type="LIMIT", timeInForce="GTC", quantity="0.01", price="41000",
                       cancelReplaceMode="STOP_ON_FAILURE")
    assert r.json() == {"code": -1102, "msg": "Param 'cancelOrderId' or 'cancelOrigClientOrderId' must be sent, but both were empty/null!"}
    r = await t.signed("POST", "/api/v3/order/cancelReplace", symbol=S, side="BUY",
                       type="LIMIT", timeInForce="GTC", quantity="0.01", price="41000",
                       cancelReplaceMode="STOP_ON_FAILURE", cancelOrderId=2,
                       cancelRestrictions="NEVER")
    assert r.json() == {"code": -1145, "msg": "Invalid cancelRestrictions"}
    assert await _old_status(t) == "NEW"


async def test_new_order_may_take_the_canceled_orders_client_id(exchange):
    """`newClientOrderId` may reuse the canceled order's id (endpoints.md §3.6); another
    open order's id is still a duplicate."""
    t = await _setup(exchange, exceeded=False)
    r = await t.signed("POST", "/api/v3/order/cancelReplace", symbol=S,
                       cancelReplaceMode="STOP_ON_FAILURE", cancelOrigClientOrderId="old",
                       side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.02",
                       price="39000", newClientOrderId="old")
    assert r.status_code == 200, r.text
    assert r.json()["newOrderResponse"]["clientOrderId"] == "old"
    got = (await t.signed("GET", "/api/v3/order", symbol=S, origClientOrderId="old")).json()
    assert (got["price"], got["status"]) == ("39000.00000000", "NEW")
    other = await t.order(symbol=S, side="BUY", type="LIMIT", timeInForce="GTC",
                          quantity="0.01", price="38000", newClientOrderId="other")
    assert other.status_code == 200, other.text
    r = await t.signed("POST", "/api/v3/order/cancelReplace", symbol=S,
                       cancelReplaceMode="STOP_ON_FAILURE", cancelOrigClientOrderId="old",
                       side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.02",
                       price="39000", newClientOrderId="other")
    assert r.status_code == 409, r.text
    assert r.json()["data"]["newOrderResponse"] == {"code": -2010, "msg": "Duplicate order sent."}


@pytest.mark.parametrize("mode", ["STOP_ON_FAILURE", "ALLOW_FAILURE"])
async def test_a_failed_filter_fails_both_halves(exchange, mode):
    """Filters are evaluated before the cancel (changelog 2022-06-15): a new order that
    fails one leaves the old order working, and both halves report the failure."""
    t = await _setup(exchange, exceeded=False)
    r = await t.signed("POST", "/api/v3/order/cancelReplace", symbol=S, cancelReplaceMode=mode,
                       cancelOrigClientOrderId="old", side="BUY", type="LIMIT",
                       timeInForce="GTC", quantity="0.01", price="41000.001")
    assert r.status_code == 400, r.text
    failure = {"code": -1013, "msg": "Filter failure: PRICE_FILTER"}
    assert r.json() == {"code": -2022, "msg": FAILED, "data": {
        "cancelResult": "FAILURE", "newOrderResult": "FAILURE",
        "cancelResponse": failure, "newOrderResponse": failure}}
    assert await _old_status(t) == "NEW"
    counts = (await t.signed("GET", "/api/v3/rateLimit/order")).json()
    assert counts[0]["count"] == 2  # the old order and this request
