"""Streams in process, on the injectable clock: the 24-hour lifetime, the 60-minute
listenKey, slow clients, and streams never seeing the journal replay. The ASGI websocket
client here is a pair of queues; the timer is driven by hand."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import orjson

from spotex.streams.conn import POLICY

HOUR = 3_600_000


class FakeSocket:
    """What the app sends is kept; `send` of text frames can be made to hang (a client
    that stopped reading)."""

    def __init__(self, stuck: bool = False) -> None:
        self.incoming: asyncio.Queue = asyncio.Queue()
        self.sent: list[dict] = []
        self.stuck = stuck
        self.accepted, self.closed = asyncio.Event(), asyncio.Event()

    async def receive(self) -> dict:
        return await self.incoming.get()

    async def send(self, msg: dict) -> None:
        self.sent.append(msg)
        if msg["type"] == "websocket.accept":
            self.accepted.set()
        elif msg["type"] == "websocket.close":
            self.closed.set()
            await self.incoming.put({"type": "websocket.disconnect", "code": msg.get("code")})
        elif self.stuck:
            await asyncio.Event().wait()

    def texts(self) -> list[Any]:
        return [orjson.loads(m["text"]) for m in self.sent if m["type"] == "websocket.send"]

    def close_code(self) -> int | None:
        return next((m.get("code") for m in self.sent if m["type"] == "websocket.close"), None)


async def open_ws(server: Any, path: str, sock: FakeSocket | None = None) -> FakeSocket:
    sock = sock or FakeSocket()
    scope = {"type": "websocket", "path": path, "query_string": b"", "headers": [],
             "client": ("127.0.0.1", 50000), "extensions": {}}
    await sock.incoming.put({"type": "websocket.connect"})
    asyncio.get_running_loop().create_task(server.app(scope, sock.receive, sock.send))
    await asyncio.wait_for(sock.accepted.wait(), 1)
    return sock


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_connections_live_24_hours(exchange):
    streams, clock = exchange.server.streams, exchange.clock
    sock = await open_ws(exchange.server, "/ws")
    clock.advance(24 * HOUR - 1)
    streams.every_second()
    await settle()
    assert not sock.closed.is_set()
    clock.advance(1)
    streams.every_second()
    await asyncio.wait_for(sock.closed.wait(), 1)
    assert sock.close_code() == 1001
    await settle()
    assert not streams.conns


async def test_listen_key_expires_after_60_minutes_without_keepalive(exchange):
    streams, clock = exchange.server.streams, exchange.clock
    trader = await exchange.new_trader(USDT="100")
    hdr = {"X-MBX-APIKEY": trader.api_key}
    key = (await exchange.http.post("/api/v3/userDataStream", headers=hdr)).json()["listenKey"]
    sock = await open_ws(exchange.server, "/ws/" + key)
    clock.advance(59 * 60_000)
    assert (await exchange.http.put("/api/v3/userDataStream", params={"listenKey": key}, headers=hdr)).json() == {}
    clock.advance(60 * 60_000 - 1)
    streams.every_second()
    await settle()
    assert sock.texts() == []
    clock.advance(1)
    streams.every_second()
    await settle()
    assert sock.texts() == [{"e": "listenKeyExpired", "E": clock.now, "listenKey": key}]
    r = await exchange.http.put("/api/v3/userDataStream", params={"listenKey": key}, headers=hdr)
    assert (r.status_code, r.json()["code"]) == (400, -1125)
    await exchange.http.post(f"/admin/v1/accounts/{trader.account_id}/deposit",
                             json={"asset": "USDT", "amount": "1"}, headers=exchange.admin_headers)
    await settle()
    assert len(sock.texts()) == 1  # nothing flows on an expired key
    new = (await exchange.http.post("/api/v3/userDataStream", headers=hdr)).json()["listenKey"]
    assert new != key


async def test_an_expired_key_is_replaced_even_before_the_timer_runs(exchange):
    trader = await exchange.new_trader(USDT="100")
    hdr = {"X-MBX-APIKEY": trader.api_key}
    key = (await exchange.http.post("/api/v3/userDataStream", headers=hdr)).json()["listenKey"]
    exchange.clock.advance(HOUR)
    assert (await exchange.http.post("/api/v3/userDataStream", headers=hdr)).json()["listenKey"] != key


async def test_a_client_that_stops_reading_is_dropped(exchange):
    server = exchange.server
    server.streams.policy = replace(server.streams.policy, max_queued_bytes=10_000)
    sock = await open_ws(server, "/ws/btcusdt@trade", FakeSocket(stuck=True))
    (conn,) = server.streams.conns
    payload = {"e": "trade", "pad": "x" * 500}
    for _ in range(3):
        server.streams.hub.publish("btcusdt@trade", payload)
    await settle()  # the writer took one message and is stuck sending it
    assert not conn.closed and conn.queued > 0
    for _ in range(30):
        server.streams.hub.publish("btcusdt@trade", payload)
    assert conn.closed and conn.queued == 0 and not conn.out  # backlog dropped at once
    await asyncio.wait_for(sock.closed.wait(), 1)
    assert sock.close_code() == POLICY
    await settle()
    assert server.streams.hub.subs == {}  # unsubscribed when it went


async def test_streams_see_live_commands_only(exchange):
    engine = exchange.server.engine
    seen: list[str] = []
    engine.live_listeners.append(lambda ex, cmd: seen.append(cmd["t"]))
    trader = await exchange.new_trader(USDT="100")
    await trader.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                       quantity="0.001", price="50000")
    assert seen == ["account.create", "order.new"]
    await engine.journal.flush()
    engine.recover()  # replays both commands through the projections
    assert seen == ["account.create", "order.new"]


async def test_a_failing_stream_listener_does_not_fail_the_command(exchange):
    engine = exchange.server.engine

    def broken(ex: Any, cmd: dict) -> None:
        raise RuntimeError("boom")

    engine.live_listeners.insert(0, broken)
    trader = await exchange.new_trader(USDT="100")
    r = await trader.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                           quantity="0.001", price="50000")
    assert r.status_code == 200 and not engine.broken


class GoneBeforeAccept(FakeSocket):
    """A client that left while the server accepted (uvicorn raises from send)."""

    async def send(self, msg: dict) -> None:
        self.sent.append(msg)
        if msg["type"] == "websocket.accept":
            raise RuntimeError("client disconnected")


async def test_subscriptions_are_undone_when_the_accept_fails(exchange):
    streams = exchange.server.streams
    a = await exchange.new_trader(USDT="100")
    r = await exchange.http.post("/api/v3/userDataStream", headers={"X-MBX-APIKEY": a.api_key})
    sock = GoneBeforeAccept()
    scope = {"type": "websocket", "path": "/ws/btcusdt@depth/" + r.json()["listenKey"],
             "query_string": b"", "headers": [], "client": ("127.0.0.1", 50000),
             "extensions": {}}
    await sock.incoming.put({"type": "websocket.connect"})
    task = asyncio.get_running_loop().create_task(exchange.server.app(scope, sock.receive, sock.send))
    await settle()
    assert task.done()
    assert not streams.conns
    assert not any(streams.hub.subs.values()) and not any(streams.user.subs.values())
