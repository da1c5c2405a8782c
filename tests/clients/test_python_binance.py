"""python-binance (`binance.Client` and `binance.AsyncClient`) against spotex.

Pointed at spotex by subclassing with `API_URL` (clients.md §2.1), so the ping in the
constructor (Client) or in `create()` (AsyncClient: ping + time) already goes to spotex.
python-binance returns Binance's JSON unchanged, so the assertions read Binance's fields.
"""
from __future__ import annotations

import asyncio
import re
import time

import pytest
from binance import AsyncClient, Client
from binance.exceptions import BinanceAPIException

from .conftest import Account, Market, Seeded, Spotex, fill_order_window


@pytest.fixture
def client(spotex: Spotex):
    """`client(acct)` -> a Client for that account (public-only without one)."""

    class LocalClient(Client):
        API_URL = spotex.url + "/api"

    def make(acct: Account | None = None) -> Client:
        if acct is None:
            return LocalClient()
        if acct.key_type == "HMAC_SHA256":
            return LocalClient(acct.api_key, acct.secret)
        return LocalClient(acct.api_key, private_key=acct.secret)  # PEM string (or a Path)
    return make


@pytest.fixture
def trader(spotex: Spotex, client):
    def make(market: Market, key_type: str = "HMAC_SHA256", base: str = "10",
             quote: str = "10000") -> Client:
        return client(spotex.account(key_type, **{market.base: base, market.quote: quote}))
    return make


def api_error(excinfo: pytest.ExceptionInfo) -> tuple[int, int, str]:
    e = excinfo.value
    return e.status_code, e.code, e.message


# ================================================================== Client (sync)
def test_ping_time_exchange_info(spotex, client, market):
    c = client()
    assert c.ping() == {}
    # the other documented way: no ping in __init__, then an instance attribute
    plain = Client(ping=False)
    plain.API_URL = spotex.url + "/api"
    assert plain.get_server_time()["serverTime"] > 0
    assert abs(c.get_server_time()["serverTime"] - time.time() * 1000) < 5000
    info = c.get_exchange_info()
    assert {"BTCUSDT", "ETHBTC", market.id} <= {s["symbol"] for s in info["symbols"]}
    btc = c.get_symbol_info("BTCUSDT")
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert c.get_symbol_info("NOPEUSDT") is None  # scanned client-side


def test_market_data(client, seeded: Seeded):
    c = client()
    s = seeded.market.id
    book = c.get_order_book(symbol=s, limit=5)
    assert book["bids"] == [["99.00000000", "1.75000000"], ["98.00000000", "1.00000000"]]
    assert book["asks"] == [["101.00000000", "1.50000000"], ["102.00000000", "1.00000000"]]
    recent = c.get_recent_trades(symbol=s, limit=10)
    assert [(t["price"], t["qty"], t["isBuyerMaker"]) for t in recent] == [
        ("101.00000000", "0.50000000", False), ("99.00000000", "0.25000000", True)]
    agg = c.get_aggregate_trades(symbol=s)
    assert [(a["p"], a["q"], a["m"]) for a in agg] == [
        ("101.00000000", "0.50000000", False), ("99.00000000", "0.25000000", True)]
    minute = seeded.start_ms // 60_000 * 60_000
    klines = c.get_klines(symbol=s, interval=Client.KLINE_INTERVAL_1MINUTE, startTime=minute,
                          limit=2)
    assert klines[0][1] == "101.00000000" and klines[-1][4] == "99.00000000"
    assert sum(float(k[5]) for k in klines) == 0.75
    # get_historical_klines first asks klines(startTime=0, limit=1) for the earliest bar
    hist = c.get_historical_klines(s, Client.KLINE_INTERVAL_1MINUTE, minute, minute + 60_000)
    assert [k[0] for k in hist] == [k[0] for k in klines]
    t = c.get_ticker(symbol=s)
    assert (t["lastPrice"], t["highPrice"], t["lowPrice"], t["volume"], t["quoteVolume"]) == (
        "99.00000000", "101.00000000", "99.00000000", "0.75000000", "75.25000000")
    assert c.get_symbol_ticker(symbol=s) == {"symbol": s, "price": "99.00000000"}
    assert {"symbol": s, "price": "99.00000000"} in c.get_all_tickers()
    assert c.get_orderbook_ticker(symbol=s) == {
        "symbol": s, "bidPrice": "99.00000000", "bidQty": "1.75000000",
        "askPrice": "101.00000000", "askQty": "1.50000000"}
    assert c.get_avg_price(symbol=s)["mins"] == 5


