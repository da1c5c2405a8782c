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


@dataclass
class Config:
    settings: Settings
    rate_limits: list[RateLimit]
    demo_balances: dict[str, int] = field(default_factory=dict)


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
    settings = Settings(
        symbols=[_symbol(s, doc.get("symbol_defaults", {})) for s in doc.get("symbols", [])],
        exchange_filters=[_filter(f, EXCHANGE_FILTERS) for f in doc.get("exchange_filters", [])],
        order_limits=[OrderLimit(r.interval, r.interval_num, r.limit)
                      for r in limits if r.type == "ORDERS"],
        maker_rate=numbers.parse(ex.get("maker_commission", "0.001")),
        taker_rate=numbers.parse(ex.get("taker_commission", "0.001")),
        avg_price_mins=ex.get("avg_price_mins", 5),
    )
    demo = {a: numbers.parse(v) for a, v in doc.get("demo", {}).get("balances", {}).items()}
    return Config(settings, limits, demo)


def default_text() -> str:
    return resources.files("spotex").joinpath("default.toml").read_text()


def load(path: str | None = None) -> Config:
    """Load `path`, or the built-in default config."""
    text = open(path, encoding="utf-8").read() if path else default_text()
    return parse(tomllib.loads(text))
