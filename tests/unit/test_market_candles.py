"""Klines and window statistics from the projection against brute force over raw trades."""
from __future__ import annotations

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from spotex.core.trades import Trade
from spotex.market import MarketData
from spotex.market.candles import Series, klines
from spotex.market.intervals import DAY, INTERVALS, MINUTE, source_for
from spotex.market.stats import cover, window

T0 = 1_700_000_000_000
NOMINAL = {n: (i.length or 30 * DAY) for n, i in INTERVALS.items()}


class FakeExchange:
    events: list = []
    history_out = None


def feed(trades: list[tuple[int, int, int, bool]], symbol: str = "BTCUSDT") -> MarketData:
    """trades: (time, price, qty, is_buyer_maker); one command per distinct time."""
    md = MarketData([symbol])
    ex = FakeExchange()
    for i, (t, price, qty, bm) in enumerate(trades, start=1):
        trade = Trade(symbol=symbol, id=i, price=price, qty=qty, quote_qty=price * qty // 10**8,
                      time=t, buyer_order_id=100 + i, seller_order_id=200 + i, is_buyer_maker=bm)
        if ex.events and ex.events[-1].time == t:
            ex.events.append(trade)
            continue
        if ex.events:
            md.on_command(ex, {"t": "order.new", "symbol": symbol})
        ex.events = [trade]
    if ex.events:
        md.on_command(ex, {"t": "order.new", "symbol": symbol})
    return md


def summarize(ts: list[tuple[int, int, int, int, bool, int]]) -> list[int]:
    """(time, price, qty, quote, buyer_maker, id) -> candle fields after the open time."""
    buy = [x for x in ts if not x[4]]
    return [ts[0][1], max(x[1] for x in ts), min(x[1] for x in ts), ts[-1][1],
            sum(x[2] for x in ts), sum(x[3] for x in ts), len(ts), sum(x[2] for x in buy),
            sum(x[3] for x in buy), ts[0][5], ts[-1][5]]


