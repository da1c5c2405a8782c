"""Property tests of the core: random command sequences across 3 accounts and 2 symbols
keep every accounting and book invariant after every command; rejected commands change
nothing; the same sequence replays to the same state."""
from __future__ import annotations

import dataclasses
import pickle
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spotex import config
from spotex.core.errors import ApiError
from spotex.core.exchange import Exchange
from spotex.core.history import ARCHIVABLE

from tests.unit.test_core_support import D, check_invariants, fingerprint

# orders archive 30 s after they end, so sequences (up to ~5 min) archive many of them
SETTINGS = dataclasses.replace(config.load().settings, archive_after_ms=30_000)
ACCOUNTS = 3
START = {"USDT": D("10000"), "BTC": D("10"), "ETH": D("200")}

# per symbol: price grid (base, tick of the grid), quantity grid (base, unit), quote amounts
MARKETS = {
    "BTCUSDT": {"price": (D("95"), D("0.5")), "qty": (D("0.05"), D("0.01337")),
                "quote": (D("5"), D("1.37")), "assets": ("BTC", "USDT")},
    "ETHBTC": {"price": (D("0.049"), D("0.0002")), "qty": (D("0.002"), D("0.0137")),
               "quote": (D("0.0001"), D("0.00013")), "assets": ("ETH", "BTC")},
}
SYMBOLS = sorted(MARKETS)
STP = [None, "NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"]

acct = st.integers(0, ACCOUNTS - 1)
sym = st.sampled_from(SYMBOLS)
side = st.sampled_from(["BUY", "SELL"])
price_k = st.integers(0, 8)
qty_k = st.integers(1, 40)
stp = st.sampled_from(STP)

limit_op = st.tuples(st.just("limit"), acct, sym, side, price_k, qty_k,
                     st.sampled_from(["GTC", "GTC", "IOC", "FOK"]),
                     st.sampled_from([None, None, 2, 3, 5]), stp)
client_ids = st.sampled_from([None, None, "c0", "c1"])  # shared with cancels' new ids
maker_op = st.tuples(st.just("maker"), acct, sym, side, price_k, qty_k, st.sampled_from([None, 2]),
                     client_ids)
