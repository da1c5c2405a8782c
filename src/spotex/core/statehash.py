"""The state hash: one sha256 over a canonical walk of everything that defines an exchange.

Equal states give equal hashes however they were reached: applied live, replayed from
the journal, unpickled from a snapshot and replayed, or built twice from the same
commands (like exchange-core's state-hash report). It is not a hash of a pickle, whose
bytes depend on object identity and sharing: the walk turns the state into plain lists
of ints, strings, bools and None, in an order of its own (keys sorted; books in
price-time priority, best price first; histories in the order they were recorded), and
an order seen from elsewhere (an account, a stop, a list) is named by (symbol, id). Each
item is serialised as sorted-key JSON on one line, so the bytes are unambiguous.

Left out, because reads and rejected commands change them lazily (they are not
journaled) and nothing behaves differently for it:

- balances and fees of zero (a missing balance is a zero one), per-symbol open-order
  counters at zero, empty per-symbol tables;
- the books' price heaps and canceled entries still queued in a level (the walk reads
  the live orders of each level);
- archived orders still listed in `account_orders` and the `stale` counts that say when
  to compact them;
- the average-price window's trade deque and running sums: they are a suffix of the
  trades (hashed in full) that reads evict as time passes; the window's length and the
  last price and its time are kept;
- the ORDERS counts per account. A window is reset lazily, by the first check after it
  ends, and checks also run for reads (GET rateLimit/order) and for commands that are
  then rejected: a live exchange that has reset a window and one replayed from the
  journal that has not count alike from then on, yet hold different numbers. Any form
  of the counts that both give equal would have to drop them, so the limits are
  hashed and the counts are not (they last a window: 10 s to a day);
- `events` and `reports`: the output of the last command, for projections and streams.

Every other attribute of the Exchange, including ones added after this was written, is
walked generically (dataclasses, slots objects, containers), so new state is covered.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from array import array
from collections import deque
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import orjson

from .accounts import Account
from .book import Book, BookSide
from .orderlists import OrderList
from .orders import Order

if TYPE_CHECKING:
    from .exchange import Exchange

VERSION = 1  # of the walk: a change to it changes every hash


def state_hash(ex: "Exchange") -> str:
    """The hex sha256 of the exchange's canonical state."""
    h = hashlib.sha256()
    for item in canonical_items(ex):
        h.update(_dumps(item))
        h.update(b"\n")
    return h.hexdigest()


def canonical_items(ex: "Exchange") -> Iterator[Any]:
    """The walk, one plain item at a time (what `state_hash` hashes)."""
    yield ["spotex-state", VERSION, _slot_names(Order)]
    for name in sorted(vars(ex)):
        walk = _WALKS.get(name, _generic_attr)
        if walk is _skip:
            continue
        yield ["section", name]
        yield from walk(ex, name)


def asset_totals(ex: "Exchange") -> dict[str, tuple[int, int, int]]:
    """Per asset: (free, locked) summed over all accounts, and the fee account's amount."""
    out: dict[str, list[int]] = {}
    for acct in ex.accounts.values():
        for asset, (free, locked) in acct.balances.items():
            t = out.setdefault(asset, [0, 0, 0])
            t[0] += free
            t[1] += locked
    for asset, amount in ex.fees.items():
        out.setdefault(asset, [0, 0, 0])[2] += amount
    return {a: (t[0], t[1], t[2]) for a, t in out.items()}


# ---------------------------------------------------------------- serialisation
_OPTS = orjson.OPT_SORT_KEYS


def _default(x: Any) -> Any:
    """For orjson: what it does not know itself (an Order in a field) made plain."""
    if isinstance(x, (Order, OrderList, deque, set, frozenset, bytes)):
        return _plain(x)
    raise TypeError(type(x).__name__)


