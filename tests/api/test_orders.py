"""POST /api/v3/order and /api/v3/order/test over HTTP: every order type, time in force,
response type, filter and engine rejection, self-trade prevention, commissions.

endpoints.md §3.1, §3.2, §A.1, §A.5, §A.6; enums.md §2, §3, §4; errors.md §4, §5.
"""
from __future__ import annotations

import re

import pytest

SYM = "BTCUSDT"
ACK_KEYS = ["symbol", "orderId", "orderListId", "clientOrderId", "transactTime"]
RESULT_KEYS = ACK_KEYS + ["price", "origQty", "executedQty", "origQuoteOrderQty",
                          "cummulativeQuoteQty", "status", "timeInForce", "type", "side",
                          "workingTime", "selfTradePreventionMode"]
FULL_KEYS = RESULT_KEYS[:-1] + ["fills", "selfTradePreventionMode"]
CLIENT_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")


def err(r, status: int, code: int, msg: str) -> None:
    assert r.status_code == status, r.text
    assert r.json() == {"code": code, "msg": msg}


def ok(r) -> dict:
    assert r.status_code == 200, r.text
    return r.json()


async def limit(t, side: str, qty: str, price: str, tif: str = "GTC", **kw):
    return await t.order(symbol=SYM, side=side, type="LIMIT", timeInForce=tif, quantity=qty,
                         price=price, **kw)


async def market(t, side: str, qty: str | None = None, quote: str | None = None, **kw):
    return await t.order(symbol=SYM, side=side, type="MARKET", quantity=qty,
                         quoteOrderQty=quote, **kw)


async def get_order(t, order_id: int) -> dict:
    return ok(await t.signed("GET", "/api/v3/order", symbol=SYM, orderId=order_id))


async def open_orders(t) -> list:
    return ok(await t.signed("GET", "/api/v3/openOrders", symbol=SYM))


async def state(t):
    return await t.balances(), await open_orders(t)


async def bal(t, *assets: str) -> dict:
    b = await t.balances()
    return {a: b.get(a, ("0.00000000", "0.00000000")) for a in assets}


async def trade_at(exchange, price: str, qty: str = "0.001") -> None:
    """Make one trade at `price` between two fresh accounts (sets the last price)."""
    s = await exchange.new_trader(BTC="1")
    b = await exchange.new_trader(USDT="1000000")
    ok(await limit(s, "SELL", qty, price))
    r = ok(await limit(b, "BUY", qty, price))
    assert r["status"] == "FILLED" and len(r["fills"]) == 1, r


@pytest.fixture
async def alice(exchange):
    return await exchange.new_trader(BTC="1", USDT="100000")


@pytest.fixture
async def bob(exchange):
    return await exchange.new_trader(BTC="1", USDT="100000")


# ================================================================= LIMIT

async def test_limit_rests_full_response(alice, clock):
    r = ok(await limit(alice, "BUY", "0.1", "50000"))
    assert list(r) == FULL_KEYS
    assert CLIENT_ID.match(r["clientOrderId"]) and len(r["clientOrderId"]) == 22
    assert r == {
        "symbol": SYM, "orderId": 1, "orderListId": -1, "clientOrderId": r["clientOrderId"],
        "transactTime": clock(), "price": "50000.00000000", "origQty": "0.10000000",
        "executedQty": "0.00000000", "origQuoteOrderQty": "0.00000000",
        "cummulativeQuoteQty": "0.00000000", "status": "NEW", "timeInForce": "GTC",
        "type": "LIMIT", "side": "BUY", "workingTime": clock(), "fills": [],
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }
    assert await bal(alice, "USDT", "BTC") == {"USDT": ("95000.00000000", "5000.00000000"),
                                               "BTC": ("1.00000000", "0.00000000")}
    r2 = ok(await limit(alice, "SELL", "0.2", "60000", newClientOrderId="mine-1"))
    assert (r2["orderId"], r2["clientOrderId"]) == (2, "mine-1")
    assert (await bal(alice, "BTC"))["BTC"] == ("0.80000000", "0.20000000")


async def test_limit_taker_fills_at_maker_price(alice, bob, clock):
    ok(await limit(alice, "SELL", "0.1", "50000"))
    clock.advance(10)
    r = ok(await limit(bob, "BUY", "0.05", "51000"))
    assert r["status"] == "FILLED"
    assert (r["executedQty"], r["cummulativeQuoteQty"]) == ("0.05000000", "2500.00000000")
    assert r["fills"] == [{"price": "50000.00000000", "qty": "0.05000000",
                           "commission": "0.00005000", "commissionAsset": "BTC", "tradeId": 1}]
    # the lock taken at 51000 is released: only 2500 spent
    assert await bal(bob, "USDT", "BTC") == {"USDT": ("97500.00000000", "0.00000000"),
                                             "BTC": ("1.04995000", "0.00000000")}
    assert await bal(alice, "USDT", "BTC") == {"USDT": ("102497.50000000", "0.00000000"),
                                               "BTC": ("0.90000000", "0.05000000")}
    maker = await get_order(alice, 1)
    assert (maker["status"], maker["executedQty"]) == ("PARTIALLY_FILLED", "0.05000000")
    assert maker["updateTime"] == clock() and maker["time"] == clock() - 10


