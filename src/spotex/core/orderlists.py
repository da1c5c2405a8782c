"""Order lists (OCO, OTO, OTOCO) and cancel-replace, on top of the single-order rules.

An OCO pair shares one reservation of funds: it sits on one leg and moves to the
survivor when the other leg goes. OTO/OTOCO pending legs wait as PENDING_NEW (counted as
open orders, holding nothing) until the working order is fully filled; they are then
activated after the current match loop has finished (`_settle`), never inside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import filters
from .enums import (ALGO_TYPES, CANCELED, EXPIRED, FILLED, LIMIT, LIMIT_MAKER, NEW,
                    PENDING_NEW, STOP_LOSS, STOP_LOSS_LIMIT)
from .errors import ApiError
from .numbers import mul_ceil
from .orders import Order
from .trading import Canceled, Placed, order_limit_error, stop_hit

if TYPE_CHECKING:
    from .accounts import Account
    from .exchange import Exchange
    from .symbols import Symbol

OCO_TYPES = frozenset((LIMIT_MAKER, STOP_LOSS, STOP_LOSS_LIMIT))
EXEC_STARTED, ALL_DONE, EXECUTING = "EXEC_STARTED", "ALL_DONE", "EXECUTING"


class OrderList:
    __slots__ = ("id", "symbol", "account", "client_id", "kind", "legs", "working",
                 "oco_active", "status", "time", "update_time")

    def __init__(self, lid: int, symbol: str, account: int, client_id: str, kind: str,
                 ts: int) -> None:
        self.id = lid
        self.symbol = symbol
        self.account = account
        self.client_id = client_id
        self.kind = kind  # OCO | OTO | OTOCO
        self.legs: list[Order] = []  # in orderId order
        self.working: Order | None = None  # OTO / OTOCO working order
        self.oco_active = kind == "OCO"  # legs cancel each other
        self.status = EXEC_STARTED
        self.time = ts
        self.update_time = ts

    @property
    def contingency(self) -> str:
        return "OCO" if self.kind == "OCO" else "OTO"

    @property
    def is_open(self) -> bool:
        return self.status != ALL_DONE

    def open_legs(self) -> list[Order]:
        return [o for o in self.legs if o.is_open]


@dataclass
class ListPlaced:
    """A placed list: per-leg placements, for orderReports."""

    order_list: OrderList
    placements: list[Placed] = field(default_factory=list)


@dataclass
class ListCanceled:
    order_list: OrderList
    cancels: list[Canceled] = field(default_factory=list)


@dataclass
class CancelReplaced:
    """Outcome of cancel-replace: each half is a result, an ApiError, or None (not attempted)."""

    cancel: Canceled | ListCanceled | ApiError
    new: Placed | ApiError | None
    rate_limited: ApiError | None = None


class OrderLists:
    """Order-list and cancel-replace commands. Methods use the state of `Exchange`."""

    # ------------------------------------------------------------ leg building
    def _leg(self: "Exchange", sym: "Symbol", acct: "Account", c: dict[str, Any],
             leg: dict[str, Any]) -> Order:
        """Validate one leg like a single order (params, symbol rules, filters)."""
        spec = {"symbol": sym.name, "account": acct.id, "ts": c["ts"], "stp": c.get("stp"), **leg}
        o = self._build(sym, spec)
        self._check_symbol_rules(sym, acct, o)
        filters.check_order(sym, o, lambda mins: self.avg_price(sym.name, mins, c["ts"]))
        return o

    def _check_list_common(self: "Exchange", sym: "Symbol", acct: "Account",
                           c: dict[str, Any], legs: list[Order]) -> None:
        """Count filters and order limits for all legs; unique client ids."""
        self._check_order_limit(acct.id, c["ts"], len(legs))
        filters.check_counts(sym, self.exchange_filters, legs, acct.symbol_counts(sym.name),
                             (acct.open_count, acct.open_algo, acct.open_iceberg),
                             lambda: self.position(acct, sym))
        ids = [o.client_id for o in legs if o.client_id]
        if len(set(ids)) != len(ids) or any((sym.name, i) in acct.client_ids for i in ids):
            raise ApiError("DUPLICATE_ORDER")
        lcid = c.get("list_client_id")
        if lcid and any(ol.client_id == lcid and ol.is_open and ol.account == acct.id
                        for ol in self.order_lists.values()):
            raise ApiError("DUPLICATE_ORDER")

    def _check_oco_pair(self: "Exchange", sym: "Symbol", above: Order, below: Order) -> tuple[Order, Order]:
        """Types, sides and price relationship of an OCO pair; returns (limit_maker, stop).

        BUY: limit price < last price < stop price; SELL: the mirror (endpoints.md §3.9.2).
        """
        limit, stop = self._check_oco_pair_types(above, below)
        last = self.avg[sym.name].last_price
        if last is not None:
            trigger = stop.stop_price
            if limit.is_buy:
                ok = limit.price < last and (not trigger or last < trigger)
            else:
                ok = limit.price > last and (not trigger or last > trigger)
            if not ok:
                raise ApiError("OCO_BAD_PRICES")
        self._check_prices(sym, limit)
        return limit, stop

    def _pair_lock(self: "Exchange", sym: "Symbol", acct: "Account", limit: Order, stop: Order) -> int:
        """One reservation for both legs: the larger of the two needs."""
        if not limit.is_buy:
            need = limit.qty
            asset = sym.base
        else:
            stop_ref = stop.price or stop.stop_price or self.avg[sym.name].last_price or 0
            need = max(mul_ceil(limit.price, limit.qty), mul_ceil(stop_ref, stop.qty))
            asset = sym.quote
        if need > acct.free(asset):
            raise ApiError("INSUFFICIENT_BALANCE")
        return need

    # ------------------------------------------------------------ placement
    def _new_oco(self: "Exchange", c: dict[str, Any]) -> ListPlaced:
        sym, acct = self.symbol(c["symbol"]), self.account(c["account"])
        if not sym.oco_allowed:
            raise ApiError("OCO_NOT_SUPPORTED")
        if c["above"]["type"] not in OCO_TYPES or c["below"]["type"] not in OCO_TYPES:
            raise ApiError("OCO_ORDER_TYPE_REJECTED")
        above = self._leg(sym, acct, c, c["above"])
        below = self._leg(sym, acct, c, c["below"])
        limit, stop = self._check_oco_pair(sym, above, below)
        self._check_list_common(sym, acct, c, [stop, limit])
        lock = self._pair_lock(sym, acct, limit, stop)
        ol = self._open_list(sym, acct, c, "OCO")
        placed = ListPlaced(ol)
        self._activate_pair(sym, ol, stop, limit, lock, c["ts"], placed, fresh=True)
        self.report_list(ol)
        self.order_counter.add(acct.id, c["ts"], 2)
        self._settle(sym, c["ts"])
        return placed

    def _new_oto(self: "Exchange", c: dict[str, Any]) -> ListPlaced:
        sym, acct = self.symbol(c["symbol"]), self.account(c["account"])
        if not sym.oto_allowed:
            raise ApiError("OTO_NOT_SUPPORTED")
        working = self._working_leg(sym, acct, c)
        pending = [self._leg(sym, acct, c, leg) for leg in c["pending"]]
        if "above" in c:  # OTOCO: the two pending legs form an OCO pair
            if not sym.oco_allowed:
                raise ApiError("OCO_NOT_SUPPORTED")
            if c["above"]["type"] not in OCO_TYPES or c["below"]["type"] not in OCO_TYPES:
                raise ApiError("OCO_ORDER_TYPE_REJECTED")
            above = self._leg(sym, acct, c, c["above"])
            below = self._leg(sym, acct, c, c["below"])
            limit, stop = self._check_oco_pair_types(above, below)
            pending = [stop, limit]
        for p in pending:
            if p.type == "MARKET" and p.quote_qty:
                raise ApiError("UNSUPPORTED_ORDER_COMBINATION")
        self._check_list_common(sym, acct, c, [working] + pending)
        self._check_prices(sym, working)
        lock = self._lock_amount(sym, acct, working)
        ol = self._open_list(sym, acct, c, "OTOCO" if "above" in c else "OTO")
        ol.working = working
        placed = ListPlaced(ol)
        self._accept_leg(sym, acct, ol, working, lock)
        for p in pending:
            p.status = PENDING_NEW  # before acceptance: its NEW report says PENDING_NEW
            self._accept_leg(sym, acct, ol, p, 0)
        self.report_list(ol)
        wp = Placed(working)
        placed.placements = [wp] + [Placed(p) for p in pending]
        # counted before it runs, so a fill at once takes its first-fill decrement
        self.order_counter.add(acct.id, c["ts"], len(ol.legs))
        self._execute(sym, working, c["ts"], wp)
        self._settle(sym, c["ts"])
        return placed

    def _working_leg(self: "Exchange", sym: "Symbol", acct: "Account", c: dict[str, Any]) -> Order:
        o = self._leg(sym, acct, c, c["working"])
        if o.type not in (LIMIT, LIMIT_MAKER):
            raise ApiError("UNSUPPORTED_ORDER_COMBINATION")
        return o

    def _check_oco_pair_types(self, above: Order, below: Order) -> tuple[Order, Order]:
        """Types, sides and the limit-vs-stop price order of an OCO pair (no market price
        needed: also used for OTOCO pending legs, whose market check waits for activation)."""
        for o in (above, below):
            if o.type not in OCO_TYPES:
                raise ApiError("OCO_ORDER_TYPE_REJECTED")
        makers = [o for o in (above, below) if o.type == LIMIT_MAKER]
        if len(makers) == 2:
            raise ApiError("BOTH_OCO_ORDERS_CANNOT_BE_LIMIT")
        if not makers:
            raise ApiError("BOTH_OCO_ORDERS_CANNOT_BE_CONTINGENT")
        limit = makers[0]
        if limit.is_buy and limit is above:
            raise ApiError("BUY_OCO_LIMIT_MUST_BE_BELOW")
        if not limit.is_buy and limit is below:
            raise ApiError("SELL_OCO_LIMIT_MUST_BE_ABOVE")
        stop = below if limit is above else above
        if (limit.is_buy and stop.stop_price and limit.price >= stop.stop_price) or (
                not limit.is_buy and stop.stop_price and limit.price <= stop.stop_price):
            raise ApiError("OCO_BAD_PRICES")
        return limit, stop

    def _open_list(self: "Exchange", sym: "Symbol", acct: "Account", c: dict[str, Any],
                   kind: str) -> OrderList:
        lid = self.next_list_id
        self.next_list_id += 1
        ol = OrderList(lid, sym.name, acct.id, c.get("list_client_id") or self.gen_client_id(),
                       kind, c["ts"])
        self.order_lists[lid] = ol
        self.account_lists.setdefault(acct.id, []).append(ol)
        return ol

    def _accept_leg(self: "Exchange", sym: "Symbol", acct: "Account", ol: OrderList,
                    o: Order, lock: int) -> None:
        o.list_id = ol.id
        self._accept(sym, acct, o, lock)
        ol.legs.append(o)

    def _activate_pair(self: "Exchange", sym: "Symbol", ol: OrderList, stop: Order,
                       limit: Order, lock: int, ts: int, placed: ListPlaced | None,
                       fresh: bool) -> None:
        """Put an OCO pair to work: the stop armed, the LIMIT_MAKER on the book."""
        acct = self.accounts[ol.account]
        if fresh:
            self._accept_leg(sym, acct, ol, stop, 0)
            self._accept_leg(sym, acct, ol, limit, lock)
        else:
            for o in (stop, limit):
                o.status, o.update_time = NEW, ts
                self.report(NEW, o)
            limit.lock_asset = stop.lock_asset = sym.base if not limit.is_buy else sym.quote
            acct.lock(limit.lock_asset, lock)
            limit.locked = lock
        ol.oco_active = True
        sp, lp = Placed(stop), Placed(limit)
        if placed is not None:
            placed.placements = [sp, lp]
        self._arm_stop(sym, stop, ts)
        self._execute(sym, limit, ts, lp)

    # ------------------------------------------------------------ events from the match
    def leg_touched(self: "Exchange", o: Order, ts: int) -> None:
        """First fill of an OCO leg: the other leg expires and its funds move to this one."""
        ol = self.order_lists.get(o.list_id)
        if ol is None or not ol.oco_active:
            return
        for other in ol.open_legs():
            if other is not o and other.status != PENDING_NEW:
                self._expire_sibling(other, o, ts)

    def leg_triggered(self: "Exchange", o: Order, ts: int) -> None:
        """An OCO stop leg fired: the LIMIT_MAKER leg is canceled before the stop executes."""
        self.leg_touched(o, ts)

    def _expire_sibling(self: "Exchange", other: Order, survivor: Order, ts: int) -> None:
        ol = self.order_lists.get(other.list_id)
        if ol is not None:
            ol.oco_active = False  # the pair is resolved: the survivor works alone now
        if other.in_book:
            self.books[other.symbol].side(other.is_buy).remove(other)
        survivor.locked += other.locked
        other.locked = 0
        other.status, other.update_time = EXPIRED, ts
        self.finish(other)

    def on_leg_finished(self: "Exchange", o: Order) -> None:
        """Called by `finish` for list legs: OTO activation, cascade, list status."""
        ol = self.order_lists.get(o.list_id)
        if ol is None:
            return
        ts = o.update_time
        if ol.oco_active and o.status != FILLED:
            # an OCO leg went without a fill (STP, expiry): its funds went with it, and so
            # does the other leg
            ol.oco_active = False
            for other in ol.open_legs():
                if other.status != PENDING_NEW:
                    if other.in_book:
                        self.books[other.symbol].side(other.is_buy).remove(other)
                    other.status, other.update_time = EXPIRED, ts
                    self.finish(other)
        if o is ol.working and not ol.oco_active and ol.is_open:
            pending = [p for p in ol.legs if p.status == PENDING_NEW]
            if o.status == FILLED:
                self.deferred.append(ol)
            else:
                for p in pending:  # the working order went without filling: so do they
                    p.status = CANCELED if o.status == CANCELED else EXPIRED
                    p.update_time = ts
                    self.finish(p)
        if not ol.open_legs() and ol.is_open:
            ol.status, ol.update_time = ALL_DONE, ts
            self.report_list(ol)

    def _settle(self: "Exchange", sym: "Symbol", ts: int) -> None:
        """After a command's matching: activate filled OTO lists and run stops until quiet."""
        while True:
            self._run_stops(sym, ts)
            if not self.deferred:
                return
            ol = self.deferred.pop(0)
            self._activate_pending(self.symbols[ol.symbol], ol, ts)

    def _activate_pending(self: "Exchange", sym: "Symbol", ol: OrderList, ts: int) -> None:
        acct = self.accounts[ol.account]
        pending = [p for p in ol.legs if p.status == PENDING_NEW]
        try:
            if ol.kind == "OTOCO":
                stop, limit = pending
                limit_, stop_ = self._check_oco_pair(sym, *_above_below(stop, limit))
                lock = self._pair_lock(sym, acct, limit_, stop_)
                self._activate_pair(sym, ol, stop_, limit_, lock, ts, None, fresh=False)
                return
            (p,) = pending
            self._check_prices(sym, p)
            lock = self._lock_amount(sym, acct, p)
        except ApiError:  # cannot work now (prices moved, funds gone): the legs expire
            for p in pending:
                p.status, p.update_time = EXPIRED, ts
                self.finish(p)
            return
        p.status, p.update_time = NEW, ts
        self.report(NEW, p)
        acct.lock(p.lock_asset, lock)
        p.locked = lock
        if p.type in ALGO_TYPES:
            self._arm_stop(sym, p, ts)
            last = self.avg[sym.name].last_price
            if p.stop_price and last is not None and stop_hit(p, last):
                p.working = True
                self._trigger(sym, p, ts)
        else:
            self._execute(sym, p, ts, Placed(p))

    # ------------------------------------------------------------ cancel
    def find_list(self: "Exchange", account: int, list_id: int | None,
                  client_id: str | None) -> OrderList | None:
        if list_id is not None:
            ol = self.order_lists.get(list_id)
            return ol if ol is not None and ol.account == account else None
        found = [ol for ol in self.account_lists.get(account, []) if ol.client_id == client_id]
        return found[-1] if found else None

    def _cancel_list_cmd(self: "Exchange", c: dict[str, Any]) -> ListCanceled:
        sym, acct = self.symbol(c["symbol"]), self.account(c["account"])
        ol = self.find_list(acct.id, c.get("list_id"), c.get("list_client_id"))
        if ol is None or ol.symbol != sym.name or not ol.is_open:
            raise ApiError("UNKNOWN_ORDER")
        return self._cancel_list(ol, c.get("new_client_id"), c["ts"])

    def _cancel_list(self: "Exchange", ol: OrderList, new_client_id: str | None,
                     ts: int) -> ListCanceled:
        cid = new_client_id or self.gen_client_id()
        out = ListCanceled(ol)
        # done first: canceling one leg must not cascade into the others
        ol.oco_active = False
        ol.status, ol.update_time = ALL_DONE, ts
        self.report_list(ol)
        for o in ol.open_legs():
            out.cancels.append(self._cancel(o, cid, ts))
        return out

    def _cancel_order_or_list(self: "Exchange", c: dict[str, Any]) -> Canceled | ListCanceled:
        """DELETE order: a leg of a list cancels the whole list (and answers with it)."""
        sym, acct = self.symbol(c["symbol"]), self.account(c["account"])
        o = self.find_order(acct.id, sym.name, c.get("order_id"), c.get("orig_client_id"))
        if o is not None and o.is_open and o.list_id != -1:
            self._check_restrictions(o, c.get("cancel_restrictions"))
            return self._cancel_list(self.order_lists[o.list_id], c.get("new_client_id"), c["ts"])
        return self._cancel_order(c)

    def _cancel_all_with_lists(self: "Exchange", c: dict[str, Any]) -> list[Canceled | ListCanceled]:
        sym, acct = self.symbol(c["symbol"]), self.account(c["account"])
        open_orders = sorted(acct.open_orders.get(sym.name, {}).values(), key=lambda o: o.id)
        if not open_orders:
            raise ApiError("UNKNOWN_ORDER")
        out: list[Canceled | ListCanceled] = []
        for o in open_orders:
            if not o.is_open:
                continue  # a leg already canceled with its list
            if o.list_id != -1:
                out.append(self._cancel_list(self.order_lists[o.list_id], None, c["ts"]))
            else:
                out.append(self._cancel(o, None, c["ts"]))
        return out

    # ------------------------------------------------------------ cancel-replace
    def _cancel_replace(self: "Exchange", c: dict[str, Any]) -> CancelReplaced:
        """Cancel, then place; not transactional: a half that succeeded stays done.

        The unfilled-order limit is checked first (DO_NOTHING: plain -1015, nothing done;
        CANCEL_ONLY: only the cancel is attempted). Within the limit the new order counts
        +1 whether or not it is placed.
        """
        sym, acct = self.symbol(c["symbol"]), self.account(c["account"])
        if not sym.cancel_replace_allowed:
            raise ApiError("CANCEL_REPLACE_NOT_SUPPORTED")
        ts = c["ts"]
        limit_error = None
        lim = self.order_counter.exceeded(acct.id, ts, 1)
        if lim is not None:
            limit_error = order_limit_error(lim, ts)
            if c.get("rate_limit_mode") != "CANCEL_ONLY":
                raise limit_error
        new = dict(c["new"], symbol=sym.name, account=acct.id, ts=ts)
        cancel_spec = dict(c["cancel"], symbol=sym.name, account=acct.id, ts=ts)
        pre_error = None
        if limit_error is None:
            # filters and counts are evaluated before anything happens; the new order
            # may take the client id of the order it replaces (endpoints.md §3.6)
            replaced = self.find_order(acct.id, sym.name, cancel_spec.get("order_id"),
                                       cancel_spec.get("orig_client_id"))
            try:
                self.validate_order(dict(new, test=True), replacing=replaced)
            except ApiError as exc:
                pre_error = exc
        if pre_error is not None and pre_error.name == "FILTER_FAILURE":
            # "the filters are evaluated before the cancel": a failed filter fails both
            # halves and the old order stays (changelog 2022-06-15)
            self.order_counter.add(acct.id, ts, 1)
            return CancelReplaced(pre_error, pre_error)
        try:
            cancel: Canceled | ListCanceled | ApiError = self._cancel_order_or_list(cancel_spec)
        except ApiError as exc:
            cancel = exc
            if c["mode"] == "STOP_ON_FAILURE":
                if limit_error is None:
                    self.order_counter.add(acct.id, ts, 1)
                return CancelReplaced(cancel, None, limit_error)
        if limit_error is not None:
            return CancelReplaced(cancel, limit_error, limit_error)
        if pre_error is not None:
            self.order_counter.add(acct.id, ts, 1)
            return CancelReplaced(cancel, pre_error)
        try:
            placed = self._new_order(new)
        except ApiError as exc:
            self.order_counter.add(acct.id, ts, 1)
            return CancelReplaced(cancel, exc)
        return CancelReplaced(cancel, placed)


def _above_below(stop: Order, limit: Order) -> tuple[Order, Order]:
    """(above, below) of a pair: a SELL LIMIT_MAKER is above, a BUY one below."""
    return (stop, limit) if limit.is_buy else (limit, stop)
