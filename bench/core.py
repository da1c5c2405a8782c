"""The core alone (no HTTP, no journal): orders/s for a realistic mix at a given book
depth, and memory per resting order.

    python bench/core.py [--ops 200000]

Mix per op: 55 % limit adds near the touch, 25 % cancels, 15 % marketable orders
(limit IOC and market), 5 % stop orders; the book is first filled to the target depth.
"""
from __future__ import annotations

import argparse
import gc
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from spotex import config  # noqa: E402
from spotex.core.errors import ApiError  # noqa: E402
from spotex.core.exchange import Exchange  # noqa: E402
from spotex.core.numbers import parse  # noqa: E402

from common import bench_config  # noqa: E402

MID, TICK, LOT = parse("50000"), parse("0.01"), parse("0.00001")
ACCOUNTS = 16


def exchange() -> Exchange:
    import tempfile
    cfg = config.load(str(bench_config(Path(tempfile.mkdtemp()) / "bench.toml")))
    ex = Exchange(cfg.settings)
    for i in range(ACCOUNTS):
        ex.apply({"t": "account.create", "ts": 0, "balances": {"USDT": parse("10000000000"),
                  "BTC": parse("10000000")}, "key": {"api_key": f"k{i}", "key_type": "HMAC_SHA256",
                                                      "secret": "s"}})
    return ex


class Workload:
    def __init__(self, ex: Exchange, depth: int, seed: int = 1) -> None:
        self.ex, self.depth, self.rng, self.ts = ex, depth, random.Random(seed), 1
        self.live: list[tuple[int, int]] = []  # (account, orderId) maybe still open
        self.width = max(20, depth // 50)

    def cmd(self, **c) -> object:
        self.ts += 1
        c["ts"] = self.ts
        try:
            return self.ex.apply(c)
        except ApiError:
            return None

    def add(self) -> None:
        rng = self.rng
        side = "BUY" if rng.random() < 0.5 else "SELL"
        away = rng.randint(1, self.width) * TICK
        price = MID - away if side == "BUY" else MID + away
        acct = rng.randrange(ACCOUNTS) + 1
        r = self.cmd(t="order.new", account=acct, symbol="BTCUSDT", side=side, type="LIMIT",
                     tif="GTC", qty=rng.randint(1, 200) * LOT * 10, price=price, stp="NONE")
        if r is not None:
            self.live.append((acct, r.order.id))

    def cancel(self) -> None:
        if not self.live:
            return
        i = self.rng.randrange(len(self.live))
        self.live[i], self.live[-1] = self.live[-1], self.live[i]
        acct, oid = self.live.pop()
        self.cmd(t="order.cancel", account=acct, symbol="BTCUSDT", order_id=oid)

    def take(self) -> None:
        rng = self.rng
        side = "BUY" if rng.random() < 0.5 else "SELL"
        qty = rng.randint(1, 400) * LOT * 10
        if rng.random() < 0.5:
            self.cmd(t="order.new", account=rng.randrange(ACCOUNTS) + 1, symbol="BTCUSDT",
                     side=side, type="MARKET", qty=qty, stp="NONE")
        else:
            price = MID + 3 * TICK if side == "BUY" else MID - 3 * TICK
            self.cmd(t="order.new", account=rng.randrange(ACCOUNTS) + 1, symbol="BTCUSDT",
                     side=side, type="LIMIT", tif="IOC", qty=qty, price=price, stp="NONE")

    def stop(self) -> None:
        rng = self.rng
        side = "BUY" if rng.random() < 0.5 else "SELL"
        far = rng.randint(self.width, 2 * self.width) * TICK
        stop = MID + far if side == "BUY" else MID - far
        acct = rng.randrange(ACCOUNTS) + 1
        r = self.cmd(t="order.new", account=acct, symbol="BTCUSDT", side=side,
                     type="STOP_LOSS_LIMIT", tif="GTC", qty=10 * LOT, price=stop,
                     stop_price=stop, stp="NONE")
        if r is not None:
            self.live.append((acct, r.order.id))

    def fill(self) -> None:
        while self.resting() < self.depth:
            self.add()

    def resting(self) -> int:
        book = self.ex.books["BTCUSDT"]
        return sum(lv.live for side in (book.bids, book.asks) for lv in side.levels.values())

    def step(self) -> None:
        x = self.rng.random()
        if x < 0.55:
            self.add()
        elif x < 0.80:
            self.cancel()
        elif x < 0.95:
            self.take()
        else:
            self.stop()
        if len(self.live) > 3 * self.depth:  # keep depth near the target
            self.cancel()
        elif self.resting() < self.depth // 2 if self.ts % 997 == 0 else False:
            self.fill()


def run(depth: int, ops: int) -> float:
    w = Workload(exchange(), depth)
    w.fill()
    gc.collect()
    gc.freeze()
    t0 = time.perf_counter()
    for _ in range(ops):
        w.step()
    dt = time.perf_counter() - t0
    print(f"depth {depth:>7,}: {ops / dt:>10,.0f} ops/s  (resting after run: {w.resting():,})")
    return ops / dt


def memory_per_order(n: int = 100_000) -> float:
    ex = exchange()
    w = Workload(ex, n)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    w.fill()
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    per = used / w.resting()
    print(f"memory: {per:,.0f} bytes per resting order ({w.resting():,} resting, all indexes included)")
    return per


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=200_000)
    args = ap.parse_args()
    small = run(100, args.ops)
    large = run(100_000, args.ops)
    per = memory_per_order()
    print("command: python bench/core.py")
    print(f"core ops/s: depth100 {small:,.0f}  depth100k {large:,.0f}  bytes/order {per:,.0f}")


if __name__ == "__main__":
    main()
