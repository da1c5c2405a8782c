"""The spotex ASGI app: security per route, weight and order-count headers, error mapping;
per request a `spotex.access` log line and the request metrics (`GET /metrics`)."""
from __future__ import annotations

import hmac
import logging
from time import perf_counter
from typing import Any, Awaitable, Callable

from .. import metrics
from ..core.errors import ApiError
from ..engine import Engine
from . import weights
from .auth import KeyRing, check_signed
from .http import (ADMIN, NOT_FOUND_HTML, SIGNED, USER_STREAM, Request, Route,
                   Router, error_response, json_response, parse_headers, send_response,
                   unexpected)
from .ratelimit import IpLimiter
from .waf import Waf, WafBlock

access = logging.getLogger("spotex.access")


class App:
    def __init__(self, engine: Engine, routes: list[Route], admin_token: str | None) -> None:
        self.engine = engine
        self.router = Router(routes)
        self.admin_token = admin_token
        self.keys = KeyRing()
        # the server's clock (not the wall clock) so weight windows follow engine time
        policy = engine.config.limits
        self.limiter = IpLimiter(engine.config.rate_limits, policy, engine.clock)
        self.waf = Waf(policy)
        # WebSocket endpoints and their timer, installed by spotex.streams
        self.websocket: Callable[[dict, Callable, Callable], Awaitable[None]] | None = None
        self.on_startup: list[Callable[[], None]] = []
        self.on_shutdown: list[Callable[[], Awaitable[None]]] = []
        self.streams: Any = None  # the spotex.streams serving here (its gauges in /metrics)
        self.access_log = bool(getattr(getattr(engine.config, "logging", None), "access_log", True))
        enabled, token = metrics.policy(engine.config)
        self.metrics = metrics.Metrics(self, token) if enabled else None

    async def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        elif kind == "websocket":
            if self.websocket is not None:
                await self.websocket(scope, receive, send)
            else:
                await receive()
                await send({"type": "websocket.close"})

    async def lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                for start in self.on_startup:
                    start()
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                for stop in self.on_shutdown:
                    await stop()
                await self.engine.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def http(self, scope: dict, receive: Callable, send: Callable) -> None:
        started = perf_counter()
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"")
        try:
            self.waf.check_query(query)
            body = await self.waf.read_body(receive)
        except WafBlock:
            status, headers, payload = self.waf.response()
            await send_response(send, status, headers, payload)
            route = self.router.find(method, path)[0]
            self.done((scope.get("client") or ("", 0))[0], method, path,
                      route.path if route else metrics.OTHER, status, 0, started)
            return
        headers = parse_headers(scope["headers"])
        req = Request(method, path, query.decode("latin-1"), body, headers,
                      self.waf.client_ip(scope, headers))
        route, args = self.router.find(method, path)
        if route is None:
            if path == metrics.PATH and method == "GET" and self.metrics is not None:
                status, label = await self.serve_metrics(req, send), metrics.PATH
            else:
                status, label = await self.not_found(req, send), metrics.OTHER
            self.done(req.client, method, path, label, status, 0, started)
            return
        req.path_args = args
        status, payload, weight = await self.dispatch(route, req)
        out_headers = self.limiter.headers(req.client) + req.response_headers
        await send_response(send, *json_response(status, payload, out_headers))
        self.done(req.client, method, path, route.path, status, weight, started)

    def done(self, client: str, method: str, path: str, route: str, status: int,
             weight: int, started: float) -> None:
        """After the response is sent: the request metrics and the access log line (the
        path without its query: no signature or key ever reaches the log)."""
        seconds = perf_counter() - started
        if self.metrics is not None:
            self.metrics.request(method, route, status, seconds)
        if self.access_log and access.isEnabledFor(logging.INFO):
            ms = seconds * 1000
            access.info("%s %s %s %d %.1fms weight=%s", client, method, path, status, ms,
                        weight, extra={"method": method, "path": path, "status": status,
                                       "ms": round(ms, 3), "client": client, "weight": weight})

    async def dispatch(self, route: Route, req: Request) -> tuple[int, Any, int]:
        """(status, payload, the request weight charged)."""
        weight = 0
        try:
            if route.security == ADMIN:
                self.check_admin(req)
            else:
                weight = weights.weight_of(req.method, req.path, req.params)
                try:
                    self.limiter.admit(req.client, weight)
                except ApiError as exc:
                    if exc.status == 418:  # a banned IP's requests are not counted
                        weight = 0
                    raise
            if route.security == SIGNED:
                key = self.keys.get(self.engine.exchange, req.headers.get("x-mbx-apikey"))
                check_signed(key, req.query, req.body, req.params, self.engine.timestamp_now())
                req.account = key.account_id
            elif route.security == USER_STREAM:
                req.account = self.keys.get(self.engine.exchange,
                                             req.headers.get("x-mbx-apikey")).account_id
            return 200, await route.handler(req), weight
        except ApiError as exc:
            if exc.retry_after is not None:
                req.response_headers.append((b"retry-after", str(exc.retry_after).encode()))
            return (*error_response(exc), weight)
        except Exception as exc:  # a handler bug: 5XX, state untouched (see Engine)
            return (*unexpected(exc), weight)

    def check_admin(self, req: Request) -> None:
        auth = req.headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if not self.admin_token or not hmac.compare_digest(token.encode(), self.admin_token.encode()):
            raise ApiError("UNAUTHORIZED", status=401)

    async def not_found(self, req: Request, send: Callable) -> int:
        if "text/html" in req.headers.get("accept", ""):
            await send_response(send, 404, [(b"content-type", b"text/html")], NOT_FOUND_HTML)
        else:  # empty, and so not labelled JSON (clients would try to parse it)
            await send_response(send, 404, [], b"")
        return 404

    async def serve_metrics(self, req: Request, send: Callable) -> int:
        """GET /metrics: no API key, no rate limit; the bearer token when one is set."""
        status, headers, body = self.metrics.response(req.headers)
        await send_response(send, status, headers, body)
        return status

