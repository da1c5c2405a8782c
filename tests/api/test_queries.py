"""Order queries and cancels, account endpoints, order-count and weight headers.

endpoints.md §3.3-§3.5, §3.7, §3.8, §4.1-§4.3, §4.6, §A.2, §A.3; general.md §7.2, §8.
"""
from __future__ import annotations

import pytest

SYM = "BTCUSDT"
QUERY_KEYS = ["symbol", "orderId", "orderListId", "clientOrderId", "price", "origQty",
              "executedQty", "cummulativeQuoteQty", "status", "timeInForce", "type", "side",
              "stopPrice", "icebergQty", "time", "updateTime", "isWorking", "workingTime",
              "origQuoteOrderQty", "selfTradePreventionMode"]
CANCEL_KEYS = ["symbol", "origClientOrderId", "orderId", "orderListId", "clientOrderId",
               "transactTime", "price", "origQty", "executedQty", "origQuoteOrderQty",
               "cummulativeQuoteQty", "status", "timeInForce", "type", "side",
               "selfTradePreventionMode"]
NOT_EXIST = (400, -2013, "Order does not exist.")
UNKNOWN = (400, -2011, "Unknown order sent.")
BAD_COMBO = (400, -1128, "Combination of optional parameters invalid.")


def err(r, status: int, code: int, msg: str) -> None:
    assert r.status_code == status, r.text
    assert r.json() == {"code": code, "msg": msg}


def ok(r):
    assert r.status_code == 200, r.text
    return r.json()


async def limit(t, side: str, qty: str, price: str, symbol: str = SYM, **kw):
    return ok(await t.order(symbol=symbol, side=side, type="LIMIT", timeInForce="GTC",
                            quantity=qty, price=price, **kw))


async def get(t, path: str, **params):
    return await t.signed("GET", path, **params)


async def cancel(t, **params):
    return await t.signed("DELETE", "/api/v3/order", **{"symbol": SYM, **params})


async def state(t):
    return await t.balances(), ok(await get(t, "/api/v3/openOrders"))


@pytest.fixture
async def alice(exchange):
    return await exchange.new_trader(BTC="1", USDT="100000", ETH="10")


@pytest.fixture
async def bob(exchange):
    return await exchange.new_trader(BTC="1", USDT="100000")


# ================================================================= GET /api/v3/order

async def test_query_order_by_id_and_client_id(alice, clock):
    placed = await limit(alice, "BUY", "0.1", "50000", newClientOrderId="q-1")
    expected = {
        "symbol": SYM, "orderId": placed["orderId"], "orderListId": -1, "clientOrderId": "q-1",
        "price": "50000.00000000", "origQty": "0.10000000", "executedQty": "0.00000000",
        "cummulativeQuoteQty": "0.00000000", "status": "NEW", "timeInForce": "GTC",
        "type": "LIMIT", "side": "BUY", "stopPrice": "0.00000000", "icebergQty": "0.00000000",
        "time": clock(), "updateTime": clock(), "isWorking": True, "workingTime": clock(),
        "origQuoteOrderQty": "0.00000000", "selfTradePreventionMode": "EXPIRE_MAKER",
    }
    by_id = ok(await get(alice, "/api/v3/order", symbol=SYM, orderId=placed["orderId"]))
    assert by_id == expected and list(by_id) == QUERY_KEYS
    by_cid = ok(await get(alice, "/api/v3/order", symbol=SYM, origClientOrderId="q-1"))
    assert by_cid == expected


async def test_query_order_id_wins_over_client_id(alice):
    a = await limit(alice, "BUY", "0.1", "50000", newClientOrderId="first")
    await limit(alice, "BUY", "0.1", "49000", newClientOrderId="second")
    r = ok(await get(alice, "/api/v3/order", symbol=SYM, orderId=a["orderId"],
                     origClientOrderId="second"))
    assert r["clientOrderId"] == "first"


async def test_query_filled_order(alice, bob, clock):
    await limit(alice, "SELL", "0.1", "50000")
    clock.advance(50)
    await limit(bob, "BUY", "0.1", "50000")
    o = ok(await get(alice, "/api/v3/order", symbol=SYM, orderId=1))
    assert (o["status"], o["executedQty"], o["cummulativeQuoteQty"]) == (
        "FILLED", "0.10000000", "5000.00000000")
    assert (o["time"], o["updateTime"], o["workingTime"]) == (clock() - 50, clock(), clock() - 50)


@pytest.mark.parametrize("params", [
    {"orderId": 999}, {"origClientOrderId": "nope"},
])
async def test_query_order_does_not_exist(alice, params):
    await limit(alice, "BUY", "0.1", "50000", newClientOrderId="exists")
    err(await get(alice, "/api/v3/order", symbol=SYM, **params), *NOT_EXIST)


async def test_query_order_of_another_account(alice, bob):
    placed = await limit(alice, "BUY", "0.1", "50000", newClientOrderId="mine")
    err(await get(bob, "/api/v3/order", symbol=SYM, orderId=placed["orderId"]), *NOT_EXIST)
    err(await get(bob, "/api/v3/order", symbol=SYM, origClientOrderId="mine"), *NOT_EXIST)


