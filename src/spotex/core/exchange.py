"""The exchange state machine: `Exchange.apply(command)` is the only way state changes.

Commands are plain dicts that already carry their time (`ts`) and every random value,
so replaying the journal rebuilds identical state. Every check runs before the first
mutation: a rejected command raises `ApiError` and changes nothing.
"""
from __future__ import annotations

import hashlib
from array import array
from collections import deque
from base64 import urlsafe_b64encode
from dataclasses import dataclass, field
from typing import Any, Callable

from .accounts import Account
from .avgprice import AvgPrice
from .book import Book
from .configure import Configure, avg_window_mins
from .enums import CANCELED, EXPIRED, FILLED
from .errors import ApiError
from .history import History
from .orders import Order
from .ratelimits import OrderCounter, OrderLimit
from .symbols import Symbol
from .trades import PreventedMatch, Trade
from .orderlists import OrderList, OrderLists
from .sim import Sim, SimSettings, SimState
from .trading import Trading

_GONE = {CANCELED: "CANCELED", EXPIRED: "EXPIRED"}  # order status -> execution type


@dataclass(frozen=True)
class KeyRecord:
    api_key: str
    account: int
    key_type: str  # HMAC_SHA256 | ED25519 | RSA
    secret: str | None
    public_key: str | None


@dataclass
class Settings:
    symbols: list[Symbol]
    exchange_filters: list[Any] = field(default_factory=list)
    order_limits: list[OrderLimit] = field(default_factory=list)
    maker_rate: int = 100_000
    taker_rate: int = 100_000
    avg_price_mins: int = 5
    archive_after_ms: int = 90 * 86_400_000  # see core/history.py
    sim: SimSettings | None = None  # the simulated market (core/sim.py), if any


