"""One real `spotex serve` process for the whole clients suite, driven by real client libraries.

Every test gets its own funded accounts (admin API) and, when it trades, its own symbol
from a pool of identical fresh markets, so no test sees another test's book, trades,
tickers or average price, whatever the order the tests run in.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from spotex.config import default_text
from tests.live import ADMIN_TOKEN, LiveServer

POOL_SIZE = 120  # fresh markets; a test takes one with the `market` fixture
QUOTE = "USDT"

T = TypeVar("T")
ORDER_WINDOW_MS = 10_000  # the default ORDERS limit: 100 per 10 SECOND, clock-aligned
ORDER_WINDOW_MARGIN_MS = 2_000


def fill_order_window(new_trader: Callable[[], T], place: Callable[[T], Any],
                      n: int = 100, attempts: int = 3) -> T:
    """Place `n` orders from a fresh trader inside one clock-aligned ORDERS window.

    Windows start at multiples of 10 s, so on a slow machine 100 orders sent at an
    arbitrary moment can straddle two windows and the 101st is then allowed. Start
    right after a boundary, and retry with a fresh account if the orders (plus a margin
    for the requests that follow) still spilled.
    """
    for _ in range(attempts):
        into = time.time() * 1000 % ORDER_WINDOW_MS
        if into > 500:
            time.sleep((ORDER_WINDOW_MS - into) / 1000 + 0.02)
        window = time.time() * 1000 // ORDER_WINDOW_MS
        trader = new_trader()
        for _ in range(n):
            place(trader)
        # the caller's next requests (the 101st order, the count) must fall in it too
        if (time.time() * 1000 + ORDER_WINDOW_MARGIN_MS) // ORDER_WINDOW_MS == window:
            return trader
    pytest.fail(f"could not place {n} orders inside one {ORDER_WINDOW_MS} ms window")


# Same filters as BTCUSDT (tick 0.01, step 0.00001, min notional 5), without trades.
_POOL_SYMBOL = """
[[symbols]]
symbol = "{base}USDT"
baseAsset = "{base}"
quoteAsset = "USDT"
filters = [
  {{ filterType = "PRICE_FILTER", minPrice = "0.01", maxPrice = "1000000", tickSize = "0.01" }},
  {{ filterType = "LOT_SIZE", minQty = "0.00001", maxQty = "9000", stepSize = "0.00001" }},
  {{ filterType = "ICEBERG_PARTS", limit = 10 }},
  {{ filterType = "MARKET_LOT_SIZE", minQty = "0", maxQty = "100", stepSize = "0" }},
  {{ filterType = "TRAILING_DELTA", minTrailingAboveDelta = 10, maxTrailingAboveDelta = 2000, minTrailingBelowDelta = 10, maxTrailingBelowDelta = 2000 }},
  {{ filterType = "PERCENT_PRICE_BY_SIDE", bidMultiplierUp = "5", bidMultiplierDown = "0.2", askMultiplierUp = "5", askMultiplierDown = "0.2", avgPriceMins = 5 }},
  {{ filterType = "NOTIONAL", minNotional = "5", applyMinToMarket = true, maxNotional = "9000000", applyMaxToMarket = false, avgPriceMins = 5 }},
  {{ filterType = "MAX_NUM_ORDERS", maxNumOrders = 200 }},
  {{ filterType = "MAX_NUM_ALGO_ORDERS", maxNumAlgoOrders = 5 }},
]
"""


def clients_config(path: Path) -> Path:
    """The default config plus POOL_SIZE fresh markets; the per-IP request weight limit is
    raised because the whole suite talks to one server from one address."""
    text = default_text()
    weight = ('rateLimitType = "REQUEST_WEIGHT"\ninterval = "MINUTE"\nintervalNum = 1\n'
              'limit = 6000\n')
    assert weight in text
    text = text.replace(weight, weight.replace("limit = 6000", "limit = 10000000"))
    text += "".join(_POOL_SYMBOL.format(base=f"C{i:03d}") for i in range(POOL_SIZE))
    path.write_text(text)
    return path


@dataclass(frozen=True)
class Market:
    """A fresh market: `id` is the Binance symbol, `symbol` the ccxt unified one."""

    base: str
    quote: str = QUOTE

    @property
    def id(self) -> str:
        return self.base + self.quote

    @property
    def symbol(self) -> str:
        return f"{self.base}/{self.quote}"


@dataclass(frozen=True)
class Account:
    """An exchange account. `secret` is what a client library takes as its secret: the HMAC
    secret key, or the private key PEM for ED25519/RSA keys."""

    account_id: int
    api_key: str
    secret: str
    key_type: str = "HMAC_SHA256"


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def _pems(private: Any) -> KeyPair:
    return KeyPair(
        private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode(),
        private.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode())


class Spotex:
    """The running server plus admin and raw-HTTP helpers (library-neutral set-up)."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.url = server.url
        self.http = httpx.Client(base_url=server.url, timeout=10)
        self._pool = (Market(f"C{i:03d}") for i in range(POOL_SIZE))
        self._keys: dict[str, KeyPair] = {}

    def key_pair(self, key_type: str) -> KeyPair:
        """One Ed25519 / RSA-2048 key pair per run (RSA generation is slow); every account
        registers the public key under its own API key."""
        if key_type not in self._keys:
            private = (ed25519.Ed25519PrivateKey.generate() if key_type == "ED25519"
                       else rsa.generate_private_key(public_exponent=65537, key_size=2048))
            self._keys[key_type] = _pems(private)
        return self._keys[key_type]

    def account(self, key_type: str = "HMAC_SHA256", **balances: str) -> Account:
        doc: dict[str, Any] = {"balances": balances, "keyType": key_type}
        pair = None
        if key_type != "HMAC_SHA256":
            pair = self.key_pair(key_type)
            doc["publicKey"] = pair.public_pem
        r = self.http.post("/admin/v1/accounts", json=doc,
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert r.status_code == 200, r.text
        d = r.json()
        return Account(d["accountId"], d["apiKey"],
                       d["secretKey"] if pair is None else pair.private_pem, key_type)

    def market(self) -> Market:
        try:
            return next(self._pool)
        except StopIteration:
            raise RuntimeError("market pool exhausted: raise POOL_SIZE") from None

    # -- raw signed HTTP, for set-up only (HMAC accounts) --------------------------------
    def signed(self, acct: Account, method: str, path: str, **params: Any) -> Any:
        params["timestamp"] = int(time.time() * 1000)
        qs = urlencode(params)
        qs += "&signature=" + hmac.new(acct.secret.encode(), qs.encode(),
                                       hashlib.sha256).hexdigest()
        r = self.http.request(method, f"{path}?{qs}", headers={"X-MBX-APIKEY": acct.api_key})
        assert r.status_code == 200, r.text
        return r.json()

    def order(self, acct: Account, market: Market, side: str, qty: str,
              price: str | None = None, **extra: Any) -> dict:
        params: dict[str, Any] = {"symbol": market.id, "side": side, "quantity": qty}
        if price is None:
            params["type"] = "MARKET"
        else:
            params.update(type="LIMIT", timeInForce="GTC", price=price)
        return self.signed(acct, "POST", "/api/v3/order", **params, **extra)

    def seed(self, market: Market) -> Seeded:
        """A small, known market: two trades and a two-level book on each side.

        maker rests SELL 2 @ 101, 1 @ 102 and BUY 2 @ 99, 1 @ 98; a taker then BUYs 0.5 at
        market (trade 101 x 0.5, buyer is taker) and SELLs 0.25 at market (trade 99 x 0.25,
        buyer is maker). Book after: asks 101 x 1.5, 102 x 1; bids 99 x 1.75, 98 x 1.
        """
        maker = self.account(**{market.base: "10", QUOTE: "1000"})
        taker = self.account(**{market.base: "10", QUOTE: "1000"})
        for side, qty, price in (("SELL", "2", "101"), ("SELL", "1", "102"),
                                 ("BUY", "2", "99"), ("BUY", "1", "98")):
            self.order(maker, market, side, qty, price)
        t0 = int(time.time() * 1000)
        self.order(taker, market, "BUY", "0.5")
        self.order(taker, market, "SELL", "0.25")
        return Seeded(market, maker, taker, t0)


@dataclass(frozen=True)
class Seeded:
    market: Market
    maker: Account
    taker: Account
    start_ms: int


@pytest.fixture(scope="session")
def spotex(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("spotex-clients")
    with LiveServer(root / "data", config=clients_config(root / "clients.toml")) as server:
        sx = Spotex(server)
        yield sx
        sx.http.close()


@pytest.fixture
def market(spotex: Spotex) -> Market:
    """A market no other test touches."""
    return spotex.market()


@pytest.fixture
def seeded(spotex: Spotex) -> Seeded:
    """A fresh market with the known book and trades of `Spotex.seed`."""
    return spotex.seed(spotex.market())