async def test_query_order_on_other_symbol(alice):
    placed = await limit(alice, "BUY", "0.1", "50000")
    err(await get(alice, "/api/v3/order", symbol="ETHUSDT", orderId=placed["orderId"]),
        *NOT_EXIST)


async def test_query_order_without_ids(alice):
    err(await get(alice, "/api/v3/order", symbol=SYM), *BAD_COMBO)


@pytest.mark.parametrize("params,expected", [
    ({"orderId": 1}, (400, -1102,
                      "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")),
    ({"symbol": "NOPE", "orderId": 1}, (400, -1121, "Invalid symbol.")),
])
async def test_query_order_symbol_errors(alice, params, expected):
    err(await get(alice, "/api/v3/order", **params), *expected)


# ================================================================= DELETE /api/v3/order

async def test_cancel_by_order_id(alice, clock):
    placed = await limit(alice, "BUY", "0.1", "50000", newClientOrderId="c-1")
    clock.advance(5)
    r = ok(await cancel(alice, orderId=placed["orderId"], newClientOrderId="cancel-c-1"))
    assert list(r) == CANCEL_KEYS
    assert r == {
        "symbol": SYM, "origClientOrderId": "c-1", "orderId": placed["orderId"],
        "orderListId": -1, "clientOrderId": "cancel-c-1", "transactTime": clock(),
        "price": "50000.00000000", "origQty": "0.10000000", "executedQty": "0.00000000",
        "origQuoteOrderQty": "0.00000000", "cummulativeQuoteQty": "0.00000000",
        "status": "CANCELED", "timeInForce": "GTC", "type": "LIMIT", "side": "BUY",
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }
    assert (await alice.balances())["USDT"] == ("100000.00000000", "0.00000000")
    assert ok(await get(alice, "/api/v3/openOrders", symbol=SYM)) == []
    o = ok(await get(alice, "/api/v3/order", symbol=SYM, orderId=placed["orderId"]))
    assert (o["status"], o["updateTime"]) == ("CANCELED", clock())


async def test_cancel_by_client_id_generates_cancel_id(alice):
    placed = await limit(alice, "SELL", "0.1", "60000", newClientOrderId="c-2")
    r = ok(await cancel(alice, origClientOrderId="c-2"))
    assert (r["orderId"], r["origClientOrderId"], r["status"]) == (
        placed["orderId"], "c-2", "CANCELED")
    assert r["clientOrderId"] != "c-2" and len(r["clientOrderId"]) == 22
    assert (await alice.balances())["BTC"] == ("1.00000000", "0.00000000")


async def test_cancel_order_id_wins(alice):
    a = await limit(alice, "BUY", "0.1", "50000", newClientOrderId="a")
    await limit(alice, "BUY", "0.1", "49000", newClientOrderId="b")
    r = ok(await cancel(alice, orderId=a["orderId"], origClientOrderId="b"))
    assert r["origClientOrderId"] == "a"
    assert [o["clientOrderId"] for o in ok(await get(alice, "/api/v3/openOrders"))] == ["b"]


async def test_cancel_new_client_order_id_becomes_order_client_id(alice):
    placed = await limit(alice, "BUY", "0.1", "50000", newClientOrderId="before")
    ok(await cancel(alice, orderId=placed["orderId"], newClientOrderId="after"))
    o = ok(await get(alice, "/api/v3/order", symbol=SYM, orderId=placed["orderId"]))
    assert o["clientOrderId"] == "after"
    o = ok(await get(alice, "/api/v3/order", symbol=SYM, origClientOrderId="after"))
    assert o["orderId"] == placed["orderId"]


async def test_cancel_partially_filled_releases_rest(alice, bob):
    await limit(alice, "BUY", "0.1", "50000")
    ok(await bob.order(symbol=SYM, side="SELL", type="MARKET", quantity="0.04"))
    r = ok(await cancel(alice, orderId=1))
    assert (r["status"], r["executedQty"], r["cummulativeQuoteQty"]) == (
        "CANCELED", "0.04000000", "2000.00000000")
    b = await alice.balances()
    assert (b["USDT"], b["BTC"]) == (("98000.00000000", "0.00000000"),
                                     ("1.03996000", "0.00000000"))


@pytest.mark.parametrize("params", [{"orderId": 999}, {"origClientOrderId": "ghost"}])
async def test_cancel_unknown_order(alice, params):
    await limit(alice, "BUY", "0.1", "50000")
    before = await state(alice)
    err(await cancel(alice, **params), *UNKNOWN)
    assert await state(alice) == before


async def test_cancel_finished_order(alice, bob):
    await limit(alice, "BUY", "0.1", "50000")
    ok(await cancel(alice, orderId=1))
    err(await cancel(alice, orderId=1), *UNKNOWN)
    await limit(alice, "BUY", "0.1", "50000")
    ok(await bob.order(symbol=SYM, side="SELL", type="MARKET", quantity="0.1"))
    err(await cancel(alice, orderId=2), *UNKNOWN)


