"""Live control messages, their exact error payloads (errors.md §7), and connection limits:
messages per second, streams per connection, connection attempts, lifetime, ping/pong."""
from __future__ import annotations

import asyncio
import time
import uuid

import aiohttp
import pytest
import websockets

from .conftest import collect, connect, recv, request, start_live, stop_live


async def test_subscribe_list_unsubscribe_with_int_and_string_ids(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    low = sym.lower()
    sid = str(uuid.uuid4())  # the SDK's ids: 36 characters with hyphens
    async with connect(live, "/ws") as ws:
        assert await request(ws, "SUBSCRIBE", [f"{low}@trade", f"{low}@aggTrade"], 1) == {"result": None, "id": 1}
        assert await request(ws, "LIST_SUBSCRIPTIONS", None, sid) == {"result": [f"{low}@trade", f"{low}@aggTrade"], "id": sid}
        live.order(maker, sym, "SELL", "1", "100")
        live.order(taker, sym, "BUY", "0.5")
        assert {(await recv(ws))["e"], (await recv(ws))["e"]} == {"trade", "aggTrade"}
        assert await request(ws, "UNSUBSCRIBE", [f"{low}@trade"], 312) == {"result": None, "id": 312}
        assert await request(ws, "LIST_SUBSCRIPTIONS", None, 3) == {"result": [f"{low}@aggTrade"], "id": 3}
        live.order(taker, sym, "BUY", "0.5")
        events = await collect(ws, 0.5)
    assert [e["e"] for e in events] == ["aggTrade"]


async def test_null_and_missing_ids_are_echoed(live):
    async with connect(live, "/ws") as ws:
        await ws.send('{"method":"LIST_SUBSCRIPTIONS","id":null}')
        assert await recv(ws) == {"result": [], "id": None}
        await ws.send('{"method":"LIST_SUBSCRIPTIONS"}')
        assert await recv(ws) == {"result": [], "id": None}


async def test_combined_property(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    name = f"{sym.lower()}@trade"
    async with connect(live, "/ws/" + name) as ws:
        assert await request(ws, "GET_PROPERTY", ["combined"], 2) == {"result": False, "id": 2}
        assert await request(ws, "SET_PROPERTY", ["combined", True], 5) == {"result": None, "id": 5}
        assert await request(ws, "GET_PROPERTY", ["combined"], 6) == {"result": True, "id": 6}
        live.order(maker, sym, "SELL", "1", "100")
        live.order(taker, sym, "BUY", "1")
        msg = await recv(ws)
    assert msg["stream"] == name and msg["data"]["e"] == "trade"
    async with connect(live, "/stream") as ws:
        assert await request(ws, "GET_PROPERTY", ["combined"], 1) == {"result": True, "id": 1}


@pytest.mark.parametrize("text, reply", [
    ("xyz", {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}),
    ('{"params":["btcusdt@trade"],"id":1}',
     {"code": 2, "msg": "Invalid request: missing field `method` at line 1 column 35"}),
    ('{"method":"SUBSCRIB","params":["btcusdt@trade"],"id":1}',
     {"code": 2, "msg": "Invalid request: unknown variant `SUBSCRIB`, expected one of `SUBSCRIBE`, "
                        "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` at line 1 column 20"}),
    ('{"method":"LIST_SUBSCRIPTIONS","id":1.5}',
     {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"}),
    ('{"method":"LIST_SUBSCRIPTIONS","id":"has spaces"}',
     {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"}),
    ('{"method":"SET_PROPERTY","params":["colour",true],"id":5}',
     {"code": 0, "msg": "Unknown property", "id": 5}),
    ('{"method":"GET_PROPERTY","params":["colour"],"id":"x1"}',
     {"code": 0, "msg": "Unknown property", "id": "x1"}),
    ('{"method":"SET_PROPERTY","params":["combined","yes"],"id":5}',
     {"code": 1, "msg": "Invalid value type: expected Boolean"}),
    ('{"method":"SET_PROPERTY","params":[1,true],"id":5}',
     {"code": 2, "msg": "Invalid request: property name must be a string"}),
    ('{"method":"GET_PROPERTY","params":["combined","again"],"id":5}',
     {"code": 2, "msg": "Invalid request: too many parameters"}),
    ('{"method":"LIST_SUBSCRIPTIONS","params":["x"],"id":5}',
     {"code": 2, "msg": "Invalid request: too many parameters"}),
])
async def test_control_errors(live, text, reply):
    async with connect(live, "/ws") as ws:
        await ws.send(text)
        assert await recv(ws) == reply
        await ws.send('{"method":"LIST_SUBSCRIPTIONS","id":9}')  # the connection stays usable
        assert await recv(ws) == {"result": [], "id": 9}


async def test_more_than_five_messages_a_second_disconnects(live):
    async with connect(live, "/ws") as ws:
        await asyncio.sleep(1 - time.time() % 1 + 0.05)  # at the start of a second
        for i in range(6):
            await ws.send('{"method":"LIST_SUBSCRIPTIONS","id":%d}' % i)
        replies = []
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                replies.append(await recv(ws))
    assert len(replies) == 5
    assert closed.value.rcvd.code == 1008


async def test_five_messages_a_second_are_fine(live):
    async with connect(live, "/ws") as ws:
        for i in range(12):
            await ws.send('{"method":"LIST_SUBSCRIPTIONS","id":%d}' % i)
            assert (await recv(ws))["id"] == i
            await asyncio.sleep(0.25)


async def test_client_ping_gets_pong(live):
    async with connect(live, "/ws") as ws:
        latency = await asyncio.wait_for(await ws.ping(b"hello"), 2)
    assert latency >= 0


# ---------------------------------------------------------------- servers with small limits
@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """3 streams per connection, a 4 s lifetime, a ping every 1 s answered within 1 s."""
    server, lv = start_live(tmp_path_factory, max_streams=3, connection_lifetime="4s",
                            ping_interval="1s", pong_timeout="1s")
    yield lv
    stop_live(server, lv)


async def test_stream_limit_per_connection(small):
    names = [f"s00{i}usdt@trade" for i in range(4)]
    async with connect(small, "/ws") as ws:
        assert await request(ws, "SUBSCRIBE", names[:3], 1) == {"result": None, "id": 1}
        assert await request(ws, "SUBSCRIBE", names[3:], 2) == {
            "code": 2, "msg": "Invalid request: too many parameters"}
        assert await request(ws, "SUBSCRIBE", names[:1], 3) == {"result": None, "id": 3}  # already in
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(small, "/stream?streams=" + "/".join(names)):
            pass
    assert refused.value.response.status_code == 400


async def test_connection_closed_after_its_lifetime(small):
    t0 = time.monotonic()
    async with connect(small, "/ws") as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await recv(ws, 6)
    assert 3.9 <= time.monotonic() - t0 <= 6
    assert closed.value.rcvd.code == 1001


async def test_server_pings_and_drops_a_silent_client(small):
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(small.ws_url + "/ws", autoping=False) as ws:
            t0 = time.monotonic()
            msg = await ws.receive(timeout=2)
            assert msg.type == aiohttp.WSMsgType.PING  # and we never answer it
            while msg.type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                   aiohttp.WSMsgType.CLOSING):
                msg = await ws.receive(timeout=5)
            assert time.monotonic() - t0 < 3  # before the 4 s lifetime: the pong timeout


async def test_answered_pings_keep_the_connection(small):
    async with connect(small, "/ws") as ws:  # websockets answers pings itself
        await asyncio.sleep(2.5)
        assert await request(ws, "LIST_SUBSCRIPTIONS", None, 1) == {"result": [], "id": 1}


@pytest.fixture(scope="module")
def few(tmp_path_factory):
    server, lv = start_live(tmp_path_factory, connection_attempts=3)
    yield lv
    stop_live(server, lv)


async def test_connection_attempts_per_ip(few):
    for _ in range(3):
        async with connect(few, "/ws"):
            pass
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(few, "/ws-api/v3"):
            pass
    assert refused.value.response.status_code == 429
    assert b"-1034" in refused.value.response.body


async def test_clients_vanishing_mid_stream_leave_no_trace(live):
    """TCP connections dropped without a close frame while events flow (the module's
    teardown checks the server log for tracebacks)."""
    sym = live.market()
    maker, _ = live.pair(sym)
    for _ in range(3):
        ws = await connect(live, f"/stream?streams={sym.lower()}@depth5@100ms/!miniTicker@arr")
        await recv(ws)
        ws.transport.abort()
        api = await connect(live, "/ws-api/v3")
        await api.send('{"id":1,"method":"ping"}')
        api.transport.abort()
    live.order(maker, sym, "BUY", "1", "90")
    await asyncio.sleep(1.2)
    async with connect(live, "/ws") as ws:
        assert await request(ws, "LIST_SUBSCRIPTIONS", None, 1) == {"result": [], "id": 1}
