"""History follows the config it was written under: the journal holds each config.

Changing the config file never rewrites the past (commissions of old trades, balances);
a change that cannot apply to the current state refuses to start and says why; a change
that can apply takes effect for new commands only.
"""
from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from spotex.config import ConfigError, default_text
from spotex.server import build
from tests.conftest import Clock, Exchange, Trader
from tests.live import config_without_symbol


def _config(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


def _with_status(text: str, symbol: str, status: str) -> str:
    return text.replace(f'symbol = "{symbol}"\n', f'symbol = "{symbol}"\nstatus = "{status}"\n')


async def _open(data: Path, config: str | None, clock: Clock):
    server = build(data, config, admin_token="test-admin-token", clock=clock)
    transport = httpx.ASGITransport(app=server.app, client=("127.0.0.1", 50000))
    return server, httpx.AsyncClient(transport=transport, base_url="http://spotex")


async def _restart(ex: Exchange, config: str | None) -> Exchange:
    await ex.server.engine.close()
    server, http = await _open(ex.server.data_dir, config, ex.clock)
    return Exchange(server, http, ex.clock)


async def _trade(ex: Exchange, a: Trader, b: Trader, price: str = "50000") -> None:
    r = await a.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="0.01", price=price)
    assert r.status_code == 200, r.text
    r = await b.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
    assert r.status_code == 200 and r.json()["status"] == "FILLED", r.text


async def _my_trades(t: Trader) -> list[dict]:
    r = await t.signed("GET", "/api/v3/myTrades", symbol="BTCUSDT")
    assert r.status_code == 200, r.text
    return r.json()


async def test_new_commission_applies_to_new_trades_only(exchange: Exchange, tmp_path: Path):
    a = await exchange.new_trader(BTC="1")
    b = await exchange.new_trader(USDT="10000")
    await _trade(exchange, a, b)
    before_trades, before_balances = await _my_trades(b), await b.balances()
    assert before_trades[0]["commission"] == "0.00001000"

    doubled = default_text().replace('maker_commission = "0.001"', 'maker_commission = "0.002"') \
        .replace('taker_commission = "0.001"', 'taker_commission = "0.002"')
    ex = await _restart(exchange, _config(tmp_path, "doubled.toml", doubled))
    b.http = a.http = ex.http
    assert await _my_trades(b) == before_trades  # the past is not rewritten
    assert await b.balances() == before_balances
    await _trade(ex, a, b)
    assert [t["commission"] for t in await _my_trades(b)] == ["0.00001000", "0.00002000"]

    # and a restart on the same (new) config replays both under their own rates
    ex2 = await _restart(ex, _config(tmp_path, "doubled.toml", doubled))
    b.http = ex2.http
    assert [t["commission"] for t in await _my_trades(b)] == ["0.00001000", "0.00002000"]
    await ex2.server.engine.journal.close()


async def test_removing_a_symbol_with_orders_refuses_to_start(exchange: Exchange, tmp_path: Path):
    a = await exchange.new_trader(USDT="1000")
    r = await a.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                      quantity="0.001", price="40000")
    assert r.status_code == 200, r.text
    await exchange.server.engine.close()
    seq = exchange.server.engine.journal.seq
    removed = _config(tmp_path, "removed.toml", config_without_symbol(default_text(), "BTCUSDT"))
    with pytest.raises(ConfigError) as err:
        build(exchange.server.data_dir, removed, admin_token="x", clock=exchange.clock)
    assert err.value.problems == [
        f'{removed}: symbol BTCUSDT: removed from the config but it has 1 open orders and 1 '
        'orders in accounts\' history; keep it with status = "BREAK" (trading stops, history '
        'stays), or cancel its open orders first']

    # nothing was journaled: the old config still starts, with the order resting
    server, http = await _open(exchange.server.data_dir, None, exchange.clock)
    assert server.engine.journal.seq == seq
    a.http = http
    r = await a.signed("GET", "/api/v3/openOrders")
    assert [o["price"] for o in r.json()] == ["40000.00000000"]
    await server.engine.journal.close()