async def test_cancel_other_accounts_order(alice, bob):
    await limit(alice, "BUY", "0.1", "50000", newClientOrderId="x")
    before = await state(alice)
    err(await cancel(bob, orderId=1), *UNKNOWN)
    err(await cancel(bob, origClientOrderId="x"), *UNKNOWN)
    assert await state(alice) == before


async def test_cancel_without_ids(alice):
    await limit(alice, "BUY", "0.1", "50000")
    before = await state(alice)
    err(await cancel(alice), *BAD_COMBO)
    assert await state(alice) == before


async def test_cancel_empty_orig_client_order_id(alice):
    q = f"symbol={SYM}&origClientOrderId=&timestamp={alice.clock()}"
    q += "&signature=" + alice.sign(q)
    r = await alice.http.delete(f"/api/v3/order?{q}", headers={"X-MBX-APIKEY": alice.api_key})
    err(r, 400, -1119, "Original client order ID was empty.")


# ---------------------------------------------------------------- cancelRestrictions

async def _partially_filled(alice, bob) -> None:
    await limit(alice, "BUY", "0.1", "50000")  # order 1, PARTIALLY_FILLED below
    ok(await bob.order(symbol=SYM, side="SELL", type="MARKET", quantity="0.03"))  # order 2
    o = ok(await get(alice, "/api/v3/order", symbol=SYM, orderId=1))
    assert o["status"] == "PARTIALLY_FILLED"
    await limit(alice, "BUY", "0.1", "49000")  # order 3, NEW


@pytest.mark.parametrize("restriction,order_id,allowed", [
    ("ONLY_NEW", 3, True),
    ("ONLY_NEW", 1, False),
    ("ONLY_PARTIALLY_FILLED", 1, True),
    ("ONLY_PARTIALLY_FILLED", 3, False),
])
async def test_cancel_restrictions(alice, bob, restriction, order_id, allowed):
    await _partially_filled(alice, bob)
    before = await state(alice)
    r = await cancel(alice, orderId=order_id, cancelRestrictions=restriction)
    if allowed:
        assert ok(r)["status"] == "CANCELED"
    else:
        err(r, 400, -2011, "Order was not canceled due to cancel restrictions.")
        assert await state(alice) == before


@pytest.mark.parametrize("value", ["ONLY_FILLED", "only_new", "NEW"])
async def test_invalid_cancel_restrictions(alice, value):
    await limit(alice, "BUY", "0.1", "50000")
    before = await state(alice)
    err(await cancel(alice, orderId=1, cancelRestrictions=value), 400, -1145,
        "Invalid cancelRestrictions")
    assert await state(alice) == before


# ================================================================= DELETE /api/v3/openOrders

async def test_cancel_all_open_orders(alice, clock):
    await limit(alice, "BUY", "0.1", "50000", newClientOrderId="o1")
    await limit(alice, "SELL", "0.2", "60000", newClientOrderId="o2")
    ok(await alice.order(symbol=SYM, side="SELL", type="STOP_LOSS", quantity="0.1",
                         stopPrice="40000", newClientOrderId="o3"))
    await limit(alice, "SELL", "1", "3000", symbol="ETHUSDT")
    b = await alice.balances()
    assert (b["BTC"], b["USDT"]) == (("0.70000000", "0.30000000"),
                                     ("95000.00000000", "5000.00000000"))
    clock.advance(7)
    r = ok(await alice.signed("DELETE", "/api/v3/openOrders", symbol=SYM))
    assert [(c["orderId"], c["origClientOrderId"], c["status"], c["type"]) for c in r] == [
        (1, "o1", "CANCELED", "LIMIT"), (2, "o2", "CANCELED", "LIMIT"),
        (3, "o3", "CANCELED", "STOP_LOSS")]
    assert all(list(c) == CANCEL_KEYS for c in r[:2])
    assert set(r[2]) == set(CANCEL_KEYS) | {"stopPrice"}
    assert all(c["transactTime"] == clock() for c in r)
    assert r[2]["stopPrice"] == "40000.00000000"
    b = await alice.balances()
    assert (b["BTC"], b["USDT"], b["ETH"]) == (
        ("1.00000000", "0.00000000"), ("100000.00000000", "0.00000000"),
        ("9.00000000", "1.00000000"))
    assert ok(await get(alice, "/api/v3/openOrders", symbol=SYM)) == []
    assert [o["symbol"] for o in ok(await get(alice, "/api/v3/openOrders"))] == ["ETHUSDT"]


async def test_cancel_all_keeps_other_accounts(alice, bob):
    await limit(alice, "BUY", "0.1", "50000")
    await limit(bob, "BUY", "0.1", "50000")
    ok(await alice.signed("DELETE", "/api/v3/openOrders", symbol=SYM))
    assert len(ok(await get(bob, "/api/v3/openOrders", symbol=SYM))) == 1


