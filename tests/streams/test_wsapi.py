"""The WebSocket API over raw websockets: envelope, errors, signing, sessions, every method
family against its REST twin, and user data subscriptions."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from typing import Any

from urllib.parse import urlencode

import orjson
import pytest
import websockets
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from spotex.api.signature import ApiKey
from spotex.streams.wsapi import verify_params

from .conftest import QUOTE, Account, connect, recv, room_in_minute, start_live, stop_live

# general.md §6 test vector, and Binance's WebSocket docs §3's WebSocket API signature of it
VECTOR_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
VECTOR = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
          "quantity": "0.01000000", "price": "52000.00", "newOrderRespType": "ACK",
          "recvWindow": "100", "timestamp": "1645423376532",
          "apiKey": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
          "signature": "cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a"}


def test_signature_test_vector():
    key = ApiKey(VECTOR["apiKey"], 1, "HMAC_SHA256", VECTOR_SECRET)
    assert verify_params(key, VECTOR)
    assert not verify_params(key, {**VECTOR, "price": "52000.01"})


def sign(acct: Account, params: dict[str, Any], encode: bool = False) -> dict[str, Any]:
    p = {"apiKey": acct.api_key, "timestamp": int(time.time() * 1000), **params}
    items = sorted(p.items())
    payload = urlencode(items) if encode else "&".join(f"{k}={v}" for k, v in items)
    if acct.key_type == "ED25519":
        key = load_pem_private_key(acct.secret.encode(), None)
        p["signature"] = base64.b64encode(key.sign(payload.encode())).decode()
    else:
        p["signature"] = hmac.new(acct.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return p


class Api:
    """A WebSocket API client: responses by id; subscription events kept aside."""

    def __init__(self, ws: Any) -> None:
        self.ws, self.n, self.events = ws, 0, []

    async def call(self, method: str, params: dict | None = None, rid: Any = None,
                   raw: str | None = None) -> dict:
        self.n += 1
        rid = self.n if rid is None else rid
        await self.ws.send(raw or orjson.dumps({"id": rid, "method": method, "params": params or {}}).decode())
        while True:
            msg = await recv(self.ws)
            if "subscriptionId" in msg and "event" in msg:
                self.events.append(msg)
            elif msg.get("id") == rid or raw is not None:
                return msg

    async def event(self, timeout: float = 5) -> dict:
        if not self.events:
            self.events.append(await recv(self.ws, timeout))
        return self.events.pop(0)

    async def result(self, method: str, params: dict | None = None) -> Any:
        r = await self.call(method, params)
        assert r["status"] == 200, r
        return r["result"]


def api(live, query: str = ""):
    return connect(live, "/ws-api/v3" + query)


async def test_envelope_and_rate_limits(live):
    async with api(live) as ws:
        c = Api(ws)
        r = await c.call("ping", rid="abc-1")
        assert list(r) == ["id", "status", "result", "rateLimits"]
        assert (r["id"], r["status"], r["result"]) == ("abc-1", 200, {})
        (rl,) = r["rateLimits"]
        assert {k: rl[k] for k in ("rateLimitType", "interval", "intervalNum")} == {
            "rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1}
        r2 = await c.call("v3/time")  # methods may carry the version prefix
        assert r2["rateLimits"][0]["count"] == rl["count"] + 1
        assert abs(r2["result"]["serverTime"] - time.time() * 1000) < 5000
        r3 = await c.call("exchangeInfo", {"symbol": "BTCUSDT", "returnRateLimits": False})
        assert "rateLimits" not in r3
        assert r3["result"]["symbols"][0]["symbol"] == "BTCUSDT"
        r4 = await c.call("time", rid=None)
        assert r4["id"] == 4
    async with api(live, "?returnRateLimits=false") as ws:
        assert "rateLimits" not in await Api(ws).call("ping")


async def test_market_data_methods_equal_rest(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    live.order(maker, sym, "SELL", "1", "100")
    live.order(maker, sym, "BUY", "1", "90")
    live.order(taker, sym, "BUY", "0.5")
    rest = {
        "depth": ("/api/v3/depth", {"symbol": sym, "limit": 5}),
        "trades.recent": ("/api/v3/trades", {"symbol": sym}),
        "trades.historical": ("/api/v3/historicalTrades", {"symbol": sym}),
        "trades.aggregate": ("/api/v3/aggTrades", {"symbol": sym}),
        "klines": ("/api/v3/klines", {"symbol": sym, "interval": "1m"}),
        "uiKlines": ("/api/v3/uiKlines", {"symbol": sym, "interval": "1h", "timeZone": "+08:00"}),
        "avgPrice": ("/api/v3/avgPrice", {"symbol": sym}),
        "ticker.price": ("/api/v3/ticker/price", {"symbol": sym}),
        "ticker.book": ("/api/v3/ticker/bookTicker", {"symbols": f'["{sym}","BTCUSDT"]'}),
    }
    async with api(live) as ws:
        c = Api(ws)
        for method, (path, params) in rest.items():
            assert await c.result(method, params) == live.http.get(path, params=params).json(), method
        # JSON arrays may come as real arrays
        book = await c.result("ticker.book", {"symbols": [sym, "BTCUSDT"]})
        assert [b["symbol"] for b in book] == [sym, "BTCUSDT"]
        day = await c.result("ticker.24hr", {"symbol": sym})
        assert (day["symbol"], day["lastPrice"], day["count"]) == (sym, "100.00000000", 1)
        roll = await c.result("ticker", {"symbol": sym, "windowSize": "1h"})
        assert roll["lastPrice"] == "100.00000000"
        trading_day = await c.result("ticker.tradingDay", {"symbol": sym, "type": "MINI"})
        assert trading_day["volume"] == "0.50000000"


async def test_errors(live):
    acct = live.account(USDT="10")
    async with api(live) as ws:
        c = Api(ws)
        r = await c.call("depth", {"symbol": "NOPE"}, rid=7)
        assert {k: r[k] for k in ("id", "status", "error")} == {
            "id": 7, "status": 400, "error": {"code": -1121, "msg": "Invalid symbol."}}
        assert "rateLimits" in r
        r = await c.call("", raw="{not json")
        assert (r["id"], r["status"], r["error"]) == (None, 400, {"code": -1135, "msg": "Invalid JSON Request"})
        r = await c.call("nothing.here")
        assert r["error"]["code"] == -1020
        r = await c.call("account.status", {})
        assert r["error"] == {"code": -1102, "msg": "Mandatory parameter 'apiKey' was not sent, was empty/null, or malformed."}
        r = await c.call("account.status", {"apiKey": acct.api_key, "timestamp": int(time.time() * 1000)})
        assert r["error"]["msg"] == "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
        bad = sign(acct, {})
        bad["signature"] = "0" * 64
        r = await c.call("account.status", bad)
        assert (r["status"], r["error"]["code"]) == (400, -1022)
        r = await c.call("account.status", {**sign(acct, {}), "apiKey": "z" * 64})
        assert (r["status"], r["error"]["code"]) == (401, -2015)
        r = await c.call("account.status", sign(acct, {"timestamp": int(time.time() * 1000) - 10_000}))
        assert r["error"] == {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}
        r = await c.call("order.place", sign(acct, {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                    "timeInForce": "GTC", "quantity": "1", "price": "20"}))
        assert (r["status"], r["error"]) == (400, {"code": -2010, "msg": "Account has insufficient balance for requested action."})


async def test_trading_methods_hmac(live):
    sym = live.market()
    base = sym[:-4]
    acct, other = live.pair(sym)
    async with api(live) as ws:
        c = Api(ws)
        placed = await c.call("order.place", sign(acct, {
            "symbol": sym, "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "2", "price": "100", "newClientOrderId": "ws-1"}))
        assert placed["status"] == 200
        o = placed["result"]
        assert (o["clientOrderId"], o["status"], o["origQty"], o["fills"]) == ("ws-1", "NEW", "2.00000000", [])
        kinds = {(x["rateLimitType"], x["interval"]) for x in placed["rateLimits"]}
        assert kinds == {("REQUEST_WEIGHT", "MINUTE"), ("ORDERS", "SECOND"), ("ORDERS", "DAY")}
        assert (await c.result("order.status", sign(acct, {"symbol": sym, "orderId": o["orderId"]})))["status"] == "NEW"
        assert [x["orderId"] for x in await c.result("openOrders.status", sign(acct, {"symbol": sym}))] == [o["orderId"]]
        assert await c.result("order.test", sign(acct, {"symbol": sym, "side": "BUY", "type": "MARKET",
                                                        "quantity": "1"})) == {}
        live.order(other, sym, "BUY", "0.5")
        trades = await c.result("myTrades", sign(acct, {"symbol": sym}))
        assert [(t["qty"], t["isMaker"]) for t in trades] == [("0.50000000", True)]
        account = await c.result("account.status", sign(acct, {"omitZeroBalances": "true"}))
        assert {b["asset"]: b["locked"] for b in account["balances"]} == {base: "1.50000000", QUOTE: "0.00000000"}
        assert (await c.result("account.commission", sign(acct, {"symbol": sym})))["symbol"] == sym
        limits = await c.result("account.rateLimits.orders", sign(acct, {}))
        assert [x["rateLimitType"] for x in limits] == ["ORDERS", "ORDERS"]
        replaced = await c.result("order.cancelReplace", sign(acct, {
            "symbol": sym, "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1",
            "price": "101", "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": o["orderId"]}))
        assert (replaced["cancelResult"], replaced["newOrderResult"]) == ("SUCCESS", "SUCCESS")
        canceled = await c.result("order.cancel", sign(acct, {"symbol": sym, "orderId": replaced["newOrderResponse"]["orderId"]}))
        assert canceled["status"] == "CANCELED"
        failed = await c.call("order.cancel", sign(acct, {"symbol": sym, "orderId": o["orderId"]}))
        assert failed["error"] == {"code": -2011, "msg": "Unknown order sent."}
        oco = await c.result("orderList.place.oco", sign(acct, {
            "symbol": sym, "side": "SELL", "quantity": "1", "aboveType": "LIMIT_MAKER",
            "abovePrice": "120", "belowType": "STOP_LOSS", "belowStopPrice": "80"}))
        lid = oco["orderListId"]
        assert (await c.result("orderList.status", sign(acct, {"orderListId": lid})))["listStatusType"] == "EXEC_STARTED"
        assert [x["orderListId"] for x in await c.result("openOrderLists.status", sign(acct, {}))] == [lid]
        assert (await c.result("orderList.cancel", sign(acct, {"symbol": sym, "orderListId": lid})))["listOrderStatus"] == "ALL_DONE"
        assert [x["orderListId"] for x in await c.result("allOrderLists", sign(acct, {}))] == [lid]
        live.order(acct, sym, "SELL", "0.2", "130")
        assert len(await c.result("openOrders.cancelAll", sign(acct, {"symbol": sym}))) == 1
        all_orders = await c.result("allOrders", sign(acct, {"symbol": sym}))
        assert len(all_orders) == 5
        assert await c.result("myPreventedMatches", sign(acct, {"symbol": sym, "orderId": o["orderId"]})) == []


async def test_percent_encoded_signatures_are_accepted(live):
    """python-binance and the SDK sign urlencode(params): `symbols=%5B%22...`."""
    acct = live.account(USDT="10")
    async with api(live) as ws:
        c = Api(ws)
        params = {"symbol": "BTCUSDT", "origClientOrderId": "a/b:c"}
        r = await c.call("order.status", sign(acct, params, encode=True))
        assert r["error"] == {"code": -2013, "msg": "Order does not exist."}  # signature fine


async def test_session_logon_ed25519(live):
    sym = live.market()
    acct = live.account("ED25519", **{sym[:-4]: "10", QUOTE: "1000"})
    async with api(live) as ws:
        c = Api(ws)
        status = await c.result("session.status")
        assert status["apiKey"] is None and status["authorizedSince"] is None
        session = await c.result("session.logon", sign(acct, {}))
        assert list(session) == ["apiKey", "authorizedSince", "connectedSince", "returnRateLimits",
                                 "serverTime", "userDataStream"]
        assert (session["apiKey"], session["returnRateLimits"], session["userDataStream"]) == (acct.api_key, True, False)
        # signed by the session now: timestamp only
        placed = await c.result("order.place", {"symbol": sym, "side": "BUY", "type": "LIMIT",
                                                "timeInForce": "GTC", "quantity": "1", "price": "5",
                                                "timestamp": int(time.time() * 1000)})
        assert placed["status"] == "NEW"
        r = await c.call("account.status", {})
        assert r["error"]["code"] == -1102  # timestamp still required
        sub = await c.result("userDataStream.subscribe")
        assert sub == {"subscriptionId": 0}
        assert (await c.call("userDataStream.subscribe"))["error"] == {
            "code": -2035, "msg": "User Data Stream subscription already active."}
        assert (await c.result("session.status"))["userDataStream"] is True
        await c.result("order.cancel", {"symbol": sym, "orderId": placed["orderId"],
                                        "timestamp": int(time.time() * 1000)})
        ev = await c.event()
        assert list(ev) == ["subscriptionId", "event"]
        assert (ev["subscriptionId"], ev["event"]["e"], ev["event"]["x"]) == (0, "executionReport", "CANCELED")
        assert (await c.event())["event"]["e"] == "outboundAccountPosition"
        out = await c.result("session.logout")
        assert out["apiKey"] is None and out["userDataStream"] is False
        ended = await c.event()
        assert ended["event"]["e"] == "eventStreamTerminated"
        r = await c.call("account.status", {"timestamp": int(time.time() * 1000)})
        assert r["error"]["code"] == -1102  # no session: apiKey wanted


async def test_subscribe_by_signature_and_unsubscribe(live):
    one, two = live.account(USDT="100"), live.account("ED25519", USDT="100")
    async with api(live) as ws:
        c = Api(ws)
        first = await c.result("userDataStream.subscribe.signature", sign(one, {}))
        second = await c.result("userDataStream.subscribe.signature", sign(two, {"recvWindow": 5000}))
        assert (first, second) == ({"subscriptionId": 0}, {"subscriptionId": 1})
        assert await c.result("session.subscriptions") == [{"subscriptionId": 0}, {"subscriptionId": 1}]
        live.transfer(two, "deposit", "ETH", "2")
        live.transfer(one, "deposit", "BTC", "1")
        got = [await c.event() for _ in range(4)]
        assert [(e["subscriptionId"], e["event"]["e"]) for e in got] == [
            (1, "balanceUpdate"), (1, "outboundAccountPosition"),
            (0, "balanceUpdate"), (0, "outboundAccountPosition")]
        assert await c.result("userDataStream.unsubscribe", {"subscriptionId": 0}) == {}
        assert (await c.event())["event"]["e"] == "eventStreamTerminated"
        live.transfer(one, "deposit", "BTC", "1")
        live.transfer(two, "deposit", "ETH", "1")
        assert (await c.event())["subscriptionId"] == 1
        assert await c.result("userDataStream.unsubscribe") == {}
        assert (await c.call("userDataStream.unsubscribe"))["error"] == {
            "code": -2036, "msg": "User Data Stream subscription not active."}
        r = await c.call("userDataStream.subscribe")
        assert r["status"] == 401  # needs session.logon


async def test_listen_key_methods(live):
    acct = live.account(USDT="1")
    async with api(live) as ws:
        c = Api(ws)
        key = (await c.result("userDataStream.start", {"apiKey": acct.api_key}))["listenKey"]
        assert key == live.listen_key(acct)
        assert await c.result("userDataStream.ping", {"apiKey": acct.api_key, "listenKey": key}) == {}
        assert await c.result("userDataStream.stop", {"apiKey": acct.api_key, "listenKey": key}) == {}
        r = await c.call("userDataStream.ping", {"apiKey": acct.api_key, "listenKey": key})
        assert r["error"]["code"] == -1125


async def test_shares_the_ip_weight_with_rest(live):
    async with api(live) as ws:
        c = Api(ws)
        before = (await c.call("ping"))["rateLimits"][0]["count"]
        live.http.get("/api/v3/exchangeInfo")  # weight 20
        after = (await c.call("ping"))["rateLimits"][0]["count"]
    assert after - before == 21


@pytest.mark.parametrize("n", [30])
async def test_requests_run_concurrently_in_order(live, n):
    """Pipelined orders are applied in the order they were sent."""
    sym = live.market()
    acct, _ = live.pair(sym)
    async with api(live) as ws:
        for i in range(n):
            await ws.send(orjson.dumps({"id": i, "method": "order.place", "params": sign(acct, {
                "symbol": sym, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                "quantity": "1", "price": "10", "newClientOrderId": f"c{i}"})}).decode())
        replies = {}
        while len(replies) < n:
            r = await recv(ws)
            replies[r["id"]] = r["result"]
    assert [replies[i]["orderId"] for i in range(n)] == list(range(1, n + 1))


@pytest.fixture(scope="module")
def tight(tmp_path_factory):
    server, lv = start_live(tmp_path_factory, weight_limit=100)
    yield lv
    stop_live(server, lv)


async def test_over_the_weight_limit(tight):
    await room_in_minute(needs_s=5)
    async with api(tight) as ws:
        c = Api(ws)
        for _ in range(10):
            r = await c.call("exchangeInfo")  # weight 20
            if r["status"] != 200:
                break
        now = time.time() * 1000
        assert (r["status"], r["error"]["code"]) == (429, -1003)
        assert r["error"]["msg"] == ("Too much request weight used; current limit is 100 request "
                                     "weight per 1 MINUTE. Please use WebSocket Streams for live "
                                     "updates to avoid polling the API.")
        data = r["error"]["data"]
        assert abs(data["serverTime"] - now) < 2000 and data["retryAfter"] > data["serverTime"]
        assert r["rateLimits"][0]["count"] > 100
    # REST and the WebSocket API share the IP's weight
    assert tight.http.get("/api/v3/ping").status_code == 429


async def test_failed_cancel_replace_reports_the_order_count(live):
    """A 409 cancelReplace (canceled, then the new order short of balance) counted toward
    ORDERS: its rateLimits say so, like REST's X-MBX-ORDER-COUNT headers."""
    sym = live.market()
    acct, _ = live.pair(sym)
    async with api(live) as ws:
        c = Api(ws)
        o = await c.result("order.place", sign(acct, {
            "symbol": sym, "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "1", "price": "100"}))
        r = await c.call("order.cancelReplace", sign(acct, {
            "symbol": sym, "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "5000", "price": "100", "cancelReplaceMode": "STOP_ON_FAILURE",
            "cancelOrderId": o["orderId"]}))
        assert (r["status"], r["error"]["code"]) == (409, -2021)
        counts = {(x["rateLimitType"], x["interval"]): x["count"] for x in r["rateLimits"]}
        assert counts[("ORDERS", "SECOND")] == 2 and counts[("ORDERS", "DAY")] == 2


@pytest.fixture(scope="module")
def banning(tmp_path_factory):
    server, lv = start_live(tmp_path_factory, weight_limit=40)
    yield lv
    stop_live(server, lv)


async def test_ip_ban_closes_the_connection(banning):
    """Over the limit: 429s, then a 418 ban, after which the server closes the socket."""
    await room_in_minute(needs_s=10)
    async with api(banning) as ws:
        c = Api(ws)
        statuses = []
        for _ in range(12):
            r = await c.call("exchangeInfo")  # weight 20
            statuses.append(r["status"])
            if r["status"] == 418:
                break
        assert statuses[-1] == 418 and 429 in statuses, statuses
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd.code == 1008
