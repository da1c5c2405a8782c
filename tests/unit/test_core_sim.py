"""The simulated market in the core: makers' ladders, takers, reference paths, controls.

Driven directly through `Exchange.apply` with sim.step commands, as the journal would.
"""
from __future__ import annotations

import dataclasses

from spotex import config
from spotex.core.exchange import Exchange, Settings
from spotex.core.numbers import SCALE
from spotex.core.sim import SimSettings, SimSymbol

from tests.unit.test_core_support import D, check_invariants

T0 = 1_700_000_000_000
PRICES = {"BTCUSDT": "60000", "ETHUSDT": "3000", "ETHBTC": "0.05"}


def _sim_symbol(name: str, price: str) -> SimSymbol:
    if name.endswith("BTC"):
        return SimSymbol(name, D(price), level_notional=D("0.03"), inventory_limit=D("1"),
                         taker_min_notional=D("0.0004"), taker_max_notional=D("0.3"))
    return SimSymbol(name, D(price))


def sim_settings(seed: int = 7, **changes) -> Settings:
    base = config.load().settings
    syms = tuple(_sim_symbol(n, p) for n, p in PRICES.items())
    return dataclasses.replace(base, sim=SimSettings(seed=seed, symbols=syms), **changes)


class SimHarness:
    def __init__(self, settings: Settings | None = None) -> None:
        self.ex = Exchange(Settings(symbols=[]))
        self.ts = T0
        self.ex.apply({"t": "config.set", "ts": T0, "settings": settings or sim_settings(),
                       "seed": "s"})

    def steps(self, n: int, symbols=tuple(PRICES)) -> None:
        for _ in range(n):
            self.ts += 1000
            for s in symbols:
                self.ex.apply({"t": "sim.step", "symbol": s, "ts": self.ts})

    def user(self, **balances: str) -> int:
        return self.ex.apply({"t": "account.create", "ts": self.ts,
                              "balances": {a: D(v) for a, v in balances.items()},
                              "key": {"api_key": f"u{len(self.ex.keys)}",
                                      "key_type": "HMAC_SHA256", "secret": "s"}})

    def order(self, account: int, side: str, otype: str, **kw):
        self.ts += 1
        return self.ex.apply({"t": "order.new", "ts": self.ts, "account": account,
                              "symbol": "BTCUSDT", "side": side, "type": otype, **kw})

    def sim_set(self, **kw):
        self.ts += 1
        return self.ex.apply({"t": "sim.set", "ts": self.ts, "symbol": "BTCUSDT", **kw})

    def levels(self, symbol: str = "BTCUSDT") -> tuple[list[int], list[int]]:
        book = self.ex.books[symbol]
        return sorted(book.bids.levels, reverse=True), sorted(book.asks.levels)


def test_every_symbol_gets_a_two_sided_ladder_near_the_reference():
    h = SimHarness()
    h.steps(5)
    for name in PRICES:
        bids, asks = h.levels(name)
        assert len(bids) >= 20 and len(asks) >= 20, name
        ref = h.ex.sim.markets[name].ref
        assert bids[0] < ref < asks[0]
        assert (asks[0] - bids[0]) * 10_000 < ref * 10  # within 10 bp
    check_invariants(h.ex)


def test_takers_trade_and_the_cross_follows_its_legs():
    h = SimHarness()
    h.steps(600)
    for name in PRICES:
        assert h.ex.next_trade_id[name] > 100, name  # trades every few seconds
    m = h.ex.sim.markets
    assert m["ETHBTC"].cross == ("ETHUSDT", "BTCUSDT")
    implied = m["ETHUSDT"].ref * SCALE // m["BTCUSDT"].ref
    assert abs(m["ETHBTC"].ref - implied) * 1000 < implied  # within 0.1 %
    check_invariants(h.ex)


def test_same_seed_same_market_other_seed_other_market():
    a, b, c = SimHarness(), SimHarness(), SimHarness(sim_settings(seed=8))
    for h in (a, b, c):
        h.steps(300)
    assert a.levels() == b.levels() and a.ex.next_trade_id == b.ex.next_trade_id
    assert a.ex.sim.markets["BTCUSDT"].ref != c.ex.sim.markets["BTCUSDT"].ref


def test_a_market_buy_walks_the_ladder_and_pays_slippage():
    h = SimHarness()
    h.steps(3)
    u = h.user(USDT="200000")
    best_ask = h.levels()[1][0]
    p = h.order(u, "BUY", "MARKET", quote_qty=D("100000"))
    assert p.order.status == "FILLED"
    prices = sorted({f[0] for f in p.fills})
    assert len(prices) > 3 and prices[0] == best_ask
    assert p.order.cum_quote * SCALE // p.order.executed > best_ask  # average above the touch


def test_a_resting_order_fills_when_the_reference_moves_through_it():
    h = SimHarness()
    h.steps(3)
    u = h.user(BTC="1")
    ask = h.order(u, "SELL", "LIMIT", tif="GTC", qty=D("0.01"), price=D("61000")).order
    assert ask.status == "NEW"
    h.sim_set(price=D("62000"))  # a shock the makers follow
    h.steps(1, ("BTCUSDT",))
    assert ask.status == "FILLED"
    assert h.ex.accounts[u].balances["USDT"][0] > 0
    check_invariants(h.ex)


def test_liquidity_and_pause_controls():
    h = SimHarness()
    h.steps(3)
    h.sim_set(liquidity=D("0.2"))
    h.steps(1, ("BTCUSDT",))
    bids, asks = h.levels()
    assert len(bids) == len(asks) == 5
    h.sim_set(paused=True)
    assert h.levels() == ([], [])
    ref = h.ex.sim.markets["BTCUSDT"].ref
    h.steps(10, ("BTCUSDT",))
    assert h.levels() == ([], []) and h.ex.sim.markets["BTCUSDT"].ref == ref


def test_sim_orders_are_not_kept_and_its_accounts_are_not_rate_limited():
    h = SimHarness()
    h.steps(300)  # hundreds of orders per symbol, far over 100 orders / 10 s
    sim = h.ex.sim
    for name in PRICES:
        m = sim.markets[name]
        open_quotes = sum(o.is_open for o, _ in (*m.bids.values(), *m.asks.values()))
        assert len(h.ex.orders[name]) == open_quotes, name  # ended ones are forgotten
    assert not any(k[0] in (sim.maker, sim.taker) for k in h.ex.account_trades)


def test_disabling_the_sim_pulls_its_quotes():
    h = SimHarness()
    h.steps(3)
    no_sim = dataclasses.replace(config.load().settings, sim=None)
    h.ex.apply({"t": "config.set", "ts": h.ts + 1, "settings": no_sim})
    for name in PRICES:
        assert h.levels(name) == ([], [])
    check_invariants(h.ex)
