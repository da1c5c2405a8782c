"""Placing and cancelling orders: validation, locking, execution, stop triggers.

A mixin of `Exchange` so the rules read top to bottom in one place. Validation
(`_build`, `_check_*`) never mutates; mutation starts at `_accept`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import filters, matching
from .enums import (ALGO_TYPES, CANCEL_RESTRICTIONS, CANCELED, EXPIRE_MAKER, EXPIRED,
                    EXPIRED_IN_MATCH, FILLED, FOK, GTC, IOC, LIMIT, LIMIT_MAKER, LIMIT_PRICED,
                    MARKET, NEW, ONLY_NEW, ONLY_PARTIALLY_FILLED, PARTIALLY_FILLED,
                    STOP_LOSS, STOP_LOSS_LIMIT, STOP_TYPES, STP_NONE, TAKE_PROFIT,
                    TAKE_PROFIT_LIMIT, TRIGGERED_TYPE)
from .errors import ApiError
from .numbers import INT64_MAX, SCALE, mul, mul_ceil
from .orders import Order

if TYPE_CHECKING:
    from .accounts import Account
    from .exchange import Exchange
    from .symbols import Symbol

_REQUIRED = {
    LIMIT: ("timeInForce", "quantity", "price"),
    MARKET: (),
    STOP_LOSS: ("quantity",),
    STOP_LOSS_LIMIT: ("timeInForce", "quantity", "price"),
    TAKE_PROFIT: ("quantity",),
    TAKE_PROFIT_LIMIT: ("timeInForce", "quantity", "price"),
    LIMIT_MAKER: ("quantity", "price"),
}
_FIELD = {"timeInForce": "tif", "quantity": "qty", "price": "price"}
_NOT_SUPPORTED = {
    MARKET: "MARKET_NOT_SUPPORTED", STOP_LOSS: "STOP_LOSS_NOT_SUPPORTED",
    STOP_LOSS_LIMIT: "STOP_LOSS_LIMIT_NOT_SUPPORTED", TAKE_PROFIT: "TAKE_PROFIT_NOT_SUPPORTED",
    TAKE_PROFIT_LIMIT: "TAKE_PROFIT_LIMIT_NOT_SUPPORTED",
    LIMIT: "UNSUPPORTED_ORDER_COMBINATION", LIMIT_MAKER: "UNSUPPORTED_ORDER_COMBINATION",
}


@dataclass
class Placed:
    """What a placement did, for the response: the order, its fills, prevented matches."""

    order: Order
    fills: list[tuple[int, int, int, str, int]] = field(default_factory=list)
    prevented: list[Any] = field(default_factory=list)


@dataclass
class Canceled:
    order: Order
    orig_client_id: str
    client_id: str


def order_limit_error(lim: Any, ts: int) -> ApiError:
    """-1015 for the ORDERS limit `lim`, retry after the end of its current window."""
    wait_ms = lim.window_ms - ts % lim.window_ms
    return ApiError("TOO_MANY_ORDERS", lim.limit, f"{lim.interval_num} {lim.interval}",
                    retry_after=max(1, -(-wait_ms // 1000)))


@functools.lru_cache(maxsize=1024)
def _permitted(account_perms: tuple[str, ...], permission_sets: tuple[tuple[str, ...], ...]) -> bool:
    """Symbol permission sets: AND of ORs (endpoints.md §1.3)."""
    return all(set(group) & set(account_perms) for group in permission_sets)


def stop_hit(o: Order, price: int) -> bool:
    """Has `price` met the stop condition (trigger table of enums.md §2.1)?"""
    above = (o.type in STOP_TYPES) == o.is_buy  # STOP BUY / TAKE_PROFIT SELL trigger upwards
    return price >= o.stop_price if above else price <= o.stop_price


class Trading:
    """Order commands. Methods use the state defined by `Exchange`."""

    # ------------------------------------------------------------ new order
    def _new_order(self: "Exchange", c: dict[str, Any]) -> Placed:
        sym, acct, o, lock = self.validate_order(c)
        ts = c["ts"]
        placed = Placed(o)
        self._accept(sym, acct, o, lock)
        self.order_counter.add(acct.id, ts, 1)
        if o.type in ALGO_TYPES:
            self._arm_stop(sym, o, ts)
        else:
            self._execute(sym, o, ts, placed)
        self._settle(sym, ts)
        return placed

    def validate_order(self: "Exchange", c: dict[str, Any], replacing: Order | None = None,
                       ) -> tuple["Symbol", "Account", Order, int]:
        """Every check of a new order, in order; mutates nothing (also serves order/test).

        `replacing`: the order a cancel-replace cancels first, whose client id is free.
        """
        sym = self.symbol(c["symbol"])
        acct = self.account(c["account"])
        ts = c["ts"]
        o = self._build(sym, c)
        self._check_symbol_rules(sym, acct, o)
        if not c.get("test"):
            self._check_order_limit(acct.id, ts, 1)
        filters.check_order(sym, o, lambda mins: self.avg_price(sym.name, mins, ts))
        filters.check_counts(sym, self.exchange_filters, [o], acct.symbol_counts(sym.name),
                             (acct.open_count, acct.open_algo, acct.open_iceberg),
                             lambda: self.position(acct, sym))
        holder = acct.client_ids.get((sym.name, o.client_id))
        if holder is not None and holder is not replacing:
            raise ApiError("DUPLICATE_ORDER")
        self._check_prices(sym, o)
        if c.get("test"):  # order/test stops before the engine: no balance check
            return sym, acct, o, 0
        return sym, acct, o, self._lock_amount(sym, acct, o)

    def _build(self: "Exchange", sym: "Symbol", c: dict[str, Any]) -> Order:
        """Type-dependent parameter rules (-1102/-1106/-1114/-1134); no state read."""
        otype = c["type"]
        for name in _REQUIRED[otype]:
            if c.get(_FIELD[name]) is None:
                raise ApiError("MANDATORY_PARAM", name)
        tif, price, stop, trail = c.get("tif"), c.get("price"), c.get("stop_price"), c.get("trailing_delta")
        qty, quote, ice = c.get("qty"), c.get("quote_qty"), c.get("iceberg_qty")
        if otype == MARKET:
            if qty is None and quote is None:
                raise ApiError("EITHER_PARAM", "quantity", "quoteOrderQty")
            if qty is not None and quote is not None:
                raise ApiError("PARAM_NOT_REQUIRED", "quoteOrderQty")
        elif quote is not None:
            raise ApiError("PARAM_NOT_REQUIRED", "quoteOrderQty")
        if otype in ALGO_TYPES:
            if stop is None and trail is None:
                raise ApiError("EITHER_PARAM", "stopPrice", "trailingDelta")
        elif stop is not None:
            raise ApiError("PARAM_NOT_REQUIRED", "stopPrice")
        elif trail is not None:
            raise ApiError("PARAM_NOT_REQUIRED", "trailingDelta")
        if tif is not None and otype not in (LIMIT, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT):
            raise ApiError("TIF_NOT_REQUIRED")
        if price is not None and otype not in LIMIT_PRICED:
            raise ApiError("PARAM_NOT_REQUIRED", "price")
        if ice is not None and otype not in LIMIT_PRICED:
            raise ApiError("PARAM_NOT_REQUIRED", "icebergQty")
        if c.get("strategy_type") is not None and c["strategy_type"] < 1_000_000:
            raise ApiError("BAD_STRATEGY_TYPE")
        o = Order(sym.name, 0, c["account"], c.get("client_id") or "", c["side"], otype,
                  tif or GTC, price or 0, qty or 0, c["ts"])
        o.quote_qty = quote or 0
        o.stop_price = stop or 0
        o.trailing_delta = trail or 0
        o.iceberg_qty = ice or 0
        o.stp = c.get("stp") or sym.default_stp
        o.strategy_id = c.get("strategy_id")
        o.strategy_type = c.get("strategy_type")
        return o

    def _check_symbol_rules(self: "Exchange", sym: "Symbol", acct: "Account", o: Order) -> None:
        """What the symbol and the account allow (-2010 / -1013 messages)."""
        if sym.status != "TRADING":
            raise ApiError("MARKET_CLOSED")
        if o.type not in sym.order_types:
            raise ApiError(_NOT_SUPPORTED[o.type])
        if o.iceberg_qty:
            if not sym.iceberg_allowed:
                raise ApiError("ICEBERG_NOT_SUPPORTED")
            if o.type != LIMIT_MAKER and o.tif != GTC:
                raise ApiError("UNSUPPORTED_ORDER_COMBINATION")
            if o.iceberg_qty >= o.qty:
                raise ApiError("ICEBERG_EXCEEDS_QTY")
        if o.trailing_delta and not sym.allow_trailing_stop:
            raise ApiError("TRAILING_NOT_SUPPORTED")
        if o.quote_qty and not sym.quote_order_qty_market_allowed:
            raise ApiError("QUOTE_QTY_NOT_SUPPORTED")
        if o.stp not in sym.allowed_stp:
            raise ApiError("STP_MODE_NOT_ALLOWED")
        if not acct.can_trade:
            raise ApiError("ACCOUNT_CANNOT_TRADE")
        if not _permitted(acct.permissions, sym.permission_key):
            raise ApiError("SYMBOL_NOT_PERMITTED")

    def _check_order_limit(self: "Exchange", account: int, ts: int, n: int) -> None:
        if self.sim is not None and self.is_sim_account(account):
            return  # the simulated makers quote all day, like a real venue's liquidity
        lim = self.order_counter.exceeded(account, ts, n)
        if lim is not None:
            raise order_limit_error(lim, ts)

    def _check_prices(self: "Exchange", sym: "Symbol", o: Order) -> None:
        """Stops must not trigger at once; LIMIT_MAKER must not take."""
        if o.type in LIMIT_PRICED and o.price * o.qty <= 0:
            raise ApiError("PRICE_QTY_ZERO")
        last = self.avg[sym.name].last_price
        has_stop = o.stop_price or not o.trailing_delta  # 0 sent as stopPrice is a stop of 0
        if o.type in ALGO_TYPES and has_stop and last is not None and stop_hit(o, last):
            raise ApiError("WOULD_TRIGGER_IMMEDIATELY")
        if o.type == LIMIT_MAKER:
            best = self.books[sym.name].opposite(o.is_buy).best()
            if best is not None and matching.crosses(o, best.price):
                raise ApiError("WOULD_MATCH_AND_TAKE")

    def _lock_amount(self: "Exchange", sym: "Symbol", acct: "Account", o: Order) -> int:
        """Funds the order reserves (quote for BUY, base for SELL); raises if not free."""
        if o.is_buy:
            if o.price:
                need = mul_ceil(o.price, o.qty)
            elif o.type == MARKET and o.quote_qty:
                self._check_reverse_liquidity(sym, sum(a for _, a in self._liquidity(sym, o)))
                filters.check_reverse_market_qty(sym, self._market_qty_for_quote(sym, o)[0])
                need = o.quote_qty
            elif o.type == MARKET:
                need = self._market_cost(sym, o)
            else:  # BUY STOP_LOSS / TAKE_PROFIT: reserve at the stop (or last) price
                ref = o.stop_price or self.avg[sym.name].last_price or 0
                need = mul_ceil(ref, o.qty)
            asset = sym.quote
        else:
            need = self._market_base_for_quote(sym, o) if o.quote_qty else o.qty
            if o.quote_qty:
                filters.check_reverse_market_qty(sym, need)
            asset = sym.base
        if need > acct.free(asset):
            raise ApiError("INSUFFICIENT_BALANCE")
        return need

    # ------------------------------------------------------------ dry runs over the book
    def _liquidity(self: "Exchange", sym: "Symbol", o: Order):
        """(price, total remaining qty) of crossing levels, best first, as matching will
        meet them: under STP the taker's own orders are no liquidity (EXPIRE_MAKER skips
        them; the other modes stop the taker at the first one)."""
        side = self.books[sym.name].opposite(o.is_buy)
        own_stop = o.stp != STP_NONE
        for price in side.prices():
            if o.price and not matching.crosses(o, price):
                return
            total = 0
            for m in side.live_orders(side.levels[price]):
                if own_stop and m.account == o.account:
                    if o.stp != EXPIRE_MAKER:
                        if total:
                            yield price, total
                        return
                    continue
                total += m.remaining
            if total:
                yield price, total

    def _market_cost(self: "Exchange", sym: "Symbol", o: Order) -> int:
        """Quote a MARKET BUY of `qty` would spend against the current book."""
        need, cost = o.qty, 0
        for price, avail in self._liquidity(sym, o):
            take = min(need, avail)
            cost += mul_ceil(price, take)
            need -= take
            if need == 0:
                break
        return cost

    def _market_base_for_quote(self: "Exchange", sym: "Symbol", o: Order) -> int:
        """Base a reverse MARKET SELL needs to receive `quoteOrderQty`; checks liquidity."""
        base, total = self._market_qty_for_quote(sym, o)
        self._check_reverse_liquidity(sym, total)
        return base

    def _market_qty_for_quote(self: "Exchange", sym: "Symbol", o: Order) -> tuple[int, int]:
        """(base a reverse MARKET order trades for `quoteOrderQty` against the book, the
        crossing quantity walked to find it)."""
        budget, qty, total, step = o.quote_qty, 0, 0, sym.market_step
        for price, avail in self._liquidity(sym, o):
            total += avail
            take = min(avail, budget * SCALE // price)
            take -= take % step
            qty += take
            budget -= mul(price, take)
            if take < avail:
                break
        return qty, total

    def _check_reverse_liquidity(self: "Exchange", sym: "Symbol", total: int) -> None:
        if total == 0:
            raise ApiError("LIQUIDITY_EMPTY_BOOK")
        lot = sym.get("LOT_SIZE")
        if lot and total < lot.min_qty:
            raise ApiError("LIQUIDITY_LOT_SIZE")
        mlot = sym.get("MARKET_LOT_SIZE")
        if mlot and total < mlot.min_qty:
            raise ApiError("LIQUIDITY_MARKET_LOT_SIZE")

    # ------------------------------------------------------------ mutation
    def _accept(self: "Exchange", sym: "Symbol", acct: "Account", o: Order, lock: int) -> None:
        """From here on the order exists: ids, client id, lock, indexes."""
        o.id = self.next_order_id[sym.name]
        self.next_order_id[sym.name] = o.id + 1
        self.order_owners[sym.name].append(acct.id)  # index o.id - 1 (history.py)
        if not o.client_id:
            o.client_id = self.gen_client_id()
        o.lock_asset = sym.quote if o.is_buy else sym.base
        acct.lock(o.lock_asset, lock)
        o.locked = lock
        if o.quote_qty:
            o.qty = INT64_MAX  # fixed to the executed quantity when it finishes
        self.orders[sym.name][o.id] = o
        self.account_orders.setdefault((acct.id, sym.name), []).append(o)
        self.client_index[(acct.id, sym.name, o.client_id)] = o
        acct.track_open(o)
        acct.update_time = o.time
        self.report(NEW, o)

    def _arm_stop(self: "Exchange", sym: "Symbol", o: Order, ts: int) -> None:
        last = self.avg[sym.name].last_price
        if o.trailing_delta and not o.stop_price and last is not None:
            o.trailing_time, o.trail_extreme = ts, last
        self.stops[sym.name][o.id] = o

    def _execute(self: "Exchange", sym: "Symbol", o: Order, ts: int, placed: Placed) -> None:
        """Run an order as taker, then rest, expire or finish it."""
        o.working, o.working_time = True, ts
        if o.tif == FOK and o.price and not self._can_fill(sym, o):
            o.status = EXPIRED
            self.finish(o)
            return
        why = matching.match(self, sym, o, ts, placed.fills, placed.prevented)
        if o.status == EXPIRED_IN_MATCH:
            self._close_quote(o)
            self.finish(o)
        elif o.quote_qty:
            self._close_quote(o)
            o.status = FILLED if why == matching.BUDGET and o.executed else EXPIRED
            self.finish(o)
        elif o.remaining == 0:
            o.status = FILLED
            self.finish(o)
        elif o.price == 0 or o.tif in (IOC, FOK):
            o.status = EXPIRED
            self.finish(o)
        else:
            self._rest(sym, o)

    def _close_quote(self, o: Order) -> None:
        """A reverse market order's quantity is what it executed (plus STP-prevented)."""
        if o.quote_qty:
            o.qty = o.executed + o.prevented_qty

    def _rest(self: "Exchange", sym: "Symbol", o: Order) -> None:
        o.visible = min(o.iceberg_qty, o.remaining) if o.iceberg_qty else o.remaining
        self.books[sym.name].side(o.is_buy).add(o)
        # fills at better prices leave more locked than the rest needs (not for list legs:
        # their reservation also covers the sibling leg)
        if o.is_buy and o.list_id == -1:
            keep = mul_ceil(o.price, o.remaining)
            if o.locked > keep:
                self.accounts[o.account].unlock(o.lock_asset, o.locked - keep)
                o.locked = keep

    def _can_fill(self: "Exchange", sym: "Symbol", o: Order) -> bool:
        """FOK: could `o` fill entirely now? Under STP its own orders are no liquidity:
        EXPIRE_MAKER skips them; EXPIRE_TAKER/EXPIRE_BOTH would stop the taker at the first
        one, after only the visible slices queued ahead of it at that level."""
        need = o.remaining
        side = self.books[sym.name].opposite(o.is_buy)
        for price in side.prices():
            if not matching.crosses(o, price):
                return False
            before, visible_ahead = need, 0
            for m in side.live_orders(side.levels[price]):
                if m.account == o.account and o.stp != STP_NONE:
                    if o.stp != EXPIRE_MAKER:
                        return visible_ahead >= before
                    continue
                visible_ahead += m.visible
                need -= m.remaining
            if need <= 0:
                return True
        return False

    # ------------------------------------------------------------ stops
    def _run_stops(self: "Exchange", sym: "Symbol", ts: int) -> None:
        """Replay this command's trade prices over the armed stops; trigger in id order."""
        while True:
            prices = self.new_prices.pop(sym.name, None)
            stops = self.stops[sym.name]
            if not prices or not stops:
                return
            fired: list[Order] = []
            for price, _ in prices:
                for o in stops.values():
                    if o.working:
                        continue
                    if self._stop_fires(o, price, ts):
                        o.working = True
                        fired.append(o)
            for o in sorted(fired, key=lambda x: x.id):
                if o.is_open:
                    self._trigger(sym, o, ts)

    def _stop_fires(self, o: Order, price: int, ts: int) -> bool:
        if not o.trailing_delta:
            return stop_hit(o, price)
        if o.trailing_time == -1:
            if not o.stop_price or stop_hit(o, price):
                o.trailing_time, o.trail_extreme = ts, price
            return False
        d = o.trailing_delta
        if o.is_buy:
            o.trail_extreme = min(o.trail_extreme, price)
            return price * 10_000 >= o.trail_extreme * (10_000 + d)
        o.trail_extreme = max(o.trail_extreme, price)
        return price * 10_000 <= o.trail_extreme * (10_000 - d)

    def _trigger(self: "Exchange", sym: "Symbol", o: Order, ts: int) -> None:
        """A stop fired: it works as a MARKET or LIMIT order from now on."""
        self.stops[sym.name].pop(o.id, None)
        o.update_time = ts
        self.report(NEW, o)  # working from now on (streams show x=NEW with w/W set)
        if o.list_id != -1:  # an OCO stop leg: the LIMIT_MAKER leg goes first
            self.leg_triggered(o, ts)
        if TRIGGERED_TYPE[o.type] == MARKET and o.is_buy:
            acct = self.accounts[o.account]
            acct.unlock(o.lock_asset, o.locked)
            need = min(self._market_cost(sym, o), acct.free(o.lock_asset))
            acct.lock(o.lock_asset, need)
            o.locked = need
        self._execute(sym, o, ts, Placed(o))

    # ------------------------------------------------------------ cancel
    def _cancel_order(self: "Exchange", c: dict[str, Any]) -> Canceled:
        sym = self.symbol(c["symbol"])
        acct = self.account(c["account"])
        o = self.find_order(acct.id, sym.name, c.get("order_id"), c.get("orig_client_id"))
        if o is None or not o.is_open:
            raise ApiError("UNKNOWN_ORDER")
        self._check_restrictions(o, c.get("cancel_restrictions"))
        return self._cancel(o, c.get("new_client_id"), c["ts"])

    def _check_restrictions(self, o: Order, restriction: str | None) -> None:
        if restriction is None:
            return
        if restriction not in CANCEL_RESTRICTIONS:
            raise ApiError("INVALID_CANCEL_RESTRICTIONS")
        if (restriction == ONLY_NEW and o.status != NEW) or (
                restriction == ONLY_PARTIALLY_FILLED and o.status != PARTIALLY_FILLED):
            raise ApiError("CANCEL_RESTRICTED")

    def _cancel(self: "Exchange", o: Order, new_client_id: str | None, ts: int) -> Canceled:
        """Cancel one open order; the cancel's client id becomes the order's (enums.md §2.6)."""
        orig = o.client_id
        if o.in_book:
            self.books[o.symbol].side(o.is_buy).remove(o)
        o.status = CANCELED
        o.update_time = ts
        self.finish(o)
        o.client_id = new_client_id or self.gen_client_id()
        if (o.symbol, o.client_id) not in self.accounts[o.account].client_ids:
            # an open order keeps its id: lookups by it must still find that order
            self.client_index[(o.account, o.symbol, o.client_id)] = o
        return Canceled(o, orig, o.client_id)

    def _cancel_all(self: "Exchange", c: dict[str, Any]) -> list[Canceled]:
        sym = self.symbol(c["symbol"])
        acct = self.account(c["account"])
        open_orders = sorted(acct.open_orders.get(sym.name, {}).values(), key=lambda o: o.id)
        if not open_orders:
            raise ApiError("UNKNOWN_ORDER")
        return [self._cancel(o, None, c["ts"]) for o in open_orders]

