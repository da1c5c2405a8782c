"""Streams tests: a real `spotex serve` per test module, raw `websockets` clients.

Every test takes fresh markets from a pool (`live.market()`) and fresh accounts, so no
test sees another one's trades, books or tickers.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlencode

import httpx
import orjson
import pytest
import websockets
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from spotex.config import default_text
from tests.live import ADMIN_TOKEN, LiveServer


async def room_in_minute(needs_s: float) -> None:
    """Weight windows and 1m candles are the clock's minutes: wait for a new one if fewer
    than `needs_s` seconds of this one are left, so what a test does falls in one minute."""
    into_minute = time.time() % 60
    if into_minute > 60 - needs_s:
        await asyncio.sleep(60.1 - into_minute)

POOL = 40
QUOTE = "USDT"
_SYMBOL = """
[[symbols]]
symbol = "{base}USDT"
baseAsset = "{base}"
quoteAsset = "USDT"
defaultSelfTradePreventionMode = "NONE"
filters = [
  {{ filterType = "PRICE_FILTER", minPrice = "0.01", maxPrice = "1000000", tickSize = "0.01" }},
  {{ filterType = "LOT_SIZE", minQty = "0.001", maxQty = "9000", stepSize = "0.001" }},
  {{ filterType = "ICEBERG_PARTS", limit = 10 }},
  {{ filterType = "MARKET_LOT_SIZE", minQty = "0", maxQty = "1000", stepSize = "0" }},
  {{ filterType = "TRAILING_DELTA", minTrailingAboveDelta = 10, maxTrailingAboveDelta = 2000, minTrailingBelowDelta = 10, maxTrailingBelowDelta = 2000 }},
  {{ filterType = "NOTIONAL", minNotional = "1", applyMinToMarket = true, maxNotional = "9000000", applyMaxToMarket = false, avgPriceMins = 5 }},
  {{ filterType = "MAX_NUM_ORDERS", maxNumOrders = 200 }},
  {{ filterType = "MAX_NUM_ALGO_ORDERS", maxNumAlgoOrders = 5 }},
]
"""


def streams_config(path: Path, weight_limit: int = 10_000_000, **streams: Any) -> Path:
    """Default config + a pool of fresh S<nnn>USDT markets; IP weight and connection
    attempts raised (the whole module talks from one address); [streams] overrides."""
    text = default_text()
    weight = 'rateLimitType = "REQUEST_WEIGHT"\ninterval = "MINUTE"\nintervalNum = 1\nlimit = 6000\n'
    assert weight in text
    text = text.replace(weight, weight.replace("limit = 6000", f"limit = {weight_limit}"))
    text = text.replace("connection_attempts = 300", "connection_attempts = 100000")
    text = text.replace('intervalNum = 10\nlimit = 100\n', 'intervalNum = 10\nlimit = 100000\n')
    for key, value in streams.items():
        old = next(line for line in text.splitlines() if line.startswith(key + " = "))
        text = text.replace(old, f"{key} = {value!r}".replace("'", '"'))
    text += "".join(_SYMBOL.format(base=f"S{i:03d}") for i in range(POOL))
    path.write_text(text)
    return path


@dataclass(frozen=True)
class Account:
    account_id: int
    api_key: str
    secret: str  # HMAC secret, or the Ed25519 private key PEM
    key_type: str = "HMAC_SHA256"


class Live:
    """The server, admin and signed-REST helpers."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.url = server.url
        self.ws_url = server.url.replace("http://", "ws://")
        self.http = httpx.Client(base_url=server.url, timeout=10)
        self._pool = iter(range(POOL))
        self._ed25519: tuple[str, str] | None = None

    def market(self) -> str:
        return f"S{next(self._pool):03d}USDT"

    def ed25519_pems(self) -> tuple[str, str]:
        if self._ed25519 is None:
            key = ed25519.Ed25519PrivateKey.generate()
            self._ed25519 = (
                key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).decode(),
                key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo).decode())
        return self._ed25519

    def account(self, key_type: str = "HMAC_SHA256", **balances: str) -> Account:
        doc: dict[str, Any] = {"balances": balances, "keyType": key_type}
        if key_type == "ED25519":
            doc["publicKey"] = self.ed25519_pems()[1]
        r = self.http.post("/admin/v1/accounts", json=doc, headers=self.admin)
        assert r.status_code == 200, r.text
        d = r.json()
        secret = d["secretKey"] if key_type == "HMAC_SHA256" else self.ed25519_pems()[0]
        return Account(d["accountId"], d["apiKey"], secret, key_type)

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def transfer(self, acct: Account, kind: str, asset: str, amount: str) -> None:
        r = self.http.post(f"/admin/v1/accounts/{acct.account_id}/{kind}",
                           json={"asset": asset, "amount": amount}, headers=self.admin)
        assert r.status_code == 200, r.text

    def request(self, acct: Account, method: str, path: str, **params: Any) -> httpx.Response:
        params["timestamp"] = int(time.time() * 1000)
        qs = urlencode(params)
        if acct.key_type == "ED25519":
            key = serialization.load_pem_private_key(acct.secret.encode(), None)
            qs += "&signature=" + quote(base64.b64encode(key.sign(qs.encode())).decode(), safe="")
        else:
            qs += "&signature=" + hmac.new(acct.secret.encode(), qs.encode(), hashlib.sha256).hexdigest()
        return self.http.request(method, f"{path}?{qs}", headers={"X-MBX-APIKEY": acct.api_key})

    def signed(self, acct: Account, method: str, path: str, **params: Any) -> Any:
        r = self.request(acct, method, path, **params)
        assert r.status_code == 200, r.text
        return r.json()

    def order(self, acct: Account, symbol: str, side: str, qty: str, price: str | None = None,
              **extra: Any) -> dict:
        params: dict[str, Any] = {"symbol": symbol, "side": side, "quantity": qty}
        if price is None:
            params["type"] = "MARKET"
        else:
            params.update(type="LIMIT", timeInForce="GTC", price=price)
        params.update(extra)
        return self.signed(acct, "POST", "/api/v3/order", **params)

    def listen_key(self, acct: Account) -> str:
        r = self.http.post("/api/v3/userDataStream", headers={"X-MBX-APIKEY": acct.api_key})
        assert r.status_code == 200, r.text
        return r.json()["listenKey"]

    def depth(self, symbol: str, limit: int = 1000) -> dict:
        return self.http.get("/api/v3/depth", params={"symbol": symbol, "limit": limit}).json()

    def pair(self, symbol: str) -> tuple[Account, Account]:
        """A maker and a taker, both funded in `symbol`'s assets."""
        base = symbol[:-4]
        return (self.account(**{base: "100", QUOTE: "100000"}),
                self.account(**{base: "100", QUOTE: "100000"}))


