"""WebSocket side against a real `spotex serve` (server pinned to one core, this client on
the other, loopback): WebSocket API order throughput, trade-event latency, and fan-out of
one trade stream to many connections.

    python bench/streams.py [--quick]

Last line: `wsapi orders/s: N  trade event p50/p99 ms: a/b  fanout deliveries/s: D`.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import statistics
import time

import orjson
import websockets

from common import Server


def signed(acct: dict, **params: object) -> dict:
    p = {**params, "apiKey": acct["apiKey"], "timestamp": time.time_ns() // 1_000_000}
    payload = "&".join(f"{k}={v}" for k, v in sorted(p.items()))
    p["signature"] = hmac.new(acct["secretKey"].encode(), payload.encode(), hashlib.sha256).hexdigest()
    return p


def order(acct: dict, side: str, price: str, rid: int, tif: str = "GTC") -> str:
    return orjson.dumps({"id": rid, "method": "order.place", "params": signed(
        acct, symbol="BTCUSDT", side=side, type="LIMIT", timeInForce=tif, quantity="0.001",
        price=price, newOrderRespType="ACK")}).decode()


async def pipelined_orders(ws_url: str, acct: dict, n: int, in_flight: int = 64) -> tuple[float, list[float]]:
    """n resting orders over one connection, `in_flight` outstanding; orders/s, latencies."""
    async with websockets.connect(ws_url + "/ws-api/v3?returnRateLimits=false", max_queue=None) as ws:
        msgs = [order(acct, "BUY" if i % 2 else "SELL", "40000" if i % 2 else "60000", i) for i in range(n)]
        sent: dict[int, float] = {}
        lat: list[float] = []
        window = asyncio.Semaphore(in_flight)

        async def reader() -> None:
            while len(lat) < n:
                r = orjson.loads(await ws.recv())
                assert r["status"] == 200, r
                lat.append(time.perf_counter() - sent.pop(r["id"]))
                window.release()

        t0 = time.perf_counter()
        task = asyncio.create_task(reader())
        for i, m in enumerate(msgs):
            await window.acquire()
            sent[i] = time.perf_counter()
            await ws.send(m)
        await task
        return n / (time.perf_counter() - t0), lat


async def trade_latency(ws_url: str, maker: dict, taker: dict, n: int) -> list[float]:
    """Send a crossing order, wait for its trade event on btcusdt@trade: n times."""
    out = []
    async with websockets.connect(ws_url + "/ws-api/v3?returnRateLimits=false") as api, \
            websockets.connect(ws_url + "/ws/btcusdt@trade") as md:
        for i in range(n):
            await api.send(order(maker, "SELL", "50000", 2 * i))
            await api.recv()
            t0 = time.perf_counter()
            await api.send(order(taker, "BUY", "50000", 2 * i + 1))
            await md.recv()
            out.append(time.perf_counter() - t0)
            await api.recv()
    return out


async def fanout(ws_url: str, maker: dict, taker: dict, conns: int, trades: int) -> float:
    """`trades` trades seen by `conns` subscribers of btcusdt@trade: deliveries/s."""
    subs = [await websockets.connect(ws_url + "/ws/btcusdt@trade", max_queue=None)
            for _ in range(conns)]
    got = [0] * conns

    async def drain(i: int) -> None:
        while got[i] < trades:
            await subs[i].recv()
            got[i] += 1

    async with websockets.connect(ws_url + "/ws-api/v3?returnRateLimits=false", max_queue=None) as api:
        t0 = time.perf_counter()
        readers = [asyncio.create_task(drain(i)) for i in range(conns)]
        for i in range(trades):
            await api.send(order(maker, "SELL", "50000", 2 * i))
            await api.send(order(taker, "BUY", "50000", 2 * i + 1, "IOC"))
        await asyncio.wait_for(asyncio.gather(*readers), 120)
        dt = time.perf_counter() - t0
    for s in subs:
        await s.close()
    return conns * trades / dt


def ms(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100)[int(q) - 1] * 1000


async def main(quick: bool) -> None:
    with Server() as srv:
        ws_url = srv.url.replace("http://", "ws://")
        rich = {"USDT": "1000000000", "BTC": "10000000"}
        maker, taker = srv.new_account(**rich), srv.new_account(**rich)
        n = 3000 if quick else 20000
        rate, lat = await pipelined_orders(ws_url, maker, n)
        print(f"WS API order.place (ACK), 64 in flight, one connection: {rate:,.0f} orders/s, "
              f"p50 {ms(lat, 50):.1f} ms, p99 {ms(lat, 99):.1f} ms")
        lat = await trade_latency(ws_url, maker, taker, 200 if quick else 1000)
        p50, p99 = ms(lat, 50), ms(lat, 99)
        print(f"crossing order sent -> trade event received: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        conns, trades = (50, 200) if quick else (200, 1000)
        rate_f = await fanout(ws_url, maker, taker, conns, trades)
        print(f"fan-out: {trades} trades to {conns} connections: {rate_f:,.0f} deliveries/s "
              f"(client-bound: one Python process reads every connection)")
        print(f"wsapi orders/s: {rate:,.0f}  trade event p50/p99 ms: {p50:.2f}/{p99:.2f}  "
              f"fanout deliveries/s: {rate_f:,.0f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if os.cpu_count() and os.cpu_count() > 1:
        os.sched_setaffinity(0, {0})
    asyncio.run(main(args.quick))