def test_balances(trader, market):
    c = trader(market, base="1.5", quote="250")
    assert c.get_asset_balance(market.base) == {
        "asset": market.base, "free": "1.50000000", "locked": "0.00000000"}
    c.order_limit_buy(symbol=market.id, quantity="1", price="100")
    assert c.get_asset_balance("USDT") == {
        "asset": "USDT", "free": "150.00000000", "locked": "100.00000000"}
    account = c.get_account()
    assert account["canTrade"] is True and account["accountType"] == "SPOT"


def test_limit_order_lifecycle(trader, market):
    c = trader(market)
    s = market.id
    o = c.order_limit_buy(symbol=s, quantity="0.5", price="100")
    # no newOrderRespType sent: LIMIT defaults to FULL
    assert (o["status"], o["type"], o["side"], o["fills"]) == ("NEW", "LIMIT", "BUY", [])
    # x-HNA2TXFJ + uuid22(): 88 random bits in hex *without* zero padding, so the id is
    # 32 chars most of the time and shorter when the leading digits are zero
    assert re.fullmatch(r"x-HNA2TXFJ[0-9a-f]{1,22}", o["clientOrderId"])
    got = c.get_order(symbol=s, orderId=o["orderId"])
    assert (got["status"], got["origQty"], got["price"]) == ("NEW", "0.50000000", "100.00000000")
    assert c.get_order(symbol=s, origClientOrderId=o["clientOrderId"])["orderId"] == o["orderId"]
    assert [x["orderId"] for x in c.get_open_orders(symbol=s)] == [o["orderId"]]
    canceled = c.cancel_order(symbol=s, orderId=o["orderId"])  # DELETE, form body
    assert (canceled["status"], canceled["origClientOrderId"]) == ("CANCELED", o["clientOrderId"])
    assert c.get_open_orders(symbol=s) == []
    assert [x["status"] for x in c.get_all_orders(symbol=s)] == ["CANCELED"]


def test_market_orders_and_my_trades(trader, market):
    maker, taker = trader(market), trader(market)
    s = market.id
    maker.order_limit_sell(symbol=s, quantity="0.3", price="100")
    maker.order_limit_sell(symbol=s, quantity="0.3", price="101")
    o = taker.order_market_buy(symbol=s, quantity="0.4")
    assert (o["status"], o["executedQty"], o["cummulativeQuoteQty"]) == (
        "FILLED", "0.40000000", "40.10000000")
    assert [(f["price"], f["qty"], f["commission"], f["commissionAsset"]) for f in o["fills"]] == [
        ("100.00000000", "0.30000000", "0.00030000", market.base),
        ("101.00000000", "0.10000000", "0.00010000", market.base)]
    q = taker.order_market_buy(symbol=s, quoteOrderQty="10.1")
    assert (q["status"], q["executedQty"]) == ("FILLED", "0.10000000")
    mine = taker.get_my_trades(symbol=s)
    assert [(t["price"], t["isBuyer"], t["isMaker"]) for t in mine] == [
        ("100.00000000", True, False), ("101.00000000", True, False),
        ("101.00000000", True, False)]
    assert [t["orderId"] for t in taker.get_my_trades(symbol=s, orderId=o["orderId"])] == [
        o["orderId"]] * 2
    sells = maker.order_market_sell(symbol=s, quantity="0.1")  # nothing to buy: EXPIRED
    assert sells["status"] == "EXPIRED"