def reference_klines(raw, name, off, start, end, limit, now):
    iv = INTERVALS[name]
    rows = [(t, p, q, p * q // 10**8, bm, i) for i, (t, p, q, bm) in enumerate(raw, start=1)]
    opens = []
    g = iv.floor(rows[0][0], off)
    while g <= iv.floor(now, off):
        opens.append(g)
        g = iv.next(g, off)
    out, close = [], None
    for g in opens:
        inside = [r for r in rows if g <= r[0] < iv.next(g, off)]
        if inside:
            c = [g] + summarize(inside)
        else:
            c = [g, close, close, close, close, 0, 0, 0, 0, 0, -1, -1]
        close = c[4]
        out.append((c, iv.next(g, off) - 1))
    if start is not None:
        return [x for x in out if x[0][0] >= start and (end is None or x[0][0] <= end)][:limit]
    if end is not None:
        out = [x for x in out if x[0][0] <= end]
    return out[-limit:]


@st.composite
def trade_runs(draw):
    name = draw(st.sampled_from(sorted(INTERVALS)))
    unit = NOMINAL[name]
    n = draw(st.integers(1, 25))
    t, raw = T0 + draw(st.integers(0, unit)), []
    for _ in range(n):
        t += draw(st.sampled_from([0, 0, 1, unit // 3, unit, 2 * unit + 7]))
        raw.append((t, draw(st.integers(1, 9)) * 10**8, draw(st.integers(1, 5)) * 10**6,
                    draw(st.booleans())))
    off = draw(st.integers(-12 * 60, 14 * 60)) * MINUTE
    now = t + draw(st.integers(0, 3 * unit))
    start = draw(st.none() | st.integers(T0 - unit, now + unit))
    end = draw(st.none() | st.integers(T0 - unit, now + unit))
    limit = draw(st.integers(1, 40))
    return raw, name, off, start, end, limit, now


@settings(max_examples=300, deadline=None)
@given(trade_runs())
def test_klines_match_brute_force(case):
    raw, name, off, start, end, limit, now = case
    md = feed(raw)
    iv = INTERVALS[name]
    src = md["BTCUSDT"].series[source_for(iv, off).name]
    got = klines(src, iv, off, start, end, limit, now)
    assert got == reference_klines(raw, name, off, start, end, limit, now)


def test_trimmed_series_serves_only_complete_candles():
    s = Series(INTERVALS["1m"], keep=4)
    for i in range(12):  # one trade per 30 s: two per minute
        t = T0 + i * 30_000
        s.add(t, [t, 100 + i, 100 + i, 100 + i, 100 + i, 1, 100, 1, 0, 0, i, i])
    assert s.trimmed and len(s.candles) <= 4 + 4 // 8 + 1
    first_kept = s.candles[0][0]
    # 3m candles from the 1m series start at the first 3m boundary after the cut
    got = klines(s, INTERVALS["3m"], 0, None, None, 100, T0 + 12 * 30_000)
    assert got[0][0][0] >= first_kept
    assert all(c[0] % (3 * MINUTE) == 0 for c, _ in got)
    # the price before the first kept candle is known: gap candles before it are flat at it
    assert s.close_before(first_kept) == s.cut_close


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12 * DAY // MINUTE), st.integers(1, 50)), min_size=1,
                max_size=40), st.integers(0, 12 * DAY // MINUTE), st.integers(1, 9 * DAY // MINUTE),
       st.integers(0, 59_999), st.booleans())
def test_window_matches_brute_force(points, lo_min, span_min, extra, at_now):
    raw = sorted((T0 - T0 % MINUTE + m * MINUTE + (p * 997) % MINUTE, p * 10**8, 10**6, p % 2 == 0)
                 for m, p in points)
    md = feed(raw)
    s = md["BTCUSDT"].series
    lo = T0 - T0 % MINUTE + lo_min * MINUTE
    # a window ends on a minute, or at the request time, after every trade
    hi = max(raw[-1][0] + 1 + extra, lo + 1) if at_now else lo + span_min * MINUTE
    rows = [(t, p, q, p * q // 10**8, bm, i) for i, (t, p, q, bm) in enumerate(raw, start=1)]
    inside = [r for r in rows if lo <= r[0] < hi]
    got = window((s["1m"], s["1h"], s["1d"]), lo, hi)
    if not inside:
        assert got is None
    else:
        assert got[1:] == summarize(inside)


@given(st.integers(0, 10**7), st.integers(0, 10**7))
def test_cover_partitions_the_window(a, b):
    lo, hi = min(a, b) * MINUTE, max(a, b) * MINUTE + 123
    pieces = cover(lo, hi)
    assert pieces[0][1] == lo and pieces[-1][2] == hi
    for (_, _, x), (_, y, _) in zip(pieces, pieces[1:]):
        assert x == y
    assert len(pieces) <= 5


def test_aggregate_trades_group_by_taker_price_and_time():
    md = MarketData(["BTCUSDT"])
    ex = FakeExchange()
    mk = lambda i, price, taker, t: Trade(  # noqa: E731
        symbol="BTCUSDT", id=i, price=price, qty=10**6, quote_qty=price // 100, time=t,
        buyer_order_id=taker, seller_order_id=1000 + i, is_buyer_maker=False)
    ex.events = [mk(1, 5, 7, T0), mk(2, 5, 7, T0), mk(3, 6, 7, T0), mk(4, 6, 8, T0)]
    md.on_command(ex, {"t": "order.new", "symbol": "BTCUSDT"})
    ex.events = [mk(5, 6, 8, T0 + 1)]
    md.on_command(ex, {"t": "order.new", "symbol": "BTCUSDT"})
    aggs = [(a[0], a[1], a[2], a[3], a[4], a[5]) for a in md["BTCUSDT"].aggs]
    assert aggs == [(1, 5, 2 * 10**6, 1, 2, T0), (2, 6, 10**6, 3, 3, T0),
                    (3, 6, 10**6, 4, 4, T0), (4, 6, 10**6, 5, 5, T0 + 1)]


def test_state_round_trips_through_pickle():
    raw = [(T0 + i * 7_000, (100 + i % 7) * 10**8, 10**6, bool(i % 2)) for i in range(500)]
    md = feed(raw)
    again = MarketData(["BTCUSDT", "ETHUSDT"])
    again.restore(pickle.loads(pickle.dumps(md.state())))
    a, b = md["BTCUSDT"], again["BTCUSDT"]
    assert (a.trades, a.aggs, a.last_price, a.updates) == (b.trades, b.aggs, b.last_price, b.updates)
    assert {k: s.candles for k, s in a.series.items()} == {k: s.candles for k, s in b.series.items()}
    ex = FakeExchange()
    ex.symbols = {"BTCUSDT": None, "ETHUSDT": None}  # a symbol added to the config ...
    again.on_command(ex, {"t": "config.set"})
    assert again["ETHUSDT"].trades == []  # ... starts empty
    assert again["BTCUSDT"].trades == a.trades
