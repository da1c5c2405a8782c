"""GET /admin/v1/state (README "Accounts"): seq, state hash, per-asset totals with fees;
conservation checked from outside; the same hash and seq after a restart."""
from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from spotex.server import build
from tests.conftest import Exchange, Trader
from tests.recovery.test_restart import _activity

TOKEN = "test-admin-token"
ASSETS = ["BNB", "BTC", "ETH", "SOL", "USDT"]  # of the default config's symbols


async def state(http: httpx.AsyncClient, token: str = TOKEN) -> dict:
    r = await http.get("/admin/v1/state", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()


async def reopen(ex: Exchange):
    """A new server on the same data folder (recovery: snapshot, if any, + journal)."""
    server = build(ex.server.data_dir, admin_token=TOKEN, clock=ex.clock)
    transport = httpx.ASGITransport(app=server.app, client=("127.0.0.1", 50000))
    return server, httpx.AsyncClient(transport=transport, base_url="http://spotex")


def totals(doc: dict) -> dict[str, Decimal]:
    return {a: Decimal(row["total"]) for a, row in doc["assets"].items()}


async def test_state_needs_the_admin_token(exchange):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-MBX-APIKEY": TOKEN}):
        r = await exchange.http.get("/admin/v1/state", headers=headers)
        assert (r.status_code, r.json()) == (
            401, {"code": -1002, "msg": "You are not authorized to execute this request."})


async def test_fresh_exchange(exchange):
    doc = await state(exchange.http)
    assert list(doc) == ["seq", "stateHash", "assets"]
    assert doc["seq"] == exchange.server.engine.exchange.seq
    assert len(doc["stateHash"]) == 64 and int(doc["stateHash"], 16) >= 0
    zero = "0.00000000"
    assert doc["assets"] == {a: {"free": zero, "locked": zero, "fees": zero, "total": zero}
                             for a in ASSETS}
    assert list(doc["assets"]) == ASSETS


async def test_totals_are_deposits_minus_withdrawals_and_show_fees(exchange):
    a = await exchange.new_trader(BTC="2", USDT="100000")
    b = await exchange.new_trader(USDT="50000")
    r = await exchange.http.post(f"/admin/v1/accounts/{b.account_id}/deposit",
                                 json={"asset": "ETH", "amount": "3"},
                                 headers=exchange.admin_headers)
    assert r.status_code == 200, r.text
    r = await exchange.http.post(f"/admin/v1/accounts/{a.account_id}/withdraw",
                                 json={"asset": "USDT", "amount": "1000.5"},
                                 headers=exchange.admin_headers)
    assert r.status_code == 200, r.text
    for i in range(3):
        r = await a.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                          quantity="0.1", price=str(50000 + 100 * i))
        assert r.status_code == 200, r.text
    r = await b.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.15")
    assert r.json()["status"] == "FILLED", r.text
    r = await b.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                      quantity="0.1", price="40000")
    assert r.status_code == 200, r.text

    doc = await state(exchange.http)
    assert totals(doc) == {"BNB": 0, "BTC": Decimal("2"), "ETH": Decimal("3"),
                           "SOL": 0, "USDT": Decimal("148999.5")}
    btc, usdt = doc["assets"]["BTC"], doc["assets"]["USDT"]
    # 0.1 % of what each side received: the buyer's BTC, the seller's USDT
    assert btc["fees"] == "0.00015000"
    assert usdt["fees"] == "7.50500000"  # of 0.1 at 50000 + 0.05 at 50100
    assert btc["locked"] == "0.15000000"  # what is left of the asks
    assert usdt["locked"] == "4000.00000000"  # the resting bid
    # free and locked are the accounts' own balances, summed
    seen: dict[str, list[Decimal]] = {}
    for t in (a, b):
        for asset, (free, locked) in (await t.balances()).items():
            s = seen.setdefault(asset, [Decimal(0), Decimal(0)])
            s[0] += Decimal(free)
            s[1] += Decimal(locked)
    for asset, (free, locked) in seen.items():
        row = doc["assets"][asset]
        assert (Decimal(row["free"]), Decimal(row["locked"])) == (free, locked), asset
        assert Decimal(row["total"]) == free + locked + Decimal(row["fees"])


async def test_seq_and_hash_move_with_accepted_commands_only(exchange, clock):
    t = await exchange.new_trader(USDT="100")
    before = await state(exchange.http)
    r = await t.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                      quantity="1", price="50000")  # more than it has
    assert r.status_code == 400
    r = await exchange.http.post(f"/admin/v1/accounts/{t.account_id}/withdraw",
                                 json={"asset": "BTC", "amount": "1"},
                                 headers=exchange.admin_headers)  # none to withdraw
    assert r.status_code == 400
    assert await state(exchange.http) == before
    r = await t.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                      quantity="0.001", price="50000")
    assert r.status_code == 200, r.text
    after = await state(exchange.http)
    assert after["seq"] == before["seq"] + 1
    assert after["stateHash"] != before["stateHash"]
    assert after["assets"]["USDT"]["locked"] == "50.00000000"


async def _reads(traders: tuple[Trader, ...], http: httpx.AsyncClient) -> None:
    """Requests that read (and lazily tidy) state without a command."""
    for t in traders:
        t.http = http
        for path, params in (("/api/v3/account", {}), ("/api/v3/rateLimit/order", {}),
                             ("/api/v3/openOrders", {"symbol": "BTCUSDT"})):
            r = await t.signed("GET", path, **params)
            assert r.status_code == 200, r.text
    for path in ("/api/v3/avgPrice?symbol=BTCUSDT", "/api/v3/depth?symbol=BTCUSDT",
                 "/api/v3/ticker/24hr?symbol=BTCUSDT"):
        r = await http.get(path)
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("shutdown", ["clean", "crash"])
async def test_restart_gives_the_same_state(exchange, shutdown):
    """A clean stop (snapshot + empty tail) or a crash (journal only): same seq and hash."""
    traders = await _activity(exchange)
    before = await state(exchange.http)
    assert before["seq"] > 0
    if shutdown == "clean":
        await exchange.server.engine.close()
    else:
        await exchange.server.engine.journal.flush()
    server, http = await reopen(exchange)
    assert (server.engine.journal.load_snapshot() is not None) == (shutdown == "clean")
    assert await state(http) == before
    await server.engine.journal.close()


async def test_restart_after_reads_and_time(exchange, clock):
    """Reads long after the last command (windows of the ORDERS count reset, the average
    price window emptied) leave the hash: the restarted exchange, which never saw them,
    gives the same one."""
    traders = await _activity(exchange)
    clock.advance(2 * 86_400_000)
    await _reads(traders, exchange.http)
    before = await state(exchange.http)
    await exchange.server.engine.journal.flush()
    server, http = await reopen(exchange)
    assert await state(http) == before
    await _reads(traders, http)
    assert await state(http) == before
    await server.engine.journal.close()


async def test_restart_from_snapshot_plus_tail(exchange):
    """A snapshot in the middle, more commands after it, then a crash."""
    traders = await _activity(exchange)
    await exchange.server.engine.snapshot()
    r = await traders[1].order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.05")
    assert r.status_code == 200, r.text
    r = await traders[0].order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                               quantity="0.02", price="51000")
    assert r.status_code == 200, r.text
    before = await state(exchange.http)
    await exchange.server.engine.journal.flush()
    server, http = await reopen(exchange)
    seq, _ = server.engine.journal.load_snapshot()
    assert seq < before["seq"]
    assert await state(http) == before
    await server.engine.journal.close()