def test_stop_loss_limit_and_cancel_all(trader, market):
    maker, c = trader(market), trader(market)
    s = market.id
    maker.order_limit_buy(symbol=s, quantity="0.1", price="100")
    c.order_market_sell(symbol=s, quantity="0.1")  # last price 100
    stop = c.create_order(symbol=s, side=Client.SIDE_SELL, type=Client.ORDER_TYPE_STOP_LOSS_LIMIT,
                          timeInForce=Client.TIME_IN_FORCE_GTC, quantity="0.1", price="95",
                          stopPrice="96")
    # non-LIMIT/MARKET types default to ACK
    assert set(stop) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    got = c.get_order(symbol=s, orderId=stop["orderId"])
    assert (got["type"], got["stopPrice"], got["isWorking"]) == (
        "STOP_LOSS_LIMIT", "96.00000000", False)
    c.order_limit_buy(symbol=s, quantity="0.1", price="90")
    canceled = c.cancel_all_open_orders(symbol=s)  # DELETE, form body
    assert sorted(x["type"] for x in canceled) == ["LIMIT", "STOP_LOSS_LIMIT"]
    assert c.get_open_orders(symbol=s) == []


def test_cancel_replace(trader, market):
    c = trader(market)
    s = market.id
    o = c.order_limit_buy(symbol=s, quantity="0.1", price="90")
    r = c.cancel_replace_order(symbol=s, side="BUY", type="LIMIT", timeInForce="GTC",
                               quantity="0.2", price="91", cancelReplaceMode="STOP_ON_FAILURE",
                               cancelOrderId=o["orderId"])
    assert (r["cancelResult"], r["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert r["cancelResponse"]["status"] == "CANCELED"
    new = r["newOrderResponse"]
    assert [(x["orderId"], x["price"]) for x in c.get_open_orders(symbol=s)] == [
        (new["orderId"], "91.00000000")]
    with pytest.raises(BinanceAPIException) as e:  # the old order is gone: -2022, both failed
        c.cancel_replace_order(symbol=s, side="BUY", type="LIMIT", timeInForce="GTC",
                               quantity="0.2", price="91", cancelReplaceMode="STOP_ON_FAILURE",
                               cancelOrderId=o["orderId"])
    assert api_error(e) == (400, -2022, "Order cancel-replace failed.")


def test_test_order(trader, market):
    c = trader(market)
    assert c.create_test_order(symbol=market.id, side="BUY", type="LIMIT", timeInForce="GTC",
                               quantity="0.1", price="90") == {}
    assert c.get_open_orders(symbol=market.id) == []


@pytest.mark.parametrize("place", ["create_oco_order", "order_oco_sell"])
def test_oco(trader, market, place):
    maker, c = trader(market), trader(market)
    s = market.id
    maker.order_limit_buy(symbol=s, quantity="0.1", price="100")
    c.order_market_sell(symbol=s, quantity="0.1")  # last price 100
    params = dict(symbol=s, quantity="0.2", aboveType="LIMIT_MAKER", abovePrice="110",
                  belowType="STOP_LOSS_LIMIT", belowStopPrice="90", belowPrice="89",
                  belowTimeInForce="GTC")
    if place == "create_oco_order":
        params["side"] = "SELL"
    placed = getattr(c, place)(**params)  # POST /api/v3/orderList/oco
    assert placed["contingencyType"] == "OCO"
    assert placed["listClientOrderId"].startswith("x-HNA2TXFJ")
    assert sorted(r["type"] for r in placed["orderReports"]) == ["LIMIT_MAKER", "STOP_LOSS_LIMIT"]
    assert [x["orderListId"] for x in c.get_open_oco_orders()] == [placed["orderListId"]]
    # python-binance has no spot order-list cancel: canceling a leg cancels the list
    leg = placed["orders"][0]["orderId"]
    done = c.cancel_order(symbol=s, orderId=leg)
    assert done["listOrderStatus"] == "ALL_DONE"
    assert {r["status"] for r in done["orderReports"]} == {"CANCELED"}
    assert c.get_open_orders(symbol=s) == [] and c.get_open_oco_orders() == []


def test_oco_limit_leg_fill_expires_stop_leg(trader, market):
    maker, c, taker = trader(market), trader(market), trader(market)
    s = market.id
    maker.order_limit_buy(symbol=s, quantity="0.1", price="100")
    c.order_market_sell(symbol=s, quantity="0.1")  # last price 100
    placed = c.order_oco_sell(symbol=s, quantity="0.2", aboveType="LIMIT_MAKER",
                              abovePrice="110", belowType="STOP_LOSS", belowStopPrice="90")
    legs = {r["type"]: r["orderId"] for r in placed["orderReports"]}
    taker.order_market_buy(symbol=s, quantity="0.2")  # fills the LIMIT_MAKER leg
    assert c.get_order(symbol=s, orderId=legs["LIMIT_MAKER"])["status"] == "FILLED"
    assert c.get_order(symbol=s, orderId=legs["STOP_LOSS"])["status"] == "EXPIRED"
    assert c.get_open_orders(symbol=s) == [] and c.get_open_oco_orders() == []


# ------------------------------------------------------------------ errors
def test_error_insufficient_balance(trader, market):
    c = trader(market, quote="10")
    with pytest.raises(BinanceAPIException) as e:
        c.order_limit_buy(symbol=market.id, quantity="1", price="100")
    assert api_error(e) == (400, -2010, "Account has insufficient balance for requested action.")


def test_error_unknown_order(trader, market):
    c = trader(market)
    with pytest.raises(BinanceAPIException) as e:
        c.get_order(symbol=market.id, orderId=987654321)
    assert api_error(e) == (400, -2013, "Order does not exist.")
    with pytest.raises(BinanceAPIException) as e:
        c.cancel_order(symbol=market.id, orderId=987654321)
    assert api_error(e) == (400, -2011, "Unknown order sent.")


def test_error_bad_symbol(trader, market):
    c = trader(market)
    for call in (lambda: c.get_symbol_ticker(symbol="NOPEUSDT"),
                 lambda: c.get_order_book(symbol="NOPEUSDT"),
                 lambda: c.order_limit_buy(symbol="NOPEUSDT", quantity="1", price="1")):
        with pytest.raises(BinanceAPIException) as e:
            call()
        assert api_error(e) == (400, -1121, "Invalid symbol.")


def test_error_filter_failures_and_float_quantities(trader, market):
    c = trader(market)
    with pytest.raises(BinanceAPIException) as e:
        c.order_limit_buy(symbol=market.id, quantity="0.001", price="100")
    assert api_error(e) == (400, -1013, "Filter failure: NOTIONAL")
    with pytest.raises(BinanceAPIException) as e:
        c.order_limit_buy(symbol=market.id, quantity="0.000015", price="100000")
    assert api_error(e) == (400, -1013, "Filter failure: LOT_SIZE")
    # floats are sent as str(float): 0.00001 becomes "1e-05", which Binance rejects
    with pytest.raises(BinanceAPIException) as e:
        c.order_limit_buy(symbol=market.id, quantity=0.00001, price=1000000)
    assert api_error(e)[:2] == (400, -1100)
    assert "'quantity'" in e.value.message
    o = c.order_limit_buy(symbol=market.id, quantity=0.05, price=100.5)  # plain floats work
    assert (o["origQty"], o["price"]) == ("0.05000000", "100.50000000")


def test_error_authentication(spotex, client, market):
    acct = spotex.account(**{market.quote: "100"})
    with pytest.raises(BinanceAPIException) as e:
        client(Account(acct.account_id, acct.api_key, "x" * 64)).get_account()
    assert api_error(e) == (400, -1022, "Signature for this request is not valid.")
    with pytest.raises(BinanceAPIException) as e:
        client(Account(0, "k" * 64, "x" * 64)).get_account()
    assert api_error(e) == (401, -2015, "Invalid API-key, IP, or permissions for action.")
    # the key header on public endpoints is ignored, even an unknown one
    assert client(Account(0, "k" * 64, "x" * 64)).get_server_time()["serverTime"] > 0


def test_error_timestamp_outside_recv_window(trader, market):
    c = trader(market)
    c.timestamp_offset = -20_000  # python-binance adds this to its clock when signing
    with pytest.raises(BinanceAPIException) as e:
        c.get_account()
    assert api_error(e) == (400, -1021, "Timestamp for this request is outside of the recvWindow.")
    c.timestamp_offset = 2_000
    with pytest.raises(BinanceAPIException) as e:
        c.get_account()
    assert api_error(e) == (400, -1021,
                            "Timestamp for this request was 1000ms ahead of the server's time.")


def test_error_order_rate_limit(trader, market):
    c = fill_order_window(lambda: trader(market, quote="100000"), lambda c: c.order_limit_buy(
        symbol=market.id, quantity="0.1", price="90", newOrderRespType="ACK"))
    with pytest.raises(BinanceAPIException) as e:
        c.order_limit_buy(symbol=market.id, quantity="0.1", price="90")
    assert api_error(e) == (429, -1015,
                            "Too many new orders; current limit is 100 orders per 10 SECOND.")
    assert c.get_current_order_count()[0]["count"] == 100  # GET rateLimit/order


@pytest.mark.parametrize("key_type", ["ED25519", "RSA"])
def test_asymmetric_keys(trader, market, key_type):
    """`private_key=` PEM: > 120 chars is RSA, else Ed25519; base64 signature, %-encoded."""
    c = trader(market, key_type, quote="1000")
    assert c.get_asset_balance("USDT")["free"] == "1000.00000000"
    o = c.order_limit_buy(symbol=market.id, quantity="0.1", price="90")  # POST body
    assert c.get_order(symbol=market.id, orderId=o["orderId"])["status"] == "NEW"  # GET query
    assert c.cancel_order(symbol=market.id, orderId=o["orderId"])["status"] == "CANCELED"


# ================================================================== AsyncClient
@pytest.fixture
async def aclient(spotex: Spotex):
    """`await aclient(acct)` -> AsyncClient.create() (ping + time); closed at teardown."""

    class LocalAsyncClient(AsyncClient):
        API_URL = spotex.url + "/api"

    made: list[AsyncClient] = []

    async def make(acct: Account | None = None) -> AsyncClient:
        if acct is None:
            c = await LocalAsyncClient.create()
        elif acct.key_type == "HMAC_SHA256":
            c = await LocalAsyncClient.create(acct.api_key, acct.secret)
        else:
            c = await LocalAsyncClient.create(acct.api_key, private_key=acct.secret)
        made.append(c)
        return c

    yield make
    for c in made:
        await c.close_connection()


@pytest.fixture
def atrader(spotex: Spotex, aclient):
    async def make(market: Market, key_type: str = "HMAC_SHA256", base: str = "10",
                   quote: str = "10000") -> AsyncClient:
        return await aclient(spotex.account(key_type, **{market.base: base, market.quote: quote}))
    return make


async def test_async_public(aclient, seeded: Seeded):
    c = await aclient()
    # create() measured the offset to the server's clock: same machine, so small
    assert abs(c.timestamp_offset) < 1000
    assert abs((await c.get_server_time())["serverTime"] - time.time() * 1000) < 5000
    s = seeded.market.id
    assert (await c.get_symbol_info(s))["baseAsset"] == seeded.market.base
    assert (await c.get_order_book(symbol=s, limit=1)) ["bids"] == [["99.00000000", "1.75000000"]]
    assert len(await c.get_recent_trades(symbol=s)) == 2
    assert len(await c.get_aggregate_trades(symbol=s)) == 2
    klines = await c.get_klines(symbol=s, interval=AsyncClient.KLINE_INTERVAL_1MINUTE,
                                startTime=seeded.start_ms // 60_000 * 60_000, limit=2)
    assert sum(float(k[5]) for k in klines) == 0.75
    assert (await c.get_ticker(symbol=s))["lastPrice"] == "99.00000000"
    assert (await c.get_symbol_ticker(symbol=s))["price"] == "99.00000000"
    assert (await c.get_orderbook_ticker(symbol=s))["askQty"] == "1.50000000"


async def test_async_orders(atrader, market):
    maker, c = await atrader(market), await atrader(market, quote="1000")
    s = market.id
    assert (await c.get_asset_balance("USDT"))["free"] == "1000.00000000"
    o = await c.order_limit_buy(symbol=s, quantity="0.5", price="90")
    assert (await c.get_order(symbol=s, orderId=o["orderId"]))["status"] == "NEW"
    assert [x["orderId"] for x in await c.get_open_orders(symbol=s)] == [o["orderId"]]
    assert (await c.cancel_order(symbol=s, orderId=o["orderId"]))["status"] == "CANCELED"
    await maker.order_limit_sell(symbol=s, quantity="0.5", price="100")
    m = await c.order_market_buy(symbol=s, quantity="0.2")
    assert (m["status"], m["fills"][0]["price"]) == ("FILLED", "100.00000000")
    assert [t["qty"] for t in await c.get_my_trades(symbol=s)] == ["0.20000000"]
    stop = await c.create_order(symbol=s, side="SELL", type="STOP_LOSS_LIMIT", timeInForce="GTC",
                                quantity="0.1", price="95", stopPrice="96")
    assert (await c.get_order(symbol=s, orderId=stop["orderId"]))["type"] == "STOP_LOSS_LIMIT"
    placed = await c.create_oco_order(symbol=s, side="SELL", quantity="0.1",
                                      aboveType="LIMIT_MAKER", abovePrice="110",
                                      belowType="STOP_LOSS", belowStopPrice="90")
    assert placed["contingencyType"] == "OCO"
    canceled = await c.cancel_all_open_orders(symbol=s)
    assert len(canceled) == 2  # the stop and the OCO list (one entry per list)
    assert [x["status"] for x in await c.get_all_orders(symbol=s)] == [
        "CANCELED", "FILLED", "CANCELED", "CANCELED", "CANCELED"]


async def test_async_concurrent_orders(atrader, market):
    c = await atrader(market, quote="100000")
    s = market.id
    placed = await asyncio.gather(*(c.order_limit_buy(symbol=s, quantity="0.1",
                                                      price=f"{80 + i / 100:.2f}")
                                    for i in range(40)))
    ids = {o["orderId"] for o in placed}
    assert len(ids) == 40
    assert {o["orderId"] for o in await c.get_open_orders(symbol=s)} == ids
    canceled = await asyncio.gather(*(c.cancel_order(symbol=s, orderId=i) for i in ids))
    assert {o["status"] for o in canceled} == {"CANCELED"}
    assert (await c.get_asset_balance("USDT"))["locked"] == "0.00000000"


async def test_async_errors(spotex, aclient, atrader, market):
    c = await atrader(market, quote="10")
    s = market.id
    cases = [
        (lambda: c.order_limit_buy(symbol=s, quantity="1", price="100"), -2010),
        (lambda: c.get_order(symbol=s, orderId=987654321), -2013),
        (lambda: c.cancel_order(symbol=s, orderId=987654321), -2011),
        (lambda: c.get_avg_price(symbol="NOPEUSDT"), -1121),
        (lambda: c.order_limit_buy(symbol=s, quantity="0.001", price="100"), -1013),
    ]
    for call, code in cases:
        with pytest.raises(BinanceAPIException) as e:
            await call()
        assert (e.value.status_code, e.value.code) == (400, code)
    c.timestamp_offset -= 20_000
    with pytest.raises(BinanceAPIException) as e:
        await c.get_account()
    assert e.value.code == -1021
    acct = spotex.account(USDT="1")
    bad = await aclient(Account(acct.account_id, acct.api_key, "x" * 64))
    with pytest.raises(BinanceAPIException) as e:
        await bad.get_account()
    assert e.value.code == -1022


@pytest.mark.parametrize("key_type", ["ED25519", "RSA"])
async def test_async_asymmetric_keys(atrader, market, key_type):
    c = await atrader(market, key_type, quote="1000")
    o = await c.order_limit_buy(symbol=market.id, quantity="0.1", price="90")
    assert (await c.cancel_order(symbol=market.id, orderId=o["orderId"]))["status"] == "CANCELED"
    assert (await c.get_asset_balance("USDT"))["locked"] == "0.00000000"
