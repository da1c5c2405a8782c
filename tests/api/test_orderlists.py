"""Order lists through HTTP: OCO (new and legacy), OTO, OTOCO, cancels and queries,
with balances checked after every step."""
from __future__ import annotations

import pytest

S = "BTCUSDT"


async def _trade_at(exchange, price: str) -> None:
    """Make a trade at `price` between two fresh accounts (sets the last price)."""
    a = await exchange.new_trader(BTC="1")
    b = await exchange.new_trader(USDT="100000")
    r = await a.order(symbol=S, side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="0.001", price=price)
    assert r.status_code == 200, r.text
    r = await b.order(symbol=S, side="BUY", type="MARKET", quantity="0.001")
    assert r.json()["status"] == "FILLED", r.text


async def _oco_sell(t, **extra):
    params = dict(symbol=S, side="SELL", quantity="0.1", aboveType="LIMIT_MAKER",
                  abovePrice="52000", belowType="STOP_LOSS_LIMIT", belowPrice="47000",
                  belowStopPrice="48000", belowTimeInForce="GTC")
    params.update(extra)
    return await t.signed("POST", "/api/v3/orderList/oco", **params)


async def test_oco_sell_placement_shape_and_lock(exchange):
    await _trade_at(exchange, "50000")
    t = await exchange.new_trader(BTC="1")
    r = await _oco_sell(t, listClientOrderId="myList1", newOrderRespType="RESULT")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["contingencyType"] == "OCO"
    assert body["listStatusType"] == "EXEC_STARTED"
    assert body["listOrderStatus"] == "EXECUTING"
    assert body["listClientOrderId"] == "myList1"
    assert [o["orderId"] for o in body["orders"]] == [o["orderId"] for o in body["orderReports"]]
    stop, limit = body["orderReports"]
    assert stop["type"] == "STOP_LOSS_LIMIT" and stop["workingTime"] == -1
    assert stop["stopPrice"] == "48000.00000000"
    assert limit["type"] == "LIMIT_MAKER" and limit["status"] == "NEW"
    assert stop["orderListId"] == limit["orderListId"] == body["orderListId"]
    # one reservation for both legs
    assert (await t.balances())["BTC"] == ("0.90000000", "0.10000000")
    r = await t.signed("GET", "/api/v3/openOrderList")
    assert [ol["orderListId"] for ol in r.json()] == [body["orderListId"]]
    assert "orderReports" not in r.json()[0]


async def test_oco_limit_leg_fill_expires_stop_leg(exchange):
    await _trade_at(exchange, "50000")
    t = await exchange.new_trader(BTC="1")
    body = (await _oco_sell(t)).json()
    stop_id, limit_id = (o["orderId"] for o in body["orderReports"])
    buyer = await exchange.new_trader(USDT="100000")
    r = await buyer.order(symbol=S, side="BUY", type="LIMIT", timeInForce="GTC",
                          quantity="0.04", price="52000")
    assert r.json()["status"] == "FILLED"
    stop = (await t.signed("GET", "/api/v3/order", symbol=S, orderId=stop_id)).json()
    limit = (await t.signed("GET", "/api/v3/order", symbol=S, orderId=limit_id)).json()
    assert stop["status"] == "EXPIRED"
    assert limit["status"] == "PARTIALLY_FILLED"
    assert (await t.balances())["BTC"] == ("0.90000000", "0.06000000")
    r = await buyer.order(symbol=S, side="BUY", type="LIMIT", timeInForce="GTC",
                          quantity="0.06", price="52000")
    assert r.json()["status"] == "FILLED"
    assert (await t.balances())["BTC"] == ("0.90000000", "0.00000000")
    ol = (await t.signed("GET", "/api/v3/orderList", orderListId=body["orderListId"])).json()
    assert ol["listStatusType"] == "ALL_DONE" and ol["listOrderStatus"] == "ALL_DONE"
    assert (await t.signed("GET", "/api/v3/openOrderList")).json() == []


