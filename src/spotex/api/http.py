"""A plain ASGI application: routing table, request parsing, error mapping, headers.

No framework on the order path (measured: frameworks cost 2-5x). Any ASGI server
runs it; `spotex serve` uses uvicorn with uvloop and httptools.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import orjson

from ..core.errors import ApiError
from .params import Params

log = logging.getLogger("spotex.http")

NONE, SIGNED, USER_STREAM, ADMIN = "NONE", "SIGNED", "USER_STREAM", "ADMIN"
JSON_HEADERS = [(b"content-type", b"application/json;charset=UTF-8")]
NOT_FOUND_HTML = b"<html><body><h2>404 Not found</h2></body></html>"


class Request:
    """What a handler sees: raw query and body (for signatures) and merged params."""

    __slots__ = ("method", "path", "query", "body", "raw_body", "headers", "client",
                 "_params", "account", "path_args", "response_headers")

    def __init__(self, method: str, path: str, query: str, raw_body: bytes,
                 headers: dict[str, str], client: str) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.raw_body = raw_body
        # form-encoded params (what Binance clients send); JSON bodies only on admin routes
        is_json = headers.get("content-type", "").startswith("application/json")
        self.body = "" if is_json or not raw_body else raw_body.decode("latin-1")
        self.headers = headers
        self.client = client
        self._params: Params | None = None
        self.account = 0
        self.path_args: tuple[str, ...] = ()
        self.response_headers: list[tuple[bytes, bytes]] = []

    @property
    def params(self) -> Params:
        if self._params is None:
            self._params = Params.from_parts(self.query, self.body)
        return self._params


Handler = Callable[[Request], Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    security: str = NONE


class Router:
    """Exact paths in a dict; admin paths with one `{id}` segment matched by prefix."""

    def __init__(self, routes: list[Route]) -> None:
        self.exact = {(r.method, r.path): r for r in routes if "{" not in r.path}
        self.templated = [r for r in routes if "{" in r.path]
        self.paths = {r.path for r in routes}

    def find(self, method: str, path: str) -> tuple[Route | None, tuple[str, ...]]:
        route = self.exact.get((method, path))
        if route is not None:
            return route, ()
        parts = path.split("/")
        for r in self.templated:
            tparts = r.path.split("/")
            if r.method != method or len(tparts) != len(parts):
                continue
            args = []
            for t, p in zip(tparts, parts):
                if t.startswith("{"):
                    args.append(p)
                elif t != p:
                    break
            else:
                return r, tuple(args)
        return None, ()


def json_response(status: int, payload: Any, headers: list[tuple[bytes, bytes]]) -> tuple[int, list, bytes]:
    return status, JSON_HEADERS + headers, orjson.dumps(payload)


async def send_response(send: Callable[[dict], Awaitable[None]], status: int,
                        headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def parse_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}


def error_response(exc: ApiError) -> tuple[int, dict[str, Any]]:
    return exc.status, exc.body()


def unexpected(exc: BaseException) -> tuple[int, dict[str, Any]]:
    log.exception("handler failed", exc_info=exc)
    err = ApiError("UNKNOWN")
    return err.status, err.body()