async def test_cancel_all_with_nothing_open(alice):
    await limit(alice, "SELL", "1", "3000", symbol="ETHUSDT")
    before = await state(alice)
    err(await alice.signed("DELETE", "/api/v3/openOrders", symbol=SYM), *UNKNOWN)
    assert await state(alice) == before


async def test_cancel_all_errors(alice):
    err(await alice.signed("DELETE", "/api/v3/openOrders"), 400, -1102,
        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
    err(await alice.signed("DELETE", "/api/v3/openOrders", symbol="NOPE"), 400, -1121,
        "Invalid symbol.")


# ================================================================= GET /api/v3/openOrders

async def test_open_orders_with_and_without_symbol(alice, clock):
    await limit(alice, "BUY", "0.1", "50000")
    clock.advance(1)
    await limit(alice, "SELL", "1", "3000", symbol="ETHUSDT")
    clock.advance(1)
    await limit(alice, "BUY", "0.1", "49000")
    btc = ok(await get(alice, "/api/v3/openOrders", symbol=SYM))
    assert [(o["symbol"], o["orderId"]) for o in btc] == [(SYM, 1), (SYM, 2)]
    assert all(list(o) == QUERY_KEYS for o in btc)
    assert btc[0] == ok(await get(alice, "/api/v3/order", symbol=SYM, orderId=1))
    every = ok(await get(alice, "/api/v3/openOrders"))
    assert sorted((o["symbol"], o["orderId"]) for o in every) == [
        (SYM, 1), (SYM, 2), ("ETHUSDT", 1)]
    assert ok(await get(alice, "/api/v3/openOrders", symbol="BNBUSDT")) == []


async def test_open_orders_drop_finished_orders(alice, bob):
    await limit(alice, "SELL", "0.1", "50000")
    await limit(alice, "SELL", "0.1", "51000")
    await limit(bob, "BUY", "0.15", "50000")  # fills 1, rests 0.05 for bob
    assert [o["orderId"] for o in ok(await get(alice, "/api/v3/openOrders"))] == [2]
    mine = ok(await get(bob, "/api/v3/openOrders"))
    assert [(o["orderId"], o["status"], o["executedQty"]) for o in mine] == [
        (3, "PARTIALLY_FILLED", "0.10000000")]


async def test_open_orders_bad_symbol(alice):
    err(await get(alice, "/api/v3/openOrders", symbol="NOPE"), 400, -1121, "Invalid symbol.")


# ================================================================= GET /api/v3/allOrders

async def _history(alice, bob, clock) -> list[int]:
    """Five orders, one minute apart: NEW, FILLED, CANCELED, EXPIRED (IOC), NEW."""
    times = []
    await limit(alice, "BUY", "0.1", "40000")
    times.append(clock())
    clock.advance(60_000)
    await limit(bob, "SELL", "0.1", "50000")
    await limit(alice, "BUY", "0.1", "50000")          # fills bob's order
    times.append(clock())
    clock.advance(60_000)
    await limit(alice, "BUY", "0.1", "41000")          # order 4
    ok(await cancel(alice, orderId=4))
    times.append(clock())
    clock.advance(60_000)
    ok(await alice.order(symbol=SYM, side="BUY", type="LIMIT", timeInForce="IOC",
                         quantity="0.1", price="42000"))
    times.append(clock())
    clock.advance(60_000)
    await limit(alice, "SELL", "0.1", "60000")
    times.append(clock())
    return times


async def test_all_orders(alice, bob, clock):
    times = await _history(alice, bob, clock)
    r = ok(await get(alice, "/api/v3/allOrders", symbol=SYM))
    assert [(o["orderId"], o["status"]) for o in r] == [
        (1, "NEW"), (3, "FILLED"), (4, "CANCELED"), (5, "EXPIRED"), (6, "NEW")]
    assert all(list(o) == QUERY_KEYS for o in r)
    assert [o["updateTime"] for o in r] == times
    # limit keeps the most recent, still oldest first
    r = ok(await get(alice, "/api/v3/allOrders", symbol=SYM, limit=2))
    assert [o["orderId"] for o in r] == [5, 6]
    # orderId: from that id on
    r = ok(await get(alice, "/api/v3/allOrders", symbol=SYM, orderId=4))
    assert [o["orderId"] for o in r] == [4, 5, 6]
    r = ok(await get(alice, "/api/v3/allOrders", symbol=SYM, orderId=4, limit=1))
    assert [o["orderId"] for o in r] == [4]
    # startTime / endTime on the last update time
    r = ok(await get(alice, "/api/v3/allOrders", symbol=SYM, startTime=times[1]))
    assert [o["orderId"] for o in r] == [3, 4, 5, 6]
    r = ok(await get(alice, "/api/v3/allOrders", symbol=SYM, startTime=times[1], limit=2))
    assert [o["orderId"] for o in r] == [3, 4]
    r = ok(await get(alice, "/api/v3/allOrders", symbol=SYM, endTime=times[2]))
    assert [o["orderId"] for o in r] == [1, 3, 4]
    r = ok(await get(alice, "/api/v3/allOrders", symbol=SYM, endTime=times[2], limit=1))
    assert [o["orderId"] for o in r] == [4]
    r = ok(await get(alice, "/api/v3/allOrders", symbol=SYM, startTime=times[1],
                     endTime=times[3]))
    assert [o["orderId"] for o in r] == [3, 4, 5]
    r = ok(await get(alice, "/api/v3/allOrders", symbol=SYM, startTime=times[2],
                     endTime=times[2]))
    assert [o["orderId"] for o in r] == [4]
    # with a time range, orderId is ignored (WS doc)
    r = ok(await get(alice, "/api/v3/allOrders", symbol=SYM, orderId=6, startTime=times[1],
                     endTime=times[2]))
    assert [o["orderId"] for o in r] == [3, 4]
    # bob's history is his own
    assert [o["orderId"] for o in ok(await get(bob, "/api/v3/allOrders", symbol=SYM))] == [2]
    assert ok(await get(alice, "/api/v3/allOrders", symbol="ETHUSDT")) == []


async def test_all_orders_errors(alice, clock):
    now = clock()
    err(await get(alice, "/api/v3/allOrders", symbol=SYM, startTime=now - 86_400_001,
                  endTime=now), 400, -1127, "More than 24 hours between startTime and endTime.")
    assert ok(await get(alice, "/api/v3/allOrders", symbol=SYM, startTime=now - 86_400_000,
                        endTime=now)) == []
    err(await get(alice, "/api/v3/allOrders"), 400, -1102,
        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
    err(await get(alice, "/api/v3/allOrders", symbol="NOPE"), 400, -1121, "Invalid symbol.")
    err(await get(alice, "/api/v3/allOrders", symbol=SYM, limit=1001), 400, -1130,
        "Data sent for parameter 'limit' is not valid.")


# ================================================================= GET /api/v3/account

ACCOUNT_KEYS = ["makerCommission", "takerCommission", "buyerCommission", "sellerCommission",
                "commissionRates", "canTrade", "canWithdraw", "canDeposit", "brokered",
                "requireSelfTradePrevention", "preventSor", "updateTime", "accountType",
                "balances", "permissions", "uid"]


async def test_account(exchange, clock):
    t = await exchange.new_trader(BTC="1.5", USDT="100")
    created = clock()
    r = ok(await get(t, "/api/v3/account"))
    assert list(r) == ACCOUNT_KEYS
    assert r == {
        "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {"maker": "0.00100000", "taker": "0.00100000",
                            "buyer": "0.00000000", "seller": "0.00000000"},
        "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
        "requireSelfTradePrevention": False, "preventSor": False, "updateTime": created,
        "accountType": "SPOT",
        "balances": [
            {"asset": "BNB", "free": "0.00000000", "locked": "0.00000000"},
            {"asset": "BTC", "free": "1.50000000", "locked": "0.00000000"},
            {"asset": "ETH", "free": "0.00000000", "locked": "0.00000000"},
            {"asset": "SOL", "free": "0.00000000", "locked": "0.00000000"},
            {"asset": "USDT", "free": "100.00000000", "locked": "0.00000000"},
        ],
        "permissions": ["SPOT"], "uid": t.account_id,
    }
    clock.advance(10)
    await limit(t, "SELL", "0.5", "50000")
    r = ok(await get(t, "/api/v3/account", omitZeroBalances="true"))
    assert r["balances"] == [
        {"asset": "BTC", "free": "1.00000000", "locked": "0.50000000"},
        {"asset": "USDT", "free": "100.00000000", "locked": "0.00000000"},
    ]
    assert r["updateTime"] == clock()
    r = ok(await get(t, "/api/v3/account", omitZeroBalances="false"))
    assert len(r["balances"]) == 5


async def test_account_omit_zero_keeps_locked_only_assets(exchange):
    t = await exchange.new_trader(BTC="0.5")
    await limit(t, "SELL", "0.5", "50000")
    r = ok(await get(t, "/api/v3/account", omitZeroBalances="true"))
    assert r["balances"] == [{"asset": "BTC", "free": "0.00000000", "locked": "0.50000000"}]


async def test_account_bad_boolean(alice):
    err(await get(alice, "/api/v3/account", omitZeroBalances="yes"), 400, -1130,
        "Data sent for parameter 'omitZeroBalances' is not valid.")


# ================================================================= GET /api/v3/myTrades

async def _trades(alice, bob, clock):
    """alice: order 1 SELL (maker), trades 1 and 2; order 3 BUY (taker) trade 3."""
    await limit(alice, "SELL", "0.3", "50000")                         # alice order 1
    clock.advance(1000)
    ok(await bob.order(symbol=SYM, side="BUY", type="MARKET", quantity="0.1"))   # bob 2, trade 1
    clock.advance(1000)
    ok(await bob.order(symbol=SYM, side="BUY", type="MARKET", quantity="0.1"))   # bob 3, trade 2
    clock.advance(1000)
    await limit(bob, "SELL", "0.05", "49000")                          # bob 4
    await limit(alice, "BUY", "0.05", "49000")                         # alice 5, trade 3


async def test_my_trades(alice, bob, clock):
    await _trades(alice, bob, clock)
    r = ok(await get(alice, "/api/v3/myTrades", symbol=SYM))
    assert [(t["id"], t["orderId"], t["isBuyer"], t["isMaker"]) for t in r] == [
        (1, 1, False, True), (2, 1, False, True), (3, 5, True, False)]
    assert list(r[0]) == ["symbol", "id", "orderId", "orderListId", "price", "qty", "quoteQty",
                          "commission", "commissionAsset", "time", "isBuyer", "isMaker",
                          "isBestMatch"]
    assert r[0] == {"symbol": SYM, "id": 1, "orderId": 1, "orderListId": -1,
                    "price": "50000.00000000", "qty": "0.10000000", "quoteQty": "5000.00000000",
                    "commission": "5.00000000", "commissionAsset": "USDT",
                    "time": clock() - 2000, "isBuyer": False, "isMaker": True,
                    "isBestMatch": True}
    assert r[2] == {"symbol": SYM, "id": 3, "orderId": 5, "orderListId": -1,
                    "price": "49000.00000000", "qty": "0.05000000", "quoteQty": "2450.00000000",
                    "commission": "0.00005000", "commissionAsset": "BTC", "time": clock(),
                    "isBuyer": True, "isMaker": False, "isBestMatch": True}
    bobs = ok(await get(bob, "/api/v3/myTrades", symbol=SYM))
    assert [(t["id"], t["orderId"], t["isBuyer"], t["isMaker"], t["commissionAsset"])
            for t in bobs] == [(1, 2, True, False, "BTC"), (2, 3, True, False, "BTC"),
                               (3, 4, False, True, "USDT")]


async def test_my_trades_filters(alice, bob, clock):
    await _trades(alice, bob, clock)
    t0 = clock() - 2000

    async def ids(**params):
        return [t["id"] for t in ok(await get(alice, "/api/v3/myTrades", symbol=SYM, **params))]

    assert await ids(orderId=1) == [1, 2]
    assert await ids(orderId=5) == [3]
    assert await ids(orderId=2) == []  # bob's order
    assert await ids(fromId=2) == [2, 3]
    assert await ids(fromId=2, limit=1) == [2]
    assert await ids(orderId=1, fromId=2) == [2]
    assert await ids(limit=2) == [2, 3]
    assert await ids(startTime=t0 + 1) == [2, 3]
    assert await ids(startTime=t0, limit=1) == [1]
    assert await ids(endTime=t0 + 1000) == [1, 2]
    assert await ids(startTime=t0 + 1000, endTime=t0 + 1000) == [2]
    assert ok(await get(alice, "/api/v3/myTrades", symbol="ETHUSDT")) == []


@pytest.mark.parametrize("params", [
    {"orderId": 1, "startTime": 1}, {"orderId": 1, "endTime": 1},
    {"fromId": 1, "startTime": 1}, {"fromId": 1, "endTime": 1},
    {"orderId": 1, "fromId": 1, "startTime": 1},
])
async def test_my_trades_bad_combinations(alice, clock, params):
    params = {k: (clock() if k.endswith("Time") else v) for k, v in params.items()}
    err(await get(alice, "/api/v3/myTrades", symbol=SYM, **params), *BAD_COMBO)


async def test_my_trades_errors(alice, clock):
    err(await get(alice, "/api/v3/myTrades", symbol=SYM, startTime=clock() - 86_400_001,
                  endTime=clock()), 400, -1127, "More than 24 hours between startTime and endTime.")
    err(await get(alice, "/api/v3/myTrades"), 400, -1102,
        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
    err(await get(alice, "/api/v3/myTrades", symbol="NOPE"), 400, -1121, "Invalid symbol.")


# ================================================================= account/commission

async def test_account_commission(alice):
    r = ok(await get(alice, "/api/v3/account/commission", symbol=SYM))
    assert list(r) == ["symbol", "standardCommission", "taxCommission", "discount"]
    assert r == {
        "symbol": SYM,
        "standardCommission": {"maker": "0.00100000", "taker": "0.00100000",
                               "buyer": "0.00000000", "seller": "0.00000000"},
        "taxCommission": {"maker": "0.00000000", "taker": "0.00000000",
                          "buyer": "0.00000000", "seller": "0.00000000"},
        "discount": {"enabledForAccount": False, "enabledForSymbol": False,
                     "discountAsset": "BNB", "discount": "0.00000000"},
    }
    err(await get(alice, "/api/v3/account/commission", symbol="NOPE"), 400, -1121,
        "Invalid symbol.")
    err(await get(alice, "/api/v3/account/commission"), 400, -1102,
        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")


# ================================================================= rateLimit/order

async def counts(t) -> tuple[int, int]:
    r = ok(await get(t, "/api/v3/rateLimit/order"))
    assert [(x["rateLimitType"], x["interval"], x["intervalNum"], x["limit"]) for x in r] == [
        ("ORDERS", "SECOND", 10, 100), ("ORDERS", "DAY", 1, 200000)]
    assert all(list(x) == ["rateLimitType", "interval", "intervalNum", "limit", "count"]
               for x in r)
    return r[0]["count"], r[1]["count"]


async def test_rate_limit_order_counts(alice, bob, clock):
    clock.advance(10_000 - clock() % 10_000)  # start of a 10 s window
    assert await counts(alice) == (0, 0)
    r = await alice.order(symbol=SYM, side="SELL", type="LIMIT", timeInForce="GTC",
                          quantity="0.1", price="50000")
    assert (r.headers["x-mbx-order-count-10s"], r.headers["x-mbx-order-count-1d"]) == ("1", "1")
    await limit(alice, "SELL", "0.1", "51000")
    await limit(alice, "SELL", "0.1", "52000")
    assert await counts(alice) == (3, 3)
    # a resting order's first fill takes one off; a second fill of it does not
    ok(await bob.order(symbol=SYM, side="BUY", type="MARKET", quantity="0.05"))
    assert await counts(alice) == (2, 2)
    assert await counts(bob) == (0, 0)  # bob's own order filled at once: +1 -1
    ok(await bob.order(symbol=SYM, side="BUY", type="MARKET", quantity="0.05"))
    assert await counts(alice) == (2, 2)
    # cancels do not change the count
    ok(await cancel(alice, orderId=2))
    assert await counts(alice) == (2, 2)
    # an expired FOK still counts
    ok(await bob.order(symbol=SYM, side="BUY", type="LIMIT", timeInForce="FOK",
                       quantity="1", price="52000"))
    assert await counts(bob) == (1, 1)
    # rejected orders do not count
    r = await limit_raw(bob, "0.000001")
    assert r.status_code == 400
    assert await counts(bob) == (1, 1)
    # the 10 s window rolls over, the day does not
    clock.advance(10_000)
    assert await counts(alice) == (0, 2)
    r = await alice.order(symbol=SYM, side="SELL", type="LIMIT", timeInForce="GTC",
                          quantity="0.1", price="53000")
    assert (r.headers["x-mbx-order-count-10s"], r.headers["x-mbx-order-count-1d"]) == ("1", "3")


async def limit_raw(t, qty: str):
    return await t.order(symbol=SYM, side="BUY", type="LIMIT", timeInForce="GTC",
                         quantity=qty, price="50000")


async def test_order_rate_limit_exceeded(exchange, clock):
    t = await exchange.new_trader(BTC="1")
    clock.advance(10_000 - clock() % 10_000)
    for i in range(100):
        r = await t.order(symbol=SYM, side="SELL", type="LIMIT", timeInForce="GTC",
                          quantity="0.001", price=str(60000 + i))
        assert r.status_code == 200, r.text
    assert r.headers["x-mbx-order-count-10s"] == "100"
    before = await state(t)
    clock.advance(9_999)
    r = await t.order(symbol=SYM, side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="0.001", price="70000")
    err(r, 429, -1015, "Too many new orders; current limit is 100 orders per 10 SECOND.")
    assert await state(t) == before
    clock.advance(1)
    r = await t.order(symbol=SYM, side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="0.001", price="70000")
    assert r.status_code == 200, r.text
    assert (r.headers["x-mbx-order-count-10s"], r.headers["x-mbx-order-count-1d"]) == ("1", "101")


async def test_order_count_never_below_zero(alice, bob, clock):
    clock.advance(10_000 - clock() % 10_000)
    await limit(alice, "SELL", "0.1", "50000")
    clock.advance(10_000)  # new window: count 0, then alice's order fills
    ok(await bob.order(symbol=SYM, side="BUY", type="MARKET", quantity="0.1"))
    assert (await counts(alice))[0] == 0


# ================================================================= weight header

async def test_used_weight_on_every_response(alice, clock):
    clock.advance(60_000 - clock() % 60_000)
    seq = [
        (("GET", "/api/v3/order", {"symbol": SYM, "orderId": 1}), 4),       # -2013
        (("GET", "/api/v3/openOrders", {"symbol": SYM}), 6),
        (("GET", "/api/v3/openOrders", {}), 80),
        (("GET", "/api/v3/allOrders", {"symbol": SYM}), 20),
        (("GET", "/api/v3/account", {}), 20),
        (("GET", "/api/v3/myTrades", {"symbol": SYM}), 20),
        (("GET", "/api/v3/rateLimit/order", {}), 40),
        (("GET", "/api/v3/account/commission", {"symbol": SYM}), 20),
        (("GET", "/api/v3/myPreventedMatches", {"symbol": SYM, "preventedMatchId": 1}), 2),
        (("GET", "/api/v3/myPreventedMatches", {"symbol": SYM, "orderId": 1}), 20),
        (("POST", "/api/v3/order", {"symbol": SYM, "side": "BUY", "type": "LIMIT",
                                    "timeInForce": "GTC", "quantity": "0.1",
                                    "price": "50000"}), 1),
        (("DELETE", "/api/v3/order", {"symbol": SYM, "orderId": 1}), 1),
        (("DELETE", "/api/v3/openOrders", {"symbol": SYM}), 1),               # -2011
        (("POST", "/api/v3/order/test", {"symbol": SYM, "side": "BUY", "type": "MARKET",
                                         "quantity": "0.1"}), 1),
        (("POST", "/api/v3/order/test", {"symbol": SYM, "side": "BUY", "type": "MARKET",
                                         "quantity": "0.1", "computeCommissionRates": "true"}),
         20),
        (("POST", "/api/v3/order/test", {"symbol": SYM, "side": "BUY", "type": "MARKET",
                                         "quantity": "0.1", "computeCommissionRates": "TRUE"}),
         20),
    ]
    used = None
    for (method, path, params), weight in seq:
        r = await alice.signed(method, path, **params)
        value = int(r.headers["x-mbx-used-weight-1m"])
        if used is not None:
            assert value == used + weight, (method, path, r.text)
        used = value
    # failures before the signature check carry it too
    r = await alice.http.get("/api/v3/account", headers={"X-MBX-APIKEY": "short"})
    assert r.status_code == 401
    assert int(r.headers["x-mbx-used-weight-1m"]) == used + 20


# ================================================================= archived orders
DAY = 86_400_000
ARCHIVED = (400, -2026, "Order was canceled or expired with no executed qty over 90 days ago "
                        "and has been archived.")


async def test_orders_ended_without_fills_are_archived_after_90_days(exchange, alice, bob):
    """CANCELED / EXPIRED with nothing executed: gone from queries 90 days after they
    ended (-2026 by id, left out of allOrders); orders with fills stay."""
    canceled = await limit(alice, "BUY", "0.01", "40000", newClientOrderId="quote-1")
    ok(await cancel(alice, orderId=canceled["orderId"], newClientOrderId="cancel-1"))
    expired = ok(await alice.order(symbol=SYM, side="BUY", type="LIMIT", timeInForce="IOC",
                                   quantity="0.01", price="40000"))
    assert expired["status"] == "EXPIRED"
    ask = await limit(bob, "SELL", "0.01", "50000")
    filled = await limit(alice, "BUY", "0.01", "50000")
    assert filled["status"] == "FILLED"
    ids = [o["orderId"] for o in ok(await get(alice, "/api/v3/allOrders", symbol=SYM))]
    assert ids == [canceled["orderId"], expired["orderId"], filled["orderId"]]

    exchange.clock.advance(90 * DAY - 1)
    await limit(bob, "SELL", "0.01", "60000")  # any applied command archives what is due
    assert len(ok(await get(alice, "/api/v3/allOrders", symbol=SYM))) == 3

    exchange.clock.advance(1)
    await limit(bob, "SELL", "0.01", "60000")
    for oid in (canceled["orderId"], expired["orderId"]):
        err(await get(alice, "/api/v3/order", symbol=SYM, orderId=oid), *ARCHIVED)
        err(await cancel(alice, orderId=oid), *UNKNOWN)
    # by client id (the original or the cancel's) it is simply unknown
    for cid in ("quote-1", "cancel-1"):
        err(await get(alice, "/api/v3/order", symbol=SYM, origClientOrderId=cid), *NOT_EXIST)
    assert [o["orderId"] for o in ok(await get(alice, "/api/v3/allOrders", symbol=SYM))] == [
        filled["orderId"]]
    assert ok(await get(alice, "/api/v3/order", symbol=SYM, orderId=filled["orderId"]))
    # an id never handed out, or another account's archived order: still -2013
    for oid in (0, 10**9):
        err(await get(alice, "/api/v3/order", symbol=SYM, orderId=oid), *NOT_EXIST)
    err(await get(bob, "/api/v3/order", symbol=SYM, orderId=canceled["orderId"]), *NOT_EXIST)
    # and a freed client id can be used again
    assert (await limit(alice, "BUY", "0.01", "40000", newClientOrderId="quote-1"))["status"] == "NEW"


async def test_archived_orders_leave_the_account_lists(exchange, alice):
    """Memory stays bounded: the account's order list is compacted as orders archive."""
    for _ in range(150):
        exchange.clock.advance(200)  # within the ORDERS limit (100 per 10 s)
        o = await limit(alice, "BUY", "0.01", "40000")
        ok(await cancel(alice, orderId=o["orderId"]))
    exchange.clock.advance(91 * DAY)
    await limit(alice, "BUY", "0.01", "40000")
    ex = exchange.server.engine.exchange
    assert len(ex.orders[SYM]) == 1
    assert len(ex.account_orders[(alice.account_id, SYM)]) <= 1 + 150 // 2
    assert not ex.finished
    assert len(ok(await get(alice, "/api/v3/allOrders", symbol=SYM))) == 1
