"""Signed POST /api/v3/order through a real `spotex serve` (durable journal on) vs a
skeleton server doing only HTTP + form + HMAC + fixed JSON, both driven by wrk at 64
connections on loopback.

    python bench/order_path.py [--quick]

Last line: `orders/s: N  skeleton/s: M  ratio: R  p99_ms: P`.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from common import PY, ROOT, Server, free_port, lua_pool, sign, wrk

SYMBOLS = {"BTCUSDT": (50_000, "0.01", "0.001"), "ETHUSDT": (3_000, "0.01", "0.01")}


def order_pool(accounts: list[dict], n: int, seed: int = 7) -> list[tuple]:
    """Signed orders: ~70 % resting near the touch, ~30 % crossing, over accounts and symbols."""
    rng = random.Random(seed)
    now = time.time_ns() // 1_000_000
    reqs = []
    for i in range(n):
        acct = accounts[i % len(accounts)]
        symbol = "BTCUSDT" if i % 3 else "ETHUSDT"
        mid, tick, qty = SYMBOLS[symbol]
        side = "BUY" if rng.random() < 0.5 else "SELL"
        offset = rng.randint(-30, 12)  # ticks toward (positive) or away from the other side
        price = mid + offset * float(tick) * 10 if side == "BUY" else mid - offset * float(tick) * 10
        body = urlencode({"symbol": symbol, "side": side, "type": "LIMIT", "timeInForce": "GTC",
                          "quantity": qty, "price": f"{price:.2f}", "newOrderRespType": "FULL",
                          "recvWindow": 60000, "timestamp": now})
        body += "&signature=" + sign(acct["secretKey"], body)
        reqs.append(("POST", "/api/v3/order",
                     {"X-MBX-APIKEY": acct["apiKey"],
                      "Content-Type": "application/x-www-form-urlencoded"}, body))
    return reqs


def run_spotex(seconds: int, n: int, tmp: Path) -> tuple[dict, list[dict]]:
    with Server() as srv:
        accounts = [srv.new_account(USDT="1000000000", BTC="1000000", ETH="10000000")
                    for _ in range(8)]
        wrk(srv.url, 1, lua_pool(order_pool(accounts, 2000, seed=1), tmp / "warm.lua"))
        result = wrk(srv.url, seconds, lua_pool(order_pool(accounts, n), tmp / "orders.lua"))
    return result, accounts


def run_skeleton(seconds: int, accounts: list[dict], n: int, tmp: Path) -> dict:
    keyfile = tmp / "keys.txt"
    keyfile.write_text("".join(f"{a['apiKey']} {a['secretKey']}\n" for a in accounts))
    port = free_port()
    cmd = [PY, str(ROOT / "bench" / "skeleton.py"), str(port), str(keyfile)]
    with Server(cmd, port) as srv:
        wrk(srv.url, 1, lua_pool(order_pool(accounts, 2000, seed=1), tmp / "warm2.lua"))
        return wrk(srv.url, seconds, lua_pool(order_pool(accounts, n), tmp / "skel.lua"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one short run of each (< 2 min)")
    args = ap.parse_args()
    seconds, n = (5, 20_000) if args.quick else (15, 100_000)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        spotex, accounts = run_spotex(seconds, n, tmp)
        skeleton = run_skeleton(seconds, accounts, n, tmp)
    for name, r in (("spotex", spotex), ("skeleton", skeleton)):
        print(f"{name:9s} {r['rps']:10,.0f} req/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms"
              f"  ({r['requests']} requests, {r['non2xx']} non-2xx)")
        if r["non2xx"] > 0.01 * r["requests"]:
            sys.exit(f"{name}: too many errors, the figures are not valid")
    print(f"command: python bench/order_path.py{' --quick' if args.quick else ''}")
    ratio = spotex["rps"] / skeleton["rps"]
    print(f"orders/s: {spotex['rps']:.0f}  skeleton/s: {skeleton['rps']:.0f}  "
          f"ratio: {ratio:.2f}  p99_ms: {spotex['p99_ms']:.2f}")


if __name__ == "__main__":
    main()