def start_live(tmp_path_factory: pytest.TempPathFactory, weight_limit: int = 10_000_000,
               **streams: Any):
    root = tmp_path_factory.mktemp("spotex-streams")
    server = LiveServer(root / "data", config=streams_config(root / "streams.toml",
                                                             weight_limit, **streams))
    server.start()
    live = Live(server)
    return server, live


def stop_live(server: LiveServer, live: Live) -> None:
    """Stop the server; its log must show no failure (timer ticks, listeners, requests)."""
    live.http.close()
    server.stop()
    log = server.proc.stdout.read().decode()
    assert "Traceback" not in log, log[-5000:]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    server, lv = start_live(tmp_path_factory)
    yield lv
    stop_live(server, lv)


# ---------------------------------------------------------------- websocket helpers
def connect(live: Live, path: str, **kw: Any):
    return websockets.connect(live.ws_url + path, max_queue=None, **kw)


async def recv(ws: Any, timeout: float = 5.0) -> Any:
    return orjson.loads(await asyncio.wait_for(ws.recv(), timeout))


async def recv_until(ws: Any, pred: Callable[[Any], bool], timeout: float = 5.0) -> Any:
    """The first message matching `pred` (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no matching message in time")
        msg = await recv(ws, left)
        if pred(msg):
            return msg


async def collect(ws: Any, seconds: float) -> list[Any]:
    """Everything that arrives within `seconds`."""
    out, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            out.append(await recv(ws, left))
        except asyncio.TimeoutError:
            break
    return out


async def request(ws: Any, method: str, params: Any = None, rid: Any = 1) -> Any:
    """A control message and its reply (events arriving meanwhile are skipped)."""
    msg: dict[str, Any] = {"method": method, "id": rid}
    if params is not None:
        msg["params"] = params
    await ws.send(orjson.dumps(msg).decode())
    return await recv_until(ws, lambda m: isinstance(m, dict) and "e" not in m
                            and ("result" in m or "code" in m) and m.get("id", rid) == rid)
