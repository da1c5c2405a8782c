"""The documented local order book procedure (streams.md §2.5) against live order flow:
diff depth events and REST depth share one update id sequence, so a client that follows
the procedure ends with exactly the server's book."""
from __future__ import annotations

import asyncio
import random
import threading
import time
import zlib
from decimal import Decimal

import pytest

from .conftest import Live, connect, recv


def order_flow(live: Live, symbol: str, n: int, seed: int, stop: threading.Event) -> None:
    """Random limit, IOC, market orders and cancels from two accounts (REST, a thread)."""
    rng = random.Random(seed)
    a, b = live.pair(symbol)
    open_ids: list[tuple] = []
    for _ in range(n):
        if stop.is_set():
            return
        acct = rng.choice((a, b))
        side = rng.choice(("BUY", "SELL"))
        qty = str(Decimal(rng.randint(1, 3000)) / 1000)
        roll = rng.random()
        if roll < 0.2 and open_ids:
            who, oid = open_ids.pop(rng.randrange(len(open_ids)))
            live.request(who, "DELETE", "/api/v3/order", symbol=symbol, orderId=oid)
        elif roll < 0.3:
            live.request(acct, "POST", "/api/v3/order", symbol=symbol, side=side, type="MARKET",
                         quantity=qty)
        else:
            price = str(Decimal(rng.randint(9000, 11000)) / 100)
            tif = "IOC" if roll < 0.4 else "GTC"
            r = live.request(acct, "POST", "/api/v3/order", symbol=symbol, side=side, type="LIMIT",
                             timeInForce=tif, quantity=qty, price=price).json()
            if r.get("status") in ("NEW", "PARTIALLY_FILLED"):
                open_ids.append((acct, r["orderId"]))
        time.sleep(rng.random() * 0.004)


class LocalBook:
    """A client following the procedure; raises if an event is missing."""

    def __init__(self, snapshot: dict) -> None:
        self.id = snapshot["lastUpdateId"]
        self.bids = {p: q for p, q in snapshot["bids"]}
        self.asks = {p: q for p, q in snapshot["asks"]}
        self.first = True

    def apply(self, ev: dict) -> None:
        if ev["u"] <= self.id:
            return  # older than the snapshot (or already applied)
        if self.first:
            assert ev["U"] <= self.id + 1 <= ev["u"], (ev["U"], self.id, ev["u"])
            self.first = False
        else:
            assert ev["U"] == self.id + 1, ("missed events", ev["U"], self.id)
        for side, levels in ((self.bids, ev["b"]), (self.asks, ev["a"])):
            for price, qty in levels:
                if Decimal(qty) == 0:
                    side.pop(price, None)  # absent levels may be removed: normal
                else:
                    side[price] = qty
        self.id = ev["u"]

    def levels(self) -> tuple[list, list]:
        bids = sorted(self.bids.items(), key=lambda kv: -Decimal(kv[0]))
        asks = sorted(self.asks.items(), key=lambda kv: Decimal(kv[0]))
        return [list(x) for x in bids], [list(x) for x in asks]


async def follow(live: Live, symbol: str, stream: str, stop_flow: threading.Event,
                 flow: threading.Thread) -> tuple[LocalBook, dict]:
    async with connect(live, f"/ws/{symbol.lower()}@{stream}") as ws:
        buffered = [await recv(ws, 10)]  # 1-2: open the stream, buffer events
        snapshot = await asyncio.to_thread(live.depth, symbol, 5000)  # 3: the snapshot
        while snapshot["lastUpdateId"] < buffered[0]["U"]:  # corrected procedure: refetch
            snapshot = await asyncio.to_thread(live.depth, symbol, 5000)
        book = LocalBook(snapshot)
        for ev in buffered:
            book.apply(ev)
        while flow.is_alive():
            try:
                book.apply(await recv(ws, 0.5))
            except asyncio.TimeoutError:
                pass
        # the flow is over. A command that touched no level (a MARKET order into an empty
        # side) moves the id without an event; resting orders far from the flow's prices
        # end with an event, and leave a level on each side however the flow ended
        a, _ = live.pair(symbol)
        live.order(a, symbol, "BUY", "1", "1.5")
        live.order(a, symbol, "SELL", "0.01", "9999")
        deadline = time.monotonic() + 20
        while True:  # drain until the book is as REST shows it
            final = live.depth(symbol, 5000)
            if book.id >= final["lastUpdateId"]:
                return book, final
            try:
                book.apply(await recv(ws, 1))
            except asyncio.TimeoutError:  # a slow timer tick on a busy machine
                assert time.monotonic() < deadline, ("no depth event", book.id, final)


@pytest.mark.parametrize("stream", ["depth@100ms", "depth"])
async def test_local_book_matches_rest(live, stream):
    symbol = live.market()
    stop = threading.Event()
    seed = zlib.crc32(stream.encode())  # not hash(): that differs per process (PYTHONHASHSEED)
    flow = threading.Thread(target=order_flow, args=(live, symbol, 400, seed, stop))
    flow.start()
    try:
        await asyncio.sleep(0.3)  # join while the market is already busy
        book, final = await follow(live, symbol, stream, stop, flow)
    finally:
        stop.set()
        flow.join()
    assert book.id == final["lastUpdateId"]
    bids, asks = book.levels()
    assert (bids, asks) == (final["bids"], final["asks"])
    assert len(bids) + len(asks) > 2  # the flow's levels, besides the two far ones
