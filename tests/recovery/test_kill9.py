"""`kill -9` loses no acknowledged order: start, trade concurrently, kill, restart, check."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.live import LiveServer, config_without_order_limits


def _signed(secret: str, params: dict) -> str:
    qs = urlencode({**params, "timestamp": time.time_ns() // 1_000_000})
    return qs + "&signature=" + hmac.new(secret.encode(), qs.encode(), hashlib.sha256).hexdigest()


async def _place(http: httpx.AsyncClient, demo: dict, i: int) -> dict | None:
    # crossing orders of one account (STP off) trade with each other: the book stays small
    body = _signed(demo["secretKey"], {"symbol": "BTCUSDT", "side": "BUY" if i % 2 else "SELL",
                                       "type": "LIMIT", "timeInForce": "GTC",
                                       "quantity": "0.001", "price": "50000",
                                       "selfTradePreventionMode": "NONE",
                                       "newOrderRespType": "ACK"})
    try:
        r = await http.post("/api/v3/order", content=body, headers={
            "X-MBX-APIKEY": demo["apiKey"], "Content-Type": "application/x-www-form-urlencoded"})
    except httpx.HTTPError:
        return None  # in flight when killed: not acknowledged
    assert r.status_code == 200, r.text
    return r.json()


async def _flood(server: LiveServer, stop_after: int) -> list[dict]:
    acked: list[dict] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
        async def worker(w: int) -> None:
            for i in range(10_000):
                res = await _place(http, server.demo, w * 10_000 + i)
                if res is None:
                    return
                acked.append(res)
                if len(acked) == stop_after:
                    server.kill9()  # mid-flight for the other workers

        await asyncio.gather(*(worker(w) for w in range(16)))
    return acked


@pytest.mark.parametrize("snapshot_every", [100_000, 40])
async def test_kill9_keeps_every_acknowledged_order(tmp_path: Path, snapshot_every: int):
    """With snapshots every 40 commands the kill lands among background snapshots: the
    restart binds the same port (no child kept the socket) and loses nothing."""
    config = config_without_order_limits(tmp_path / "spotex.toml")
    text = config.read_text()
    config.write_text(text.replace("snapshot_every = 100000", f"snapshot_every = {snapshot_every}"))
    server = LiveServer(tmp_path / "data", config=config).start()
    try:
        acked = await _flood(server, stop_after=300)
    finally:
        if server.proc.poll() is None:
            server.kill9()
    assert len(acked) >= 300
    restarted = LiveServer(tmp_path / "data", server.port, config=config).start()
    snapshots = tmp_path / "data" / "journal.sqlite.snapshots"
    if snapshot_every < 100:
        assert list(snapshots.glob("*.snapshot")), "no background snapshot was made"
    try:
        demo = restarted.demo
        async with httpx.AsyncClient(base_url=restarted.url, timeout=10) as http:
            r = await http.get("/api/v3/allOrders?" + _signed(demo["secretKey"], {
                "symbol": "BTCUSDT", "limit": 1000}), headers={"X-MBX-APIKEY": demo["apiKey"]})
            assert r.status_code == 200, r.text
            stored = {o["orderId"]: o for o in r.json()}
        for order in acked:
            assert order["orderId"] in stored
            assert stored[order["orderId"]]["clientOrderId"] == order["clientOrderId"]
            assert stored[order["orderId"]]["status"] in ("NEW", "FILLED")
    finally:
        restarted.stop()
