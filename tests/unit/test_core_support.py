"""Helpers for the core unit tests (no tests here): a small driver over `Exchange.apply`,
a semantic state fingerprint, invariant checks, and settings built from the default config.
"""
from __future__ import annotations

import tomllib
from typing import Any

import pytest

from spotex import config
from spotex.core.errors import ApiError
from spotex.core.exchange import Exchange
from spotex.core.numbers import parse


def D(text: str) -> int:
    """A decimal string as scaled units."""
    return parse(text)


def default_doc() -> dict[str, Any]:
    return tomllib.loads(config.default_text())


def settings(doc: dict[str, Any] | None = None):
    return config.parse(doc if doc is not None else default_doc()).settings


def settings_with_filters(symbol: str, filters: list[dict[str, Any]], *,
                          exchange_filters: list[dict[str, Any]] | None = None,
                          **symbol_keys: Any):
    """The default config with `symbol`'s filters (and optionally other keys) replaced."""
    doc = default_doc()
    for s in doc["symbols"]:
        if s["symbol"] == symbol:
            s["filters"] = filters
            s.update(symbol_keys)
    if exchange_filters is not None:
        doc["exchange_filters"] = exchange_filters
    return settings(doc)


class Harness:
    """Drives one Exchange with increasing timestamps and unique API keys."""

    def __init__(self, st=None, ts: int = 1_700_000_000_000) -> None:
        self.ex = Exchange(st if st is not None else config.load().settings)
        self.ts = ts
        self._keys = 0

    def tick(self, ms: int = 1) -> int:
        self.ts += ms
        return self.ts

    def account(self, maker_rate: int | None = None, taker_rate: int | None = None,
                **balances: str) -> int:
        self._keys += 1
        cmd: dict[str, Any] = {"t": "account.create", "ts": self.tick(),
                               "balances": {a: D(v) for a, v in balances.items()},
                               "key": {"api_key": f"k{self._keys}", "key_type": "HMAC_SHA256",
                                       "secret": "s"}}
        if maker_rate is not None:
            cmd["maker_rate"] = maker_rate
        if taker_rate is not None:
            cmd["taker_rate"] = taker_rate
        return self.ex.apply(cmd)

    def order_cmd(self, account: int, symbol: str, side: str, otype: str, qty: str | None = None,
                  price: str | None = None, tif: str | None = None, **kw: Any) -> dict[str, Any]:
        if tif is None and otype in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
            tif = "GTC"
        cmd: dict[str, Any] = {"t": "order.new", "ts": self.tick(), "account": account,
                               "symbol": symbol, "side": side, "type": otype, "tif": tif,
                               "qty": D(qty) if qty is not None else None,
                               "price": D(price) if price is not None else None}
        for k, v in kw.items():
            if k in ("quote_qty", "stop_price", "iceberg_qty") and isinstance(v, str):
                v = D(v)
            cmd[k] = v
        return cmd

    def order(self, account: int, symbol: str, side: str, otype: str, qty: str | None = None,
              price: str | None = None, tif: str | None = None, **kw: Any):
        return self.ex.apply(self.order_cmd(account, symbol, side, otype, qty, price, tif, **kw))

    def limit(self, account: int, side: str, qty: str, price: str, symbol: str = "BTCUSDT",
              tif: str = "GTC", **kw: Any):
        return self.order(account, symbol, side, "LIMIT", qty, price, tif, **kw)

    def market(self, account: int, side: str, qty: str | None = None, symbol: str = "BTCUSDT",
               **kw: Any):
        return self.order(account, symbol, side, "MARKET", qty, **kw)

    def cancel(self, account: int, order_id: int | None = None, symbol: str = "BTCUSDT",
               orig_client_id: str | None = None, new_client_id: str | None = None,
               cancel_restrictions: str | None = None):
        return self.ex.apply({"t": "order.cancel", "ts": self.tick(), "account": account,
                              "symbol": symbol, "order_id": order_id,
                              "orig_client_id": orig_client_id, "new_client_id": new_client_id,
                              "cancel_restrictions": cancel_restrictions})

    def cancel_all(self, account: int, symbol: str = "BTCUSDT"):
        return self.ex.apply({"t": "order.cancel_all", "ts": self.tick(), "account": account,
                              "symbol": symbol})

    def trade_at(self, buyer: int, seller: int, price: str, qty: str = "0.001",
                 symbol: str = "BTCUSDT") -> None:
        """Print one trade at `price` (seller rests, buyer takes); both must have funds."""
        self.limit(seller, "SELL", qty, price, symbol)
        p = self.limit(buyer, "BUY", qty, price, symbol, tif="IOC")
        assert p.order.status == "FILLED", p.order.status

    def free(self, account: int, asset: str) -> int:
        return self.ex.accounts[account].balances.get(asset, [0, 0])[0]

    def locked(self, account: int, asset: str) -> int:
        return self.ex.accounts[account].balances.get(asset, [0, 0])[1]

    def apply_ok(self, cmd: dict[str, Any]):
        return self.ex.apply(cmd)

    def reject(self, cmd: dict[str, Any], msg: str | None = None,
               code: int | None = None) -> ApiError:
        """Apply `cmd`, expect an ApiError, and check the state did not change at all."""
        before = fingerprint(self.ex, cmd["ts"])
        with pytest.raises(ApiError) as info:
            self.ex.apply(cmd)
        after = fingerprint(self.ex, cmd["ts"])
        assert before == after, "a rejected command changed the state"
        err = info.value
        if msg is not None:
            assert err.msg == msg
        if code is not None:
            assert err.code == code
        return err

    def book(self, symbol: str = "BTCUSDT", side: str = "asks") -> list[tuple[int, int, list[int]]]:
        return book_levels(self.ex, symbol, side)