class Exchange(OrderLists, Trading, History, Configure, Sim):
    """All state of one exchange: accounts, keys, books, orders, trades."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.symbols = {s.name: s for s in settings.symbols}
        self.exchange_filters = settings.exchange_filters
        self.accounts: dict[int, Account] = {}
        self.keys: dict[str, KeyRecord] = {}
        self.books = {s: Book() for s in self.symbols}
        self.orders: dict[str, dict[int, Order]] = {s: {} for s in self.symbols}
        self.account_orders: dict[tuple[int, str], list[Order]] = {}
        self.client_index: dict[tuple[int, str, str], Order] = {}
        self.stops: dict[str, dict[int, Order]] = {s: {} for s in self.symbols}
        self.next_order_id = {s: 1 for s in self.symbols}
        self.next_trade_id = {s: 1 for s in self.symbols}
        self.next_prevented_id = {s: 1 for s in self.symbols}
        self.next_list_id = 1
        self.order_lists: dict[int, OrderList] = {}
        self.account_lists: dict[int, list[OrderList]] = {}
        self.deferred: list[OrderList] = []  # OTO lists whose working order just filled
        self.avg = {s.name: AvgPrice(avg_window_mins(s, settings)) for s in settings.symbols}
        self.account_trades: dict[tuple[int, str], list[Trade]] = {}
        self.prevented: dict[tuple[int, str], list[PreventedMatch]] = {}
        self.fees: dict[str, int] = {}
        self.order_counter = OrderCounter(settings.order_limits)
        self.next_account_id = 1
        self.id_counter = 0
        self.id_seed = ""  # install-unique, from the journal's first config.set
        self.seq = 0  # journal sequence of the last applied command
        self.last_ts = 0  # time of the last applied command
        self.events: list[Any] = []  # trades of the last command, for projections
        self.history_out: Any = None  # synthetic history of the last command (sim.history)
        self.reports: list[tuple] = []  # order and list updates of the last command (streams)
        self.new_prices: dict[str, list[tuple[int, int]]] = {}
        self.finished: deque[tuple[Order, str]] = deque()  # archive candidates (history.py)
        self.sim_finished: list[tuple[Order, str]] = []  # sim orders to forget (history.py)
        self.order_owners = {s: array("I") for s in self.symbols}  # account of each order id
        self.stale: dict[tuple[int, str], int] = {}  # archived entries left in account_orders
        self.sim: SimState | None = None  # started by the first config.set that has [sim]

    # ----------------------------------------------------------------- dispatch
    def apply(self, cmd: dict[str, Any]) -> Any:
        """Apply one command; raises ApiError (and changes nothing) when rejected."""
        self.events = []
        self.reports = []
        self.history_out = None
        result = self._handlers[cmd["t"]](self, cmd)
        self.archive_due(cmd["ts"])
        return result

    # ----------------------------------------------------------------- admin
    def _create_account(self, c: dict[str, Any]) -> int:
        key = c["key"]
        if key["api_key"] in self.keys:
            raise ApiError("DUPLICATE_ORDER")  # unreachable with random keys
        aid = self.next_account_id
        self.next_account_id += 1
        acct = Account(aid, maker_rate=c.get("maker_rate", self.settings.maker_rate),
                       taker_rate=c.get("taker_rate", self.settings.taker_rate),
                       update_time=c["ts"])
        for asset, amount in c.get("balances", {}).items():
            acct.bal(asset)[0] += amount
        self.accounts[aid] = acct
        self.keys[key["api_key"]] = KeyRecord(key["api_key"], aid, key["key_type"],
                                              key.get("secret"), key.get("public_key"))
        return aid

    def _deposit(self, c: dict[str, Any]) -> list[int]:
        acct = self.account(c["account"])
        if c["amount"] <= 0:
            raise ApiError("INVALID_PARAMETER", "amount")
        b = acct.bal(c["asset"])
        b[0] += c["amount"]
        acct.update_time = c["ts"]
        return b

    def _withdraw(self, c: dict[str, Any]) -> list[int]:
        acct = self.account(c["account"])
        if c["amount"] <= 0:
            raise ApiError("INVALID_PARAMETER", "amount")
        b = acct.bal(c["asset"])
        if b[0] < c["amount"]:
            raise ApiError("INSUFFICIENT_BALANCE")
        b[0] -= c["amount"]
        acct.update_time = c["ts"]
        return b

    # ----------------------------------------------------------------- lookups
    def symbol(self, name: str) -> Symbol:
        sym = self.symbols.get(name)
        if sym is None:
            raise ApiError("BAD_SYMBOL")
        return sym

    def account(self, aid: int) -> Account:
        acct = self.accounts.get(aid)
        if acct is None:
            raise ApiError("REJECTED_MBX_KEY")
        return acct

    def find_order(self, account: int, symbol: str, order_id: int | None,
                   client_id: str | None) -> Order | None:
        """An order of this account by id (wins when both are given) or client id."""
        if order_id is not None:
            o = self.orders.get(symbol, {}).get(order_id)
            return o if o is not None and o.account == account else None
        return self.client_index.get((account, symbol, client_id or ""))

    def avg_price(self, symbol: str, minutes: int, now: int) -> int | None:
        return self.avg[symbol].price(minutes, now)

    # ----------------------------------------------------------------- helpers for trading
    def gen_client_id(self) -> str:
        """A 22-char id derived from the install's seed and a counter: deterministic on
        replay, different between installs (url-safe base64 of a 128-bit hash: only
        characters of the legal client id range)."""
        self.id_counter += 1
        digest = hashlib.blake2b(b"spotex:%s:%d" % (self.id_seed.encode(), self.id_counter)
                                 if self.id_seed else b"spotex:%d" % self.id_counter,
                                 digest_size=16).digest()
        return urlsafe_b64encode(digest)[:22].decode()

    def report(self, x: str, o: Order, detail: Any = None) -> None:
        """Record an order update (execution type `x`) for the user data streams.

        Captures now what later steps of the same command change; `detail` is the Trade
        (TRADE) or PreventedMatch (TRADE_PREVENTION). Rendering happens in spotex.streams.
        """
        self.reports.append((x, o, o.status, o.executed, o.cum_quote, o.qty, o.client_id,
                             o.working, o.prevented_qty, detail))

    def report_list(self, ol: Any) -> None:
        """Record an order-list status change (listStatus), legs' ids as they are now."""
        self.reports.append(("LIST", ol, ol.status,
                             tuple((o.symbol, o.id, o.client_id) for o in ol.legs)))

    def _restate_last_fill(self, o: Order) -> None:
        """A quote-quantity order is FILLED only once its budget is found spent, after its
        last trade: that trade's report carries the final status and quantity."""
        reports = self.reports
        for i in range(len(reports) - 1, -1, -1):
            r = reports[i]
            if r[1] is o and r[0] == "TRADE":
                reports[i] = (r[0], o, o.status, r[3], r[4], o.qty, *r[6:])
                return

    def finish(self, o: Order) -> None:
        """An order left the open state: release what it still locks, drop it from indexes."""
        if o.status in _GONE:  # fills are reported as TRADE, STP expiries by matching
            self.report(_GONE[o.status], o)
        elif o.quote_qty and o.status == FILLED:
            self._restate_last_fill(o)
        if o.locked:
            self.accounts[o.account].unlock(o.lock_asset, o.locked)
            o.locked = 0
        self.accounts[o.account].untrack_open(o)
        self.stops[o.symbol].pop(o.id, None)
        self.note_finished(o)
        if o.list_id != -1:
            self.on_leg_finished(o)

    def record_trade(self, t: Trade) -> None:
        self.avg[t.symbol].add(t.time, t.price, t.qty)
        self.new_prices.setdefault(t.symbol, []).append((t.price, t.time))
        # the sim's own accounts keep no trade history: nobody reads it, it would grow
        if not self.is_sim_account(t.buyer_account):
            self.account_trades.setdefault((t.buyer_account, t.symbol), []).append(t)
        if t.seller_account != t.buyer_account and not self.is_sim_account(t.seller_account):
            self.account_trades.setdefault((t.seller_account, t.symbol), []).append(t)
        self.events.append(t)

    def record_prevented(self, pm: PreventedMatch) -> None:
        self.prevented.setdefault((pm.account, pm.symbol), []).append(pm)

    def position(self, acct: Account, sym: Symbol) -> int:
        b = acct.balances.get(sym.base, (0, 0))
        open_buy = sum(o.remaining for o in acct.open_orders.get(sym.name, {}).values()
                       if o.is_buy)
        return b[0] + b[1] + open_buy

    def total_balances(self) -> dict[str, int]:
        """Every unit of every asset: accounts (free+locked) plus collected fees."""
        out: dict[str, int] = dict(self.fees)
        for acct in self.accounts.values():
            for asset, (free, locked) in acct.balances.items():
                out[asset] = out.get(asset, 0) + free + locked
        return out

    _handlers: dict[str, Callable[..., Any]] = {}


Exchange._handlers = {
    "config.set": Configure._configure,
    "sim.step": Sim._sim_step,
    "sim.set": Sim._sim_set,
    "sim.history": Sim._sim_history,
    "account.create": Exchange._create_account,
    "account.deposit": Exchange._deposit,
    "account.withdraw": Exchange._withdraw,
    "order.new": Trading._new_order,
    "order.cancel": OrderLists._cancel_order_or_list,
    "order.cancel_all": OrderLists._cancel_all_with_lists,
    "list.oco": OrderLists._new_oco,
    "list.oto": OrderLists._new_oto,
    "list.cancel": OrderLists._cancel_list_cmd,
    "order.cancel_replace": OrderLists._cancel_replace,
}
