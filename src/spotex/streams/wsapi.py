"""The WebSocket API (`/ws-api/v3`): REST over a WebSocket, plus sessions and user data.

A request `{"id","method","params"}` runs the REST route the method maps to (streams.md
§3.1) with the same parameters, checks, weights and errors, and is answered
`{"id","status","result","rateLimits"}` or `{"id","status","error":{"code","msg"}}`.
Signed requests carry `apiKey`, `timestamp` and `signature` in `params`; the payload is
every other param sorted by name as `name=value&...` (accepted raw or percent-encoded:
clients do both). After `session.logon` the session's key signs instead.

Each request runs as its own task, started in arrival order: commands apply in that
order while a slow one does not hold back the next request.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable
from urllib.parse import parse_qs, urlencode

import orjson

from ..api import weights
from ..api.app import App
from ..api.http import SIGNED, USER_STREAM, Request
from ..api.params import Params
from ..api.signature import ApiKey, verify
from ..api.timing import check_timestamp
from ..core.errors import ApiError
from .conn import POLICY, Conn
from .hub import dumps
from .user import Sub
from .userevents import stream_terminated

if TYPE_CHECKING:
    from . import Streams

log = logging.getLogger("spotex.wsapi")
MAX_IN_FLIGHT = 64  # requests of one connection running at once

# method -> the REST route it runs (streams.md §3.1)
REST: dict[str, tuple[str, str]] = {
    "ping": ("GET", "/api/v3/ping"),
    "time": ("GET", "/api/v3/time"),
    "exchangeInfo": ("GET", "/api/v3/exchangeInfo"),
    "depth": ("GET", "/api/v3/depth"),
    "trades.recent": ("GET", "/api/v3/trades"),
    "trades.historical": ("GET", "/api/v3/historicalTrades"),
    "trades.aggregate": ("GET", "/api/v3/aggTrades"),
    "klines": ("GET", "/api/v3/klines"),
    "uiKlines": ("GET", "/api/v3/uiKlines"),
    "avgPrice": ("GET", "/api/v3/avgPrice"),
    "ticker.24hr": ("GET", "/api/v3/ticker/24hr"),
    "ticker.tradingDay": ("GET", "/api/v3/ticker/tradingDay"),
    "ticker": ("GET", "/api/v3/ticker"),
    "ticker.price": ("GET", "/api/v3/ticker/price"),
    "ticker.book": ("GET", "/api/v3/ticker/bookTicker"),
    "order.place": ("POST", "/api/v3/order"),
    "order.test": ("POST", "/api/v3/order/test"),
    "order.status": ("GET", "/api/v3/order"),
    "order.cancel": ("DELETE", "/api/v3/order"),
    "order.cancelReplace": ("POST", "/api/v3/order/cancelReplace"),
    "openOrders.status": ("GET", "/api/v3/openOrders"),
    "openOrders.cancelAll": ("DELETE", "/api/v3/openOrders"),
    "orderList.place": ("POST", "/api/v3/order/oco"),
    "orderList.place.oco": ("POST", "/api/v3/orderList/oco"),
    "orderList.place.oto": ("POST", "/api/v3/orderList/oto"),
    "orderList.place.otoco": ("POST", "/api/v3/orderList/otoco"),
    "orderList.status": ("GET", "/api/v3/orderList"),
    "orderList.cancel": ("DELETE", "/api/v3/orderList"),
    "openOrderLists.status": ("GET", "/api/v3/openOrderList"),
    "allOrderLists": ("GET", "/api/v3/allOrderList"),
    "account.status": ("GET", "/api/v3/account"),
    "account.rateLimits.orders": ("GET", "/api/v3/rateLimit/order"),
    "account.commission": ("GET", "/api/v3/account/commission"),
    "allOrders": ("GET", "/api/v3/allOrders"),
    "myTrades": ("GET", "/api/v3/myTrades"),
    "myPreventedMatches": ("GET", "/api/v3/myPreventedMatches"),
    "userDataStream.start": ("POST", "/api/v3/userDataStream"),
    "userDataStream.ping": ("PUT", "/api/v3/userDataStream"),
    "userDataStream.stop": ("DELETE", "/api/v3/userDataStream"),
}
NATIVE_WEIGHT = 2  # session.* and userDataStream.subscribe/unsubscribe


def _text(v: Any) -> str:
    """A JSON param value as the REST layer would have received it."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return orjson.dumps(v).decode()


def verify_params(key: ApiKey, sp: dict[str, str]) -> bool:
    """Does `signature` sign the other params sorted by name, `name=value&...`, as is or
    percent-encoded (python-binance and the SDK sign urlencode(), ccxt the raw text)?"""
    items = sorted((k, v) for k, v in sp.items() if k != "signature")
    raw = "&".join(f"{k}={v}" for k, v in items)
    if verify(key, raw, sp["signature"]):
        return True
    encoded = urlencode(items)
    return encoded != raw and verify(key, encoded, sp["signature"])


