"""The simulated market, inside the core: reference prices, market makers, takers.

The sim is a participant, not a special case. Its maker and taker are accounts; every
order they send goes through the same placement, filters, STP, matching and commissions
as a user's, and shows in trades, depth and streams like anyone's. What the journal
stores is one small `sim.step` command per symbol and step: the orders follow from it
deterministically (a PRNG seeded by the install's sim seed, the symbol and the step
number), so a replay gives the same market, and the journal does not grow by a ladder.

Every step of a symbol:
- the reference price moves: a random walk with the symbol's daily volatility and drift
  and rare jumps, in integer arithmetic (no float ever touches a price); a symbol whose
  assets are both priced in a third one (ETHBTC from ETHUSDT and BTCUSDT) follows their
  cross instead, so triangular arbitrage sees a coherent market;
- the maker keeps a ladder of `levels` orders a side on a fixed price grid around the
  reference, skewed against its inventory: only grid levels that enter or leave the
  ladder (or were mostly filled) are replaced, so requoting is cheap and realistic;
- the taker sends market orders at the configured rate, with sizes between a minimum
  and a maximum notional.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import simhistory
from .accounts import Account
from .walk import DAY_MS, NORMAL_BITS, normal, step_sigma
from .enums import BUY, GTC, LIMIT, MARKET, SELL
from .errors import ApiError
from .numbers import SCALE

if TYPE_CHECKING:
    from .exchange import Exchange
    from .orders import Order
    from .symbols import Symbol

FUNDS = 10**9 * SCALE  # of every asset, for each sim account (int64-safe)


@dataclass(frozen=True)
class SimSymbol:
    """How one symbol's market behaves ([sim.symbols.X] in the config). Fractions and
    rates are scaled by 1e8 like every decimal of the core (0.03 -> 3_000_000)."""

    symbol: str
    price: int  # starting reference price
    volatility: int = 3_000_000  # daily standard deviation of returns (3 %)
    drift: int = 0  # daily expected return
    jumps_per_day: int = 2 * SCALE
    jump_size: int = 2_000_000  # 2 % of the price, either way
    spread: int = 10_000  # half the quoted spread, as a fraction of the price (1 bp)
    levels: int = 25  # maker orders a side
    level_gap: int = 20_000  # between levels, as a fraction of the starting price (2 bp)
    level_notional: int = 2_000 * SCALE  # quote asset at the first level
    depth_growth: int = 20_000_000  # each level deeper holds 20 % more
    inventory_limit: int = 50_000 * SCALE  # quote-asset worth of base the maker may hold
    takers_per_minute: int = 20 * SCALE
    taker_min_notional: int = 20 * SCALE
    taker_max_notional: int = 20_000 * SCALE


@dataclass(frozen=True)
class SimSettings:
    """[sim]: the seed and cadence, and every simulated symbol."""

    seed: int = 1
    step_ms: int = 1_000
    symbols: tuple[SimSymbol, ...] = ()


class SimMarket:
    """One symbol's simulated state (pickled with the core)."""

    __slots__ = ("cfg", "ref", "volatility", "liquidity", "paused", "step", "gap",
                 "bids", "asks", "seen", "inventory", "cross", "next_trade_id", "history")

    def __init__(self, cfg: SimSymbol, tick: int) -> None:
        self.cfg = cfg
        self.ref = cfg.price
        self.volatility = cfg.volatility
        self.liquidity = SCALE  # 1.0: the whole ladder
        self.paused = False
        self.step = 0
        # the grid is fixed by the starting price: levels stay put while the price moves
        self.gap = max(tick, cfg.price * cfg.level_gap // SCALE // tick * tick)
        # price -> the maker's order there and the quantity it was placed with
        self.bids: dict[int, tuple[Order, int]] = {}
        self.asks: dict[int, tuple[Order, int]] = {}
        self.seen: dict[int, int] = {}  # maker order id -> executed already counted
        self.inventory = 0  # base bought minus sold by the maker (scaled)
        self.cross: tuple[str, str] | None = None  # symbols whose ratio this one follows
        self.next_trade_id = 0  # the symbol's, when the maker last counted its fills
        self.history = False  # synthetic history written (simhistory.py)


class SimState:
    """The sim's accounts and markets."""

    def __init__(self, settings: SimSettings, maker: int, taker: int) -> None:
        self.settings = settings
        self.maker = maker
        self.taker = taker
        self.markets: dict[str, SimMarket] = {}
        self.enabled = True


class Sim:
    """Mixin of `Exchange`: the sim.* commands."""

    sim: SimState | None

    # -------------------------------------------------------------- set-up
    def configure_sim(self: "Exchange", settings: SimSettings | None, ts: int) -> None:
        """From config.set: start the sim (its accounts), add or retune its markets, or
        stop it (its quotes are canceled) when the config has none."""
        if settings is None:
            if self.sim is not None and self.sim.enabled:
                for name in list(self.sim.markets):
                    self._pull_quotes(name, ts)
                self.sim.enabled = False
            return
        if self.sim is None:
            self.sim = SimState(settings, self._sim_account(ts), self._sim_account(ts))
        sim = self.sim
        self._fund_sim_accounts()
        sim.settings, sim.enabled = settings, True
        wanted = {s.symbol: s for s in settings.symbols if s.symbol in self.symbols}
        for name in [n for n in sim.markets if n not in wanted]:
            self._pull_quotes(name, ts)
            del sim.markets[name]
        for name, cfg in wanted.items():
            m = sim.markets.get(name)
            if m is None:
                sim.markets[name] = SimMarket(cfg, self.symbols[name].tick)
            elif m.cfg != cfg:
                m.cfg, m.volatility = cfg, cfg.volatility
        self._link_crosses()

    def _sim_account(self: "Exchange", ts: int) -> int:
        """An account with no API key: only the sim trades on it."""
        aid = self.next_account_id
        self.next_account_id += 1
        self.accounts[aid] = Account(aid, maker_rate=self.settings.maker_rate,
                                     taker_rate=self.settings.taker_rate, update_time=ts)
        return aid

    def _fund_sim_accounts(self: "Exchange") -> None:
        """FUNDS of every asset of the config, nothing of any other."""
        assets = {a for s in self.symbols.values() for a in (s.base, s.quote)}
        for aid in (self.sim.maker, self.sim.taker):
            acct = self.accounts[aid]
            for asset in sorted(assets):
                if asset not in acct.balances:
                    acct.bal(asset)[0] = FUNDS
            for asset in [a for a in acct.balances if a not in assets]:
                del acct.balances[asset]

    def _link_crosses(self: "Exchange") -> None:
        """ETHBTC follows ETHUSDT / BTCUSDT when both are simulated walks of their own."""
        markets = self.sim.markets
        by_pair = {(self.symbols[n].base, self.symbols[n].quote): n for n in markets}
        for name, m in markets.items():
            base, quote = self.symbols[name].base, self.symbols[name].quote
            m.cross = next(((by_pair[(base, third)], by_pair[(quote, third)])
                            for (b, third) in by_pair
                            if b == base and third != quote and (quote, third) in by_pair),
                           None)
        for m in markets.values():  # a cross of crosses would chase itself: walk instead
            if m.cross and any(markets[n].cross for n in m.cross):
                m.cross = None

    def is_sim_account(self: "Exchange", account: int) -> bool:
        sim = self.sim
        return sim is not None and account in (sim.maker, sim.taker)

    # -------------------------------------------------------------- commands
    def _sim_market(self: "Exchange", name: str) -> SimMarket:
        """The running sim's market of `name` (-1121 if the sim is off or skips it)."""
        sim = self.sim
        m = sim.markets.get(name) if sim is not None and sim.enabled else None
        if m is None:
            raise ApiError("BAD_SYMBOL")
        return m

    def _sim_step(self: "Exchange", c: dict[str, Any]) -> None:
        """One step of one symbol: move its reference, requote, maybe take."""
        sim, m = self.sim, self._sim_market(c["symbol"])
        m.step += 1
        if m.paused:
            return
        rng = random.Random(f"{sim.settings.seed}:{c['symbol']}:{m.step}")
        self._move_reference(m, rng)
        sym = self.symbols[c["symbol"]]
        self._requote(sym, m, c["ts"])
        self._take(sym, m, rng, c["ts"])

    def _sim_history(self: "Exchange", c: dict[str, Any]) -> None:
        """Synthetic history of one symbol over [from, ts): its trade ids, average price
        and reference continue from it; `history_out` hands it to the market data."""
        sim, m = self.sim, self._sim_market(c["symbol"])
        if m.history or self.next_trade_id[c["symbol"]] != 1:
            raise ApiError("BAD_SYMBOL")  # only before the symbol's first trade
        seed, step = sim.settings.seed, simhistory.MINUTE_MS
        minutes = range(c["from"] - c["from"] % step, c["ts"] - c["ts"] % step, step)
        if m.cross is None:
            closes = simhistory.walk(m, seed, c["symbol"], minutes)
        else:  # the ratio of its legs' own walks, as live
            num, den = (simhistory.walk(sim.markets[n], seed, n, minutes) for n in m.cross)
            closes = [a * SCALE // b for a, b in zip(num, den)]
        h = simhistory.synthesize(self.symbols[c["symbol"]], m, closes, seed, minutes)
        m.history, m.ref = True, h.last_ref
        self.next_trade_id[c["symbol"]] = m.next_trade_id = h.next_trade_id
        avg = self.avg[c["symbol"]]
        for t in h.trades:
            if t.time > c["ts"] - avg.window_ms:
                avg.add(t.time, t.price, t.qty)
        self.history_out = h

    def _sim_set(self: "Exchange", c: dict[str, Any]) -> SimMarket:
        """Operator control: a new reference now (a shock the makers follow), the
        volatility, the share of the ladder quoted, paused or not."""
        m = self._sim_market(c["symbol"])  # a stopped sim quotes nothing, even shocked
        if c.get("price") is not None:
            m.ref = c["price"]
        if c.get("volatility") is not None:
            m.volatility = c["volatility"]
        if c.get("liquidity") is not None:
            m.liquidity = c["liquidity"]
        if c.get("paused") is not None:
            m.paused = c["paused"]
        if m.paused or m.liquidity == 0:
            self._pull_quotes(c["symbol"], c["ts"])
        else:  # the makers follow at once: the answer shows the new book
            self._requote(self.symbols[c["symbol"]], m, c["ts"])
        return m

    # -------------------------------------------------------------- reference
    def _move_reference(self: "Exchange", m: SimMarket, rng: random.Random) -> None:
        if m.cross is not None:
            num, den = (self.sim.markets[n].ref for n in m.cross)
            m.ref = num * SCALE // den if den else m.ref
            return
        cfg, step_ms = m.cfg, self.sim.settings.step_ms
        ret = cfg.drift * step_ms // DAY_MS
        ret += step_sigma(m.volatility, step_ms) * normal(rng) >> NORMAL_BITS
        if rng.getrandbits(32) * DAY_MS * SCALE < cfg.jumps_per_day * step_ms << 32:
            ret += cfg.jump_size if rng.getrandbits(1) else -cfg.jump_size
        m.ref = max(m.ref + m.ref * ret // SCALE, m.gap)

    # -------------------------------------------------------------- maker
    def _requote(self: "Exchange", sym: "Symbol", m: SimMarket, ts: int) -> None:
        """Cancel the quotes that left the ladder or were mostly filled, then place the
        levels missing (cancels first: the maker never crosses its own quotes)."""
        filled = self.next_trade_id[sym.name] != m.next_trade_id
        if filled:  # a trade since the last look: some quote may have filled
            m.next_trade_id = self.next_trade_id[sym.name]
            self._count_fills(m)
        bids, asks = self._ladder(sym, m)
        for book, want in ((m.bids, bids), (m.asks, asks)):
            for price in [p for p, (o, qty) in book.items()
                          if p not in want or filled and o.remaining * 2 < qty]:
                o = book.pop(price)[0]
                m.seen.pop(o.id, None)
                self._cancel(o, None, ts)
        for side, want, book, edge in ((SELL, asks, m.asks, min(asks, default=0)),
                                       (BUY, bids, m.bids, max(bids, default=0))):
            for price in want:
                if price not in book:
                    qty = self._level_qty(sym, m, abs(price - edge) // m.gap, price)
                    self._quote(sym, m, side, book, price, qty, ts)

    def _count_fills(self: "Exchange", m: SimMarket) -> None:
        """Inventory from what the maker's orders executed since the last look; orders
        that filled completely leave the ladder."""
        seen = m.seen
        for book, sign in ((m.bids, 1), (m.asks, -1)):
            done = []
            for price, (o, _) in book.items():
                new = o.executed - seen.get(o.id, 0)
                if new:
                    m.inventory += sign * new
                    seen[o.id] = o.executed
                if not o.is_open:
                    done.append(price)
            for price in done:
                seen.pop(book.pop(price)[0].id, None)

    def _ladder(self, sym: "Symbol", m: SimMarket) -> tuple[range | tuple, range | tuple]:
        """Target prices per side: grid levels outside the spread around the reference,
        shifted against the inventory; a side over its limit is not quoted."""
        cfg, gap = m.cfg, m.gap
        half = max(sym.tick, m.ref * cfg.spread // SCALE)
        limit = cfg.inventory_limit * SCALE // m.ref  # in base
        held = max(-limit, min(limit, m.inventory))
        mid = m.ref - (2 * half * held // limit if limit else 0)
        n = cfg.levels * m.liquidity // SCALE
        top_bid = (mid - half) // gap * gap
        low_ask = -(-(mid + half) // gap) * gap
        bids = range(top_bid, max(top_bid - n * gap, 0), -gap)
        asks = range(low_ask, low_ask + n * gap, gap)
        return (() if m.inventory >= limit > 0 else bids,
                () if m.inventory <= -limit < 0 else asks)

    def _level_qty(self, sym: "Symbol", m: SimMarket, level: int, price: int) -> int:
        """The level's notional at `price`, in whole steps within LOT_SIZE."""
        notional = m.cfg.level_notional * (SCALE + level * m.cfg.depth_growth) // SCALE
        step = sym.step
        qty = notional * SCALE // price // step * step
        lot = sym.get("LOT_SIZE")
        if lot is not None:
            qty = max(qty, lot.min_qty)
            if lot.max_qty:
                qty = min(qty, lot.max_qty // step * step)
        return max(qty, step)

    def _quote(self: "Exchange", sym: "Symbol", m: SimMarket, side: str,
               book: dict[int, tuple["Order", int]], price: int, qty: int, ts: int) -> None:
        o = self._sim_order(sym, self.sim.maker, side, LIMIT, qty, price, ts)
        if o is None:
            return
        if o.executed:  # it crossed someone's order on its way in
            m.inventory += o.executed if side == BUY else -o.executed
        if o.is_open:
            book[price] = (o, qty)
            m.seen[o.id] = o.executed

    def _pull_quotes(self: "Exchange", name: str, ts: int) -> None:
        m = self.sim.markets.get(name)
        if m is None:
            return
        self._count_fills(m)
        for book in (m.bids, m.asks):
            for o, _ in book.values():
                self._cancel(o, None, ts)
            book.clear()
        m.seen.clear()

    # -------------------------------------------------------------- taker
    def _take(self: "Exchange", sym: "Symbol", m: SimMarket, rng: random.Random,
              ts: int) -> None:
        """With probability rate x step, one market order of a random size (small ones
        far more often than large ones: the notional goes with a uniform draw cubed)."""
        cfg, step_ms = m.cfg, self.sim.settings.step_ms
        if rng.getrandbits(32) * 60_000 * SCALE >= cfg.takers_per_minute * step_ms << 32:
            return
        u = rng.getrandbits(32)
        span = cfg.taker_max_notional - cfg.taker_min_notional
        notional = cfg.taker_min_notional + span * u * u * u // (1 << 96)
        side = BUY if rng.getrandbits(1) else SELL
        qty = notional * SCALE // m.ref // sym.market_step * sym.market_step
        if qty > 0:
            self._sim_order(sym, self.sim.taker, side, MARKET, qty, 0, ts)

    def _sim_order(self: "Exchange", sym: "Symbol", account: int, side: str, otype: str,
                   qty: int, price: int, ts: int) -> "Order | None":
        """Place like anyone; a refused order (a filter, the balance) is skipped."""
        c = {"t": "order.new", "ts": ts, "symbol": sym.name, "account": account,
             "side": side, "type": otype, "qty": qty}
        if otype == LIMIT:
            c["price"], c["tif"] = price, GTC
        try:
            return self._new_order(c).order
        except ApiError:
            return None
