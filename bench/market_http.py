"""Market-data GETs through HTTP: depth and tickers req/s against a real `spotex serve`
(server pinned to one core, wrk on the other, 64 connections, loopback).

    python bench/market_http.py [--quick]

Setup: BTCUSDT with 200 resting levels a side and a few hundred trades, made through the
API. Last line: `depth/s: N  ticker24hr/s: M  bookTicker/s: B`.
"""
from __future__ import annotations

import argparse
import time
import urllib.request
from urllib.parse import urlencode

from common import Server, sign, wrk


def post_order(srv: Server, acct: dict, **params: str) -> None:
    body = urlencode({**params, "symbol": "BTCUSDT", "timestamp": time.time_ns() // 1_000_000})
    body += "&signature=" + sign(acct["secretKey"], body)
    req = urllib.request.Request(srv.url + "/api/v3/order", data=body.encode(), method="POST",
                                 headers={"X-MBX-APIKEY": acct["apiKey"]})
    urllib.request.urlopen(req).read()


def populate(srv: Server) -> None:
    maker = srv.new_account(USDT="100000000", BTC="100000")
    taker = srv.new_account(USDT="100000000", BTC="100000")
    for i in range(200):
        post_order(srv, maker, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.01",
                   price=f"{49_990 - i:.2f}")
        post_order(srv, maker, side="SELL", type="LIMIT", timeInForce="GTC", quantity="0.01",
                   price=f"{50_010 + i:.2f}")
    for i in range(150):
        post_order(srv, taker, side="BUY" if i % 2 else "SELL", type="MARKET", quantity="0.001")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    seconds = 4 if ap.parse_args().quick else 10
    with Server() as srv:
        populate(srv)
        out = {}
        for name, path in (("depth", "/api/v3/depth?symbol=BTCUSDT&limit=100"),
                           ("ticker24hr", "/api/v3/ticker/24hr?symbol=BTCUSDT"),
                           ("bookTicker", "/api/v3/ticker/bookTicker?symbol=BTCUSDT")):
            wrk(srv.url + path, 1)
            r = out[name] = wrk(srv.url + path, seconds)
            print(f"{name:11s} {r['rps']:10,.0f} req/s  p50 {r['p50_ms']:.2f} ms  "
                  f"p99 {r['p99_ms']:.2f} ms  ({r['non2xx']} non-2xx)")
    print("command: python bench/market_http.py")
    print(f"depth/s: {out['depth']['rps']:.0f}  ticker24hr/s: {out['ticker24hr']['rps']:.0f}  "
          f"bookTicker/s: {out['bookTicker']['rps']:.0f}")


if __name__ == "__main__":
    main()