def book_levels(ex: Exchange, symbol: str, side: str) -> list[tuple[int, int, list[int]]]:
    """[(price, level qty, [live order ids in queue order])], best first."""
    bs = getattr(ex.books[symbol], side)
    out = []
    for price in bs.prices():
        level = bs.levels[price]
        out.append((price, level.qty, [o.id for o in bs.live_orders(level)]))
    return out


def _order_state(o) -> tuple:
    return (o.id, o.account, o.client_id, o.side, o.type, o.tif, o.price, o.qty, o.quote_qty,
            o.stop_price, o.trailing_delta, o.iceberg_qty, o.executed, o.cum_quote, o.status,
            o.update_time, o.working_time, o.prevented_qty, o.prevented_match_id,
            o.trailing_time, o.trail_extreme, o.locked, o.lock_asset, o.visible, o.in_book,
            o.working, o.first_fill_done)


def fingerprint(ex: Exchange, ts: int) -> dict[str, Any]:
    """Everything observable about the state, independent of lazy internal bookkeeping."""
    accounts = {}
    for aid, a in ex.accounts.items():
        accounts[aid] = (
            {k: tuple(v) for k, v in a.balances.items() if v != [0, 0]},
            a.update_time, a.open_count, a.open_algo, a.open_iceberg,
            {s: sorted(d) for s, d in a.open_orders.items()},
            sorted((s, c, o.id) for (s, c), o in a.client_ids.items()),
            [(lim.limit, n) for lim, n in ex.order_counter.counts(aid, ts)],
        )
    return {
        "accounts": accounts,
        "keys": sorted(ex.keys),
        "orders": {s: [_order_state(o) for o in d.values()] for s, d in ex.orders.items()},
        "client_index": sorted((k, o.id) for k, o in ex.client_index.items()),
        "books": {s: (book_levels(ex, s, "bids"), book_levels(ex, s, "asks")) for s in ex.books},
        "stops": {s: sorted(d) for s, d in ex.stops.items()},
        "ids": (dict(ex.next_order_id), dict(ex.next_trade_id), dict(ex.next_prevented_id),
                ex.next_account_id, ex.next_list_id, ex.id_counter),
        "fees": {k: v for k, v in ex.fees.items() if v},
        "trades": {k: [(t.id, t.price, t.qty, t.buyer_fee, t.seller_fee) for t in v]
                   for k, v in ex.account_trades.items()},
        "prevented": {k: [(p.id, p.taker_order_id, p.maker_order_id, p.taker_prevented_qty,
                           p.maker_prevented_qty) for p in v] for k, v in ex.prevented.items()},
        "avg": {s: (a.last_price, a.last_time, a.price(5, ts)) for s, a in ex.avg.items()},
    }


def check_invariants(ex: Exchange, expected_totals: dict[str, int] | None = None) -> None:
    """The structural invariants of the core (used after every command by the property tests)."""
    if expected_totals is not None:
        totals = {k: v for k, v in ex.total_balances().items() if v}
        expected = {k: v for k, v in expected_totals.items() if v}
        assert totals == expected, "assets created or destroyed"
    for aid, acct in ex.accounts.items():
        locked_by_orders: dict[str, int] = {}
        n_open = n_algo = n_ice = 0
        for sym, by_id in acct.open_orders.items():
            for oid, o in by_id.items():
                assert o.id == oid and o.account == aid and o.symbol == sym
                assert o.is_open, (o.id, o.status)
                assert o.locked >= 0
                locked_by_orders[o.lock_asset] = locked_by_orders.get(o.lock_asset, 0) + o.locked
                n_open += 1
                n_algo += o.is_algo
                n_ice += o.is_iceberg
                assert acct.client_ids.get((sym, o.client_id)) is o
                in_stops = o.id in ex.stops[sym]
                if o.status == "PENDING_NEW":  # an OTO leg waiting: neither booked nor armed
                    assert not o.in_book and not in_stops and o.locked == 0
                else:
                    assert o.in_book != in_stops, (o.id, o.in_book, in_stops)
                assert o.executed + o.prevented_qty < o.qty
        assert (acct.open_count, acct.open_algo, acct.open_iceberg) == (n_open, n_algo, n_ice)
        assert len(acct.client_ids) == n_open
        for asset, (free, locked) in acct.balances.items():
            assert free >= 0 and locked >= 0, (aid, asset, free, locked)
            assert locked == locked_by_orders.get(asset, 0), (aid, asset, locked, locked_by_orders)
    for sym, book in ex.books.items():
        for bs in (book.bids, book.asks):
            for price, level in bs.levels.items():
                live = list(bs.live_orders(level))
                assert live, "empty level left in the book"
                assert level.live == len(live)
                assert level.qty == sum(o.visible for o in live)
                for o in live:
                    assert o.price == price and o.is_buy == bs.is_bid and o.symbol == sym
                    assert o.is_open and o.remaining > 0
                    assert 0 < o.visible <= o.remaining
                    assert o.id in ex.accounts[o.account].open_orders.get(sym, {})
        bid, ask = book.bids.best(), book.asks.best()
        if bid is not None and ask is not None:
            assert bid.price < ask.price, (sym, bid.price, ask.price)
        for oid, o in ex.stops[sym].items():
            assert o.is_open and not o.in_book and not o.working
    for sym, by_id in ex.orders.items():
        for o in by_id.values():
            if not o.is_open:
                assert not o.in_book and o.locked == 0
                assert o.id not in ex.stops[sym]
                assert o.id not in ex.accounts[o.account].open_orders.get(sym, {})
                if o.status in ("FILLED", "EXPIRED_IN_MATCH"):
                    assert o.executed + o.prevented_qty == o.qty, (o.id, o.status)
