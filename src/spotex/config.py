"""TOML config -> typed settings. The built-in `default.toml` documents every key."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .core import numbers
from .core.exchange import Settings
from .core.ratelimits import OrderLimit
from .core.symbols import EXCHANGE_FILTERS, SYMBOL_FILTERS, Symbol


@dataclass(frozen=True)
class RateLimit:
    """One published limit (exchangeInfo.rateLimits)."""

    type: str  # REQUEST_WEIGHT | ORDERS | RAW_REQUESTS
    interval: str
    interval_num: int
    limit: int


_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def duration_ms(text: str) -> int:
    """"90s", "2m", "1h", "3d" -> milliseconds."""
    return int(text[:-1]) * _UNIT_MS[text[-1]]


@dataclass(frozen=True)
class LimitPolicy:
    """How limits are enforced (see [limits] in default.toml)."""

    enabled: bool = True
    ban_after: int = 5
    ban_schedule_ms: tuple[int, ...] = tuple(duration_ms(d) for d in ("2m", "10m", "1h", "6h", "1d", "3d"))
    ban_memory_ms: int = duration_ms("3d")
    trusted_proxy_header: str = ""
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)
    max_body_bytes: int = 65_536
    max_query_bytes: int = 8_192


@dataclass(frozen=True)
class StreamPolicy:
    """WebSocket limits (see [streams] in default.toml; streams.md §1.1, §2.1)."""

    connection_lifetime_ms: int = duration_ms("24h")
    ping_interval_ms: int = duration_ms("20s")
    pong_timeout_ms: int = duration_ms("1m")
    messages_per_second: int = 5
    max_streams: int = 1024
    connection_attempts: int = 300
    attempts_window_ms: int = duration_ms("5m")
    listen_key_validity_ms: int = duration_ms("60m")
    max_queued_bytes: int = 4_194_304


@dataclass
class Config:
    settings: Settings
    rate_limits: list[RateLimit]
    demo_balances: dict[str, int] = field(default_factory=dict)
    limits: LimitPolicy = field(default_factory=LimitPolicy)
    streams: StreamPolicy = field(default_factory=StreamPolicy)
    snapshot_every: int = 100_000  # [journal]: commands between automatic snapshots


# filter JSON field names in dataclass argument order
_FILTER_FIELDS = {
    "PRICE_FILTER": ("minPrice", "maxPrice", "tickSize"),
    "PERCENT_PRICE": ("multiplierUp", "multiplierDown", "avgPriceMins"),
    "PERCENT_PRICE_BY_SIDE": ("bidMultiplierUp", "bidMultiplierDown", "askMultiplierUp",
                              "askMultiplierDown", "avgPriceMins"),
    "LOT_SIZE": ("minQty", "maxQty", "stepSize"),
    "MARKET_LOT_SIZE": ("minQty", "maxQty", "stepSize"),
    "MIN_NOTIONAL": ("minNotional", "applyToMarket", "avgPriceMins"),
    "NOTIONAL": ("minNotional", "applyMinToMarket", "maxNotional", "applyMaxToMarket",
                 "avgPriceMins"),
    "ICEBERG_PARTS": ("limit",),
    "MAX_NUM_ORDERS": ("maxNumOrders",),
    "MAX_NUM_ALGO_ORDERS": ("maxNumAlgoOrders",),
    "MAX_NUM_ICEBERG_ORDERS": ("maxNumIcebergOrders",),
    "MAX_POSITION": ("maxPosition",),
    "TRAILING_DELTA": ("minTrailingAboveDelta", "maxTrailingAboveDelta",
                       "minTrailingBelowDelta", "maxTrailingBelowDelta"),
    "EXCHANGE_MAX_NUM_ORDERS": ("maxNumOrders",),
    "EXCHANGE_MAX_NUM_ALGO_ORDERS": ("maxNumAlgoOrders",),
    "EXCHANGE_MAX_NUM_ICEBERG_ORDERS": ("maxNumIcebergOrders",),
}


def _value(v: Any) -> Any:
    return numbers.parse(v) if isinstance(v, str) else v


def _filter(spec: dict[str, Any], table: dict[str, type]) -> Any:
    kind = spec["filterType"]
    if kind not in table:
        raise ValueError(f"unknown filterType {kind!r}")
    return table[kind](*(_value(spec[name]) for name in _FILTER_FIELDS[kind]))


def _rate(spec: dict[str, Any] | None, key: str) -> int | None:
    return numbers.parse(spec[key]) if spec and key in spec else None


def _symbol(spec: dict[str, Any], defaults: dict[str, Any]) -> Symbol:
    s = {**defaults, **spec}
    return Symbol(
        name=s["symbol"], base=s["baseAsset"], quote=s["quoteAsset"],
        filters=[_filter(f, SYMBOL_FILTERS) for f in s.get("filters", [])],
        status=s.get("status", "TRADING"),
        order_types=tuple(s["orderTypes"]),
        iceberg_allowed=s["icebergAllowed"], oco_allowed=s["ocoAllowed"],
        oto_allowed=s["otoAllowed"],
        quote_order_qty_market_allowed=s["quoteOrderQtyMarketAllowed"],
        allow_trailing_stop=s["allowTrailingStop"],
        cancel_replace_allowed=s["cancelReplaceAllowed"],
        is_spot_trading_allowed=s["isSpotTradingAllowed"],
        is_margin_trading_allowed=s["isMarginTradingAllowed"],
        permission_sets=[list(g) for g in s["permissionSets"]],
        default_stp=s["defaultSelfTradePreventionMode"],
        allowed_stp=tuple(s["allowedSelfTradePreventionModes"]),
        maker_commission=_rate(s, "makerCommission"),
        taker_commission=_rate(s, "takerCommission"),
    )


def parse(doc: dict[str, Any]) -> Config:
    ex = doc.get("exchange", {})
    limits = [RateLimit(r["rateLimitType"], r["interval"], r["intervalNum"], r["limit"])
              for r in doc.get("rate_limits", [])]
    policy = _policy(doc.get("limits", {}))
    settings = Settings(
        symbols=[_symbol(s, doc.get("symbol_defaults", {})) for s in doc.get("symbols", [])],
        exchange_filters=[_filter(f, EXCHANGE_FILTERS) for f in doc.get("exchange_filters", [])],
        order_limits=[OrderLimit(r.interval, r.interval_num, r.limit)
                      for r in limits if r.type == "ORDERS" and policy.enabled],
        maker_rate=numbers.parse(ex.get("maker_commission", "0.001")),
        taker_rate=numbers.parse(ex.get("taker_commission", "0.001")),
        avg_price_mins=ex.get("avg_price_mins", 5),
        archive_after_ms=duration_ms(ex.get("archive_after", "90d")),
    )
    demo = {a: numbers.parse(v) for a, v in doc.get("demo", {}).get("balances", {}).items()}
    snapshot_every = doc.get("journal", {}).get("snapshot_every", Config.snapshot_every)
    return Config(settings, limits, demo, policy, _streams(doc.get("streams", {})),
                  snapshot_every)


def _streams(spec: dict[str, Any]) -> StreamPolicy:
    """[streams]: durations as "24h"/"20s", counts as ints; absent keys keep the defaults."""
    out: dict[str, Any] = {}
    for name in StreamPolicy.__dataclass_fields__:
        key = name.removesuffix("_ms")
        if key in spec:
            out[name] = duration_ms(spec[key]) if name.endswith("_ms") else spec[key]
    return StreamPolicy(**out)


def _policy(spec: dict[str, Any]) -> LimitPolicy:
    base = LimitPolicy()
    return LimitPolicy(
        enabled=spec.get("enabled", base.enabled),
        ban_after=spec.get("ban_after", base.ban_after),
        ban_schedule_ms=tuple(duration_ms(d) for d in spec["ban_schedule"])
        if "ban_schedule" in spec else base.ban_schedule_ms,
        ban_memory_ms=duration_ms(spec["ban_memory"]) if "ban_memory" in spec else base.ban_memory_ms,
        trusted_proxy_header=spec.get("trusted_proxy_header", base.trusted_proxy_header).lower(),
        trusted_proxies=tuple(spec.get("trusted_proxies", base.trusted_proxies)),
        max_body_bytes=spec.get("max_body_bytes", base.max_body_bytes),
        max_query_bytes=spec.get("max_query_bytes", base.max_query_bytes),
    )


def default_text() -> str:
    return resources.files("spotex").joinpath("default.toml").read_text()


def load(path: str | None = None) -> Config:
    """Load `path`, or the built-in default config."""
    text = open(path, encoding="utf-8").read() if path else default_text()
    return parse(tomllib.loads(text))