class ApiConn(Conn):
    def __init__(self, streams: "Streams", send: Any, ip: str, query: str) -> None:
        super().__init__(send, streams.engine.clock, streams.policy, ip)
        self.streams = streams
        flags = parse_qs(query)
        self.return_rate_limits = flags.get("returnRateLimits", ["true"])[-1] != "false"
        self.key: ApiKey | None = None  # session.logon
        self.authorized_since: int | None = None
        self.subs: dict[int, Sub] = {}  # user data subscriptions by id
        self.logon_sub: int | None = None  # the one made by userDataStream.subscribe
        self.next_sub = 0
        self.tasks: set[asyncio.Task] = set()

    async def on_text(self, text: str) -> None:
        task = asyncio.get_running_loop().create_task(self.streams.api.handle(self, text))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        if len(self.tasks) >= MAX_IN_FLIGHT:
            await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)

    def subscribe(self, account: int) -> int:
        sid = self.next_sub
        self.next_sub += 1
        prefix = '{"subscriptionId":%d,"event":' % sid
        sub = Sub(self, account, None, lambda text: self.push(prefix + text + "}"))
        self.subs[sid] = sub
        self.streams.user.add(sub)
        return sid

    def unsubscribe(self, sid: int) -> None:
        sub = self.subs.pop(sid)
        self.streams.user.remove(sub)
        sub.send(dumps(stream_terminated(self.clock())))
        if self.logon_sub == sid:
            self.logon_sub = None

    def on_close(self) -> None:
        for sub in self.subs.values():
            self.streams.user.remove(sub)
        self.subs.clear()
        for task in self.tasks:
            task.cancel()


@dataclass
class Usage:
    """What a request's rateLimits report: the account, and whether ORDERS counted."""

    account: int = 0
    orders: bool = False


