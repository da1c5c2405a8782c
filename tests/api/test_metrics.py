"""GET /metrics: Prometheus text, through HTTP on the in-process exchange."""
from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from spotex import config as config_mod
from spotex.server import build
from tests.conftest import Exchange
from tests.streams.test_inprocess import open_ws, settle


def parse(text: str) -> dict[str, dict[tuple, float]]:
    """sample name -> {sorted label items: value}."""
    out: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def sample(samples: dict, name: str, **labels: str) -> float:
    return samples.get(name, {}).get(tuple(sorted(labels.items())), 0.0)


async def scrape(http: httpx.AsyncClient, **headers: str) -> dict:
    r = await http.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return parse(r.text)


async def limit(t, side: str, qty: str, price: str):
    return await t.order(symbol="BTCUSDT", side=side, type="LIMIT", timeInForce="GTC",
                         quantity=qty, price=price)


async def test_orders_trades_and_requests_counted(exchange):
    seller = await exchange.new_trader(BTC="1")
    buyer = await exchange.new_trader(USDT="100000")
    assert (await limit(seller, "SELL", "0.02", "50000")).json()["status"] == "NEW"
    r = await limit(buyer, "BUY", "0.01", "50000")
    assert r.json()["status"] == "FILLED", r.text
    r = await limit(buyer, "BUY", "100", "50000")  # more than the buyer has
    assert r.status_code == 400 and r.json()["code"] == -2010
    assert (await exchange.http.get("/no/such/path")).status_code == 404
    r = await exchange.http.get(f"/admin/v1/accounts/{buyer.account_id}",
                                headers=exchange.admin_headers)
    assert r.status_code == 200

    m = await scrape(exchange.http)
    order = dict(symbol="BTCUSDT", type="LIMIT")
    assert sample(m, "spotex_orders_total", side="SELL", outcome="NEW", **order) == 1
    assert sample(m, "spotex_orders_total", side="BUY", outcome="FILLED", **order) == 1
    assert sample(m, "spotex_orders_total", side="BUY", outcome="rejected", **order) == 1
    assert sample(m, "spotex_trades_total", symbol="BTCUSDT") == 1
    assert sample(m, "spotex_open_orders", symbol="BTCUSDT") == 1  # the rest of the SELL
    assert sample(m, "spotex_open_orders", symbol="ETHUSDT") == 0

    req = dict(route="/api/v3/order", method="POST")
    assert sample(m, "spotex_http_requests_total", status="200", **req) == 2
    assert sample(m, "spotex_http_requests_total", status="400", **req) == 1
    assert sample(m, "spotex_http_requests_total", route="other", method="GET",
                  status="404") == 1
    assert sample(m, "spotex_http_requests_total", route="/admin/v1/accounts/{id}",
                  method="GET", status="200") == 1
    assert sample(m, "spotex_http_requests_total", route="/admin/v1/accounts",
                  method="POST", status="200") == 2
    assert sample(m, "spotex_http_request_duration_seconds_count", **req) == 3
    assert sample(m, "spotex_http_request_duration_seconds_bucket", le="+Inf", **req) == 3

    assert sample(m, "spotex_engine_command_duration_seconds_count", command="order.new") == 3
    assert sample(m, "spotex_engine_command_duration_seconds_count",
                  command="account.create") == 2
    # every accepted command is committed: 2 accounts + 2 orders (the rejected one is not)
    assert sample(m, "spotex_journal_batch_records_sum") == 4
    assert sample(m, "spotex_journal_commit_duration_seconds_count") >= 1
    assert sample(m, "spotex_journal_up") == 1
    assert sample(m, "spotex_rate_limit_rejections_total", limit="REQUEST_WEIGHT") == 0
    assert sample(m, "spotex_rate_limit_bans_total") == 0
    assert sample(m, "spotex_websocket_connections", kind="market") == 0


async def test_order_lists_cancel_replace_and_the_orders_limit(exchange):
    seller, buyer = await exchange.new_trader(BTC="1"), await exchange.new_trader(USDT="100000")
    await limit(seller, "SELL", "0.001", "50000")
    await limit(buyer, "BUY", "0.001", "50000")  # a last price for the OCO's filters
    t = await exchange.new_trader(BTC="1", USDT="100000")
    r = await t.signed("POST", "/api/v3/orderList/oco", symbol="BTCUSDT", side="SELL",
                       quantity="0.1", aboveType="LIMIT_MAKER", abovePrice="52000",
                       belowType="STOP_LOSS_LIMIT", belowPrice="47000",
                       belowStopPrice="48000", belowTimeInForce="GTC")
    assert r.status_code == 200, r.text
    r = await t.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                      quantity="0.01", price="40000", newClientOrderId="old")
    assert r.status_code == 200, r.text
    r = await t.signed("POST", "/api/v3/order/cancelReplace", symbol="BTCUSDT",
                       cancelReplaceMode="STOP_ON_FAILURE", cancelOrigClientOrderId="old",
                       side="BUY", type="LIMIT_MAKER", quantity="0.01", price="41000")
    assert r.status_code == 200, r.text
    flood = await exchange.new_trader(USDT="100000")
    for _ in range(100):  # the ORDERS limit: 100 per 10 s
        assert (await limit(flood, "BUY", "0.001", "30000")).status_code == 200
    r = await limit(flood, "BUY", "0.001", "30000")
    assert (r.status_code, r.json()["code"]) == (429, -1015)

    m = await scrape(exchange.http)
    orders = {(k[1][1], k[2][1], k[3][1], k[0][1]): v  # (side, symbol, type, outcome)
              for k, v in m["spotex_orders_total"].items()}
    assert orders == {
        ("SELL", "BTCUSDT", "LIMIT", "NEW"): 1, ("BUY", "BTCUSDT", "LIMIT", "FILLED"): 1,
        ("SELL", "BTCUSDT", "LIMIT_MAKER", "NEW"): 1,
        ("SELL", "BTCUSDT", "STOP_LOSS_LIMIT", "NEW"): 1,
        ("BUY", "BTCUSDT", "LIMIT", "NEW"): 101,
        ("BUY", "BTCUSDT", "LIMIT_MAKER", "NEW"): 1,
        ("BUY", "BTCUSDT", "LIMIT", "rejected"): 1}
    assert sample(m, "spotex_rate_limit_rejections_total", limit="ORDERS") == 1
    assert sample(m, "spotex_open_orders", symbol="BTCUSDT") == 2 + 1 + 100
    assert sample(m, "spotex_engine_command_duration_seconds_count", command="list.oco") == 1
    assert sample(m, "spotex_engine_command_duration_seconds_count",
                  command="order.cancel_replace") == 1


