"""Rate limits as Binance enforces them: weights, 429 -> 418 bans with escalation and
expiry, RAW_REQUESTS, ORDERS (-1015), headers, the WAF 403 and trusted proxies. Time is
driven by the injectable clock."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from spotex.config import default_text
from spotex.server import build
from tests.conftest import Clock, Exchange

MINUTE = 60_000
WEIGHT_MSG = ("Too much request weight used; current limit is 50 request weight per 1 MINUTE. "
              "Please use WebSocket Streams for live updates to avoid polling the API.")


def small_limits(tmp: Path, extra: str = "", enabled: bool = True) -> Path:
    text = default_text()
    start, end = text.index("[[rate_limits]]"), text.index("# Enforcement.")
    limits = """
[[rate_limits]]
rateLimitType = "REQUEST_WEIGHT"
interval = "MINUTE"
intervalNum = 1
limit = 50

[[rate_limits]]
rateLimitType = "RAW_REQUESTS"
interval = "MINUTE"
intervalNum = 1
limit = 40

[[rate_limits]]
rateLimitType = "ORDERS"
interval = "SECOND"
intervalNum = 10
limit = 3

[[rate_limits]]
rateLimitType = "ORDERS"
interval = "DAY"
intervalNum = 1
limit = 5

"""
    text = text[:start] + limits + text[end:]
    text = text.replace("ban_after = 5", "ban_after = 3")
    text = text.replace('ban_schedule = ["2m", "10m", "1h", "6h", "1d", "3d"]',
                        'ban_schedule = ["2m", "10m", "3d"]')
    text = text.replace("enabled = true", f"enabled = {'true' if enabled else 'false'}")
    text = text.replace('trusted_proxy_header = ""', extra or 'trusted_proxy_header = ""')
    path = tmp / "limits.toml"
    path.write_text(text)
    return path


def clock_at_minute_start() -> Clock:
    return Clock(1_800_000_000_000 - 1_800_000_000_000 % MINUTE + 1000)


@pytest.fixture
async def limited(tmp_path: Path):
    clock = clock_at_minute_start()
    server = build(tmp_path / "data", str(small_limits(tmp_path)), "admin", clock)
    transport = httpx.ASGITransport(app=server.app, client=("10.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://spotex") as http:
        yield Exchange(server, http, clock)
    await server.engine.journal.close()


async def test_weight_header_and_429_with_retry_after(limited):
    http = limited.http
    r = await http.get("/api/v3/exchangeInfo")  # weight 20
    assert r.headers["x-mbx-used-weight-1m"] == "20"
    await http.get("/api/v3/exchangeInfo")
    for used in ("45", "50"):  # depth limit 10: weight 5; exactly at the limit is allowed
        r = await http.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 10})
        assert r.status_code == 200 and r.headers["x-mbx-used-weight-1m"] == used
    r = await http.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 10})
    assert r.status_code == 429
    assert r.json() == {"code": -1003, "msg": WEIGHT_MSG}
    assert r.headers["retry-after"] == "59"  # one second into the minute
    assert r.headers["x-mbx-used-weight-1m"] == "55"  # refused requests count too
    limited.clock.advance(59_000)  # the next minute: a fresh window
    r = await http.get("/api/v3/time")
    assert r.status_code == 200 and r.headers["x-mbx-used-weight-1m"] == "1"


async def test_keeps_sending_after_429_gets_banned_then_released(limited):
    http, clock = limited.http, limited.clock
    for _ in range(2):
        await http.get("/api/v3/exchangeInfo")
    statuses = [(await http.get("/api/v3/exchangeInfo")).status_code for _ in range(4)]
    assert statuses == [429, 429, 429, 418]  # ban_after = 3 answers 429, then the ban
    r = await http.get("/api/v3/ping")
    assert r.status_code == 418
    until = clock.now + 2 * MINUTE  # banned for the first step: 2 minutes
    body = r.json()
    assert body["code"] == -1003
    assert body["msg"] == (f"Way too much request weight used; IP banned until {until}. "
                           "Please use WebSocket Streams for live updates to avoid bans.")
    assert r.headers["retry-after"] == "120"
    clock.advance(2 * MINUTE - 1)
    assert (await http.get("/api/v3/ping")).status_code == 418
    clock.advance(1)
    assert (await http.get("/api/v3/ping")).status_code == 200
    # a second offence: the next step of the schedule (10 minutes)
    for _ in range(2):
        await http.get("/api/v3/exchangeInfo")
    for _ in range(4):
        r = await http.get("/api/v3/exchangeInfo")
    assert r.status_code == 418 and r.headers["retry-after"] == "600"


async def test_ban_schedule_resets_after_ban_memory(limited):
    http, clock = limited.http, limited.clock

    async def offend() -> httpx.Response:
        for _ in range(6):
            r = await http.get("/api/v3/exchangeInfo")
        return r

    assert (await offend()).headers["retry-after"] == "120"
    clock.advance(3 * 86_400_000 + MINUTE)  # clean for longer than ban_memory (3d)
    assert (await offend()).headers["retry-after"] == "120"


async def test_ips_are_counted_separately(limited):
    for _ in range(3):
        await limited.http.get("/api/v3/exchangeInfo")
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=limited.server.app,
                                                            client=("10.0.0.2", 1)),
                              base_url="http://spotex")
    r = await other.get("/api/v3/exchangeInfo")
    assert r.status_code == 200 and r.headers["x-mbx-used-weight-1m"] == "20"
    await other.aclose()


async def test_raw_requests_limit(limited):
    for i in range(40):
        r = await limited.http.get("/api/v3/ping")  # weight 1: only RAW_REQUESTS binds
        assert r.status_code == 200, i
    r = await limited.http.get("/api/v3/ping")
    assert r.status_code == 429
    assert r.json()["msg"] == WEIGHT_MSG.replace("50 request weight", "40 request weight")


async def test_orders_limit_429_1015_and_fills_decrement(limited):
    maker = await limited.new_trader(BTC="1")
    taker = await limited.new_trader(USDT="100000")
    for i in range(3):
        r = await maker.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                              quantity="0.01", price=str(50000 + i))
        assert r.status_code == 200
    assert r.headers["x-mbx-order-count-10s"] == "3"
    assert r.headers["x-mbx-order-count-1d"] == "3"
    r = await maker.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                          quantity="0.01", price="50010")
    assert r.status_code == 429
    assert r.json() == {"code": -1015, "msg": "Too many new orders; current limit is 3 orders per 10 SECOND."}
    assert r.headers["retry-after"] == "9"  # 1 s into the 10 s window
    counts = (await maker.signed("GET", "/api/v3/rateLimit/order")).json()
    assert [(c["interval"], c["intervalNum"], c["limit"], c["count"]) for c in counts] == [
        ("SECOND", 10, 3, 3), ("DAY", 1, 5, 3)]
    # a fill of a resting order gives one back (the maker's first fill)
    r = await taker.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
    assert r.status_code == 200
    r = await maker.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                          quantity="0.01", price="50010")
    assert r.status_code == 200  # 3 - 1 (first fill) + 1
    assert (r.headers["x-mbx-order-count-10s"], r.headers["x-mbx-order-count-1d"]) == ("3", "3")
    # the DAY limit binds next, even in a new 10 s window
    limited.clock.advance(10_000)
    for price in ("50011", "50012"):
        r = await maker.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                              quantity="0.01", price=price)
        assert r.status_code == 200
    assert r.headers["x-mbx-order-count-1d"] == "5"
    r = await maker.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                          quantity="0.01", price="50013")
    assert r.json() == {"code": -1015, "msg": "Too many new orders; current limit is 5 orders per 1 DAY."}


async def test_exchange_info_lists_the_configured_limits(limited):
    r = await limited.http.get("/api/v3/exchangeInfo")
    assert r.json()["rateLimits"] == [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 50},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 1, "limit": 40},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 3},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 5},
    ]


async def test_limits_switched_off(tmp_path: Path):
    clock = clock_at_minute_start()
    server = build(tmp_path / "data", str(small_limits(tmp_path, enabled=False)), "admin", clock)
    transport = httpx.ASGITransport(app=server.app, client=("10.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://spotex") as http:
        ex = Exchange(server, http, clock)
        for _ in range(10):
            assert (await http.get("/api/v3/exchangeInfo")).status_code == 200
        t = await ex.new_trader(BTC="1")
        for i in range(8):
            r = await t.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                              quantity="0.01", price=str(50000 + i))
            assert r.status_code == 200, r.text
    await server.engine.journal.close()


@pytest.mark.parametrize("query,body", [
    (b"symbol=" + b"A" * 9000, b""),
    (b"symbol=BTC\nUSDT", b""),
    (b"", b"symbol=BTCUSDT&x=\x01"),
    (b"", b"a=" + b"1" * 70_000),
])
async def test_waf_403_for_malformed_or_oversized(limited, query, body):
    """Raw ASGI: an HTTP client library would refuse to send some of these."""
    scope = {"type": "http", "method": "POST", "path": "/api/v3/order", "query_string": query,
             "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
             "client": ("10.0.0.1", 1)}
    chunks = [body[i:i + 8192] for i in range(0, len(body), 8192)] or [b""]
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
                for i, c in enumerate(chunks)]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0)

    async def send(msg: dict) -> None:
        sent.append(msg)

    await limited.server.app(scope, receive, send)
    assert sent[0]["status"] == 403
    assert not any(k == b"x-mbx-used-weight-1m" for k, _ in sent[0]["headers"])
    assert (await limited.http.get("/api/v3/time")).headers["x-mbx-used-weight-1m"] == "1"


async def test_trusted_proxy_header(tmp_path: Path):
    clock = clock_at_minute_start()
    cfg = small_limits(tmp_path, extra='trusted_proxy_header = "X-Forwarded-For"')
    server = build(tmp_path / "data", str(cfg), "admin", clock)

    def client(peer: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app, client=(peer, 1)),
                                 base_url="http://spotex")

    proxy, outsider = client("127.0.0.1"), client("10.9.9.9")
    for ip in ("1.1.1.1", "2.2.2.2"):
        r = await proxy.get("/api/v3/exchangeInfo", headers={"X-Forwarded-For": f"9.9.9.9, {ip}"})
        assert r.headers["x-mbx-used-weight-1m"] == "20"  # each forwarded client apart
    # the header is ignored from a peer that is not a trusted proxy
    r = await outsider.get("/api/v3/exchangeInfo", headers={"X-Forwarded-For": "1.1.1.1"})
    assert r.headers["x-mbx-used-weight-1m"] == "20"
    r = await outsider.get("/api/v3/exchangeInfo", headers={"X-Forwarded-For": "2.2.2.2"})
    assert r.headers["x-mbx-used-weight-1m"] == "40"
    await proxy.aclose()
    await outsider.aclose()
    await server.engine.journal.close()


async def test_parameter_dependent_weights(limited):
    http = limited.http
    r = await http.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 500})
    assert r.headers["x-mbx-used-weight-1m"] == "25"
    limited.clock.advance(MINUTE)
    r = await http.get("/api/v3/ticker/24hr", params={"symbols": '["BTCUSDT","ETHUSDT"]'})
    assert r.headers["x-mbx-used-weight-1m"] == "2"
    r = await http.get("/api/v3/ticker/price")
    assert r.headers["x-mbx-used-weight-1m"] == "6"