async def test_oco_stop_leg_trigger_cancels_limit_leg(exchange):
    await _trade_at(exchange, "50000")
    t = await exchange.new_trader(BTC="1")
    body = (await _oco_sell(t)).json()
    stop_id, limit_id = (o["orderId"] for o in body["orderReports"])
    bid = await exchange.new_trader(USDT="100000")
    await bid.order(symbol=S, side="BUY", type="LIMIT", timeInForce="GTC", quantity="1",
                    price="47500")
    await _trade_at(exchange, "47900")  # last price <= 48000: the stop fires
    stop = (await t.signed("GET", "/api/v3/order", symbol=S, orderId=stop_id)).json()
    limit = (await t.signed("GET", "/api/v3/order", symbol=S, orderId=limit_id)).json()
    assert limit["status"] == "EXPIRED"
    assert stop["status"] == "FILLED"
    assert stop["cummulativeQuoteQty"] == "4750.00000000"
    free, locked = (await t.balances())["BTC"]
    assert (free, locked) == ("0.90000000", "0.00000000")


async def test_oco_price_relationship_and_type_errors(exchange):
    await _trade_at(exchange, "50000")
    t = await exchange.new_trader(BTC="1", USDT="100000")
    before = await t.balances()
    r = await _oco_sell(t, abovePrice="49000")
    assert r.status_code == 400
    assert r.json() == {"code": -2010, "msg": "The relationship of the prices for the orders is not correct."}
    r = await _oco_sell(t, aboveType="LIMIT")
    assert r.json() == {"code": -1158, "msg": "Order type not supported in OCO."}
    r = await _oco_sell(t, aboveType="STOP_LOSS", abovePrice=None, aboveStopPrice="53000",
                        belowType="LIMIT_MAKER",
                        belowPrice="47000", belowStopPrice=None, belowTimeInForce=None)
    assert r.json() == {"code": -1166, "msg": "A limit order in a sell OCO must be above."}
    r = await _oco_sell(t, belowIcebergQty="0.01", belowTimeInForce="IOC")
    assert r.json() == {"code": -1160, "msg": "Parameter 'belowIcebergQty' is not supported if aboveTimeInForce/belowTimeInForce is not GTC."}
    r = await _oco_sell(t, quantity="5")
    assert r.json() == {"code": -2010, "msg": "Account has insufficient balance for requested action."}
    assert await t.balances() == before
    assert (await t.signed("GET", "/api/v3/openOrders", symbol=S)).json() == []


