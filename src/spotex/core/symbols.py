"""Symbols and their filters as typed data (scaled ints), built from the config.

A filter class per Binance filterType; `fields()` gives the exchangeInfo JSON in the
documented field order. The checks themselves live in `filters.py`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .numbers import fmt


@dataclass(frozen=True)
class PriceFilter:
    min_price: int
    max_price: int
    tick_size: int
    kind = "PRICE_FILTER"

    def fields(self) -> dict[str, Any]:
        return {"minPrice": fmt(self.min_price), "maxPrice": fmt(self.max_price),
                "tickSize": fmt(self.tick_size)}


@dataclass(frozen=True)
class PercentPrice:
    multiplier_up: int
    multiplier_down: int
    avg_price_mins: int
    kind = "PERCENT_PRICE"

    def fields(self) -> dict[str, Any]:
        return {"multiplierUp": fmt(self.multiplier_up), "multiplierDown": fmt(self.multiplier_down),
                "avgPriceMins": self.avg_price_mins}


@dataclass(frozen=True)
class PercentPriceBySide:
    bid_multiplier_up: int
    bid_multiplier_down: int
    ask_multiplier_up: int
    ask_multiplier_down: int
    avg_price_mins: int
    kind = "PERCENT_PRICE_BY_SIDE"

    def fields(self) -> dict[str, Any]:
        return {"bidMultiplierUp": fmt(self.bid_multiplier_up),
                "bidMultiplierDown": fmt(self.bid_multiplier_down),
                "askMultiplierUp": fmt(self.ask_multiplier_up),
                "askMultiplierDown": fmt(self.ask_multiplier_down),
                "avgPriceMins": self.avg_price_mins}


@dataclass(frozen=True)
class LotSize:
    min_qty: int
    max_qty: int
    step_size: int
    kind = "LOT_SIZE"

    def fields(self) -> dict[str, Any]:
        return {"minQty": fmt(self.min_qty), "maxQty": fmt(self.max_qty),
                "stepSize": fmt(self.step_size)}


@dataclass(frozen=True)
class MarketLotSize(LotSize):
    kind = "MARKET_LOT_SIZE"


@dataclass(frozen=True)
class MinNotional:
    min_notional: int
    apply_to_market: bool
    avg_price_mins: int
    kind = "MIN_NOTIONAL"

    def fields(self) -> dict[str, Any]:
        return {"minNotional": fmt(self.min_notional), "applyToMarket": self.apply_to_market,
                "avgPriceMins": self.avg_price_mins}


@dataclass(frozen=True)
class Notional:
    min_notional: int
    apply_min_to_market: bool
    max_notional: int
    apply_max_to_market: bool
    avg_price_mins: int
    kind = "NOTIONAL"

    def fields(self) -> dict[str, Any]:
        return {"minNotional": fmt(self.min_notional), "applyMinToMarket": self.apply_min_to_market,
                "maxNotional": fmt(self.max_notional), "applyMaxToMarket": self.apply_max_to_market,
                "avgPriceMins": self.avg_price_mins}


@dataclass(frozen=True)
class IcebergParts:
    limit: int
    kind = "ICEBERG_PARTS"

    def fields(self) -> dict[str, Any]:
        return {"limit": self.limit}


@dataclass(frozen=True)
class MaxNumOrders:
    max_num_orders: int
    kind = "MAX_NUM_ORDERS"

    def fields(self) -> dict[str, Any]:
        return {"maxNumOrders": self.max_num_orders}


@dataclass(frozen=True)
class MaxNumAlgoOrders:
    max_num_algo_orders: int
    kind = "MAX_NUM_ALGO_ORDERS"

    def fields(self) -> dict[str, Any]:
        return {"maxNumAlgoOrders": self.max_num_algo_orders}


@dataclass(frozen=True)
class MaxNumIcebergOrders:
    max_num_iceberg_orders: int
    kind = "MAX_NUM_ICEBERG_ORDERS"

    def fields(self) -> dict[str, Any]:
        return {"maxNumIcebergOrders": self.max_num_iceberg_orders}


@dataclass(frozen=True)
class MaxPosition:
    max_position: int
    kind = "MAX_POSITION"

    def fields(self) -> dict[str, Any]:
        return {"maxPosition": fmt(self.max_position)}


@dataclass(frozen=True)
class TrailingDelta:
    min_above: int
    max_above: int
    min_below: int
    max_below: int
    kind = "TRAILING_DELTA"

    def fields(self) -> dict[str, Any]:
        return {"minTrailingAboveDelta": self.min_above, "maxTrailingAboveDelta": self.max_above,
                "minTrailingBelowDelta": self.min_below, "maxTrailingBelowDelta": self.max_below}


@dataclass(frozen=True)
class ExchangeMaxNumOrders:
    max_num_orders: int
    kind = "EXCHANGE_MAX_NUM_ORDERS"

    def fields(self) -> dict[str, Any]:
        return {"maxNumOrders": self.max_num_orders}


@dataclass(frozen=True)
class ExchangeMaxNumAlgoOrders:
    max_num_algo_orders: int
    kind = "EXCHANGE_MAX_NUM_ALGO_ORDERS"

    def fields(self) -> dict[str, Any]:
        return {"maxNumAlgoOrders": self.max_num_algo_orders}


@dataclass(frozen=True)
class ExchangeMaxNumIcebergOrders:
    max_num_iceberg_orders: int
    kind = "EXCHANGE_MAX_NUM_ICEBERG_ORDERS"

    def fields(self) -> dict[str, Any]:
        return {"maxNumIcebergOrders": self.max_num_iceberg_orders}


SYMBOL_FILTERS = {c.kind: c for c in (
    PriceFilter, PercentPrice, PercentPriceBySide, LotSize, MarketLotSize, MinNotional, Notional,
    IcebergParts, MaxNumOrders, MaxNumAlgoOrders, MaxNumIcebergOrders, MaxPosition, TrailingDelta)}
EXCHANGE_FILTERS = {c.kind: c for c in (
    ExchangeMaxNumOrders, ExchangeMaxNumAlgoOrders, ExchangeMaxNumIcebergOrders)}


def filter_json(f: Any) -> dict[str, Any]:
    return {"filterType": f.kind, **f.fields()}


@dataclass
class Symbol:
    """A market and its rules. Commission rates are scaled by 1e8 (0.001 -> 100000)."""

    name: str
    base: str
    quote: str
    filters: list[Any] = field(default_factory=list)
    status: str = "TRADING"
    base_precision: int = 8
    quote_precision: int = 8
    order_types: tuple[str, ...] = ("LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS",
                                    "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
    iceberg_allowed: bool = True
    oco_allowed: bool = True
    oto_allowed: bool = True
    quote_order_qty_market_allowed: bool = True
    allow_trailing_stop: bool = True
    cancel_replace_allowed: bool = True
    is_spot_trading_allowed: bool = True
    is_margin_trading_allowed: bool = False
    permission_sets: list[list[str]] = field(default_factory=lambda: [["SPOT"]])
    default_stp: str = "EXPIRE_MAKER"
    allowed_stp: tuple[str, ...] = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH")
    maker_commission: int | None = None  # None: the account's rate applies
    taker_commission: int | None = None

    def __post_init__(self) -> None:
        self.by_kind = {f.kind: f for f in self.filters}
        self.permission_key = tuple(tuple(g) for g in self.permission_sets)

    def get(self, kind: str) -> Any:
        return self.by_kind.get(kind)

    @property
    def tick(self) -> int:
        f = self.by_kind.get("PRICE_FILTER")
        return f.tick_size if f else 1

    @property
    def step(self) -> int:
        f = self.by_kind.get("LOT_SIZE")
        return f.step_size if f and f.step_size else 1

    @property
    def market_step(self) -> int:
        f = self.by_kind.get("MARKET_LOT_SIZE")
        if f and f.step_size:
            return max(f.step_size, self.step)
        return self.step