class WsApi:
    """Dispatches requests of every API connection (shares the REST app's routes, keys
    and IP limiter, so weights and bans are one account with REST)."""

    def __init__(self, streams: "Streams", app: App) -> None:
        self.streams, self.app = streams, app
        self.engine = streams.engine
        self.native: dict[str, Callable[[ApiConn, dict[str, str], Params], Awaitable[Any]]] = {
            "session.logon": self.session_logon,
            "session.status": self.session_status,
            "session.logout": self.session_logout,
            "session.subscriptions": self.session_subscriptions,
            "userDataStream.subscribe": self.subscribe,
            "userDataStream.subscribe.signature": self.subscribe_signature,
            "userDataStream.unsubscribe": self.unsubscribe,
        }

    async def handle(self, conn: ApiConn, text: str) -> None:
        """One request frame -> one response frame (with rateLimits unless turned off)."""
        rid: Any = None
        show = conn.return_rate_limits
        usage = Usage()
        try:
            try:
                msg = orjson.loads(text)
            except orjson.JSONDecodeError:
                raise ApiError("INVALID_JSON_REQUEST") from None
            if not isinstance(msg, dict):
                raise ApiError("INVALID_JSON_REQUEST")
            rid = msg.get("id")
            method, raw = msg.get("method"), msg.get("params", {})
            if not isinstance(method, str) or not method:
                raise ApiError("MANDATORY_PARAM", "method")
            if not isinstance(raw, dict):
                raise ApiError("INVALID_JSON_REQUEST")
            sp = {k: _text(v) for k, v in raw.items() if v is not None}
            if sp.get("returnRateLimits") == "false":
                show = False
            result = await self.call(conn, method.removeprefix("v3/"), sp, usage)
            out: dict[str, Any] = {"id": rid, "status": 200, "result": result}
        except ApiError as exc:
            out = {"id": rid, "status": exc.status, "error": self.error_body(exc)}
        except Exception:
            log.exception("WebSocket API request failed: %s", text[:200])
            exc = ApiError("UNKNOWN")
            out = {"id": rid, "status": exc.status, "error": exc.body()}
        if show:
            out["rateLimits"] = self.rate_limits(conn.ip, usage.account, usage.orders)
        conn.push(dumps(out))
        if out["status"] == 418:  # an IP ban ends the connection too (streams.md §3)
            conn.close(POLICY, "IP banned")

    async def call(self, conn: ApiConn, method: str, sp: dict[str, str], usage: Usage) -> Any:
        """The result of one request; `usage` learns the account and whether it counted
        toward the ORDERS limits, also when the request then fails (as REST's headers)."""
        p = Params(sp)
        native = self.native.get(method)
        if native is not None:
            self.app.limiter.admit(conn.ip, NATIVE_WEIGHT)
            usage.account = conn.key.account_id if conn.key else 0
            return await native(conn, sp, p)
        spec = REST.get(method)
        route = self.app.router.find(*spec)[0] if spec else None
        if route is None:
            raise ApiError("UNSUPPORTED_OPERATION")
        self.app.limiter.admit(conn.ip, weights.weight_of(spec[0], spec[1], p))
        if route.security == SIGNED:
            usage.account = self.signed(conn, sp, p).account_id
        elif route.security == USER_STREAM:
            usage.account = self.api_key(sp, conn.key).account_id
        req = Request(spec[0], spec[1], "", b"", {}, conn.ip)
        req._params, req.account = p, usage.account
        try:
            return await route.handler(req)
        finally:  # order-count headers were set (REST sends them with a 409/429 too)
            usage.orders = bool(req.response_headers)

    # ---------------------------------------------------------------- security
    def api_key(self, sp: dict[str, str], session: ApiKey | None) -> ApiKey:
        """USER_STREAM: `apiKey`, or the session's key."""
        if "apiKey" not in sp and session is not None:
            return session
        if not sp.get("apiKey"):
            raise ApiError("MANDATORY_PARAM", "apiKey")
        return self.app.keys.get(self.engine.exchange, sp["apiKey"])

    def signed(self, conn: ApiConn, sp: dict[str, str], p: Params,
               session: bool = True) -> ApiKey:
        """SIGNED: apiKey + signature over the sorted params, or the logged-on session
        (then only `timestamp`/`recvWindow` are checked)."""
        now = self.engine.timestamp_now()
        if session and "signature" not in sp and conn.key is not None:
            check_timestamp(p, now)
            return conn.key
        key = self.api_key(sp, None)
        sig = sp.get("signature")
        if not sig:
            raise ApiError("MANDATORY_PARAM", "signature")
        p.long("timestamp", required=True)
        if not verify_params(key, sp):
            raise ApiError("INVALID_SIGNATURE")
        check_timestamp(p, now)
        return key

    # ---------------------------------------------------------------- responses
    def error_body(self, exc: ApiError) -> dict[str, Any]:
        body = exc.body()
        if exc.retry_after is not None:  # 429/418: when to come back, as epoch ms
            now = self.engine.clock()
            body["data"] = {"serverTime": now, "retryAfter": now + exc.retry_after * 1000}
        return body

    def rate_limits(self, ip: str, account: int, orders: bool) -> list[dict[str, Any]]:
        out = [{"rateLimitType": "REQUEST_WEIGHT", "interval": lim.interval,
                "intervalNum": lim.interval_num, "limit": lim.limit, "count": n}
               for lim, n in self.app.limiter.usage(ip)]
        if orders and account:
            counts = self.engine.exchange.order_counter.counts(account, self.engine.clock())
            out += [{"rateLimitType": "ORDERS", "interval": lim.interval,
                     "intervalNum": lim.interval_num, "limit": lim.limit, "count": n}
                    for lim, n in counts]
        return out

    # ---------------------------------------------------------------- sessions
    def session(self, conn: ApiConn) -> dict[str, Any]:
        return {"apiKey": conn.key.api_key if conn.key else None,
                "authorizedSince": conn.authorized_since, "connectedSince": conn.opened,
                "returnRateLimits": conn.return_rate_limits, "serverTime": self.engine.clock(),
                "userDataStream": conn.logon_sub is not None}

    async def session_logon(self, conn: ApiConn, sp: dict[str, str], p: Params) -> Any:
        conn.key = self.signed(conn, sp, p, session=False)
        conn.authorized_since = self.engine.clock()
        return self.session(conn)

    async def session_status(self, conn: ApiConn, sp: dict[str, str], p: Params) -> Any:
        return self.session(conn)

    async def session_logout(self, conn: ApiConn, sp: dict[str, str], p: Params) -> Any:
        if conn.logon_sub is not None:
            conn.unsubscribe(conn.logon_sub)
        conn.key, conn.authorized_since = None, None
        return self.session(conn)

    async def session_subscriptions(self, conn: ApiConn, sp: dict[str, str], p: Params) -> Any:
        return [{"subscriptionId": sid} for sid in conn.subs]

    # ---------------------------------------------------------------- user data
    async def subscribe(self, conn: ApiConn, sp: dict[str, str], p: Params) -> Any:
        """userDataStream.subscribe: the logged-on account, once per session."""
        if conn.key is None:
            raise ApiError("UNAUTHORIZED", status=401)
        if conn.logon_sub is not None:
            raise ApiError("SUBSCRIPTION_ACTIVE")
        conn.logon_sub = conn.subscribe(conn.key.account_id)
        return {"subscriptionId": conn.logon_sub}

    async def subscribe_signature(self, conn: ApiConn, sp: dict[str, str], p: Params) -> Any:
        key = self.signed(conn, sp, p, session=False)
        return {"subscriptionId": conn.subscribe(key.account_id)}

    async def unsubscribe(self, conn: ApiConn, sp: dict[str, str], p: Params) -> Any:
        sid = p.int("subscriptionId")
        if sid is None:
            if not conn.subs:
                raise ApiError("SUBSCRIPTION_INACTIVE")
            for s in list(conn.subs):
                conn.unsubscribe(s)
        elif sid in conn.subs:
            conn.unsubscribe(sid)
        else:
            raise ApiError("SUBSCRIPTION_INACTIVE")
        return {}