async def test_legacy_oco_buy(exchange):
    await _trade_at(exchange, "50000")
    t = await exchange.new_trader(USDT="10000")
    r = await t.signed("POST", "/api/v3/order/oco", symbol=S, side="BUY", quantity="0.1",
                       price="48000", stopPrice="51000", stopLimitPrice="51500",
                       stopLimitTimeInForce="GTC", body=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["contingencyType"] == "OCO"
    types = [o["type"] for o in body["orderReports"]]
    assert types == ["STOP_LOSS_LIMIT", "LIMIT_MAKER"]
    # the larger of the two needs is reserved once: 0.1 * 51500
    assert (await t.balances())["USDT"] == ("4850.00000000", "5150.00000000")
    r = await t.signed("POST", "/api/v3/order/oco", symbol=S, side="BUY", quantity="0.1",
                       price="48000", stopPrice="51000", stopLimitPrice="51500")
    assert r.json() == {"code": -1128, "msg": "Combination of optional parameters invalid. Recommendation: 'stopLimitTimeInForce' should also be sent."}


async def test_cancel_one_leg_cancels_the_list(exchange):
    await _trade_at(exchange, "50000")
    t = await exchange.new_trader(BTC="1")
    body = (await _oco_sell(t)).json()
    limit = body["orderReports"][1]
    r = await t.signed("DELETE", "/api/v3/order", symbol=S, orderId=limit["orderId"])
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["orderListId"] == body["orderListId"]
    assert out["listStatusType"] == "ALL_DONE"
    assert [rep["status"] for rep in out["orderReports"]] == ["CANCELED", "CANCELED"]
    assert (await t.balances())["BTC"] == ("1.00000000", "0.00000000")


async def test_cancel_list_by_client_id_and_errors(exchange):
    await _trade_at(exchange, "50000")
    t = await exchange.new_trader(BTC="1")
    body = (await _oco_sell(t, listClientOrderId="L1")).json()
    r = await t.signed("DELETE", "/api/v3/orderList", symbol=S, listClientOrderId="L1",
                       newClientOrderId="cancelL1")
    assert r.status_code == 200, r.text
    out = r.json()
    assert {rep["clientOrderId"] for rep in out["orderReports"]} == {"cancelL1"}
    assert [rep["origClientOrderId"] for rep in out["orderReports"]] == [
        o["clientOrderId"] for o in body["orders"]]
    r = await t.signed("DELETE", "/api/v3/orderList", symbol=S, orderListId=body["orderListId"])
    assert r.json() == {"code": -2011, "msg": "Unknown order sent."}
    r = await t.signed("GET", "/api/v3/orderList", orderListId=999)
    assert r.json() == {"code": -2013, "msg": "Order list does not exist."}
    r = await t.signed("GET", "/api/v3/allOrderList")
    assert [ol["orderListId"] for ol in r.json()] == [body["orderListId"]]
    assert (await t.balances())["BTC"] == ("1.00000000", "0.00000000")


async def test_oto_pending_activates_when_working_fills(exchange):
    t = await exchange.new_trader(USDT="10000")
    r = await t.signed("POST", "/api/v3/orderList/oto", symbol=S, workingType="LIMIT",
                       workingSide="BUY", workingPrice="50000", workingQuantity="0.1",
                       workingTimeInForce="GTC", pendingType="LIMIT", pendingSide="SELL",
                       pendingPrice="55000", pendingQuantity="0.0999", pendingTimeInForce="GTC",
                       newOrderRespType="RESULT")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["contingencyType"] == "OTO"
    working, pending = body["orderReports"]
    assert working["status"] == "NEW" and pending["status"] == "PENDING_NEW"
    assert pending["workingTime"] == -1
    assert (await t.balances())["USDT"] == ("5000.00000000", "5000.00000000")
    seller = await exchange.new_trader(BTC="1")
    await seller.order(symbol=S, side="SELL", type="LIMIT", timeInForce="GTC",
                       quantity="0.1", price="50000")
    p = (await t.signed("GET", "/api/v3/order", symbol=S, orderId=pending["orderId"])).json()
    assert p["status"] == "NEW" and p["isWorking"] is True
    bal = await t.balances()
    assert bal["USDT"] == ("5000.00000000", "0.00000000")
    assert bal["BTC"] == ("0.00000000", "0.09990000")  # 0.1 bought, 0.0001 commission


async def test_oto_cancel_pending_cancels_working(exchange):
    t = await exchange.new_trader(USDT="10000")
    body = (await t.signed("POST", "/api/v3/orderList/oto", symbol=S, workingType="LIMIT",
                           workingSide="BUY", workingPrice="50000", workingQuantity="0.1",
                           workingTimeInForce="GTC", pendingType="STOP_LOSS",
                           pendingSide="SELL", pendingStopPrice="45000",
                           pendingQuantity="0.1")).json()
    pending = body["orderReports"][1]
    r = await t.signed("DELETE", "/api/v3/order", symbol=S, orderId=pending["orderId"])
    assert r.status_code == 200, r.text
    assert [rep["status"] for rep in r.json()["orderReports"]] == ["CANCELED", "CANCELED"]
    assert (await t.balances())["USDT"] == ("10000.00000000", "0.00000000")


async def test_otoco_places_oco_pair_on_fill(exchange):
    t = await exchange.new_trader(USDT="10000")
    r = await t.signed("POST", "/api/v3/orderList/otoco", symbol=S, workingType="LIMIT",
                       workingSide="BUY", workingPrice="50000", workingQuantity="0.1",
                       workingTimeInForce="GTC", pendingSide="SELL", pendingQuantity="0.0999",
                       pendingAboveType="LIMIT_MAKER", pendingAbovePrice="55000",
                       pendingBelowType="STOP_LOSS_LIMIT", pendingBelowPrice="44000",
                       pendingBelowStopPrice="45000", pendingBelowTimeInForce="GTC")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["contingencyType"] == "OTO"
    assert len(body["orders"]) == 3
    assert [rep["status"] for rep in body["orderReports"]] == ["NEW", "PENDING_NEW", "PENDING_NEW"]
    r = await t.signed("GET", "/api/v3/rateLimit/order")
    assert r.json()[0]["count"] == 3
    seller = await exchange.new_trader(BTC="1")
    await seller.order(symbol=S, side="SELL", type="LIMIT", timeInForce="GTC",
                       quantity="0.1", price="50000")
    legs = {o["orderId"]: o for o in (await t.signed("GET", "/api/v3/openOrders", symbol=S)).json()}
    assert sorted(o["type"] for o in legs.values()) == ["LIMIT_MAKER", "STOP_LOSS_LIMIT"]
    assert all(o["status"] == "NEW" for o in legs.values())
    assert (await t.balances())["BTC"] == ("0.00000000", "0.09990000")
    # the take-profit leg fills: the stop leg expires, the list is done
    buyer = await exchange.new_trader(USDT="100000")
    await buyer.order(symbol=S, side="BUY", type="MARKET", quantity="0.0999")
    assert (await t.signed("GET", "/api/v3/openOrders", symbol=S)).json() == []
    ol = (await t.signed("GET", "/api/v3/orderList", orderListId=body["orderListId"])).json()
    assert ol["listStatusType"] == "ALL_DONE"
    assert (await t.balances())["BTC"] == ("0.00000000", "0.00000000")


@pytest.mark.parametrize("kind", ["oco", "oto", "otoco"])
async def test_lists_count_against_max_num_orders(exchange, kind):
    await _trade_at(exchange, "50000")
    t = await exchange.new_trader(BTC="10", USDT="1000000")
    for i in range(199):
        if i % 90 == 0:
            exchange.clock.advance(10_000)  # stay under 100 orders per 10 s
        r = await t.order(symbol=S, side="BUY", type="LIMIT", timeInForce="GTC",
                          quantity="0.001", price=str(10000 + i))
        assert r.status_code == 200, r.text
    if kind == "oco":
        r = await _oco_sell(t)
    elif kind == "oto":
        r = await t.signed("POST", "/api/v3/orderList/oto", symbol=S, workingType="LIMIT",
                           workingSide="BUY", workingPrice="40000", workingQuantity="0.1",
                           workingTimeInForce="GTC", pendingType="MARKET", pendingSide="SELL",
                           pendingQuantity="0.1")
    else:
        r = await t.signed("POST", "/api/v3/orderList/otoco", symbol=S, workingType="LIMIT",
                           workingSide="BUY", workingPrice="40000", workingQuantity="0.1",
                           workingTimeInForce="GTC", pendingSide="SELL", pendingQuantity="0.1",
                           pendingAboveType="LIMIT_MAKER", pendingAbovePrice="55000",
                           pendingBelowType="STOP_LOSS", pendingBelowStopPrice="45000")
    assert r.json() == {"code": -1013, "msg": "Filter failure: MAX_NUM_ORDERS"}


async def test_oco_leg_expired_by_stp_expires_the_list(exchange):
    """The LIMIT_MAKER leg holds the pair's funds: if STP expires it, the stop leg goes too
    (found by the property tests: the stop leg used to stay armed with nothing reserved)."""
    await _trade_at(exchange, "50000")
    t = await exchange.new_trader(USDT="10000", BTC="1")
    body = (await t.signed("POST", "/api/v3/orderList/oco", symbol=S, side="BUY",
                           quantity="0.1", aboveType="STOP_LOSS_LIMIT", abovePrice="51000",
                           aboveStopPrice="51000", aboveTimeInForce="GTC",
                           belowType="LIMIT_MAKER", belowPrice="49000")).json()
    stop_id, limit_id = (o["orderId"] for o in body["orderReports"])
    # the same account sells into its own bid: the default STP mode expires the maker
    r = await t.order(symbol=S, side="SELL", type="MARKET", quantity="0.1")
    assert r.json()["status"] == "EXPIRED"
    statuses = [(await t.signed("GET", "/api/v3/order", symbol=S, orderId=i)).json()["status"]
                for i in (stop_id, limit_id)]
    assert statuses == ["EXPIRED", "EXPIRED_IN_MATCH"]
    ol = (await t.signed("GET", "/api/v3/orderList", orderListId=body["orderListId"])).json()
    assert ol["listStatusType"] == "ALL_DONE"
    assert (await t.balances())["USDT"] == ("10000.00000000", "0.00000000")
