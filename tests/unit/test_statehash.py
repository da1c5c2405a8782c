"""The state hash (core/statehash.py): equal states hash equal however they were reached
(two runs, replay, pickle + replay); any difference in state changes it; the lazy
bookkeeping that reads and rejected commands touch does not."""
from __future__ import annotations

import pickle
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spotex.core import statehash
from spotex.core.errors import ApiError
from spotex.core.exchange import Exchange
from spotex.core.orders import Order
from spotex.core.statehash import asset_totals, canonical_items, state_hash

from tests.unit.test_core_properties import new_exchange, ops, run
from tests.unit.test_core_support import D, Harness, fingerprint

HEX = set("0123456789abcdef")


def apply(ex: Exchange, cmd: dict[str, Any]) -> bool:
    """Apply as the engine does: an accepted command moves seq and last_ts."""
    try:
        ex.apply(cmd)
    except ApiError:
        return False
    ex.seq += 1
    ex.last_ts = cmd["ts"]
    return True


def logged(sequence) -> list[dict[str, Any]]:
    """The commands a generated sequence makes (rejected ones included)."""
    return run(sequence, check=False)[2]


def replay(log: list[dict[str, Any]], ex: Exchange | None = None) -> Exchange:
    ex = ex if ex is not None else new_exchange()[0]
    for cmd in log:
        apply(ex, cmd)
    return ex


def busy() -> Harness:
    """Resting orders on both sides, trades with fees, a stop, an OCO, an iceberg, a
    canceled order, STP prevented matches."""
    h = Harness()
    a = h.account(USDT="100000", BTC="10")
    b = h.account(USDT="100000", BTC="10")
    for i in range(3):
        h.limit(a, "SELL", "0.01", str(50000 + 10 * i), client_id=f"s{i}")
        h.limit(b, "BUY", "0.01", str(49000 - 10 * i))
    h.limit(b, "BUY", "0.015", "50010")  # takes the first ask and part of the second
    h.limit(a, "SELL", "0.02", "50100", iceberg_qty="0.005")
    h.order(b, "BTCUSDT", "BUY", "STOP_LOSS_LIMIT", "0.01", "60000", stop_price="59000")
    h.ex.apply({"t": "list.oco", "ts": h.tick(), "account": a, "symbol": "BTCUSDT",
                "above": {"side": "SELL", "type": "LIMIT_MAKER", "qty": D("0.01"),
                          "price": D("55000")},
                "below": {"side": "SELL", "type": "STOP_LOSS", "qty": D("0.01"),
                          "stop_price": D("45000")}})
    h.cancel(b, 2)
    h.limit(a, "BUY", "0.01", "50020", stp="EXPIRE_TAKER")  # meets its own ask: prevented
    return h


# ------------------------------------------------------------------ the same state


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_same_commands_same_hash(sequence):
    """Two exchanges fed the same commands (one as the property tests run them, one
    replayed as the engine does), and a pickled copy: one hash."""
    ex1, _, log = run(sequence, check=False)
    ex1.last_ts = log[-1]["ts"]
    ex2 = replay(log)
    ex2.last_ts, ex2.seq = ex1.last_ts, ex1.seq
    assert state_hash(ex1) == state_hash(ex2)
    assert state_hash(pickle.loads(pickle.dumps(ex1))) == state_hash(ex1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops, st.floats(0, 1))
def test_snapshot_plus_replay_same_hash(sequence, cut):
    """Live, replayed from the start, and unpickled at any point then replayed: one hash."""
    log = logged(sequence)
    live = replay(log)
    k = int(len(log) * cut)
    restored = pickle.loads(pickle.dumps(replay(log[:k]), protocol=pickle.HIGHEST_PROTOCOL))
    replay(log[k:], restored)
    assert (restored.seq, restored.last_ts) == (live.seq, live.last_ts)
    assert state_hash(restored) == state_hash(live)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_hash_follows_every_observable_change(sequence):
    """After each command: whenever the observable state changed, the hash did (seq and
    last_ts held still, so they do not make every hash new)."""
    ex = new_exchange()[0]
    for cmd in logged(sequence):
        fp, hs = fingerprint(ex, cmd["ts"]), state_hash(ex)
        try:
            ex.apply(cmd)
        except ApiError:
            pass
        if fingerprint(ex, cmd["ts"]) != fp:
            assert state_hash(ex) != hs, cmd


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_rejected_commands_leave_the_hash(sequence):
    """What a rejected command touches lazily (a zero balance, an ORDERS window reset)
    is not part of the hash: the journal, which never holds it, replays to the same."""
    ex = new_exchange()[0]
    for cmd in logged(sequence):
        hs = state_hash(ex)
        if not apply(ex, cmd):
            assert state_hash(ex) == hs, cmd


def test_two_harness_runs_same_hash():
    assert state_hash(busy().ex) == state_hash(busy().ex)


def test_hash_is_hex_sha256():
    h = state_hash(busy().ex)
    assert len(h) == 64 and set(h) <= HEX


# ------------------------------------------------------------------ different states


def test_different_amount_different_hash():
    h1, h2 = Harness(), Harness()
    h1.account(USDT="100")
    h2.account(USDT="100.00000001")
    assert state_hash(h1.ex) != state_hash(h2.ex)


def test_time_priority_is_part_of_the_hash():
    """The same orders at one price queued in another order: another state."""
    h = Harness()
    a = h.account(BTC="1")
    h.limit(a, "SELL", "0.01", "50000")
    h.limit(a, "SELL", "0.02", "50000")
    base = state_hash(h.ex)
    h.ex.books["BTCUSDT"].asks.levels[D("50000")].orders.reverse()
    assert state_hash(h.ex) != base


