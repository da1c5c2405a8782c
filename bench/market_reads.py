"""In-process latency of the market-data GETs (ASGI app called directly, no sockets),
and the cost the market projection adds to each trading command.

    python bench/market_reads.py [--quick]

Setup: BTCUSDT with LEVELS resting levels per side and a week of trades (one taker
order a minute, 1-3 fills each) placed through the engine with a simulated clock.
Prints one line per request: median and p99 in microseconds.
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, bench_config

sys.path.insert(0, str(ROOT / "src"))

from spotex.api.routes.admin import account_command  # noqa: E402
from spotex.core.numbers import parse  # noqa: E402
from spotex.server import build, tune_gc  # noqa: E402

WEEK_MIN = 7 * 24 * 60


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now


def order(account: int, side: str, price: str | None, qty: str, otype: str = "LIMIT") -> dict:
    return {"t": "order.new", "account": account, "symbol": "BTCUSDT", "side": side,
            "type": otype, "tif": "GTC" if otype == "LIMIT" else None, "qty": parse(qty),
            "quote_qty": None, "price": parse(price) if price else None, "stop_price": None,
            "trailing_delta": None, "iceberg_qty": None, "client_id": None,
            "strategy_id": None, "strategy_type": None, "stp": "NONE"}


async def get(app, path: str, query: str) -> bytes:
    out: list[bytes] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(msg: dict) -> None:
        if msg["type"] == "http.response.body":
            out.append(msg["body"])

    scope = {"type": "http", "method": "GET", "path": path, "query_string": query.encode(),
             "headers": [], "client": ("127.0.0.1", 1)}
    await app(scope, receive, send)
    return out[0]


async def main(quick: bool) -> None:
    levels, minutes = (200, 24 * 60) if quick else (2_000, WEEK_MIN)
    tmp = Path(tempfile.mkdtemp(prefix="spotex-mkt-"))
    try:
        await run(tmp, levels, minutes, quick)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def run(tmp: Path, levels: int, minutes: int, quick: bool) -> None:
    clock = Clock()
    server = build(tmp / "data", config_path=str(bench_config(tmp / "bench.toml")),
                   admin_token="x", clock=clock)
    eng = server.engine
    ids = []
    for balances in ({"BTC": "100000"}, {"USDT": "10000000000"}):
        cmd, _ = account_command({"balances": balances})
        ids.append(await eng.execute(cmd, lambda a: a))
    maker, taker = ids
    for i in range(levels):  # resting book: asks 60000+, bids 40000-
        await eng.execute(order(maker, "SELL", f"{60000 + i}", "1"), lambda r: None)
        await eng.execute(order(taker, "BUY", f"{40000 - i}", "1"), lambda r: None)
    t_cmd = []
    for m in range(minutes):  # a week of trades near 50000
        clock.now += 60_000
        price = 50_000 + (m * 7919) % 500
        for k in range(1 + m % 3):
            await eng.execute(order(maker, "SELL", f"{price + k}", "0.01"), lambda r: None)
        t0 = time.perf_counter()
        await eng.execute(order(taker, "BUY", f"{price + 2}", f"{0.01 * (1 + m % 3):.2f}"),
                          lambda r: None)
        t_cmd.append(time.perf_counter() - t0)
    tune_gc()  # as `spotex serve` does
    listener = server.engine.listeners[0]

    class Ex:
        events = eng.exchange.events
    t0 = time.perf_counter()
    for _ in range(10_000):
        listener(Ex, {"t": "order.new", "symbol": "BTCUSDT"})
    proj_us = (time.perf_counter() - t0) * 100  # per call, us (same 1-3 fills, same minute)
    print(f"setup: {levels} levels/side, {minutes} minutes of trades; "
          f"taker command median {statistics.median(t_cmd) * 1e6:.0f} us, "
          f"of which market projection ~{proj_us:.1f} us")
    cases = [
        ("/api/v3/depth", "symbol=BTCUSDT"),
        ("/api/v3/depth", "symbol=BTCUSDT&limit=5000"),
        ("/api/v3/trades", "symbol=BTCUSDT&limit=1000"),
        ("/api/v3/aggTrades", f"symbol=BTCUSDT&startTime={clock.now - 3_600_000}"),
        ("/api/v3/klines", "symbol=BTCUSDT&interval=1m&limit=1000"),
        ("/api/v3/klines", "symbol=BTCUSDT&interval=1d&timeZone=05:45&limit=1000"),
        ("/api/v3/klines", "symbol=BTCUSDT&interval=1M&timeZone=8"),
        ("/api/v3/avgPrice", "symbol=BTCUSDT"),
        ("/api/v3/ticker/24hr", "symbol=BTCUSDT"),
        ("/api/v3/ticker/24hr", ""),
        ("/api/v3/ticker", "symbol=BTCUSDT&windowSize=7d"),
        ("/api/v3/ticker/tradingDay", "symbol=BTCUSDT&timeZone=-3:30"),
        ("/api/v3/ticker/price", ""),
        ("/api/v3/ticker/bookTicker", "symbol=BTCUSDT"),
    ]
    n = 200 if quick else 1000
    for path, query in cases:
        await get(server.app, path, query)
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            await get(server.app, path, query)
            samples.append(time.perf_counter() - t0)
        samples.sort()
        print(f"{path}?{query}: median {statistics.median(samples) * 1e6:.0f} us, "
              f"p99 {samples[int(len(samples) * 0.99)] * 1e6:.0f} us")
    await eng.journal.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    asyncio.run(main(ap.parse_args().quick))
