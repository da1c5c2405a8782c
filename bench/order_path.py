"""Signed POST /api/v3/order through a real `spotex serve` (durable journal on) vs a
skeleton server doing only HTTP + form + HMAC + fixed JSON, both driven by wrk at 64
connections on loopback.

    python bench/order_path.py [--quick]

Last line: `orders/s: N  skeleton/s: M  ratio: R  p99_ms: P`.

    python bench/order_path.py --sim [--rounds 3] [--quick]

The cost of the living market on the order path: the same load against spotex with the
sim on (wall clock, its makers and takers trading on six symbols) and with --no-sim,
alternating in one run; the orders are priced around the live book (`ticker/price` read
after the start; the sim's starting prices for --no-sim). Same per-round lines; last
line: `sim on/off: median R ...` of throughput.

    python bench/order_path.py --metrics compare [--rounds 3] [--quick]

The cost of the metrics: spotex with `[metrics] enabled = false` and with metrics on,
alternating in one run (off, on, off, on, ...), no skeleton. Per round
throughput, p99 and the server's CPU time per order (less sensitive than throughput to
other load on the machine); last line: `metrics on/off: median R (min A, max B over N
rounds)` of throughput.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from common import PY, ROOT, Server, free_port, lua_pool, sign, wrk

SYMBOLS = {"BTCUSDT": (50_000, "0.01", "0.001"), "ETHUSDT": (3_000, "0.01", "0.01")}
SIM_MIDS = {"BTCUSDT": 60_000.0, "ETHUSDT": 3_000.0}  # the built-in [sim] starting prices


def order_pool(accounts: list[dict], n: int, seed: int = 7,
               mids: dict[str, float] | None = None) -> list[tuple]:
    """Signed orders: ~70 % resting near the touch, ~30 % crossing, over accounts and
    symbols, around `mids` (default: SYMBOLS' prices)."""
    rng = random.Random(seed)
    now = time.time_ns() // 1_000_000
    reqs = []
    for i in range(n):
        acct = accounts[i % len(accounts)]
        symbol = "BTCUSDT" if i % 3 else "ETHUSDT"
        mid, tick, qty = SYMBOLS[symbol]
        mid = mids[symbol] if mids else mid
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


def configure(srv: Server, metrics: bool) -> None:
    """Before `srv` starts: its logs at warning (its stderr is a pipe nobody reads, which
    access lines would fill until the server stalls), and `[metrics] enabled = false`
    for the baseline."""
    path = Path(srv.cmd[srv.cmd.index("--config") + 1])
    text = path.read_text()
    edits = [('[logging]\nlevel = "info"', '[logging]\nlevel = "warning"')]
    if not metrics:
        edits.append(("[metrics]\nenabled = true", "[metrics]\nenabled = false"))
    for old, new in edits:
        assert old in text, f"the default config has no {old!r}"
        text = text.replace(old, new)
    path.write_text(text)


def _status(url: str) -> int:
    try:
        return urllib.request.urlopen(url, timeout=5).status
    except urllib.error.HTTPError as exc:
        return exc.code


def live_mids(url: str) -> dict[str, float]:
    """The last price of each symbol of the pool (the sim's book is near it)."""
    with urllib.request.urlopen(url + "/api/v3/ticker/price", timeout=10) as r:
        prices = {t["symbol"]: float(t["price"]) for t in json.loads(r.read())}
    return {s: prices[s] for s in SYMBOLS}


def run_spotex(seconds: int, n: int, tmp: Path, metrics: bool = True,
               sim: bool | None = None) -> tuple[dict, list[dict]]:
    """`sim`: None, the empty exchange and SYMBOLS' prices; True, the sim on and orders
    around its live book; False, --no-sim with orders around the sim's starting prices."""
    srv = Server(sim=bool(sim))
    configure(srv, metrics)
    with srv:
        assert _status(srv.url + "/metrics") == (200 if metrics else 404), "metrics switch"
        accounts = [srv.new_account(USDT="1000000000", BTC="1000000", ETH="10000000")
                    for _ in range(8)]
        mids = None if sim is None else live_mids(srv.url) if sim else SIM_MIDS
        wrk(srv.url, 1, lua_pool(order_pool(accounts, 2000, seed=1, mids=mids),
                                 tmp / "warm.lua"))
        cpu = _cpu_seconds(srv.proc.pid)
        result = wrk(srv.url, seconds, lua_pool(order_pool(accounts, n, mids=mids),
                                                tmp / "orders.lua"))
        result["mids"] = mids
        result["cpu_us"] = (_cpu_seconds(srv.proc.pid) - cpu) / result["requests"] * 1e6
    return result, accounts


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads), from /proc (0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_skeleton(seconds: int, accounts: list[dict], n: int, tmp: Path) -> dict:
    keyfile = tmp / "keys.txt"
    keyfile.write_text("".join(f"{a['apiKey']} {a['secretKey']}\n" for a in accounts))
    port = free_port()
    cmd = [PY, str(ROOT / "bench" / "skeleton.py"), str(port), str(keyfile)]
    with Server(cmd, port) as srv:
        wrk(srv.url, 1, lua_pool(order_pool(accounts, 2000, seed=1), tmp / "warm2.lua"))
        return wrk(srv.url, seconds, lua_pool(order_pool(accounts, n), tmp / "skel.lua"))


def hook_cost(n: int = 200_000) -> float:
    """Microseconds the metrics add to one order, timed in this process (the end-to-end
    difference drowns in a noisy machine's spread): the request's route, status and
    latency, the command's latency and outcome, and one trade."""
    sys.path.insert(0, str(ROOT / "src"))
    import timeit
    from types import SimpleNamespace

    from spotex.core.orders import Order
    from spotex.core.trades import Trade
    from spotex.core.trading import Placed
    from spotex.metrics import Metrics

    engine = SimpleNamespace(on_command=None, on_snapshot=None,
                             journal=SimpleNamespace(on_commit=None),
                             exchange=SimpleNamespace(events=[Trade(symbol="BTCUSDT")]))
    m = Metrics(SimpleNamespace(engine=engine))
    placed = Placed(Order("BTCUSDT", 1, 1, "c", "BUY", "LIMIT", "GTC", 1, 1, 0))
    cmd = {"t": "order.new", "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT"}

    def one_order() -> None:
        m.request("POST", "/api/v3/order", 200, 0.0031)
        m.on_command(cmd, placed, 0.00005)

    return min(timeit.repeat(one_order, number=n, repeat=5)) / n * 1e6


def compare_metrics(seconds: int, n: int, rounds: int, quick: bool, what: str = "metrics") -> None:
    """Metrics (or the sim: `what`) off then on, `rounds` times, each on a fresh server
    with the same load."""
    ratios, cpu_ratios, cpu_offs = [], [], []
    with tempfile.TemporaryDirectory() as d:
        for i in range(rounds):
            if what == "sim":
                off, _ = run_spotex(seconds, n, Path(d), metrics=False, sim=False)
                on, _ = run_spotex(seconds, n, Path(d), metrics=False, sim=True)
                print(f"round {i + 1}: sim orders around "
                      + ", ".join(f"{s} {p:,.2f}" for s, p in on["mids"].items()), flush=True)
            else:
                off, _ = run_spotex(seconds, n, Path(d), metrics=False)
                on, _ = run_spotex(seconds, n, Path(d), metrics=True)
            for name, r in (("off", off), ("on", on)):
                if r["non2xx"] > 0.01 * r["requests"]:
                    sys.exit(f"{what} {name}: {r['non2xx']} of {r['requests']} requests "
                             "failed, the figures are not valid")
            ratios.append(on["rps"] / off["rps"])
            cpu_ratios.append(on["cpu_us"] / off["cpu_us"] if off["cpu_us"] else 0.0)
            cpu_offs.append(off["cpu_us"])
            print(f"round {i + 1}: off {off['rps']:7,.0f} orders/s p99 {off['p99_ms']:.1f} ms "
                  f"{off['cpu_us']:.0f} CPU-us/order   on {on['rps']:7,.0f} orders/s p99 "
                  f"{on['p99_ms']:.1f} ms {on['cpu_us']:.0f} CPU-us/order   on/off "
                  f"{ratios[-1]:.3f} (CPU per order {cpu_ratios[-1]:.3f})", flush=True)
    flag = "--sim" if what == "sim" else "--metrics compare"
    print(f"command: python bench/order_path.py {flag} --rounds {rounds}"
          f"{' --quick' if quick else ''}")
    if what == "metrics":
        hooks, cpu_off = hook_cost(), statistics.median(cpu_offs)
        print(f"metrics hooks: {hooks:.2f} us per order in process = {hooks / cpu_off:.2%} "
              f"of the server's CPU per order with metrics off (median {cpu_off:.0f} us)")
    print(f"server CPU per order on/off: median {statistics.median(cpu_ratios):.3f} "
          f"(min {min(cpu_ratios):.3f}, max {max(cpu_ratios):.3f})")
    print(f"{what} on/off: median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, "
          f"max {max(ratios):.3f} over {rounds} rounds)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one short run of each (< 2 min)")
    ap.add_argument("--metrics", choices=("on", "off", "compare"), default="on",
                    help="spotex with metrics on (default) or off, or compare the two")
    ap.add_argument("--sim", action="store_true",
                    help="compare spotex with the sim on (wall clock) and with --no-sim")
    ap.add_argument("--rounds", type=int, default=3,
                    help="off/on pairs for --metrics compare and --sim")
    args = ap.parse_args()
    # a pool over ~60k requests makes wrk's Lua script fail to load (too many constants
    # in one chunk), and wrk then sends plain `GET /`: 30k is below that
    seconds, n = (5, 20_000) if args.quick else (15, 30_000)
    if args.sim:
        compare_metrics(seconds, n, args.rounds, args.quick, what="sim")
        return
    if args.metrics == "compare":
        compare_metrics(seconds, n, args.rounds, args.quick)
        return
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        spotex, accounts = run_spotex(seconds, n, tmp, metrics=args.metrics == "on")
        skeleton = run_skeleton(seconds, accounts, n, tmp)
    for name, r in (("spotex", spotex), ("skeleton", skeleton)):
        print(f"{name:9s} {r['rps']:10,.0f} req/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms"
              f"  ({r['requests']} requests, {r['non2xx']} non-2xx)")
        if r["non2xx"] > 0.01 * r["requests"]:
            sys.exit(f"{name}: too many errors, the figures are not valid")
    flags = (" --quick" if args.quick else "") + (" --metrics off" if args.metrics == "off" else "")
    print(f"command: python bench/order_path.py{flags}")
    ratio = spotex["rps"] / skeleton["rps"]
    print(f"orders/s: {spotex['rps']:.0f}  skeleton/s: {skeleton['rps']:.0f}  "
          f"ratio: {ratio:.2f}  p99_ms: {spotex['p99_ms']:.2f}")


if __name__ == "__main__":
    main()