async def test_symbol_kept_in_break_keeps_its_history(exchange: Exchange, tmp_path: Path):
    a = await exchange.new_trader(BTC="1")
    b = await exchange.new_trader(USDT="10000")
    await _trade(exchange, a, b)
    r = await a.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="0.01", price="60000")
    assert r.status_code == 200, r.text
    halted = _config(tmp_path, "break.toml", _with_status(default_text(), "BTCUSDT", "BREAK"))
    ex = await _restart(exchange, halted)
    a.http = b.http = ex.http
    info = (await ex.http.get("/api/v3/exchangeInfo?symbol=BTCUSDT")).json()
    assert info["symbols"][0]["status"] == "BREAK"
    assert len(await _my_trades(b)) == 1
    r = await a.signed("GET", "/api/v3/openOrders")
    assert [o["price"] for o in r.json()] == ["60000.00000000"]
    r = await b.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
    assert r.status_code == 400 and r.json() == MARKET_CLOSED, r.text
    await ex.server.engine.journal.close()


async def test_removing_an_asset_that_accounts_hold_refuses(exchange: Exchange, tmp_path: Path):
    await exchange.new_trader(SOL="5")
    await exchange.server.engine.close()
    no_sol = _config(tmp_path, "nosol.toml", config_without_symbol(default_text(), "SOLUSDT")
                     .replace('SOL = "1000"\n', ""))
    with pytest.raises(ConfigError) as err:
        build(exchange.server.data_dir, no_sol, admin_token="x", clock=exchange.clock)
    assert err.value.problems == [
        f"{no_sol}: asset SOL: held by accounts 1 but no symbol of the new config uses it "
        "(keep a symbol that trades it, or withdraw it first)"]


async def test_unused_symbol_removed_and_new_symbol_added(exchange: Exchange, tmp_path: Path):
    text = config_without_symbol(default_text(), "BNBBTC")
    text += '''
[[symbols]]
symbol = "XRPUSDT"
baseAsset = "XRP"
quoteAsset = "USDT"
filters = [
  { filterType = "PRICE_FILTER", minPrice = "0.0001", maxPrice = "1000", tickSize = "0.0001" },
  { filterType = "LOT_SIZE", minQty = "0.1", maxQty = "900000", stepSize = "0.1" },
]
'''
    ex = await _restart(exchange, _config(tmp_path, "xrp.toml", text))
    names = [s["symbol"] for s in (await ex.http.get("/api/v3/exchangeInfo")).json()["symbols"]]
    assert "XRPUSDT" in names and "BNBBTC" not in names
    t = await ex.new_trader(USDT="100")
    r = await t.order(symbol="XRPUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                      quantity="10", price="0.5")
    assert r.status_code == 200, r.text
    assert (await ex.http.get("/api/v3/depth?symbol=XRPUSDT")).json()["bids"] == [
        ["0.50000000", "10.00000000"]]
    await ex.server.engine.journal.close()


async def test_new_filter_applies_to_new_orders_only(exchange: Exchange, tmp_path: Path):
    a = await exchange.new_trader(USDT="10000")
    r = await a.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                      quantity="0.001", price="40000.01")
    assert r.status_code == 200, r.text
    coarse = default_text().replace(
        'maxPrice = "1000000", tickSize = "0.01" },\n  { filterType = "LOT_SIZE", minQty = "0.00001"',
        'maxPrice = "1000000", tickSize = "1" },\n  { filterType = "LOT_SIZE", minQty = "0.00001"', 1)
    assert coarse != default_text()
    ex = await _restart(exchange, _config(tmp_path, "coarse.toml", coarse))
    a.http = ex.http
    r = await a.signed("GET", "/api/v3/openOrders")
    assert [o["price"] for o in r.json()] == ["40000.01000000"]  # still resting
    r = await a.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                      quantity="0.001", price="40000.01")
    assert r.json() == {"code": -1013, "msg": "Filter failure: PRICE_FILTER"}
    await ex.server.engine.journal.close()


MARKET_CLOSED = {"code": -2010, "msg": "Market is closed."}
_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


async def _generated_id(ex: Exchange) -> str:
    t = await ex.new_trader(USDT="1000")
    r = await t.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                      quantity="0.001", price="40000")
    return r.json()["clientOrderId"]


async def test_generated_client_ids_differ_between_installs_and_survive_replay(
        tmp_path: Path, clock: Clock):
    ids = []
    for name in ("one", "two"):
        server, http = await _open(tmp_path / name, None, clock)
        ex = Exchange(server, http, clock)
        ids.append(await _generated_id(ex))
        await server.engine.journal.close()
    assert ids[0] != ids[1] and all(_ID.match(i) for i in ids)
    server, http = await _open(tmp_path / "one", None, clock)  # journal only: replayed
    assert next(iter(server.engine.exchange.client_index))[2] == ids[0]
    await server.engine.journal.close()
