"""State after a restart is identical: from snapshot + tail, and from the journal alone."""
from __future__ import annotations

import asyncio
import os

import httpx

from spotex.server import build
from tests.conftest import Exchange, Trader


async def _activity(ex: Exchange) -> tuple[Trader, Trader]:
    a = await ex.new_trader(BTC="2", USDT="100000")
    b = await ex.new_trader(BTC="2", USDT="100000")
    for i in range(5):
        r = await a.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                          quantity="0.1", price=str(50000 + i * 10))
        assert r.status_code == 200, r.text
    await b.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.25")
    await b.order(symbol="BTCUSDT", side="BUY", type="STOP_LOSS_LIMIT", timeInForce="GTC",
                  quantity="0.1", price="60000", stopPrice="59000")
    await a.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                  quantity="0.01", price="40000", icebergQty="0.005")
    r = await a.signed("DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=5)
    assert r.status_code == 200, r.text
    return a, b


async def _view(http: httpx.AsyncClient, traders: tuple[Trader, ...]) -> list:
    out = []
    for t in traders:
        t.http = http
        for path, params in (("/api/v3/account", {}), ("/api/v3/openOrders", {}),
                             ("/api/v3/allOrders", {"symbol": "BTCUSDT"}),
                             ("/api/v3/myTrades", {"symbol": "BTCUSDT"})):
            r = await t.signed("GET", path, **params)
            assert r.status_code == 200, r.text
            out.append(r.json())
    return out


async def _reopen(ex: Exchange):
    server = build(ex.server.data_dir, admin_token="x", clock=ex.clock)
    transport = httpx.ASGITransport(app=server.app, client=("127.0.0.1", 50000))
    return server, httpx.AsyncClient(transport=transport, base_url="http://spotex")


async def test_restart_from_snapshot_is_identical(exchange: Exchange):
    traders = await _activity(exchange)
    before = await _view(exchange.http, traders)
    await exchange.server.engine.close()  # clean shutdown: writes a snapshot
    server, http = await _reopen(exchange)
    assert server.engine.journal.load_snapshot() is not None
    assert await _view(http, traders) == before
    # and it keeps trading with the same ids afterwards
    r = await traders[1].order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
    assert r.json()["orderId"] == 9
    await server.engine.journal.close()


async def test_restart_from_journal_only_is_identical(exchange: Exchange):
    traders = await _activity(exchange)
    before = await _view(exchange.http, traders)
    await exchange.server.engine.journal.flush()  # no snapshot: like a crash after acks
    server, http = await _reopen(exchange)
    assert server.engine.journal.load_snapshot() is None
    assert await _view(http, traders) == before
    await server.engine.journal.close()


async def test_snapshot_of_other_state_version_is_ignored(exchange: Exchange):
    """A snapshot of another state version is skipped: the whole journal is replayed."""
    traders = await _activity(exchange)
    before = await _view(exchange.http, traders)
    await exchange.server.engine.close()
    server, http = await _reopen(exchange)
    server.engine.state_tag = "another version"
    server.engine.recover()
    assert await _view(http, traders) == before
    await server.engine.journal.close()


async def test_periodic_snapshot_is_written_by_a_child_process(exchange: Exchange, monkeypatch):
    """Every `snapshot_every` commands a forked child writes the snapshot while the exchange
    keeps serving; after a crash, recovery starts from it and replays only the tail."""
    engine = exchange.server.engine
    monkeypatch.setattr(engine.config, "snapshot_every", 4)
    traders = await _activity(exchange)  # config.set, 2 account.create, 10 orders/cancels
    await engine.wait_snapshot()
    await engine.journal.flush()  # no clean shutdown: the crash case
    seqs = engine.journal.snapshots.seqs()  # one is skipped while the previous child runs
    assert seqs and all((s - 1) % 4 == 0 for s in seqs), seqs  # 4 after config.set
    before = await _view(exchange.http, traders)
    server, http = await _reopen(exchange)
    seq, _ = server.engine.journal.load_snapshot()
    assert seq == seqs[-1]
    assert await _view(http, traders) == before
    await server.engine.journal.close()


async def test_replay_archives_the_same_orders(exchange: Exchange):
    """Archiving runs inside commands, from their own time: the journal replays it."""
    traders = await _activity(exchange)
    exchange.clock.advance(91 * 86_400_000)
    r = await traders[0].order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                               quantity="0.01", price="40000")
    assert r.status_code == 200, r.text
    ex = exchange.server.engine.exchange
    owner = traders[0].account_id
    archived = sorted(i for i in range(1, 10) if ex.is_archived("BTCUSDT", i, owner))
    assert archived == [5]  # the canceled SELL at 50040; the filled and working ones stay
    before = await _view(exchange.http, traders)
    await exchange.server.engine.journal.flush()
    server, http = await _reopen(exchange)
    assert server.engine.journal.load_snapshot() is None
    assert sorted(i for i in range(1, 10)
                  if server.engine.exchange.is_archived("BTCUSDT", i, owner)) == archived
    assert await _view(http, traders) == before
    await server.engine.journal.close()


async def test_snapshot_child_holds_no_socket_and_unpromoted_files_are_dropped(
        exchange: Exchange, monkeypatch):
    """The child closes what it inherited (a listening socket kept by a child outliving a
    killed server would stop the restart from binding); its file becomes a snapshot only
    when the server promotes it, and a restart discards one that never was."""
    import socket
    import time

    engine = exchange.server.engine
    await _activity(exchange)
    listener = socket.create_server(("127.0.0.1", 0))
    state = engine._state
    monkeypatch.setattr(engine, "_state", lambda: (time.sleep(0.5), state())[1])
    engine.snapshot_in_background()
    await asyncio.sleep(0.2)
    fds = os.listdir(f"/proc/{engine.snapshot_pid}/fd")
    links = {os.readlink(f"/proc/{engine.snapshot_pid}/fd/{fd}") for fd in fds}
    assert not any(link.startswith("socket:") for link in links), links
    assert engine.journal.snapshots.seqs() == []  # not promoted while being written
    await engine.wait_snapshot()
    assert engine.journal.snapshots.seqs() == [engine.exchange.seq]
    listener.close()

    engine.journal.snapshots.write_pending(99, lambda f: f.write(b"from a dead server"))
    server, _ = await _reopen(exchange)
    assert list(engine.journal.snapshots.dir.glob("*.tmp")) == []
    await server.engine.journal.close()


async def test_failed_snapshot_never_fails_the_command_nor_leaves_files(exchange: Exchange,
                                                                      monkeypatch):
    """fork refused (no memory) or the child failing: the command that triggered the
    snapshot is answered as usual, and no temporary file stays behind."""
    engine = exchange.server.engine
    trader = await exchange.new_trader(USDT="1000")
    monkeypatch.setattr(engine.config, "snapshot_every", 1)

    def no_fork() -> int:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(os, "fork", no_fork)
    r = await trader.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                           quantity="0.01", price="40000")
    assert r.status_code == 200, r.text
    monkeypatch.undo()

    monkeypatch.setattr(engine.config, "snapshot_every", 1)
    # the child's pickling fails half-way through its file
    monkeypatch.setattr(engine, "_state", lambda: ("config", [1] * 100_000, lambda: None))
    r = await trader.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                           quantity="0.01", price="40000")
    assert r.status_code == 200, r.text
    await engine.wait_snapshot()
    assert engine.journal.snapshots.seqs() == []
    assert list(engine.journal.snapshots.dir.glob("*.tmp")) == []
