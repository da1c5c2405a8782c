"""Shared fixtures: an in-process spotex (ASGI over httpx) and a signing test client."""
from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from spotex.server import Server, build


class Clock:
    """Injectable wall clock (ms) so tests control time without sleeping."""

    def __init__(self, now: int | None = None) -> None:
        self.now = now if now is not None else time.time_ns() // 1_000_000

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


class Trader:
    """One account's API client: signs like python-binance/ccxt (HMAC hex, signature last)."""

    def __init__(self, http: httpx.AsyncClient, clock: Clock, account_id: int, api_key: str,
                 secret: str) -> None:
        self.http, self.clock = http, clock
        self.account_id, self.api_key, self.secret = account_id, api_key, secret

    def sign(self, query: str) -> str:
        return hmac.new(self.secret.encode(), query.encode(), hashlib.sha256).hexdigest()

    async def signed(self, method: str, path: str, *, body: bool = False, **params: Any) -> httpx.Response:
        """Send a SIGNED request; params go in the query (default) or a form body."""
        params = {k: v for k, v in params.items() if v is not None}
        params.setdefault("timestamp", self.clock())
        qs = urlencode(params)
        qs += "&signature=" + self.sign(qs)
        headers = {"X-MBX-APIKEY": self.api_key}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return await self.http.request(method, path, content=qs, headers=headers)
        return await self.http.request(method, f"{path}?{qs}", headers=headers)

    async def order(self, **params: Any) -> httpx.Response:
        return await self.signed("POST", "/api/v3/order", **params)

    async def balances(self) -> dict[str, tuple[str, str]]:
        r = await self.signed("GET", "/api/v3/account")
        assert r.status_code == 200, r.text
        return {b["asset"]: (b["free"], b["locked"]) for b in r.json()["balances"]}


class Exchange:
    """The system under test: app, admin helpers, time control."""

    def __init__(self, server: Server, http: httpx.AsyncClient, clock: Clock) -> None:
        self.server, self.http, self.clock = server, http, clock

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.server.admin_token}"}

    async def new_trader(self, **balances: str) -> Trader:
        r = await self.http.post("/admin/v1/accounts", json={"balances": balances},
                                 headers=self.admin_headers)
        assert r.status_code == 200, r.text
        d = r.json()
        return Trader(self.http, self.clock, d["accountId"], d["apiKey"], d["secretKey"])


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def exchange(tmp_path: Path, clock: Clock):
    server = build(tmp_path / "data", admin_token="test-admin-token", clock=clock)
    transport = httpx.ASGITransport(app=server.app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://spotex") as http:
        yield Exchange(server, http, clock)
    await server.engine.journal.close()


@pytest.fixture
async def http(exchange: Exchange) -> httpx.AsyncClient:
    return exchange.http
