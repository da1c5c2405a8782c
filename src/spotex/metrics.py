"""Prometheus metrics of one App: `GET /metrics` in the text exposition format.

Cost on the order path is what decides the shape. A `prometheus_client` Counter child
takes ~0.9 µs per `inc()` and a Histogram child ~2.2 µs per `observe()` (a lock and a
value object per bucket); an order touches five of them, ~4 % of the ~190 µs it costs
in all. So the hot path only adds to plain ints in dicts and lists here (~0.3 µs each),
and a custom collector turns them into metric families when Prometheus scrapes; gauges
(open orders, WebSocket connections, journal health) are read from their owners at
scrape time and cost nothing in between. Everything runs on the event loop thread
(the journal calls `on_commit` there too), so no locks are needed.

Each App has its own CollectorRegistry (tests build many servers in one process).
"""
from __future__ import annotations

import hmac
from bisect import bisect_left
from typing import Any, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                    HistogramMetricFamily)
from prometheus_client.process_collector import ProcessCollector

from .core.errors import ApiError
from .core.trades import Trade
from .core.trading import Placed

PATH = "/metrics"
OTHER = "other"  # the route label of a path no route serves

# upper bounds (seconds, or records for the batch size)
REQUEST_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                   0.1, 0.25, 0.5, 1.0)
COMMAND_BUCKETS = (0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                   0.005, 0.01, 0.025, 0.1, 1.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
COMMIT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                  0.25, 1.0)
SNAPSHOT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Histogram:
    """Counts per bucket (not cumulative: one increment per observation) and the sum."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1  # le: value <= bound
        self.sum += value

    def buckets(self) -> list[tuple[str, int]]:
        out, total = [], 0
        for bound, n in zip(self.bounds + (float("inf"),), self.counts):
            total += n
            out.append(("+Inf" if bound == float("inf") else repr(float(bound)), total))
        return out


class RouteStats:
    """One (method, route): answers by status and the latency histogram."""

    __slots__ = ("statuses", "latency")

    def __init__(self) -> None:
        self.statuses: dict[int, int] = {}
        self.latency = Histogram(REQUEST_BUCKETS)


def policy(config: Any) -> tuple[bool, str]:
    """(enabled, token) from `[metrics]` (on, without a token, for a config without it)."""
    p = getattr(config, "metrics", None)
    if p is None:
        return True, ""
    return bool(p.enabled), p.token or ""


class Metrics:
    """The counters of one App and the collector that exports them."""

    def __init__(self, app: Any, token: str = "") -> None:
        self.app = app
        self.engine = app.engine
        self.token = token.encode()
        self.routes: dict[tuple[str, str], RouteStats] = {}
        self.orders: dict[tuple[str, str, str, str], int] = {}
        self.trades: dict[str, int] = {}
        self.commands: dict[str, Histogram] = {}
        self.order_rejections = 0  # the core's ORDERS limit (-1015)
        self.batch = Histogram(BATCH_BUCKETS)
        self.commit = Histogram(COMMIT_BUCKETS)
        self.snapshot = Histogram(SNAPSHOT_BUCKETS)
        self.registry = CollectorRegistry()
        self.registry.register(self)
        ProcessCollector(registry=self.registry)
        engine = self.engine
        # trades are counted from on_command too (the core's `events` of the command
        # are there already): one call per command instead of a live listener more
        engine.on_command = self.on_command
        engine.on_snapshot = self.snapshot.observe
        engine.journal.on_commit = self.on_commit

    # ---------------------------------------------------------------- hot path
    # (Histogram.observe inlined: a method call costs as much as the update)
    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        st = self.routes.get((method, route))
        if st is None:
            st = self.routes[(method, route)] = RouteStats()
        statuses = st.statuses
        statuses[status] = statuses.get(status, 0) + 1
        h = st.latency
        h.counts[bisect_left(h.bounds, seconds)] += 1
        h.sum += seconds

    def on_command(self, cmd: dict[str, Any], outcome: Any, seconds: float) -> None:
        t = cmd["t"]
        h = self.commands.get(t)
        if h is None:
            h = self.commands[t] = Histogram(COMMAND_BUCKETS)
        h.counts[bisect_left(h.bounds, seconds)] += 1
        h.sum += seconds
        if t == "order.new" and type(outcome) is Placed:  # the common case, inline
            o = outcome.order
            key = (o.symbol, o.side, o.type, o.status)
            orders = self.orders
            orders[key] = orders.get(key, 0) + 1
        else:
            count = _ORDER_OUTCOMES.get(t)
            if count is not None:
                count(self, cmd, outcome)
        events = self.engine.exchange.events
        if events:
            trades = self.trades
            for e in events:
                if type(e) is Trade:
                    trades[e.symbol] = trades.get(e.symbol, 0) + 1

    def on_commit(self, records: int, seconds: float) -> None:
        self.batch.observe(records)
        self.commit.observe(seconds)

    # ---------------------------------------------------------------- order outcomes
    def _order(self, symbol: str, side: str, otype: str, outcome: str) -> None:
        key = (symbol, side, otype, outcome)
        self.orders[key] = self.orders.get(key, 0) + 1

    def _placed(self, placed: Any) -> None:
        o = placed.order
        self._order(o.symbol, o.side, o.type, o.status)

    def _rejected(self, cmd: dict[str, Any], legs: list[dict[str, Any]], exc: ApiError) -> None:
        if exc.name == "TOO_MANY_ORDERS":
            self.order_rejections += 1
        for leg in legs:
            self._order(cmd["symbol"], leg.get("side", ""), leg.get("type", ""), "rejected")

    def _new_order(self, cmd: dict[str, Any], outcome: Any) -> None:
        if isinstance(outcome, ApiError):
            self._rejected(cmd, [cmd], outcome)
        else:
            self._placed(outcome)

    def _new_list(self, cmd: dict[str, Any], outcome: Any) -> None:
        if isinstance(outcome, ApiError):
            legs = [cmd[k] for k in ("working", "above", "below") if k in cmd]
            self._rejected(cmd, legs + list(cmd.get("pending", ())), outcome)
        else:
            for placed in outcome.placements:
                self._placed(placed)

    def _cancel_replace(self, cmd: dict[str, Any], outcome: Any) -> None:
        if isinstance(outcome, ApiError):  # nothing done (-1015 DO_NOTHING, not allowed)
            self._rejected(cmd, [cmd["new"]], outcome)
            return
        if outcome.rate_limited is not None:
            self.order_rejections += 1
        new = outcome.new
        if isinstance(new, ApiError):
            self._order(cmd["symbol"], cmd["new"].get("side", ""), cmd["new"].get("type", ""),
                        "rejected")
        elif new is not None:
            self._placed(new)

    # ---------------------------------------------------------------- scrape
    def response(self, headers: dict[str, str]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """GET /metrics: the exposition, or 401 without the configured bearer token."""
        if self.token:
            auth = headers.get("authorization", "")
            given = auth[7:].encode() if auth.startswith("Bearer ") else b""
            if not hmac.compare_digest(given, self.token):
                return 401, [(b"www-authenticate", b"Bearer")], b""
        return 200, [(b"content-type", CONTENT_TYPE_LATEST.encode())], generate_latest(self.registry)

    def collect(self) -> Iterator[Any]:
        yield from self._http()
        yield from self._trading()
        yield from self._durability()
        yield from self._websockets()
        yield from self._rate_limits()

    def _http(self) -> Iterator[Any]:
        requests = CounterMetricFamily(
            "spotex_http_requests", "HTTP requests answered, by route template (other: a "
            "path no route serves), method and status.", labels=["route", "method", "status"])
        latency = HistogramMetricFamily(
            "spotex_http_request_duration_seconds", "Time from a request's arrival to its "
            "response sent, by route template and method.", labels=["route", "method"])
        for (method, route), st in sorted(self.routes.items()):
            for status, n in sorted(st.statuses.items()):
                requests.add_metric([route, method, str(status)], n)
            latency.add_metric([route, method], st.latency.buckets(), st.latency.sum)
        yield requests
        yield latency

    def _trading(self) -> Iterator[Any]:
        orders = CounterMetricFamily(
            "spotex_orders", "Orders placed, by symbol, side, type and outcome: the order's "
            "status at the end of the command that placed it, or rejected.",
            labels=["symbol", "side", "type", "outcome"])
        for labels, n in sorted(self.orders.items()):
            orders.add_metric(list(labels), n)
        yield orders
        trades = CounterMetricFamily("spotex_trades", "Trades executed, by symbol.",
                                     labels=["symbol"])
        for symbol, n in sorted(self.trades.items()):
            trades.add_metric([symbol], n)
        yield trades
        ex = self.engine.exchange
        counts = dict.fromkeys(ex.symbols, 0)
        for acct in ex.accounts.values():
            for symbol, c in acct.sym_counts.items():
                counts[symbol] = counts.get(symbol, 0) + c[0]
        open_orders = GaugeMetricFamily(
            "spotex_open_orders", "Open orders (NEW, PARTIALLY_FILLED, untriggered stops, "
            "pending list legs), by symbol.", labels=["symbol"])
        for symbol, n in sorted(counts.items()):
            open_orders.add_metric([symbol], n)
        yield open_orders
        commands = HistogramMetricFamily(
            "spotex_engine_command_duration_seconds", "Time the core took to apply a live "
            "command (accepted or rejected), by command type.", labels=["command"])
        for t, h in sorted(self.commands.items()):
            commands.add_metric([t], h.buckets(), h.sum)
        yield commands

    def _durability(self) -> Iterator[Any]:
        yield HistogramMetricFamily(
            "spotex_journal_batch_records", "Records per journal group commit.",
            buckets=self.batch.buckets(), sum_value=self.batch.sum)
        yield HistogramMetricFamily(
            "spotex_journal_commit_duration_seconds", "Time of one journal group commit "
            "(its SQLite transaction, fsync included).",
            buckets=self.commit.buckets(), sum_value=self.commit.sum)
        yield GaugeMetricFamily(
            "spotex_journal_up", "1 while the journal commits, 0 once a commit failed "
            "(the engine then refuses commands).", value=_journal_ok(self.engine.journal))
        yield GaugeMetricFamily(
            "spotex_engine_up", "1 while the engine takes commands, 0 while it refuses them "
            "(rebuilding its state, or its journal failed).", value=int(not self.engine.broken))
        yield HistogramMetricFamily(
            "spotex_snapshot_duration_seconds", "Time of a background snapshot, from the "
            "fork to the file promoted.", buckets=self.snapshot.buckets(),
            sum_value=self.snapshot.sum)

    def _websockets(self) -> Iterator[Any]:
        conns = {"market": 0, "user": 0, "api": 0}
        subs = {"market": 0, "user": 0, "api": 0}
        streams = getattr(self.app, "streams", None)
        if streams is not None:
            from .streams.wsapi import ApiConn  # here: spotex.streams imports the app

            keyed = set()
            for per_account in streams.user.subs.values():
                for sub in per_account:
                    if sub.key is None:
                        subs["api"] += 1
                    else:
                        subs["user"] += 1
                        keyed.add(sub.conn)
            for conn in streams.conns:
                kind = "api" if isinstance(conn, ApiConn) else "user" if conn in keyed else "market"
                conns[kind] += 1
            subs["market"] = sum(len(s) for s in streams.hub.subs.values())
        connections = GaugeMetricFamily(
            "spotex_websocket_connections", "Open WebSocket connections, by kind: market "
            "(market streams), user (with a listenKey stream), api (WebSocket API).",
            labels=["kind"])
        subscriptions = GaugeMetricFamily(
            "spotex_websocket_subscriptions", "Live subscriptions, by kind: market (a "
            "connection to a market stream), user (a listenKey stream), api (a WebSocket "
            "API user data subscription).", labels=["kind"])
        for kind in conns:
            connections.add_metric([kind], conns[kind])
            subscriptions.add_metric([kind], subs[kind])
        yield connections
        yield subscriptions

    def _rate_limits(self) -> Iterator[Any]:
        limiter = self.app.limiter
        rejections = CounterMetricFamily(
            "spotex_rate_limit_rejections", "Requests refused by a rate limit, by limit "
            "type (429; BANNED: answered 418 while the IP is banned).", labels=["limit"])
        counts = dict(limiter.rejections)
        counts["ORDERS"] = counts.get("ORDERS", 0) + self.order_rejections
        for limit, n in sorted(counts.items()):
            rejections.add_metric([limit], n)
        yield rejections
        yield CounterMetricFamily("spotex_rate_limit_bans", "IP bans imposed.",
                                  value=limiter.bans)


def _journal_ok(journal: Any) -> int:
    """Read defensively: an explicit health flag if the journal has one, else `_error`."""
    healthy = getattr(journal, "healthy", None)
    if callable(healthy):
        healthy = healthy()
    if healthy is not None:
        return int(bool(healthy))
    return int(getattr(journal, "_error", None) is None)


_ORDER_OUTCOMES = {
    "order.new": Metrics._new_order,
    "list.oco": Metrics._new_list,
    "list.oto": Metrics._new_list,
    "order.cancel_replace": Metrics._cancel_replace,
}