async def test_journal_health(exchange):
    journal = exchange.server.engine.journal
    journal._error = OSError("disk full")  # what a failed commit leaves
    try:
        assert sample(await scrape(exchange.http), "spotex_journal_up") == 0
    finally:
        journal._error = None
    m = await scrape(exchange.http)
    assert sample(m, "spotex_journal_up") == sample(m, "spotex_engine_up") == 1


async def test_scrape_is_free_of_weight_and_counts_itself(exchange):
    limiter = exchange.server.app.limiter
    before = limiter.usage("127.0.0.1")
    r = await exchange.http.get("/metrics")
    assert r.status_code == 200
    assert not any(h.startswith("x-mbx-used-weight") for h in r.headers)
    assert limiter.usage("127.0.0.1") == before
    m = await scrape(exchange.http)  # the second scrape sees the first
    assert sample(m, "spotex_http_requests_total", route="/metrics", method="GET",
                  status="200") == 1


async def test_rate_limit_rejections_and_bans(exchange):
    limiter = exchange.server.app.limiter
    limit_weight = next(r.limit for r in limiter.limits if r.type == "REQUEST_WEIGHT")
    limiter.admit("127.0.0.1", limit_weight)  # the minute's weight used up
    for _ in range(limiter.policy.ban_after):
        assert (await exchange.http.get("/api/v3/ping")).status_code == 429
    assert (await exchange.http.get("/api/v3/ping")).status_code == 418  # banned now
    assert (await exchange.http.get("/api/v3/ping")).status_code == 418  # while banned
    m = await scrape(exchange.http)
    assert sample(m, "spotex_rate_limit_rejections_total",
                  limit="REQUEST_WEIGHT") == limiter.policy.ban_after
    assert sample(m, "spotex_rate_limit_rejections_total", limit="BANNED") == 2
    assert sample(m, "spotex_rate_limit_bans_total") == 1


async def test_websocket_connections_and_subscriptions(exchange):
    trader = await exchange.new_trader(USDT="100")
    r = await exchange.http.post("/api/v3/userDataStream",
                                 headers={"X-MBX-APIKEY": trader.api_key})
    key = r.json()["listenKey"]
    socks = [await open_ws(exchange.server, "/ws/btcusdt@trade/btcusdt@depth"),
             await open_ws(exchange.server, f"/ws/{key}"),
             await open_ws(exchange.server, "/ws-api/v3")]
    m = await scrape(exchange.http)
    for kind, conns, subs in (("market", 1, 2), ("user", 1, 1), ("api", 1, 0)):
        assert sample(m, "spotex_websocket_connections", kind=kind) == conns, kind
        assert sample(m, "spotex_websocket_subscriptions", kind=kind) == subs, kind
    for sock in socks:
        await sock.incoming.put({"type": "websocket.disconnect", "code": 1000})
    await settle()
    m = await scrape(exchange.http)
    assert sum(v for v in m["spotex_websocket_connections"].values()) == 0


# ----------------------------------------------------------------- [metrics] policy

@pytest.fixture
async def with_config(tmp_path: Path, clock):
    """Build an exchange whose config file sets the given keys of its sections."""
    made: list[Exchange] = []

    async def make(**sections: dict) -> Exchange:
        text = config_mod.default_text()
        for section, keys in sections.items():
            for key, value in keys.items():
                text = _set(text, section, key, value)
        path = tmp_path / "config.toml"
        path.write_text(text)
        server = build(tmp_path / "data", str(path), admin_token="t", clock=clock)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(
            app=server.app, client=("127.0.0.1", 50000)), base_url="http://spotex")
        made.append(Exchange(server, http, clock))
        return made[-1]

    yield make
    for ex in made:
        await ex.http.aclose()
        await ex.server.engine.journal.close()


def _set(text: str, section: str, key: str, value: bool | str) -> str:
    """`key = value` in `[section]` of a config text."""
    start = text.index(f"\n[{section}]\n") + len(section) + 3
    end = text.find("\n[", start)
    toml = ("true" if value else "false") if isinstance(value, bool) else f'"{value}"'
    block, n = re.subn(rf"^{key} = .*$", f"{key} = {toml}", text[start:end], count=1,
                       flags=re.M)
    assert n == 1, (section, key)
    return text[:start] + block + text[end:]


async def test_token_required_when_configured(with_config):
    ex = await with_config(metrics={"enabled": True, "token": "s3cret"})
    assert (await ex.http.get("/metrics")).status_code == 401
    r = await ex.http.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    await scrape(ex.http, Authorization="Bearer s3cret")


async def test_disabled_is_not_found(with_config):
    ex = await with_config(metrics={"enabled": False, "token": ""})
    r = await ex.http.get("/metrics")
    assert (r.status_code, r.content) == (404, b"")
    assert ex.server.engine.on_command is None  # nothing observed on the order path
