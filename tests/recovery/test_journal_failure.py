"""A failing journal stops trading visibly and resumes once the journal works again.

The journal is made to fail on purpose (every commit raises, as on a full disk): the
orders of the failed batch get Binance's unknown-status 5XX, nothing of them stays in
memory, trading answers -1001 meanwhile, and health says so.
"""
from __future__ import annotations

import asyncio
import sqlite3

import pytest

from spotex.journal.sqlite import SqliteJournal
from tests.conftest import Exchange

UNKNOWN_STATUS = {"code": -1006, "msg": "An unexpected response was received from the "
                  "message bus. Execution status unknown."}
UNAVAILABLE = {"code": -1001, "msg": "Internal error; unable to process your request. "
               "Please try again."}


class DiskFull:
    """Makes every journal commit fail while `on` is set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.on = False
        real = SqliteJournal._commit

        def commit(conn, sql, rows):
            if self.on:
                raise sqlite3.OperationalError("database or disk is full")
            return real(conn, sql, rows)

        monkeypatch.setattr(SqliteJournal, "_commit", staticmethod(commit))


async def _health(ex: Exchange) -> dict:
    r = await ex.http.get("/admin/v1/health", headers=ex.admin_headers)
    assert r.status_code == 200, r.text
    return r.json()


async def _bids(ex: Exchange) -> list:
    return (await ex.http.get("/api/v3/depth?symbol=BTCUSDT")).json()["bids"]


def _buy(price: str) -> dict:
    return dict(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.001", price=price)


async def test_failed_commit_is_not_acknowledged_and_trading_stops(exchange: Exchange,
                                                                  monkeypatch):
    disk = DiskFull(monkeypatch)
    exchange.server.engine.retry_interval_s = 0.05
    t = await exchange.new_trader(USDT="1000")
    assert (await t.order(**_buy("40000"))).status_code == 200
    before = await t.balances()
    seq = exchange.server.engine.journal.seq  # config, account, order
    assert await _health(exchange) == {"status": "OK", "journalSeq": seq, "error": None}

    disk.on = True
    r = await t.order(**_buy("41000"))
    assert (r.status_code, r.json()) == (500, UNKNOWN_STATUS)
    r = await t.order(**_buy("43000"))
    assert (r.status_code, r.json()) == (503, UNAVAILABLE)
    await asyncio.sleep(0.2)  # retries keep failing
    health = await _health(exchange)
    assert health["status"] == "UNAVAILABLE" and "disk is full" in health["error"]
    assert await _bids(exchange) == [["40000.00000000", "0.00100000"]]  # rolled back
    assert await t.balances() == before

    disk.on = False
    for _ in range(100):
        if (await _health(exchange))["status"] == "OK":
            break
        await asyncio.sleep(0.02)
    assert await _health(exchange) == {"status": "OK", "journalSeq": seq, "error": None}
    r = await t.order(**_buy("44000"))
    assert r.status_code == 200 and r.json()["orderId"] == 2, r.text
    assert await _bids(exchange) == [["44000.00000000", "0.00100000"],
                                     ["40000.00000000", "0.00100000"]]