def test_every_order_field_is_hashed():
    ex = busy().ex
    base = state_hash(ex)
    o = ex.orders["BTCUSDT"][1]
    for name in Order.__slots__:
        old = getattr(o, name)
        new = (not old) if isinstance(old, bool) else (old + 1 if isinstance(old, int)
                                                      else f"{old}x")
        setattr(o, name, new)
        assert state_hash(ex) != base, name
        setattr(o, name, old)
    assert state_hash(ex) == base


@pytest.mark.parametrize("change", [
    lambda ex: ex.accounts[1].balances["USDT"].__setitem__(1, 1),
    lambda ex: setattr(ex.accounts[1], "taker_rate", 1),
    lambda ex: setattr(ex.accounts[2], "can_trade", False),
    lambda ex: ex.keys.pop("k1"),
    lambda ex: ex.fees.__setitem__("BTC", ex.fees.get("BTC", 0) + 1),
    lambda ex: ex.next_order_id.__setitem__("ETHBTC", 7),
    lambda ex: ex.next_trade_id.__setitem__("BTCUSDT", 99),
    lambda ex: ex.next_prevented_id.__setitem__("BTCUSDT", 99),
    lambda ex: setattr(ex, "next_list_id", 99),
    lambda ex: setattr(ex, "next_account_id", 99),
    lambda ex: setattr(ex, "id_counter", 99),
    lambda ex: setattr(ex, "seq", 99),
    lambda ex: setattr(ex, "last_ts", 99),
    lambda ex: ex.stops["BTCUSDT"].clear(),
    lambda ex: setattr(next(iter(ex.order_lists.values())), "status", "ALL_DONE"),
    lambda ex: ex.account_trades[(1, "BTCUSDT")][0].__setattr__("buyer_fee", 3),
    lambda ex: ex.prevented[(1, "BTCUSDT")].clear(),
    lambda ex: ex.client_index.clear(),
    lambda ex: ex.finished.clear(),
    lambda ex: ex.order_owners["BTCUSDT"].append(1),
    lambda ex: setattr(ex.avg["BTCUSDT"], "last_price", 1),
    lambda ex: setattr(ex.order_counter, "limits", ex.order_counter.limits[:1]),
    lambda ex: setattr(ex.symbols["BTCUSDT"], "status", "BREAK"),
    lambda ex: setattr(ex.books["BTCUSDT"], "update_id", 5),
], ids=lambda f: "")
def test_every_part_of_the_state_is_hashed(change):
    h = busy()
    ex = h.ex
    ex.last_ts = h.ts
    base = state_hash(ex)
    change(ex)
    assert state_hash(ex) != base


def test_every_attribute_is_walked_or_skipped_by_name():
    ex = busy().ex
    sections = [item[1] for item in canonical_items(ex)
                if isinstance(item, list) and item[:1] == ["section"]]
    skipped = {n for n, w in statehash._WALKS.items() if w is statehash._skip}
    assert skipped == {"events", "reports", "stale"}
    assert sorted(sections) == sorted(set(vars(ex)) - skipped)


def test_new_attribute_is_covered_generically():
    ex = busy().ex
    base = state_hash(ex)
    ex.some_new_table = {("x", 1): [1, 2]}
    assert state_hash(ex) != base


# ------------------------------------------------------------------ lazy bookkeeping


def test_reads_and_lazy_structures_do_not_change_the_hash():
    h = busy()
    ex = h.ex
    ex.last_ts = h.ts
    base = state_hash(ex)
    ex.avg_price("BTCUSDT", 5, h.ts + 3_600_000)  # evicts the average's window
    ex.accounts[1].bal("SOL")  # a zero balance appears
    ex.accounts[1].sym_counts["ETHBTC"] = [0, 0, 0]
    ex.books["BTCUSDT"].bids.heap.append(-1)  # a stale heap price
    ex.fees["SOL"] = 0
    ex.new_prices["BTCUSDT"] = []
    ex.order_counter.counts(1, h.ts + 86_400_000)  # GET rateLimit/order resets windows
    assert state_hash(ex) == base


def test_rejected_withdraw_leaves_the_hash():
    h = busy()
    h.ex.last_ts = h.ts
    base = state_hash(h.ex)
    h.reject({"t": "account.withdraw", "ts": h.ts, "account": 1, "asset": "ETH",
              "amount": D("1")})
    assert state_hash(h.ex) == base


def test_amounts_over_64_bits():
    h = Harness()
    a = h.account(USDT="1")
    for _ in range(3):
        h.ex.apply({"t": "account.deposit", "ts": h.tick(), "account": a, "asset": "USDT",
                    "amount": 2**63 - 1})
    assert len(state_hash(h.ex)) == 64


def test_asset_totals():
    h = busy()
    totals = asset_totals(h.ex)
    assert set(totals) == {"BTC", "USDT"}
    for asset, (free, locked, fees) in totals.items():
        assert free + locked + fees == D({"BTC": "20", "USDT": "200000"}[asset])
        assert fees > 0
    assert sum(t[1] for t in totals.values()) > 0


def test_simulated_market_same_hash_live_replayed_and_restored():
    """The sim's makers and takers (core/sim.py): its own state is walked generically."""
    from tests.unit.test_core_sim import SimHarness

    live, other = SimHarness(), SimHarness()
    live.steps(20)
    other.steps(20)
    assert live.ex.sim is not None and any(live.ex.orders.values())
    assert state_hash(live.ex) == state_hash(other.ex)
    restored = pickle.loads(pickle.dumps(live.ex, protocol=pickle.HIGHEST_PROTOCOL))
    assert state_hash(restored) == state_hash(live.ex)
    live.steps(5)
    other.ex = restored
    other.steps(5)
    assert state_hash(other.ex) == state_hash(live.ex)
    live.steps(1)
    assert state_hash(other.ex) != state_hash(live.ex)