async def test_limit_partial_fill_rests_with_reduced_lock(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50000"))
    r = ok(await limit(bob, "BUY", "0.2", "51000"))
    assert (r["status"], r["executedQty"]) == ("PARTIALLY_FILLED", "0.10000000")
    assert await bal(bob, "USDT") == {"USDT": ("89900.00000000", "5100.00000000")}
    assert [o["orderId"] for o in await open_orders(bob)] == [2]


async def test_limit_walks_price_levels_best_first(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50100"))
    ok(await limit(alice, "SELL", "0.1", "50000"))
    ok(await limit(alice, "SELL", "0.1", "50200"))
    r = ok(await limit(bob, "BUY", "0.15", "50150"))
    assert [(f["price"], f["qty"]) for f in r["fills"]] == [
        ("50000.00000000", "0.10000000"), ("50100.00000000", "0.05000000")]
    assert r["cummulativeQuoteQty"] == "7505.00000000"
    assert [f["tradeId"] for f in r["fills"]] == [1, 2]


# ================================================================= time in force

async def test_ioc_partial_expires(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50000"))
    r = ok(await limit(bob, "BUY", "0.3", "50000", tif="IOC"))
    assert (r["status"], r["timeInForce"], r["executedQty"]) == ("EXPIRED", "IOC", "0.10000000")
    assert len(r["fills"]) == 1
    assert await open_orders(bob) == []
    assert await bal(bob, "USDT") == {"USDT": ("95000.00000000", "0.00000000")}


async def test_ioc_full_fill(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50000"))
    r = ok(await limit(bob, "BUY", "0.1", "50000", tif="IOC"))
    assert (r["status"], r["executedQty"]) == ("FILLED", "0.10000000")


async def test_ioc_no_liquidity_expires_unfilled(bob):
    r = ok(await limit(bob, "BUY", "0.1", "50000", tif="IOC"))
    assert (r["status"], r["executedQty"], r["fills"]) == ("EXPIRED", "0.00000000", [])
    assert await bal(bob, "USDT") == {"USDT": ("100000.00000000", "0.00000000")}


async def test_fok_expires_without_any_fill(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50000"))
    r = ok(await limit(bob, "BUY", "0.2", "50000", tif="FOK"))
    assert (r["status"], r["timeInForce"], r["executedQty"], r["fills"]) == (
        "EXPIRED", "FOK", "0.00000000", [])
    assert await bal(bob, "USDT", "BTC") == {"USDT": ("100000.00000000", "0.00000000"),
                                             "BTC": ("1.00000000", "0.00000000")}
    maker = await get_order(alice, 1)
    assert (maker["status"], maker["executedQty"]) == ("NEW", "0.00000000")


async def test_fok_full_fill(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50000"))
    ok(await limit(alice, "SELL", "0.1", "50010"))
    r = ok(await limit(bob, "BUY", "0.2", "50010", tif="FOK"))
    assert (r["status"], r["executedQty"]) == ("FILLED", "0.20000000")
    assert len(r["fills"]) == 2


async def test_gtc_partial_then_filled_later(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50000"))
    r = ok(await limit(bob, "BUY", "0.15", "50000"))
    assert r["status"] == "PARTIALLY_FILLED"
    ok(await limit(alice, "SELL", "0.05", "50000"))
    o = await get_order(bob, r["orderId"])
    assert (o["status"], o["executedQty"], o["cummulativeQuoteQty"]) == (
        "FILLED", "0.15000000", "7500.00000000")


# ================================================================= MARKET

async def test_market_buy_quantity(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50000"))
    ok(await limit(alice, "SELL", "0.1", "50100"))
    r = ok(await market(bob, "BUY", "0.15"))
    assert list(r) == FULL_KEYS
    assert (r["price"], r["timeInForce"], r["type"], r["status"]) == (
        "0.00000000", "GTC", "MARKET", "FILLED")
    assert (r["origQty"], r["executedQty"], r["cummulativeQuoteQty"]) == (
        "0.15000000", "0.15000000", "7505.00000000")
    assert [(f["price"], f["qty"], f["commission"]) for f in r["fills"]] == [
        ("50000.00000000", "0.10000000", "0.00010000"),
        ("50100.00000000", "0.05000000", "0.00005000")]
    assert await bal(bob, "USDT", "BTC") == {"USDT": ("92495.00000000", "0.00000000"),
                                             "BTC": ("1.14985000", "0.00000000")}


async def test_market_sell_quantity(alice, bob):
    ok(await limit(alice, "BUY", "0.1", "50000"))
    r = ok(await market(bob, "SELL", "0.1"))
    assert (r["status"], r["cummulativeQuoteQty"]) == ("FILLED", "5000.00000000")
    assert r["fills"] == [{"price": "50000.00000000", "qty": "0.10000000",
                           "commission": "5.00000000", "commissionAsset": "USDT", "tradeId": 1}]
    assert await bal(bob, "USDT", "BTC") == {"USDT": ("104995.00000000", "0.00000000"),
                                             "BTC": ("0.90000000", "0.00000000")}


async def test_market_insufficient_liquidity_expires(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50000"))
    r = ok(await market(bob, "BUY", "0.3"))
    assert (r["status"], r["origQty"], r["executedQty"]) == ("EXPIRED", "0.30000000", "0.10000000")
    assert await bal(bob, "USDT") == {"USDT": ("95000.00000000", "0.00000000")}
    assert await open_orders(bob) == []


async def test_market_on_empty_book_expires(bob):
    r = ok(await market(bob, "SELL", "0.1"))
    assert (r["status"], r["executedQty"], r["fills"]) == ("EXPIRED", "0.00000000", [])
    assert await bal(bob, "BTC") == {"BTC": ("1.00000000", "0.00000000")}


async def test_market_buy_quote_order_qty(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50000"))
    r = ok(await market(bob, "BUY", quote="1001.23"))
    # 1001.23 / 50000 = 0.0200246 -> 0.02002 on the 0.00001 step
    assert (r["status"], r["origQty"], r["executedQty"], r["origQuoteOrderQty"],
            r["cummulativeQuoteQty"]) == ("FILLED", "0.02002000", "0.02002000",
                                          "1001.23000000", "1001.00000000")
    assert await bal(bob, "USDT", "BTC") == {"USDT": ("98999.00000000", "0.00000000"),
                                             "BTC": ("1.01999998", "0.00000000")}
    o = await get_order(bob, r["orderId"])
    assert (o["origQty"], o["origQuoteOrderQty"]) == ("0.02002000", "1001.23000000")


async def test_market_sell_quote_order_qty(alice, bob):
    ok(await limit(alice, "BUY", "0.1", "50000"))
    r = ok(await market(bob, "SELL", quote="1000"))
    assert (r["status"], r["executedQty"], r["cummulativeQuoteQty"]) == (
        "FILLED", "0.02000000", "1000.00000000")
    assert await bal(bob, "USDT", "BTC") == {"USDT": ("100999.00000000", "0.00000000"),
                                             "BTC": ("0.98000000", "0.00000000")}


async def test_market_quote_order_qty_beyond_liquidity_expires(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50000"))
    r = ok(await market(bob, "BUY", quote="10000"))
    assert (r["status"], r["executedQty"], r["cummulativeQuoteQty"]) == (
        "EXPIRED", "0.10000000", "5000.00000000")
    assert await bal(bob, "USDT") == {"USDT": ("95000.00000000", "0.00000000")}


async def test_market_quote_order_qty_on_empty_book(bob):
    before = await state(bob)
    err(await market(bob, "BUY", quote="100"), 400, -2010,
        "Order book liquidity is less than symbol minimum quantity.")
    assert await state(bob) == before


async def test_market_needs_quantity_or_quote(bob):
    err(await market(bob, "BUY"), 400, -1102,
        "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")


async def test_market_quantity_and_quote_together(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50000"))
    before = await state(bob)
    err(await market(bob, "BUY", "0.01", quote="100"), 400, -1106,
        "Parameter 'quoteOrderQty' sent when not required.")
    assert await state(bob) == before


# ================================================================= LIMIT_MAKER

async def test_limit_maker_rests(alice):
    r = ok(await alice.order(symbol=SYM, side="BUY", type="LIMIT_MAKER", quantity="0.1",
                             price="50000"))
    assert list(r) == ACK_KEYS  # default response type for LIMIT_MAKER
    o = await get_order(alice, r["orderId"])
    assert (o["type"], o["status"], o["timeInForce"], o["isWorking"]) == (
        "LIMIT_MAKER", "NEW", "GTC", True)


async def test_limit_maker_would_take(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50000"))
    before = await state(bob)
    for price in ("50000", "50001"):
        r = await bob.order(symbol=SYM, side="BUY", type="LIMIT_MAKER", quantity="0.1",
                            price=price)
        err(r, 400, -2010, "Order would immediately match and take.")
    assert await state(bob) == before
    r = ok(await bob.order(symbol=SYM, side="BUY", type="LIMIT_MAKER", quantity="0.1",
                           price="49999.99"))
    assert r["orderId"] == 2


async def test_limit_maker_takes_no_time_in_force(alice):
    r = await alice.order(symbol=SYM, side="BUY", type="LIMIT_MAKER", quantity="0.1",
                          price="50000", timeInForce="GTC")
    err(r, 400, -1114, "TimeInForce parameter sent when not required.")


# ================================================================= stops

def _stop_params(otype: str, side: str, stop: str, **kw) -> dict:
    p = {"symbol": SYM, "side": side, "type": otype, "quantity": "0.01", "stopPrice": stop}
    if otype.endswith("_LIMIT"):
        p.update(timeInForce="GTC", price=stop)
    p.update(kw)
    return p


# (type, side, stop price that already triggers at last=50000, one that does not)
STOP_CASES = [
    ("STOP_LOSS", "SELL", "50000", "49000"),
    ("STOP_LOSS", "BUY", "50000", "51000"),
    ("STOP_LOSS_LIMIT", "SELL", "50500", "49000"),
    ("STOP_LOSS_LIMIT", "BUY", "49500", "51000"),
    ("TAKE_PROFIT", "SELL", "49000", "51000"),
    ("TAKE_PROFIT", "BUY", "51000", "49000"),
    ("TAKE_PROFIT_LIMIT", "SELL", "50000", "51000"),
    ("TAKE_PROFIT_LIMIT", "BUY", "50000", "49000"),
]


@pytest.mark.parametrize("otype,side,bad,good", STOP_CASES)
async def test_stop_would_trigger_immediately(exchange, alice, otype, side, bad, good):
    await trade_at(exchange, "50000")
    before = await state(alice)
    err(await alice.order(**_stop_params(otype, side, bad)), 400, -2010,
        "Order would trigger immediately.")
    assert await state(alice) == before
    r = ok(await alice.order(**_stop_params(otype, side, good)))
    assert list(r) == ACK_KEYS
    o = await get_order(alice, r["orderId"])
    assert (o["type"], o["side"], o["status"], o["isWorking"], o["workingTime"]) == (
        otype, side, "NEW", False, -1)
    assert o["stopPrice"] == f"{good}.00000000"


@pytest.mark.parametrize("otype,side,bad,good", STOP_CASES)
async def test_stop_without_last_price_is_accepted(alice, otype, side, bad, good):
    r = ok(await alice.order(**_stop_params(otype, side, bad, newOrderRespType="RESULT")))
    assert r["status"] == "NEW"
    assert r["stopPrice"] == f"{bad}.00000000"
    assert r["workingTime"] == -1
    assert set(r) == set(RESULT_KEYS) | {"stopPrice"}


async def test_stop_loss_sell_triggers_on_cross_and_fills(exchange, alice, clock):
    lp = await exchange.new_trader(USDT="100000")
    await trade_at(exchange, "50000")
    ok(await limit(lp, "BUY", "0.01", "48000"))
    r = ok(await alice.order(**_stop_params("STOP_LOSS", "SELL", "49000")))
    assert (await bal(alice, "BTC"))["BTC"] == ("0.99000000", "0.01000000")
    clock.advance(100)
    await trade_at(exchange, "49500")  # above the stop: nothing happens
    assert (await get_order(alice, r["orderId"]))["isWorking"] is False
    clock.advance(100)
    await trade_at(exchange, "49000")  # at the stop: triggers, sells into the 48000 bid
    o = await get_order(alice, r["orderId"])
    assert (o["status"], o["isWorking"], o["workingTime"], o["updateTime"]) == (
        "FILLED", True, clock(), clock())
    assert (o["executedQty"], o["cummulativeQuoteQty"]) == ("0.01000000", "480.00000000")
    assert await bal(alice, "BTC", "USDT") == {"BTC": ("0.99000000", "0.00000000"),
                                               "USDT": ("100479.52000000", "0.00000000")}
    assert await open_orders(alice) == []


async def test_stop_loss_limit_buy_triggers_and_rests(exchange, alice, clock):
    await trade_at(exchange, "50000")
    r = ok(await alice.order(**_stop_params("STOP_LOSS_LIMIT", "BUY", "51000",
                                            price="51500")))
    assert (await bal(alice, "USDT"))["USDT"] == ("99485.00000000", "515.00000000")
    clock.advance(100)
    await trade_at(exchange, "51000")
    o = await get_order(alice, r["orderId"])
    assert (o["status"], o["isWorking"], o["workingTime"], o["price"]) == (
        "NEW", True, clock(), "51500.00000000")
    assert [x["orderId"] for x in await open_orders(alice)] == [r["orderId"]]


async def test_take_profit_buy_triggers_when_price_falls(exchange, alice, clock):
    lp = await exchange.new_trader(BTC="1")
    await trade_at(exchange, "50000")
    ok(await limit(lp, "SELL", "0.01", "49500"))
    r = ok(await alice.order(**_stop_params("TAKE_PROFIT", "BUY", "49000")))
    clock.advance(100)
    await trade_at(exchange, "49000")
    o = await get_order(alice, r["orderId"])
    assert (o["status"], o["isWorking"], o["executedQty"], o["cummulativeQuoteQty"]) == (
        "FILLED", True, "0.01000000", "495.00000000")
    assert await bal(alice, "BTC", "USDT") == {"BTC": ("1.00999000", "0.00000000"),
                                               "USDT": ("99505.00000000", "0.00000000")}


async def test_take_profit_limit_sell_triggers_when_price_rises(exchange, alice, clock):
    await trade_at(exchange, "50000")
    r = ok(await alice.order(**_stop_params("TAKE_PROFIT_LIMIT", "SELL", "51000",
                                            price="50500")))
    clock.advance(100)
    await trade_at(exchange, "50900")
    assert (await get_order(alice, r["orderId"]))["isWorking"] is False
    await trade_at(exchange, "51000")
    o = await get_order(alice, r["orderId"])
    assert (o["status"], o["isWorking"], o["workingTime"]) == ("NEW", True, clock())


@pytest.mark.parametrize("stop", ["40000.005", "0.001", "1000001"])
async def test_stop_price_filter(alice, stop):
    before = await state(alice)
    err(await alice.order(**_stop_params("STOP_LOSS", "SELL", stop)), 400, -1013,
        "Filter failure: PRICE_FILTER")
    assert await state(alice) == before


async def test_stop_needs_stop_price_or_trailing_delta(alice):
    r = await alice.order(symbol=SYM, side="SELL", type="STOP_LOSS", quantity="0.01")
    err(r, 400, -1102, "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!")


# ================================================================= trailing stops

async def test_trailing_stop_loss_limit_sell(exchange, alice, clock):
    lp = await exchange.new_trader(USDT="100000")
    await trade_at(exchange, "50000")
    ok(await limit(lp, "BUY", "0.01", "50000"))
    r = ok(await alice.order(symbol=SYM, side="SELL", type="STOP_LOSS_LIMIT", quantity="0.01",
                             price="50000", timeInForce="GTC", trailingDelta="100",
                             newOrderRespType="RESULT"))
    assert r["trailingDelta"] == 100 and isinstance(r["trailingTime"], int)
    assert r["stopPrice"] == "0.00000000"
    await trade_at(exchange, "51000")  # new high
    await trade_at(exchange, "50500")  # 0.98% below the high: holds
    assert (await get_order(alice, r["orderId"]))["isWorking"] is False
    clock.advance(100)
    await trade_at(exchange, "50490")  # 1% below 51000: triggers, sells at its 50000 limit
    o = await get_order(alice, r["orderId"])
    assert (o["status"], o["isWorking"], o["workingTime"], o["trailingDelta"]) == (
        "FILLED", True, clock(), 100)
    assert o["cummulativeQuoteQty"] == "500.00000000"


async def test_trailing_stop_loss_market_sell(exchange, alice, clock):
    lp = await exchange.new_trader(USDT="100000")
    await trade_at(exchange, "50000")
    ok(await limit(lp, "BUY", "0.01", "50000"))
    r = ok(await alice.order(symbol=SYM, side="SELL", type="STOP_LOSS", quantity="0.01",
                             trailingDelta="100", newOrderRespType="RESULT"))
    assert r["trailingDelta"] == 100
    await trade_at(exchange, "51000")
    await trade_at(exchange, "50500")
    assert (await get_order(alice, r["orderId"]))["isWorking"] is False
    await trade_at(exchange, "50490")
    o = await get_order(alice, r["orderId"])
    assert (o["status"], o["cummulativeQuoteQty"]) == ("FILLED", "500.00000000")


async def test_trailing_with_stop_price_echoes_both(alice):
    r = ok(await alice.order(symbol=SYM, side="BUY", type="STOP_LOSS_LIMIT", quantity="0.01",
                             price="52000", stopPrice="51000", trailingDelta="200",
                             timeInForce="GTC", newOrderRespType="RESULT"))
    assert (r["stopPrice"], r["trailingDelta"], r["trailingTime"]) == ("51000.00000000", 200, -1)
    o = await get_order(alice, r["orderId"])
    assert (o["stopPrice"], o["trailingDelta"], o["trailingTime"]) == ("51000.00000000", 200, -1)


@pytest.mark.parametrize("delta", ["9", "2001"])
async def test_trailing_delta_filter(alice, delta):
    before = await state(alice)
    r = await alice.order(symbol=SYM, side="SELL", type="STOP_LOSS", quantity="0.01",
                          trailingDelta=delta)
    err(r, 400, -1013, "Filter failure: TRAILING_DELTA")
    assert await state(alice) == before


# ================================================================= icebergs

async def test_iceberg_shows_iceberg_qty(alice):
    r = ok(await limit(alice, "SELL", "0.1", "50000", icebergQty="0.02"))
    assert r["icebergQty"] == "0.02000000"
    o = await get_order(alice, r["orderId"])
    assert o["icebergQty"] == "0.02000000"
    assert [x["icebergQty"] for x in await open_orders(alice)] == ["0.02000000"]
    assert (await bal(alice, "BTC"))["BTC"] == ("0.90000000", "0.10000000")


async def test_plain_order_reports_zero_iceberg_qty_in_queries(alice):
    r = ok(await limit(alice, "SELL", "0.1", "50000"))
    assert "icebergQty" not in r
    assert (await get_order(alice, r["orderId"]))["icebergQty"] == "0.00000000"


async def test_iceberg_fills_slice_by_slice(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50000", icebergQty="0.02"))
    r = ok(await limit(bob, "BUY", "0.05", "50000"))
    assert [f["qty"] for f in r["fills"]] == ["0.02000000", "0.02000000", "0.01000000"]
    o = await get_order(alice, 1)
    assert (o["status"], o["executedQty"]) == ("PARTIALLY_FILLED", "0.05000000")


async def test_iceberg_visible_quantity_on_the_book(exchange, alice, bob):
    async def asks():
        r = await exchange.http.get("/api/v3/depth", params={"symbol": SYM})
        return ok(r)["asks"]

    ok(await limit(alice, "SELL", "0.1", "50000", icebergQty="0.02"))
    assert await asks() == [["50000.00000000", "0.02000000"]]
    ok(await limit(bob, "BUY", "0.03", "50000"))  # one slice, then 0.01 of the refill
    assert await asks() == [["50000.00000000", "0.01000000"]]
    ok(await limit(bob, "BUY", "0.06", "50000"))  # 0.01 + 0.02 + 0.02 + 0.01
    assert await asks() == [["50000.00000000", "0.01000000"]]
    o = await get_order(alice, 1)
    assert (o["executedQty"], o["icebergQty"]) == ("0.09000000", "0.02000000")
    ok(await limit(bob, "BUY", "0.01", "50000"))
    assert await asks() == []
    assert (await get_order(alice, 1))["status"] == "FILLED"


async def test_iceberg_refill_goes_to_back_of_queue(exchange, alice, bob):
    carol = await exchange.new_trader(BTC="1")
    ok(await limit(alice, "SELL", "0.1", "50000", icebergQty="0.02"))   # order 1
    ok(await limit(carol, "SELL", "0.05", "50000"))                      # order 2
    r = ok(await limit(bob, "BUY", "0.03", "50000"))
    assert [f["qty"] for f in r["fills"]] == ["0.02000000", "0.01000000"]
    assert (await get_order(alice, 1))["executedQty"] == "0.02000000"
    assert (await get_order(carol, 2))["executedQty"] == "0.01000000"
    r = ok(await limit(bob, "BUY", "0.06", "50000"))
    # carol (0.04 left) is ahead of alice's refilled slice
    assert [f["qty"] for f in r["fills"]] == ["0.04000000", "0.02000000"]
    assert (await get_order(carol, 2))["status"] == "FILLED"
    assert (await get_order(alice, 1))["executedQty"] == "0.04000000"


async def test_iceberg_limit_maker(alice):
    r = ok(await alice.order(symbol=SYM, side="BUY", type="LIMIT_MAKER", quantity="0.1",
                             price="50000", icebergQty="0.05", newOrderRespType="RESULT"))
    assert r["icebergQty"] == "0.05000000"


@pytest.mark.parametrize("params,code,msg", [
    ({"icebergQty": "0.1"}, -2010, "IcebergQty exceeds QTY."),
    ({"icebergQty": "0.2"}, -2010, "IcebergQty exceeds QTY."),
    ({"icebergQty": "0.02", "timeInForce": "IOC"}, -2010, "Unsupported order combination"),
    ({"icebergQty": "0.02", "timeInForce": "FOK"}, -2010, "Unsupported order combination"),
    ({"icebergQty": "0.005"}, -1013, "Filter failure: ICEBERG_PARTS"),
    ({"icebergQty": "0.000015"}, -1013, "Filter failure: LOT_SIZE"),
])
async def test_iceberg_rejections(alice, params, code, msg):
    before = await state(alice)
    p = {"timeInForce": "GTC", **params}
    err(await alice.order(symbol=SYM, side="SELL", type="LIMIT", quantity="0.1",
                          price="50000", **p), 400, code, msg)
    assert await state(alice) == before


# ================================================================= response types

@pytest.mark.parametrize("resp,keys", [("ACK", ACK_KEYS), ("RESULT", RESULT_KEYS),
                                       ("FULL", FULL_KEYS)])
async def test_new_order_resp_type_keys(alice, bob, clock, resp, keys):
    ok(await limit(alice, "SELL", "0.1", "50000"))
    r = ok(await limit(bob, "BUY", "0.1", "50000", newOrderRespType=resp))
    assert list(r) == keys
    assert (r["symbol"], r["orderId"], r["orderListId"], r["transactTime"]) == (
        SYM, 2, -1, clock())
    if resp != "ACK":
        assert (r["status"], r["executedQty"], r["workingTime"]) == (
            "FILLED", "0.10000000", clock())
    if resp == "FULL":
        assert len(r["fills"]) == 1


@pytest.mark.parametrize("otype,extra,default", [
    ("LIMIT", {"timeInForce": "GTC", "price": "40000"}, FULL_KEYS),
    ("MARKET", {}, FULL_KEYS),
    ("LIMIT_MAKER", {"price": "40000"}, ACK_KEYS),
    ("STOP_LOSS", {"stopPrice": "60000"}, ACK_KEYS),
    ("STOP_LOSS_LIMIT", {"stopPrice": "60000", "price": "60000", "timeInForce": "GTC"}, ACK_KEYS),
    ("TAKE_PROFIT", {"stopPrice": "40000"}, ACK_KEYS),
    ("TAKE_PROFIT_LIMIT", {"stopPrice": "40000", "price": "40000", "timeInForce": "GTC"},
     ACK_KEYS),
])
async def test_default_resp_type(alice, otype, extra, default):
    r = ok(await alice.order(symbol=SYM, side="BUY", type=otype, quantity="0.01", **extra))
    assert list(r) == default


async def test_bad_resp_type(alice):
    before = await state(alice)
    err(await limit(alice, "BUY", "0.1", "50000", newOrderRespType="MINI"), 400, -1130,
        "Data sent for parameter 'newOrderRespType' is not valid.")
    assert await state(alice) == before


async def test_strategy_fields_echoed(alice):
    r = ok(await limit(alice, "BUY", "0.1", "50000", strategyId="37463720",
                       strategyType="1000000"))
    assert (r["strategyId"], r["strategyType"]) == (37463720, 1000000)
    o = await get_order(alice, r["orderId"])
    assert (o["strategyId"], o["strategyType"]) == (37463720, 1000000)
    err(await limit(alice, "BUY", "0.1", "50000", strategyType="999999"), 400, -1134,
        "strategyType was less than 1000000.")


# ================================================================= parameter rules per type

@pytest.mark.parametrize("params,code,msg", [
    ({"type": "LIMIT", "quantity": "0.1", "price": "50000"}, -1102,
     "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."),
    ({"type": "LIMIT", "timeInForce": "GTC", "price": "50000"}, -1102,
     "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."),
    ({"type": "LIMIT", "timeInForce": "GTC", "quantity": "0.1"}, -1102,
     "Mandatory parameter 'price' was not sent, was empty/null, or malformed."),
    ({"type": "LIMIT_MAKER", "quantity": "0.1"}, -1102,
     "Mandatory parameter 'price' was not sent, was empty/null, or malformed."),
    ({"type": "STOP_LOSS_LIMIT", "quantity": "0.1", "price": "1", "stopPrice": "1"}, -1102,
     "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."),
    ({"type": "STOP_LOSS", "stopPrice": "40000"}, -1102,
     "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."),
    ({"type": "MARKET", "quantity": "0.1", "price": "50000"}, -1106,
     "Parameter 'price' sent when not required."),
    ({"type": "MARKET", "quantity": "0.1", "timeInForce": "GTC"}, -1114,
     "TimeInForce parameter sent when not required."),
    ({"type": "MARKET", "quantity": "0.1", "stopPrice": "50000"}, -1106,
     "Parameter 'stopPrice' sent when not required."),
    ({"type": "MARKET", "quantity": "0.1", "icebergQty": "0.01"}, -1106,
     "Parameter 'icebergQty' sent when not required."),
    ({"type": "LIMIT", "timeInForce": "GTC", "quantity": "0.1", "price": "50000",
      "stopPrice": "50000"}, -1106, "Parameter 'stopPrice' sent when not required."),
    ({"type": "LIMIT", "timeInForce": "GTC", "quantity": "0.1", "price": "50000",
      "trailingDelta": "100"}, -1106, "Parameter 'trailingDelta' sent when not required."),
    ({"type": "LIMIT", "timeInForce": "GTC", "quantity": "0.1", "price": "50000",
      "quoteOrderQty": "100"}, -1106, "Parameter 'quoteOrderQty' sent when not required."),
    ({"type": "STOP_LOSS", "quantity": "0.1", "stopPrice": "40000", "price": "40000"}, -1106,
     "Parameter 'price' sent when not required."),
    ({"type": "STOP_LOSS", "quantity": "0.1", "stopPrice": "40000", "timeInForce": "GTC"},
     -1114, "TimeInForce parameter sent when not required."),
    ({"type": "TAKE_PROFIT", "quantity": "0.1", "stopPrice": "60000", "timeInForce": "IOC"},
     -1114, "TimeInForce parameter sent when not required."),
])
async def test_type_dependent_params(alice, params, code, msg):
    before = await state(alice)
    err(await alice.order(symbol=SYM, side="BUY", **params), 400, code, msg)
    assert await state(alice) == before


# ================================================================= filters

@pytest.mark.parametrize("qty,price,filt", [
    ("0.1", "50000.001", "PRICE_FILTER"),   # 3 decimals: legal syntax, off the 0.01 tick
    ("0.1", "50000.005", "PRICE_FILTER"),   # off tick
    ("0.1", "0.001", "PRICE_FILTER"),       # below minPrice
    ("0.0001", "1000001", "PRICE_FILTER"),  # above maxPrice
    ("0.000015", "50000", "LOT_SIZE"),      # off step
    ("0.000001", "50000", "LOT_SIZE"),      # below minQty
    ("9001", "1", "LOT_SIZE"),              # above maxQty
    ("0.00009", "50000", "NOTIONAL"),       # 4.5 < 5
    ("0.001", "4999.99", "NOTIONAL"),
])
async def test_filter_failures(alice, qty, price, filt):
    before = await state(alice)
    err(await limit(alice, "BUY", qty, price), 400, -1013, f"Filter failure: {filt}")
    assert await state(alice) == before


async def test_notional_boundary_passes(alice):
    r = ok(await limit(alice, "BUY", "0.0001", "50000"))  # exactly 5
    assert r["status"] == "NEW"


async def test_filters_on_market_orders(alice):
    before = await state(alice)
    err(await market(alice, "BUY", "0.000015"), 400, -1013, "Filter failure: LOT_SIZE")
    err(await market(alice, "BUY", "101"), 400, -1013, "Filter failure: MARKET_LOT_SIZE")
    assert await state(alice) == before


async def test_market_notional_uses_average_price(exchange, alice):
    await trade_at(exchange, "50000")
    before = await state(alice)
    err(await market(alice, "SELL", "0.00009"), 400, -1013, "Filter failure: NOTIONAL")
    assert await state(alice) == before


@pytest.mark.parametrize("side,price,fails", [
    ("BUY", "250000", False), ("BUY", "250000.01", True),
    ("BUY", "10000", False), ("BUY", "9999.99", True),
    ("SELL", "250000", False), ("SELL", "250000.01", True),
    ("SELL", "10000", False), ("SELL", "9999.99", True),
])
async def test_percent_price_by_side(exchange, side, price, fails):
    t = await exchange.new_trader(BTC="1", USDT="1000000")
    assert (await limit(t, side, "0.001", price)).status_code == 200  # no trades yet: no ref
    ok(await t.signed("DELETE", "/api/v3/openOrders", symbol=SYM))
    await trade_at(exchange, "50000")
    before = await state(t)
    r = await limit(t, side, "0.001", price)
    if fails:
        err(r, 400, -1013, "Filter failure: PERCENT_PRICE_BY_SIDE")
        assert await state(t) == before
    else:
        assert r.status_code == 200, r.text


async def test_max_num_algo_orders(alice):
    for i in range(5):
        ok(await alice.order(**_stop_params("STOP_LOSS", "SELL", str(40000 + i))))
    before = await state(alice)
    err(await alice.order(**_stop_params("STOP_LOSS", "SELL", "45000")), 400, -1013,
        "Filter failure: MAX_NUM_ALGO_ORDERS")
    err(await alice.order(**_stop_params("TAKE_PROFIT_LIMIT", "SELL", "60000")), 400, -1013,
        "Filter failure: MAX_NUM_ALGO_ORDERS")
    assert await state(alice) == before
    # plain orders still go through
    ok(await limit(alice, "SELL", "0.01", "60000"))
    # one algo order less -> room again
    ok(await alice.signed("DELETE", "/api/v3/order", symbol=SYM, orderId=1))
    ok(await alice.order(**_stop_params("STOP_LOSS", "SELL", "45000")))


# ================================================================= engine rejections

@pytest.mark.parametrize("params", [
    {"side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.1", "price": "2000"},
    {"side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.2", "price": "50000"},
    {"side": "SELL", "type": "MARKET", "quantity": "0.2"},
    {"side": "SELL", "type": "STOP_LOSS", "quantity": "0.2", "stopPrice": "40000"},
    {"side": "BUY", "type": "STOP_LOSS_LIMIT", "quantity": "0.1", "stopPrice": "60000",
     "price": "60000", "timeInForce": "GTC"},
])
async def test_insufficient_balance(exchange, params):
    poor = await exchange.new_trader(BTC="0.1", USDT="100")
    before = await state(poor)
    err(await poor.order(symbol=SYM, **params), 400, -2010,
        "Account has insufficient balance for requested action.")
    assert await state(poor) == before


async def test_insufficient_balance_for_market_buy(exchange, alice):
    ok(await limit(alice, "SELL", "0.1", "50000"))
    poor = await exchange.new_trader(USDT="100")
    before = await state(poor)
    err(await market(poor, "BUY", "0.01"), 400, -2010,
        "Account has insufficient balance for requested action.")
    assert await state(poor) == before
    assert (await get_order(alice, 1))["executedQty"] == "0.00000000"


async def test_locked_funds_are_not_spendable(exchange):
    t = await exchange.new_trader(USDT="6000")
    ok(await limit(t, "BUY", "0.1", "50000"))
    err(await limit(t, "BUY", "0.1", "50000"), 400, -2010,
        "Account has insufficient balance for requested action.")


async def test_duplicate_client_order_id(alice, bob):
    ok(await limit(alice, "BUY", "0.1", "40000", newClientOrderId="dup"))
    before = await state(alice)
    err(await limit(alice, "SELL", "0.1", "60000", newClientOrderId="dup"), 400, -2010,
        "Duplicate order sent.")
    assert await state(alice) == before
    # another account may use the same id
    ok(await limit(bob, "BUY", "0.1", "40000", newClientOrderId="dup"))
    # once the first one is no longer open, the id is free again
    ok(await alice.signed("DELETE", "/api/v3/order", symbol=SYM, origClientOrderId="dup"))
    r = ok(await limit(alice, "SELL", "0.1", "60000", newClientOrderId="dup"))
    assert r["clientOrderId"] == "dup"


async def test_client_order_id_reusable_after_fill(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50000", newClientOrderId="x1"))
    ok(await limit(bob, "BUY", "0.1", "50000"))
    r = ok(await limit(alice, "SELL", "0.1", "50000", newClientOrderId="x1"))
    assert r["orderId"] == 3


# ================================================================= self-trade prevention

async def _self_cross(t, taker_mode: str | None, maker_mode: str | None = None):
    maker = ok(await limit(t, "SELL", "0.1", "50000", selfTradePreventionMode=maker_mode))
    taker = ok(await limit(t, "BUY", "0.1", "50000", selfTradePreventionMode=taker_mode))
    return maker, taker


async def test_stp_expire_taker(alice):
    maker, r = await _self_cross(alice, "EXPIRE_TAKER")
    assert (r["status"], r["executedQty"], r["fills"]) == ("EXPIRED_IN_MATCH", "0.00000000", [])
    assert r["selfTradePreventionMode"] == "EXPIRE_TAKER"
    assert r["preventedQuantity"] == "0.10000000"
    pm = r["preventedMatches"]
    assert pm == [{"preventedMatchId": pm[0]["preventedMatchId"], "makerOrderId": maker["orderId"],
                   "price": "50000.00000000", "takerPreventedQuantity": "0.10000000"}]
    assert isinstance(pm[0]["preventedMatchId"], int)
    m = await get_order(alice, maker["orderId"])
    assert m["status"] == "NEW"
    t = await get_order(alice, r["orderId"])
    assert (t["status"], t["preventedMatchId"], t["preventedQuantity"]) == (
        "EXPIRED_IN_MATCH", pm[0]["preventedMatchId"], "0.10000000")
    assert await bal(alice, "BTC", "USDT") == {"BTC": ("0.90000000", "0.10000000"),
                                               "USDT": ("100000.00000000", "0.00000000")}


async def test_stp_expire_maker(alice):
    maker, r = await _self_cross(alice, "EXPIRE_MAKER")
    assert (r["status"], r["executedQty"], r["fills"]) == ("NEW", "0.00000000", [])
    pm = r["preventedMatches"]
    assert pm == [{"preventedMatchId": pm[0]["preventedMatchId"], "makerOrderId": maker["orderId"],
                   "price": "50000.00000000", "makerPreventedQuantity": "0.10000000"}]
    m = await get_order(alice, maker["orderId"])
    assert (m["status"], m["preventedMatchId"], m["preventedQuantity"]) == (
        "EXPIRED_IN_MATCH", pm[0]["preventedMatchId"], "0.10000000")
    assert [o["orderId"] for o in await open_orders(alice)] == [r["orderId"]]
    assert await bal(alice, "BTC", "USDT") == {"BTC": ("1.00000000", "0.00000000"),
                                               "USDT": ("95000.00000000", "5000.00000000")}


async def test_stp_default_mode_is_expire_maker(alice):
    maker, r = await _self_cross(alice, None)
    assert r["selfTradePreventionMode"] == "EXPIRE_MAKER"
    assert (await get_order(alice, maker["orderId"]))["status"] == "EXPIRED_IN_MATCH"


async def test_stp_expire_both(alice):
    maker, r = await _self_cross(alice, "EXPIRE_BOTH")
    assert (r["status"], r["fills"]) == ("EXPIRED_IN_MATCH", [])
    pm = r["preventedMatches"]
    assert pm == [{"preventedMatchId": pm[0]["preventedMatchId"], "makerOrderId": maker["orderId"],
                   "price": "50000.00000000", "takerPreventedQuantity": "0.10000000",
                   "makerPreventedQuantity": "0.10000000"}]
    assert (await get_order(alice, maker["orderId"]))["status"] == "EXPIRED_IN_MATCH"
    assert await open_orders(alice) == []
    assert await bal(alice, "BTC", "USDT") == {"BTC": ("1.00000000", "0.00000000"),
                                               "USDT": ("100000.00000000", "0.00000000")}


async def test_stp_none_trades_with_itself(alice):
    maker, r = await _self_cross(alice, "NONE")
    assert (r["status"], r["executedQty"]) == ("FILLED", "0.10000000")
    assert "preventedMatches" not in r
    assert (await get_order(alice, maker["orderId"]))["status"] == "FILLED"
    # both sides pay commission in what they receive
    assert await bal(alice, "BTC", "USDT") == {"BTC": ("0.99990000", "0.00000000"),
                                               "USDT": ("99995.00000000", "0.00000000")}


@pytest.mark.parametrize("maker_mode,taker_mode,maker_status,taker_status", [
    ("EXPIRE_MAKER", "EXPIRE_TAKER", "NEW", "EXPIRED_IN_MATCH"),
    ("NONE", "EXPIRE_MAKER", "EXPIRED_IN_MATCH", "NEW"),
    ("EXPIRE_BOTH", "NONE", "FILLED", "FILLED"),
    ("EXPIRE_TAKER", "EXPIRE_BOTH", "EXPIRED_IN_MATCH", "EXPIRED_IN_MATCH"),
])
async def test_stp_taker_mode_wins(alice, maker_mode, taker_mode, maker_status, taker_status):
    maker, r = await _self_cross(alice, taker_mode, maker_mode)
    assert r["status"] == taker_status
    assert (await get_order(alice, maker["orderId"]))["status"] == maker_status


async def test_stp_only_between_same_account(alice, bob):
    ok(await limit(alice, "SELL", "0.1", "50000", selfTradePreventionMode="EXPIRE_BOTH"))
    r = ok(await limit(bob, "BUY", "0.1", "50000", selfTradePreventionMode="EXPIRE_BOTH"))
    assert r["status"] == "FILLED" and "preventedMatches" not in r


async def test_stp_expire_maker_then_trades_with_others(exchange, alice):
    other = await exchange.new_trader(BTC="1")
    own = ok(await limit(alice, "SELL", "0.05", "50000"))
    ok(await limit(other, "SELL", "0.1", "50000"))
    r = ok(await limit(alice, "BUY", "0.1", "50000", selfTradePreventionMode="EXPIRE_MAKER"))
    assert (r["status"], r["executedQty"]) == ("FILLED", "0.10000000")
    assert [pm["makerOrderId"] for pm in r["preventedMatches"]] == [own["orderId"]]
    assert len(r["fills"]) == 1


async def test_stp_expire_taker_after_partial_fill(exchange, alice):
    other = await exchange.new_trader(BTC="1")
    ok(await limit(other, "SELL", "0.04", "50000"))
    own = ok(await limit(alice, "SELL", "0.1", "50000"))
    r = ok(await limit(alice, "BUY", "0.1", "50000", selfTradePreventionMode="EXPIRE_TAKER"))
    assert (r["status"], r["executedQty"], r["preventedQuantity"]) == (
        "EXPIRED_IN_MATCH", "0.04000000", "0.06000000")
    assert [f["qty"] for f in r["fills"]] == ["0.04000000"]
    assert r["preventedMatches"][0]["makerOrderId"] == own["orderId"]
    assert r["preventedMatches"][0]["takerPreventedQuantity"] == "0.06000000"
    # nothing stays locked for the expired taker; the own maker is untouched
    assert await bal(alice, "USDT", "BTC") == {"USDT": ("98000.00000000", "0.00000000"),
                                               "BTC": ("0.93996000", "0.10000000")}
    assert (await get_order(alice, own["orderId"]))["status"] == "NEW"


async def test_stp_expire_maker_several_levels(alice):
    """STP FAQ scenario B: every own maker the taker would hit expires; the taker rests."""
    m1 = ok(await limit(alice, "BUY", "0.01", "50200"))
    m2 = ok(await limit(alice, "BUY", "0.02", "50100"))
    m3 = ok(await limit(alice, "BUY", "0.03", "50000"))
    r = ok(await limit(alice, "SELL", "0.03", "50000", selfTradePreventionMode="EXPIRE_MAKER"))
    assert (r["status"], r["executedQty"], r["fills"]) == ("NEW", "0.00000000", [])
    assert [(p["makerOrderId"], p["price"], p["makerPreventedQuantity"])
            for p in r["preventedMatches"]] == [
        (m1["orderId"], "50200.00000000", "0.01000000"),
        (m2["orderId"], "50100.00000000", "0.02000000"),
        (m3["orderId"], "50000.00000000", "0.03000000")]
    ids = [p["preventedMatchId"] for p in r["preventedMatches"]]
    assert ids == sorted(set(ids))
    assert [o["orderId"] for o in await open_orders(alice)] == [r["orderId"]]
    assert await bal(alice, "USDT", "BTC") == {"USDT": ("100000.00000000", "0.00000000"),
                                               "BTC": ("0.97000000", "0.03000000")}


async def test_stp_market_taker_expire_maker(alice):
    """STP FAQ scenario F: maker expired, MARKET taker then expires for lack of liquidity."""
    maker = ok(await limit(alice, "SELL", "0.1", "50000"))
    r = ok(await market(alice, "BUY", "0.1", selfTradePreventionMode="EXPIRE_MAKER"))
    assert (r["status"], r["executedQty"]) == ("EXPIRED", "0.00000000")
    assert (await get_order(alice, maker["orderId"]))["status"] == "EXPIRED_IN_MATCH"
    assert await bal(alice, "BTC", "USDT") == {"BTC": ("1.00000000", "0.00000000"),
                                               "USDT": ("100000.00000000", "0.00000000")}


async def test_my_prevented_matches(alice, clock):
    maker, r = await _self_cross(alice, "EXPIRE_TAKER")
    pid = r["preventedMatches"][0]["preventedMatchId"]
    expected = [{"symbol": SYM, "preventedMatchId": pid, "takerOrderId": r["orderId"],
                 "makerSymbol": SYM, "makerOrderId": maker["orderId"], "tradeGroupId": -1,
                 "selfTradePreventionMode": "EXPIRE_TAKER", "price": "50000.00000000",
                 "takerPreventedQuantity": "0.10000000", "transactTime": clock()}]
    got = ok(await alice.signed("GET", "/api/v3/myPreventedMatches", symbol=SYM,
                                preventedMatchId=pid))
    assert got == expected and list(got[0]) == list(expected[0])
    for oid in (r["orderId"], maker["orderId"]):
        got = ok(await alice.signed("GET", "/api/v3/myPreventedMatches", symbol=SYM,
                                    orderId=oid))
        assert got == expected
    got = ok(await alice.signed("GET", "/api/v3/myPreventedMatches", symbol=SYM,
                                orderId=r["orderId"], fromPreventedMatchId=pid + 1))
    assert got == []
    assert ok(await alice.signed("GET", "/api/v3/myPreventedMatches", symbol=SYM,
                                 preventedMatchId=pid + 100)) == []


async def test_my_prevented_matches_maker_quantity(alice):
    maker, r = await _self_cross(alice, "EXPIRE_MAKER")
    got = ok(await alice.signed("GET", "/api/v3/myPreventedMatches", symbol=SYM,
                                orderId=maker["orderId"]))
    assert len(got) == 1
    assert got[0]["makerPreventedQuantity"] == "0.10000000"
    assert "takerPreventedQuantity" not in got[0]
    assert got[0]["selfTradePreventionMode"] == "EXPIRE_MAKER"


@pytest.mark.parametrize("params", [
    {}, {"preventedMatchId": 1, "orderId": 1}, {"fromPreventedMatchId": 1},
    {"preventedMatchId": 1, "fromPreventedMatchId": 1},
])
async def test_my_prevented_matches_bad_combinations(alice, params):
    err(await alice.signed("GET", "/api/v3/myPreventedMatches", symbol=SYM, **params), 400,
        -1128, "Combination of optional parameters invalid.")


async def test_my_prevented_matches_other_account_sees_nothing(alice, bob):
    maker, r = await _self_cross(alice, "EXPIRE_TAKER")
    assert ok(await bob.signed("GET", "/api/v3/myPreventedMatches", symbol=SYM,
                               orderId=r["orderId"])) == []


async def test_bad_stp_mode(alice):
    err(await limit(alice, "BUY", "0.1", "50000", selfTradePreventionMode="DECREMENT"), 400,
        -1130, "Data sent for parameter 'selfTradePreventionMode' is not valid.")


# ================================================================= commissions

async def test_commission_maker_and_taker(alice, bob):
    ok(await limit(alice, "SELL", "0.2", "50000"))           # maker sells: pays in USDT
    r = ok(await limit(bob, "BUY", "0.2", "50000"))          # taker buys: pays in BTC
    assert r["fills"] == [{"price": "50000.00000000", "qty": "0.20000000",
                           "commission": "0.00020000", "commissionAsset": "BTC", "tradeId": 1}]
    assert await bal(alice, "BTC", "USDT") == {"BTC": ("0.80000000", "0.00000000"),
                                               "USDT": ("109990.00000000", "0.00000000")}
    assert await bal(bob, "BTC", "USDT") == {"BTC": ("1.19980000", "0.00000000"),
                                             "USDT": ("90000.00000000", "0.00000000")}
    # reversed roles: maker buys (pays BTC), taker sells (pays USDT)
    ok(await limit(alice, "BUY", "0.1", "40000"))
    r = ok(await market(bob, "SELL", "0.1"))
    assert r["fills"] == [{"price": "40000.00000000", "qty": "0.10000000",
                           "commission": "4.00000000", "commissionAsset": "USDT", "tradeId": 2}]
    assert (await bal(alice, "BTC"))["BTC"] == ("0.89990000", "0.00000000")
    trades = ok(await alice.signed("GET", "/api/v3/myTrades", symbol=SYM))
    assert [(t["commission"], t["commissionAsset"], t["isMaker"], t["isBuyer"])
            for t in trades] == [("10.00000000", "USDT", True, False),
                                 ("0.00010000", "BTC", True, True)]


async def test_commission_truncates_to_eight_decimals(alice, bob):
    ok(await limit(alice, "SELL", "0.00011", "50000.01"))
    r = ok(await limit(bob, "BUY", "0.00011", "50000.01"))
    # 0.00011 * 0.001 = 0.00000011 BTC; maker: 5.5000011 * 0.001 = 0.0055000011 -> 0.00550000
    assert r["fills"][0]["commission"] == "0.00000011"
    trades = ok(await alice.signed("GET", "/api/v3/myTrades", symbol=SYM))
    assert (trades[0]["quoteQty"], trades[0]["commission"]) == ("5.50000110", "0.00550000")


# ================================================================= order/test

async def test_order_test_returns_empty_and_changes_nothing(alice):
    ok(await limit(alice, "BUY", "0.1", "40000"))
    before = await state(alice)
    counts = ok(await alice.signed("GET", "/api/v3/rateLimit/order"))
    for params in (
        {"type": "LIMIT", "timeInForce": "GTC", "quantity": "0.1", "price": "50000"},
        {"type": "MARKET", "quantity": "0.1"},
        {"type": "STOP_LOSS", "quantity": "0.1", "stopPrice": "60000"},
        {"type": "LIMIT_MAKER", "quantity": "0.1", "price": "30000"},
    ):
        r = await alice.signed("POST", "/api/v3/order/test", symbol=SYM, side="BUY", **params)
        assert r.status_code == 200, r.text
        assert r.json() == {}
        assert "x-mbx-order-count-10s" not in r.headers
    assert await state(alice) == before
    assert ok(await alice.signed("GET", "/api/v3/rateLimit/order")) == counts
    # the next real order gets the next id: test orders took none
    assert ok(await limit(alice, "BUY", "0.1", "40000"))["orderId"] == 2


async def test_order_test_compute_commission_rates(alice):
    r = await alice.signed("POST", "/api/v3/order/test", symbol=SYM, side="SELL", type="LIMIT",
                           timeInForce="GTC", quantity="0.1", price="50000",
                           computeCommissionRates="true")
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["standardCommissionForOrder", "taxCommissionForOrder", "discount"]
    assert body == {
        "standardCommissionForOrder": {"maker": "0.00100000", "taker": "0.00100000"},
        "taxCommissionForOrder": {"maker": "0.00000000", "taker": "0.00000000"},
        "discount": {"enabledForAccount": False, "enabledForSymbol": False,
                     "discountAsset": "BNB", "discount": "0.00000000"},
    }
    r = await alice.signed("POST", "/api/v3/order/test", symbol=SYM, side="SELL", type="LIMIT",
                           timeInForce="GTC", quantity="0.1", price="50000",
                           computeCommissionRates="false")
    assert r.json() == {}


async def test_order_test_does_not_check_balance(exchange):
    """order/test never reaches the engine, where balances are checked (endpoints.md §3.2)."""
    poor = await exchange.new_trader(USDT="1")
    r = await poor.signed("POST", "/api/v3/order/test", symbol=SYM, side="BUY", type="LIMIT",
                          timeInForce="GTC", quantity="1", price="50000")
    assert r.status_code == 200, r.text
    assert r.json() == {}


async def test_order_test_validates(alice):
    before = await state(alice)
    base = {"symbol": SYM, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    cases = [
        ({"quantity": "0.1", "price": "50000.005"}, -1013, "Filter failure: PRICE_FILTER"),
        ({"quantity": "1e-05", "price": "50000"}, -1100,
         "Illegal characters found in parameter 'quantity'; legal range is "
         r"'^([0-9]{1,20})(\.[0-9]{1,20})?$'."),
        ({"price": "50000"}, -1102,
         "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."),
        ({"quantity": "0.1", "price": "50000", "symbol": "NOPE"}, -1121, "Invalid symbol."),
        ({"quantity": "0.1", "price": "50000", "computeCommissionRates": "yes"}, -1130,
         "Data sent for parameter 'computeCommissionRates' is not valid."),
    ]
    for params, code, msg in cases:
        r = await alice.signed("POST", "/api/v3/order/test", **{**base, **params})
        err(r, 400, code, msg)
    assert await state(alice) == before


# ================================================================= order count headers

async def test_order_count_headers(alice, bob):
    r = await limit(alice, "SELL", "0.1", "50000")
    assert (r.headers["x-mbx-order-count-10s"], r.headers["x-mbx-order-count-1d"]) == ("1", "1")
    r = await limit(alice, "SELL", "0.1", "50001")
    assert (r.headers["x-mbx-order-count-10s"], r.headers["x-mbx-order-count-1d"]) == ("2", "2")
    # a taker filled at once: +1 then -1 on its first fill
    r = await limit(bob, "BUY", "0.05", "50000")
    assert (r.headers["x-mbx-order-count-10s"], r.headers["x-mbx-order-count-1d"]) == ("0", "0")
    assert r.headers["x-mbx-used-weight-1m"]
