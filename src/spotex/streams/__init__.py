"""spotex.streams: WebSocket market streams, user data streams and the WebSocket API,
served by the REST app on the same port.

* `/ws`, `/ws/<stream>[/<stream>...]`: raw streams; `/stream[?streams=a/b]`: combined
  (`{"stream","data"}`); both take live SUBSCRIBE/... control messages (control.py).
  A listenKey is a stream name too (`/ws/<listenKey>`, or SUBSCRIBEd).
* `/ws-api/v3`: the WebSocket API (wsapi.py).

The feeds are engine live listeners: they see applied commands as they happen (never the
journal replay) and render from the core's per-command trades and reports. A timer task,
started by the app's lifespan, drives periodic streams every 100 ms and, every second,
listenKey expiry and the connection lifetime limit.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import unquote

from ..api.app import App
from ..api.http import parse_headers
from ..core.errors import ApiError
from ..engine import Engine
from ..market import MarketData
from .conn import GOING_AWAY, Conn, Receive, Send
from .control import MarketConn
from .hub import Hub, dumps
from .market import MarketFeed
from .names import parse
from .user import ListenKeys, Sub, UserFeed
from .wsapi import ApiConn, WsApi

log = logging.getLogger("spotex.streams")
TICK_S = 0.1
API_CONNECT_WEIGHT = 2  # streams.md §3: connecting to the WebSocket API costs 2


class Streams:
    def __init__(self, engine: Engine, market: MarketData) -> None:
        self.engine = engine
        self.policy = engine.config.streams
        self.hub = Hub()
        self.keys = ListenKeys(engine.clock, self.policy.listen_key_validity_ms)
        self.market = MarketFeed(engine, market, self.hub)
        self.user = UserFeed()
        self.conns: set[Conn] = set()
        self.attempts: dict[str, list[int]] = {}  # ip -> [window start, connections]
        self.app: App | None = None
        self.api: WsApi | None = None
        self.timer: asyncio.Task | None = None
        # an accelerated or manual exchange clock (spotex.clock), set by the server:
        # then the timer runs on it rather than on the wall
        self.clock: Any = None
        self.clock_timer: Any = None
        engine.live_listeners += [self.market.on_command, self.user.on_command]

    def attach(self, app: App) -> None:
        """Serve WebSockets through `app`, with the timer in its lifespan."""
        self.app = app
        app.streams = self  # its connection and subscription gauges (spotex.metrics)
        self.api = WsApi(self, app)
        app.websocket = self.serve
        app.on_startup.append(self.start)
        app.on_shutdown.append(self.stop)

    # ---------------------------------------------------------------- subscriptions
    def subscribe(self, name: str, conn: MarketConn) -> None:
        """A market stream, a listenKey's user data, or (unknown name) nothing."""
        topic = parse(name, self.market.symbols)
        if topic is not None:
            self.hub.add(name, topic, conn)
            return
        account = self.keys.account_of(name)
        if account is not None:
            self.user.add(Sub(conn, account, name, lambda text: conn.push_event(name, text)))

    def unsubscribe(self, name: str, conn: MarketConn) -> None:
        self.hub.remove(name, conn)
        for sub in self.user.with_key(name):
            if sub.conn is conn:
                self.user.remove(sub)

    def close_listen_key(self, account: int, key: str) -> None:
        """DELETE userDataStream: the key is gone and its streams stop."""
        self.keys.close(account, key)
        self.user.drop(key)

    # ---------------------------------------------------------------- connections
    async def serve(self, scope: dict, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        ip = self.app.waf.client_ip(scope, parse_headers(scope.get("headers", [])))
        try:
            self._admit(ip)
            conn = self._open(scope["path"], scope.get("query_string", b"").decode("latin-1"),
                              ip, send)
        except ApiError as exc:
            await _refuse(scope, send, exc)
            return
        if conn is None:  # not a WebSocket path: 403
            await send({"type": "websocket.close"})
            return
        self.conns.add(conn)
        try:
            await conn.run(receive)
        finally:
            self.conns.discard(conn)

    def _admit(self, ip: str) -> None:
        """At most `connection_attempts` connections per IP per `attempts_window`."""
        now, window = self.engine.clock(), self.policy.attempts_window_ms
        start = now - now % window
        slot = self.attempts.get(ip)
        if slot is None or slot[0] != start:
            slot = self.attempts[ip] = [start, 0]
        slot[1] += 1
        if slot[1] > self.policy.connection_attempts:
            raise ApiError("TOO_MANY_CONNECTIONS", self.policy.connection_attempts,
                           f"{window // 60_000} MINUTE", status=429)

    def _open(self, path: str, query: str, ip: str, send: Send) -> Conn | None:
        if path == "/ws-api/v3":
            self.app.limiter.admit(ip, API_CONNECT_WEIGHT)
            return ApiConn(self, send, ip, query)
        if path == "/ws" or path.startswith("/ws/"):
            names, combined = path[4:].split("/"), False
        elif path == "/stream":
            names, combined = _streams_param(query).split("/"), True
        else:
            return None
        names = [n for n in names if n]
        if len(names) > self.policy.max_streams:
            raise ApiError("TOO_MANY_PARAMETERS", self.policy.max_streams, len(names))
        return MarketConn(self, send, ip, combined, names)

    # ---------------------------------------------------------------- timer
    def start(self) -> None:
        if self.clock is not None:  # exchange time: pushes follow an accelerated or manual clock
            step = int(TICK_S * 1000)
            self.clock_timer = self.clock.call_at((self.clock() // step + 1) * step,
                                                  self._clock_tick)
            return
        self.timer = asyncio.get_running_loop().create_task(self._run())

    def _clock_tick(self) -> None:
        """One 100 ms tick of exchange time, then the next (a manual advance runs every
        tick it passes, each at its own time)."""
        assert self.clock_timer is not None
        step = int(TICK_S * 1000)
        due = self.clock_timer.due
        try:
            self.tick(due // step)
        except Exception:
            log.exception("streams timer tick failed")
        nxt = due + step
        if nxt <= self.clock():  # behind (a speed the loop cannot keep up with): skip
            nxt = (self.clock() // step + 1) * step
        self.clock_timer = self.clock.call_at(nxt, self._clock_tick)

    async def stop(self) -> None:
        if self.clock_timer is not None:
            self.clock_timer.cancel()
        if self.timer is not None:
            self.timer.cancel()
        for conn in list(self.conns):
            conn.close(GOING_AWAY, "Server shutting down")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start, n = loop.time(), 0
        while True:
            n += 1
            delay = start + n * TICK_S - loop.time()
            if delay < -TICK_S:  # fell behind (a long command): skip, don't burst
                start, delay = loop.time() - n * TICK_S, 0
            await asyncio.sleep(max(delay, 0))
            try:
                self.tick(n)
            except Exception:
                log.exception("streams timer tick failed")

    def tick(self, n: int) -> None:
        """One 100 ms step; every 10th also does the once-a-second work."""
        whole = n % 10 == 0
        self.market.tick(whole, n % 20 == 0)
        if whole:
            self.every_second()

    def every_second(self) -> None:
        now = self.engine.clock()
        for key in self.keys.expire():
            self.user.expire(key, now)
        for conn in list(self.conns):
            if now - conn.opened >= self.policy.connection_lifetime_ms:
                conn.close(GOING_AWAY, "Connection lifetime reached")
        window = self.policy.attempts_window_ms
        self.attempts = {ip: s for ip, s in self.attempts.items() if s[0] > now - window}


def _streams_param(query: str) -> str:
    """`streams=` of the query, percent-decoded but keeping '+' (as in `@+08:00`)."""
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name == "streams":
            return unquote(value)
    return ""


async def _refuse(scope: dict, send: Send, exc: ApiError) -> None:
    """Answer the handshake with the error's HTTP status and JSON body when the server
    supports it (ASGI websocket.http.response), else a plain 403."""
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": exc.status,
                    "headers": [(b"content-type", b"application/json;charset=UTF-8")]})
        await send({"type": "websocket.http.response.body", "body": dumps(exc.body()).encode()})
    else:
        await send({"type": "websocket.close"})


__all__ = ["Streams"]