def _dumps(item: Any) -> bytes:
    try:
        return orjson.dumps(item, default=_default, option=_OPTS)
    except TypeError:  # an int over 64 bits (orjson's limit): the stdlib has none
        return json.dumps(_plain(item), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode()


def _slot_names(cls: type) -> list[str]:
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        slots = klass.__dict__.get("__slots__", ())
        names += [slots] if isinstance(slots, str) else [s for s in slots if s != "__dict__"]
    return names


_order = attrgetter(*_slot_names(Order))
"""Every field of an order, as a tuple in slot order (the names head the walk)."""


def _ref(o: Order) -> list[Any]:
    return ["order", o.symbol, o.id]


def _sorted_items(d: dict[Any, Any]) -> list[tuple[Any, Any]]:
    try:  # keys are unique: the sort never compares the values
        return sorted(d.items())
    except TypeError:  # keys of mixed types: order by their encoding
        return sorted(d.items(), key=lambda kv: _dumps(_plain(kv[0])))


def _plain(x: Any) -> Any:
    """Any value of the state as plain JSON data, deterministically."""
    if x is None or isinstance(x, (bool, int, str, float)):
        return x
    if isinstance(x, Order):
        return _ref(x)
    if isinstance(x, OrderList):
        return ["list", x.id]
    if isinstance(x, array):
        return x.tolist()
    if isinstance(x, (list, tuple, deque)):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return [[_plain(k), _plain(v)] for k, v in _sorted_items(x)]
    if isinstance(x, (set, frozenset)):
        return sorted((_plain(v) for v in x), key=_dumps)
    if isinstance(x, bytes):
        return ["bytes", x.hex()]
    return [type(x).__name__, _fields(x)]


def _fields(x: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(x):
        return {f.name: _plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    names = _slot_names(type(x))
    if names:
        return {n: _plain(getattr(x, n)) for n in names if hasattr(x, n)}
    if hasattr(x, "__dict__"):
        return {k: _plain(v) for k, v in vars(x).items()}
    raise TypeError(f"state_hash: no canonical form for {type(x).__name__}")


# ---------------------------------------------------------------- per attribute
Walk = Callable[["Exchange", str], Iterable[Any]]


def _skip(ex: "Exchange", name: str) -> Iterable[Any]:
    return ()


def _generic_attr(ex: "Exchange", name: str) -> Iterable[Any]:
    value = getattr(ex, name)
    if isinstance(value, dict):  # one item per key: big tables stay streamed
        for k, v in _sorted_items(value):
            yield [_plain(k), _plain(v)]
    else:
        yield _plain(value)


def _nonzero_table(ex: "Exchange", name: str) -> Iterable[Any]:
    """A dict whose zero/empty entries mean the same as missing ones (fees, new_prices)."""
    for k, v in _sorted_items(getattr(ex, name)):
        if v:
            yield [_plain(k), _plain(v)]


def _accounts(ex: "Exchange", name: str) -> Iterable[Any]:
    for aid, acct in _sorted_items(ex.accounts):
        yield [aid, _account(acct)]


def _account(acct: Account) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(acct):
        v = getattr(acct, f.name)
        if f.name == "balances":
            v = [[a, b[0], b[1]] for a, b in _sorted_items(v) if b[0] or b[1]]
        elif f.name == "open_orders":
            v = [[s, sorted(by_id)] for s, by_id in _sorted_items(v) if by_id]
        elif f.name == "client_ids":
            v = [[s, cid, _ref(o)] for (s, cid), o in _sorted_items(v)]
        elif f.name == "sym_counts":
            v = [[s, list(c)] for s, c in _sorted_items(v) if any(c)]
        else:
            v = _plain(v)
        out[f.name] = v
    return out


def _books(ex: "Exchange", name: str) -> Iterable[Any]:
    for sym, book in _sorted_items(ex.books):
        extra = {n: _plain(getattr(book, n)) for n in _slot_names(Book)
                 if n not in ("bids", "asks")}
        yield [sym, extra, _side(book.bids), _side(book.asks)]


def _side(bs: BookSide) -> list[Any]:
    """Levels best first, each with its live orders in time priority."""
    return [[price, bs.levels[price].qty,
             [_order(o) for o in bs.live_orders(bs.levels[price])]] for price in bs.prices()]


def _orders(ex: "Exchange", name: str) -> Iterable[Any]:
    for sym, by_id in _sorted_items(ex.orders):
        yield ["symbol", sym, len(by_id)]
        for oid, o in _sorted_items(by_id):
            yield [oid, _order(o)]


def _account_orders(ex: "Exchange", name: str) -> Iterable[Any]:
    """Each account's kept orders per symbol, in creation order (archived ones left out)."""
    for (aid, sym), mine in _sorted_items(ex.account_orders):
        live = ex.orders.get(sym, {})
        ids = [o.id for o in mine if live.get(o.id) is o]
        if ids:
            yield [aid, sym, ids]


def _client_index(ex: "Exchange", name: str) -> Iterable[Any]:
    for (aid, sym, cid), o in _sorted_items(ex.client_index):
        yield [aid, sym, cid, _ref(o)]


def _order_lists(ex: "Exchange", name: str) -> Iterable[Any]:
    for lid, ol in _sorted_items(ex.order_lists):
        yield [lid, _fields(ol)]


def _records(ex: "Exchange", name: str) -> Iterable[Any]:
    """Trades or prevented matches per (account, symbol), in the order they happened."""
    for key, records in _sorted_items(getattr(ex, name)):
        yield [_plain(key), [_fields(r) for r in records]]


def _avg(ex: "Exchange", name: str) -> Iterable[Any]:
    for sym, a in _sorted_items(ex.avg):
        yield [sym, {"window_ms": a.window_ms, "last_price": a.last_price,
                     "last_time": a.last_time}]


def _order_counter(ex: "Exchange", name: str) -> Iterable[Any]:
    """The ORDERS limits; not the counts (see the module's docstring)."""
    yield _plain(ex.order_counter.limits)


def _finished(ex: "Exchange", name: str) -> Iterable[Any]:
    """Archive candidates in the order they will be archived."""
    for o, first_client_id in ex.finished:
        yield [_ref(o), first_client_id]


_WALKS: dict[str, Walk] = {
    "accounts": _accounts,
    "books": _books,
    "orders": _orders,
    "account_orders": _account_orders,
    "client_index": _client_index,
    "order_lists": _order_lists,
    "account_trades": _records,
    "prevented": _records,
    "avg": _avg,
    "order_counter": _order_counter,
    "finished": _finished,
    "fees": _nonzero_table,
    "new_prices": _nonzero_table,
    "stale": _skip,
    "events": _skip,
    "reports": _skip,
}