market_op = st.tuples(st.just("market"), acct, sym, side, qty_k, stp)
quote_op = st.tuples(st.just("quote"), acct, sym, side, st.integers(0, 40), stp)
stop_op = st.tuples(st.just("stop"), acct, sym, side,
                    st.sampled_from(["STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                                     "TAKE_PROFIT_LIMIT"]),
                    st.one_of(st.none(), price_k), price_k, qty_k,
                    st.sampled_from([None, None, 10, 50, 150]))
cancel_op = st.tuples(st.just("cancel"), acct, sym, st.integers(0, 50))
cancel_all_op = st.tuples(st.just("cancel_all"), acct, sym)
deposit_op = st.tuples(st.just("deposit"), acct, st.sampled_from(sorted(START)),
                       st.integers(1, 10**9))
withdraw_op = st.tuples(st.just("withdraw"), acct, st.sampled_from(sorted(START)),
                        st.integers(1, 10**10))

oco_op = st.tuples(st.just("oco"), acct, sym, side, price_k, price_k, qty_k,
                   st.sampled_from(["STOP_LOSS", "STOP_LOSS_LIMIT"]))
oto_op = st.tuples(st.just("oto"), acct, sym, side, price_k, qty_k, price_k,
                   st.sampled_from(["LIMIT", "MARKET", "STOP_LOSS", "OCO"]))
cancel_list_op = st.tuples(st.just("cancel_list"), acct, sym, st.integers(0, 20))

op = st.one_of(limit_op, limit_op, limit_op, maker_op, market_op, market_op, quote_op, stop_op,
               stop_op, cancel_op, cancel_all_op, deposit_op, withdraw_op, oco_op, oco_op,
               oto_op, oto_op, cancel_list_op)
ops = st.lists(st.tuples(op, st.integers(1, 4_000)), min_size=20, max_size=80)


def new_exchange() -> tuple[Exchange, list[int], dict[str, int], int]:
    ex = Exchange(SETTINGS)
    ts = 1_700_000_000_000
    ids = []
    for i in range(ACCOUNTS):
        ts += 1
        ids.append(ex.apply({"t": "account.create", "ts": ts, "balances": dict(START),
                             "key": {"api_key": f"k{i}", "key_type": "HMAC_SHA256",
                                     "secret": "s"}}))
    return ex, ids, {a: v * ACCOUNTS for a, v in START.items()}, ts


def to_command(ex: Exchange, ids: list[int], o: tuple, ts: int) -> dict[str, Any]:
    kind = o[0]
    if kind in ("deposit", "withdraw"):
        _, a, asset, amount = o
        return {"t": f"account.{kind}", "ts": ts, "account": ids[a], "asset": asset,
                "amount": amount}
    a, symbol = ids[o[1]], o[2]
    m = MARKETS[symbol]
    price = lambda k: m["price"][0] + k * m["price"][1]  # noqa: E731
    qty = lambda k: m["qty"][0] + k * m["qty"][1]  # noqa: E731
    base: dict[str, Any] = {"ts": ts, "account": a, "symbol": symbol}
    if kind == "cancel":
        open_ids = sorted(ex.accounts[a].open_orders.get(symbol, {}))
        oid = open_ids[o[3] % len(open_ids)] if open_ids else 10**9
        return {**base, "t": "order.cancel", "order_id": oid, "orig_client_id": None,
                "new_client_id": [None, "c0", "c1"][o[3] % 3], "cancel_restrictions": None}
    if kind == "cancel_all":
        return {**base, "t": "order.cancel_all"}
    if kind == "cancel_list":
        lists = [ol.id for ol in ex.account_lists.get(a, []) if ol.is_open and ol.symbol == symbol]
        lid = lists[o[3] % len(lists)] if lists else 10**9
        return {**base, "t": "list.cancel", "list_id": lid, "list_client_id": None,
                "new_client_id": None}
    if kind == "oco":  # a LIMIT_MAKER leg and a stop leg around the grid
        _, _, _, s, lk, sk, qk, stop_type = o
        q, sell = qty(qk), s == "SELL"
        limit = {"side": s, "type": "LIMIT_MAKER", "qty": q, "price": price(lk)}
        stop = {"side": s, "type": stop_type, "qty": q, "stop_price": price(sk)}
        if stop_type == "STOP_LOSS_LIMIT":
            stop.update(price=price(sk), tif="GTC")
        above, below = (limit, stop) if sell else (stop, limit)
        return {**base, "t": "list.oco", "above": above, "below": below}
    if kind == "oto":  # a working LIMIT and a pending order of the other side
        _, _, _, s, wk, qk, pk, pending = o
        other = "SELL" if s == "BUY" else "BUY"
        q = qty(qk)
        working = {"side": s, "type": "LIMIT", "tif": "GTC", "qty": q, "price": price(wk)}
        cmd = {**base, "t": "list.oto", "working": working, "pending": []}
        if pending == "LIMIT":
            cmd["pending"] = [{"side": other, "type": "LIMIT", "tif": "GTC", "qty": q // 2,
                               "price": price(pk)}]
        elif pending == "MARKET":
            cmd["pending"] = [{"side": other, "type": "MARKET", "qty": q // 2}]
        elif pending == "STOP_LOSS":
            cmd["pending"] = [{"side": other, "type": "STOP_LOSS", "qty": q // 2,
                               "stop_price": price(pk)}]
        else:  # OTOCO
            limit = {"side": other, "type": "LIMIT_MAKER", "qty": q // 2, "price": price(8)}
            stop = {"side": other, "type": "STOP_LOSS", "qty": q // 2, "stop_price": price(0)}
            cmd["above"], cmd["below"] = (limit, stop) if other == "SELL" else (stop, limit)
        step = ex.symbols[symbol].step
        for leg in cmd["pending"] + [cmd.get("above") or {}, cmd.get("below") or {}]:
            if "qty" in leg:
                leg["qty"] -= leg["qty"] % step
        return cmd
    cmd = {**base, "t": "order.new", "side": o[3]}
    if kind == "limit":
        _, _, _, _, pk, qk, tif, parts, mode = o
        q = qty(qk)
        cmd.update(type="LIMIT", tif=tif, price=price(pk), qty=q, stp=mode)
        if parts:
            ice = q // parts
            cmd["iceberg_qty"] = ice - ice % ex.symbols[symbol].step
    elif kind == "maker":
        _, _, _, _, pk, qk, parts, client_id = o
        q = qty(qk)
        cmd.update(type="LIMIT_MAKER", price=price(pk), qty=q, client_id=client_id)
        if parts:
            ice = q // parts
            cmd["iceberg_qty"] = ice - ice % ex.symbols[symbol].step
    elif kind == "market":
        cmd.update(type="MARKET", qty=qty(o[4]), stp=o[5])
    elif kind == "quote":
        cmd.update(type="MARKET", quote_qty=m["quote"][0] + o[4] * m["quote"][1], stp=o[5])
    elif kind == "stop":
        _, _, _, _, otype, sk, pk, qk, trail = o
        cmd.update(type=otype, qty=qty(qk), trailing_delta=trail,
                   stop_price=price(sk) if sk is not None else None)
        if cmd["stop_price"] is None and trail is None:
            cmd["trailing_delta"] = 100
        if otype.endswith("_LIMIT"):
            cmd.update(price=price(pk), tif="GTC")
    return cmd


def run(sequence, check: bool = True) -> tuple[Exchange, int, list[dict[str, Any]]]:
    ex, ids, expected, ts = new_exchange()
    log = []
    for o, dt in sequence:
        ts += dt
        cmd = to_command(ex, ids, o, ts)
        log.append(cmd)
        before = fingerprint(ex, ts) if check else None
        try:
            ex.apply(cmd)
        except ApiError:
            if check:
                assert fingerprint(ex, ts) == before, f"rejected {cmd} changed the state"
            continue
        if cmd["t"] == "account.deposit":
            expected[cmd["asset"]] += cmd["amount"]
        elif cmd["t"] == "account.withdraw":
            expected[cmd["asset"]] -= cmd["amount"]
        if check:
            check_invariants(ex, expected)
            check_history(ex, ts)
    return ex, ts, log


def check_history(ex: Exchange, ts: int) -> None:
    """Only finished orders without fills, ended long enough ago, are archived; no index
    keeps an archived order."""
    for o, _ in ex.finished:
        assert o.status in ARCHIVABLE and o.executed == 0 and o.list_id == -1
        assert o.update_time > ts - SETTINGS.archive_after_ms
    for acct in ex.accounts.values():
        for sym, by_id in acct.open_orders.items():
            assert all(ex.orders[sym].get(i) is o for i, o in by_id.items())
    for (a, sym, _), o in ex.client_index.items():
        assert ex.orders[sym].get(o.id) is o
    for acct in ex.accounts.values():  # an open order is found by its client id
        for (sym, cid), o in acct.client_ids.items():
            assert ex.client_index[(acct.id, sym, cid)] is o
    for ol in ex.order_lists.values():
        assert all(ex.orders[o.symbol].get(o.id) is o for o in ol.legs)
    for (a, sym), mine in ex.account_orders.items():
        kept = ex.kept_orders(a, sym)
        assert [o.id for o in kept] == sorted(i for i, o in ex.orders[sym].items() if o.account == a)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_random_sequences_keep_invariants(sequence):
    run(sequence)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_random_sequences_are_deterministic(sequence):
    ex1, ts, log = run(sequence, check=False)
    ex2 = new_exchange()[0]
    for cmd in log:
        try:
            ex2.apply(cmd)
        except ApiError:
            pass
    assert fingerprint(ex1, ts) == fingerprint(ex2, ts)
    ex3 = pickle.loads(pickle.dumps(ex1))
    assert fingerprint(ex3, ts) == fingerprint(ex1, ts)
