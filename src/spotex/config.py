"""TOML config -> typed settings. The built-in `default.toml` documents every key.

The file is validated by pydantic models (one per TOML table, unknown keys and loose
types refused) so that a typo or a float price is an error line, not a silent default.
The models are the schema in both directions: `load` reads them into the `Config`
dataclasses the rest of the code uses, `to_toml` and `core_doc` write them back.
A new section is a model field on `ConfigFile` (and, for a policy, an entry in _POLICIES).
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import re
import tomllib
from datetime import datetime, timezone
from dataclasses import astuple, dataclass, field, fields
from importlib import resources
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin

import tomli_w
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator,
                      ValidationError, field_validator, model_validator)
from pydantic_core import InitErrorDetails, PydanticCustomError

from .core import numbers
from .core.exchange import Settings
from .core.ratelimits import OrderLimit
from .core.sim import SimSettings, SimSymbol
from .core.symbols import EXCHANGE_FILTERS, SYMBOL_FILTERS, Symbol


@dataclass(frozen=True)
class RateLimit:
    """One published limit (exchangeInfo.rateLimits)."""

    type: str  # REQUEST_WEIGHT | ORDERS | RAW_REQUESTS
    interval: str
    interval_num: int
    limit: int


_UNIT_MS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1_000}  # largest first
_DURATION_RE = re.compile(r"([0-9]+)([smhd])")


def duration_ms(text: str) -> int:
    """"90s", "2m", "1h", "3d" -> milliseconds."""
    return int(text[:-1]) * _UNIT_MS[text[-1]]


def duration_text(ms: int) -> str:
    """Milliseconds -> the shortest duration string, so equal durations print alike."""
    for unit, size in _UNIT_MS.items():
        if ms % size == 0 and (ms or unit == "s"):
            return f"{ms // size}{unit}"
    raise ValueError(f"{ms} ms is not a whole number of seconds")


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


@dataclass(frozen=True)
class MetricsPolicy:
    """GET /metrics (see [metrics] in default.toml); a non-empty token must come as Bearer."""

    enabled: bool = True
    token: str = ""


@dataclass(frozen=True)
class LogPolicy:
    """What the server logs and how (see [logging] in default.toml)."""

    level: str = "info"  # debug | info | warning | error
    format: str = "text"  # text | json
    access_log: bool = True


@dataclass(frozen=True)
class ClockPolicy:
    """The exchange clock (see [clock] in default.toml and spotex/clock.py)."""

    mode: str = "wall"  # wall | accelerated | manual
    speed: float = 1.0  # accelerated: exchange ms per wall ms
    start_ms: int | None = None  # where exchange time starts on a first start (not wall)
    check_timestamps: bool = True  # signed requests' timestamp against the exchange clock


@dataclass(frozen=True)
class SimPolicy:
    """What the sim's adapter reads of [sim]; the core's part is `Settings.sim`."""

    enabled: bool = True
    history_ms: int = duration_ms("30d")  # synthetic history written on the first start


@dataclass
class Config:
    settings: Settings
    rate_limits: list[RateLimit]
    demo_balances: dict[str, int] = field(default_factory=dict)
    limits: LimitPolicy = field(default_factory=LimitPolicy)
    streams: StreamPolicy = field(default_factory=StreamPolicy)
    snapshot_every: int = 100_000  # [journal]: commands between automatic snapshots
    metrics: MetricsPolicy = field(default_factory=MetricsPolicy)
    logging: LogPolicy = field(default_factory=LogPolicy)
    clock: ClockPolicy = field(default_factory=ClockPolicy)
    sim: SimPolicy = field(default_factory=SimPolicy)


class ConfigError(Exception):
    """Every problem of a config file, one `FILE: key.path: message` line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(*problems)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(self.problems)


# ------------------------------------------------------------------------------ value types
Loc = tuple[Union[str, int], ...]


def _problem(message: str) -> PydanticCustomError:
    """An error whose message is final (passed as context: no brace formatting of values)."""
    return PydanticCustomError("config", "{message}", {"message": message})


def _refuse(problems: dict[Loc, str]) -> None:
    """Raise relation problems, each at its own key (pydantic prefixes the table's path)."""
    if problems:
        raise ValidationError.from_exception_data("config", [
            InitErrorDetails(type=_problem(msg), loc=loc, input=None)
            for loc, msg in problems.items()])


def _kind(value: Any) -> str:
    """A TOML value's type, as a message names it."""
    for tp, name in ((bool, "a boolean"), (int, "an integer"), (float, "a float"),
                     (str, "a string"), (list, "an array"), (dict, "a table")):
        if isinstance(value, tp):
            return name
    return "a date or time"


def canonical(value: int) -> str:
    """Scaled units -> the shortest exact decimal string ("0.01000000" -> "0.01")."""
    text = numbers.fmt(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _decimal(value: Any) -> int:
    """A decimal string -> scaled units. Numbers are refused: a TOML float is inexact."""
    if not isinstance(value, str):
        what = "a number" if isinstance(value, (int, float)) and not isinstance(value, bool) \
            else _kind(value)
        raise _problem(f'must be a decimal string like "0.01", not {what}')
    try:
        return numbers.parse(value)
    except numbers.BadDecimal as e:
        raise _problem(_bad_decimal(value, e.reason)) from None


def _bad_decimal(text: str, reason: str) -> str:
    quoted = json.dumps(text)
    if reason == "precision":
        return f"{quoted} has more than {numbers.DECIMALS} decimals"
    if reason == "overflow":
        return f"{quoted} is too large (at most {canonical(numbers.INT64_MAX)})"
    if text.startswith("-") and _is_decimal(text[1:]):
        return f"must not be negative, not {quoted}"
    return f'{quoted} is not a decimal like "0.01"'


def _is_decimal(text: str) -> bool:
    try:
        numbers.parse(text)
    except numbers.BadDecimal:
        return False
    return True


def _duration(value: Any) -> int:
    """ "90s", "2m", "24h", "3d" -> milliseconds."""
    shape = 'a duration like "90s", "2m", "24h" or "3d"'
    if not isinstance(value, str):
        raise _problem(f"must be {shape}, not {_kind(value)}")
    if not _DURATION_RE.fullmatch(value):
        raise _problem(f"{json.dumps(value)} is not {shape}")
    return duration_ms(value)


def _timestamp(value: Any) -> int:
    """A TOML date-time with its zone, or the same as an ISO string -> ms since the epoch."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _problem(f"{json.dumps(value)} is not a time like "
                           '"2024-03-01T00:00:00Z"') from None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise _problem('must be a time with its zone, like "2024-03-01T00:00:00Z"')
    return int(value.timestamp() * 1000)


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat().replace("+00:00", "Z")


# scaled ints that read and write as exact decimal strings / durations as "24h"
Decimal8 = Annotated[int, PlainValidator(_decimal), PlainSerializer(canonical)]
OptionalDecimal8 = Annotated[Union[int, None], PlainValidator(_decimal),
                             PlainSerializer(lambda v: None if v is None else canonical(v))]
Duration = Annotated[int, PlainValidator(_duration), PlainSerializer(duration_text)]
Timestamp = Annotated[Union[int, None], PlainValidator(_timestamp), PlainSerializer(_iso)]
Count = Annotated[int, Field(ge=0)]
Name = Annotated[str, Field(min_length=1)]

# enums (core/enums.py holds the same values; tests/unit/test_config.py keeps them equal)
StpMode = Literal["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"]
OrderType = Literal["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT",
                    "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"]
SymbolStatus = Literal["PRE_TRADING", "TRADING", "POST_TRADING", "END_OF_DAY", "HALT",
                       "AUCTION_MATCH", "BREAK"]
Interval = Literal["SECOND", "MINUTE", "HOUR", "DAY"]


class _Table(BaseModel):
    """A TOML table: unknown keys and loose types are errors, not surprises."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)  # built on first use


# ---------------------------------------------------------------------------------- filters
def _at_most(lo_key: str, lo: int, hi_key: str, hi: int) -> dict[Loc, str]:
    """lo <= hi, where hi == 0 means "no bound" (Binance's convention)."""
    if hi and lo > hi:
        return {(lo_key,): f"{json.dumps(canonical(lo))} exceeds {hi_key} {json.dumps(canonical(hi))}"}
    return {}


def _power_of_ten(key: str, value: int) -> dict[Loc, str]:
    """Steps are powers of ten (0: no step rule, as filters.md allows)."""
    if value and str(value).rstrip("0") != "1":
        return {(key,): f'{json.dumps(canonical(value))} is not a power of ten like "0.01" '
                        f'(or "0" for none)'}
    return {}


class _Filter(_Table):
    """A filter table; its keys, in order, are the core filter class's arguments.
    `ranges` (min key, max key) and `steps` name the keys whose relation is checked."""

    filterType: str
    ranges: ClassVar[tuple[tuple[str, str], ...]] = ()
    steps: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def keys(cls) -> list[str]:
        return [k for k in cls.model_fields if k != "filterType"]

    def core(self) -> Any:
        return _CORE_FILTERS[self.filterType](*(getattr(self, k) for k in self.keys()))

    @model_validator(mode="after")
    def _coherent(self) -> _Filter:
        problems: dict[Loc, str] = {}
        for lo, hi in self.ranges:
            problems.update(_at_most(lo, getattr(self, lo), hi, getattr(self, hi)))
        for key in self.steps:
            problems.update(_power_of_ten(key, getattr(self, key)))
        _refuse(problems)
        return self


class PriceFilterTable(_Filter):
    filterType: Literal["PRICE_FILTER"]
    minPrice: Decimal8
    maxPrice: Decimal8
    tickSize: Decimal8
    ranges = (("minPrice", "maxPrice"),)
    steps = ("tickSize",)


class PercentPriceTable(_Filter):
    filterType: Literal["PERCENT_PRICE"]
    multiplierUp: Decimal8
    multiplierDown: Decimal8
    avgPriceMins: Count


class PercentPriceBySideTable(_Filter):
    filterType: Literal["PERCENT_PRICE_BY_SIDE"]
    bidMultiplierUp: Decimal8
    bidMultiplierDown: Decimal8
    askMultiplierUp: Decimal8
    askMultiplierDown: Decimal8
    avgPriceMins: Count


class LotSizeTable(_Filter):
    filterType: Literal["LOT_SIZE"]
    minQty: Decimal8
    maxQty: Decimal8
    stepSize: Decimal8
    ranges = (("minQty", "maxQty"),)
    steps = ("stepSize",)


class MarketLotSizeTable(LotSizeTable):
    filterType: Literal["MARKET_LOT_SIZE"]  # type: ignore[assignment]


class MinNotionalTable(_Filter):
    filterType: Literal["MIN_NOTIONAL"]
    minNotional: Decimal8
    applyToMarket: bool
    avgPriceMins: Count


class NotionalTable(_Filter):
    filterType: Literal["NOTIONAL"]
    minNotional: Decimal8
    applyMinToMarket: bool
    maxNotional: Decimal8
    applyMaxToMarket: bool
    avgPriceMins: Count
    ranges = (("minNotional", "maxNotional"),)


class IcebergPartsTable(_Filter):
    filterType: Literal["ICEBERG_PARTS"]
    limit: Count


class MaxNumOrdersTable(_Filter):
    filterType: Literal["MAX_NUM_ORDERS"]
    maxNumOrders: Count


class MaxNumAlgoOrdersTable(_Filter):
    filterType: Literal["MAX_NUM_ALGO_ORDERS"]
    maxNumAlgoOrders: Count


class MaxNumIcebergOrdersTable(_Filter):
    filterType: Literal["MAX_NUM_ICEBERG_ORDERS"]
    maxNumIcebergOrders: Count


class MaxPositionTable(_Filter):
    filterType: Literal["MAX_POSITION"]
    maxPosition: Decimal8


class TrailingDeltaTable(_Filter):
    filterType: Literal["TRAILING_DELTA"]
    minTrailingAboveDelta: Count
    maxTrailingAboveDelta: Count
    minTrailingBelowDelta: Count
    maxTrailingBelowDelta: Count


class ExchangeMaxNumOrdersTable(MaxNumOrdersTable):
    filterType: Literal["EXCHANGE_MAX_NUM_ORDERS"]  # type: ignore[assignment]


class ExchangeMaxNumAlgoOrdersTable(MaxNumAlgoOrdersTable):
    filterType: Literal["EXCHANGE_MAX_NUM_ALGO_ORDERS"]  # type: ignore[assignment]


class ExchangeMaxNumIcebergOrdersTable(MaxNumIcebergOrdersTable):
    filterType: Literal["EXCHANGE_MAX_NUM_ICEBERG_ORDERS"]  # type: ignore[assignment]


_SYMBOL_FILTER_TABLES = (
    PriceFilterTable, PercentPriceTable, PercentPriceBySideTable, LotSizeTable,
    MarketLotSizeTable, MinNotionalTable, NotionalTable, IcebergPartsTable, MaxNumOrdersTable,
    MaxNumAlgoOrdersTable, MaxNumIcebergOrdersTable, MaxPositionTable, TrailingDeltaTable)
_EXCHANGE_FILTER_TABLES = (ExchangeMaxNumOrdersTable, ExchangeMaxNumAlgoOrdersTable,
                           ExchangeMaxNumIcebergOrdersTable)
_FILTER_TABLES: dict[str, type[_Filter]] = {
    get_args(t.model_fields["filterType"].annotation)[0]: t
    for t in _SYMBOL_FILTER_TABLES + _EXCHANGE_FILTER_TABLES}
_CORE_FILTERS = {**SYMBOL_FILTERS, **EXCHANGE_FILTERS}

SymbolFilter = Annotated[Union[_SYMBOL_FILTER_TABLES], Field(discriminator="filterType")]
ExchangeFilter = Annotated[Union[_EXCHANGE_FILTER_TABLES], Field(discriminator="filterType")]


def _filter_table(f: Any) -> _Filter:
    """A core filter -> its table (the inverse of `_Filter.core`)."""
    table = _FILTER_TABLES[f.kind]
    return table.model_construct(filterType=f.kind, **dict(zip(table.keys(), astuple(f))))


# ---------------------------------------------------------------------------------- symbols
_BLANK = Symbol("", "", "")  # the Symbol dataclass's defaults: absent keys take them

# TOML key -> Symbol field
_SYMBOL_KEYS = {
    "symbol": "name", "baseAsset": "base", "quoteAsset": "quote", "filters": "filters",
    "status": "status", "orderTypes": "order_types", "icebergAllowed": "iceberg_allowed",
    "ocoAllowed": "oco_allowed", "otoAllowed": "oto_allowed",
    "quoteOrderQtyMarketAllowed": "quote_order_qty_market_allowed",
    "allowTrailingStop": "allow_trailing_stop", "cancelReplaceAllowed": "cancel_replace_allowed",
    "isSpotTradingAllowed": "is_spot_trading_allowed",
    "isMarginTradingAllowed": "is_margin_trading_allowed", "permissionSets": "permission_sets",
    "defaultSelfTradePreventionMode": "default_stp",
    "allowedSelfTradePreventionModes": "allowed_stp",
    "makerCommission": "maker_commission", "takerCommission": "taker_commission",
}


class SymbolFields(_Table):
    """What [symbol_defaults] may set and a [[symbols]] table may override."""

    status: SymbolStatus = _BLANK.status  # type: ignore[assignment]
    orderTypes: list[OrderType] = list(_BLANK.order_types)  # type: ignore[arg-type]
    icebergAllowed: bool = _BLANK.iceberg_allowed
    ocoAllowed: bool = _BLANK.oco_allowed
    otoAllowed: bool = _BLANK.oto_allowed
    quoteOrderQtyMarketAllowed: bool = _BLANK.quote_order_qty_market_allowed
    allowTrailingStop: bool = _BLANK.allow_trailing_stop
    cancelReplaceAllowed: bool = _BLANK.cancel_replace_allowed
    isSpotTradingAllowed: bool = _BLANK.is_spot_trading_allowed
    isMarginTradingAllowed: bool = _BLANK.is_margin_trading_allowed
    permissionSets: list[list[str]] = _BLANK.permission_sets
    defaultSelfTradePreventionMode: StpMode = _BLANK.default_stp  # type: ignore[assignment]
    allowedSelfTradePreventionModes: list[StpMode] = list(_BLANK.allowed_stp)  # type: ignore[arg-type]
    makerCommission: OptionalDecimal8 = None  # absent: the account's rate applies
    takerCommission: OptionalDecimal8 = None
    filters: list[SymbolFilter] = []

    @field_validator("filters")
    @classmethod
    def _one_each(cls, filters: list[_Filter]) -> list[_Filter]:
        """A symbol has at most one filter of a type (by_kind would hide the others)."""
        first: dict[str, int] = {}
        problems: dict[Loc, str] = {}
        for i, f in enumerate(filters):
            if f.filterType in first:
                problems[(i, "filterType")] = (f"duplicate filterType {f.filterType!r} "
                                               f"(also filters[{first[f.filterType]}])")
            first.setdefault(f.filterType, i)
        _refuse(problems)
        return filters


class _SymbolNames(_Table):
    symbol: Name
    baseAsset: Name
    quoteAsset: Name


class SymbolTable(SymbolFields, _SymbolNames):  # names first when written out
    """One [[symbols]] table."""

    @model_validator(mode="after")
    def _two_assets(self) -> SymbolTable:
        if self.baseAsset == self.quoteAsset:
            _refuse({("quoteAsset",): f"must differ from baseAsset {self.baseAsset!r}"})
        return self

    def core(self) -> Symbol:
        values = {name: getattr(self, key) for key, name in _SYMBOL_KEYS.items()}
        return Symbol(**{**values, "filters": [f.core() for f in self.filters],
                         "order_types": tuple(self.orderTypes),
                         "permission_sets": [list(g) for g in self.permissionSets],
                         "allowed_stp": tuple(self.allowedSelfTradePreventionModes)})

    @classmethod
    def of(cls, s: Symbol) -> SymbolTable:
        """The inverse of `core`: every key explicit, none left to defaults."""
        values = {key: getattr(s, name) for key, name in _SYMBOL_KEYS.items()}
        return cls.model_construct(**{**values, "filters": [_filter_table(f) for f in s.filters],
                                      "orderTypes": list(s.order_types),
                                      "permissionSets": [list(g) for g in s.permission_sets],
                                      "allowedSelfTradePreventionModes": list(s.allowed_stp)})


def _merged(defaults: SymbolFields, spec: SymbolTable) -> SymbolTable:
    """The symbol as it trades: its own keys, else [symbol_defaults], else the defaults."""
    values = {k: getattr(defaults, k) for k in defaults.model_fields_set}
    values.update({k: getattr(spec, k) for k in spec.model_fields_set})
    return SymbolTable.model_construct(**values)


# --------------------------------------------------------------------------------- sections
class ExchangeTable(_Table):
    maker_commission: Decimal8 = Settings.maker_rate
    taker_commission: Decimal8 = Settings.taker_rate
    avg_price_mins: Count = Settings.avg_price_mins
    archive_after: Duration = Settings.archive_after_ms


class OrderLimitTable(_Table):
    interval: Interval
    intervalNum: Annotated[int, Field(ge=1)]
    limit: Count


class _RateLimitType(_Table):
    rateLimitType: Literal["REQUEST_WEIGHT", "ORDERS", "RAW_REQUESTS"]


class RateLimitTable(OrderLimitTable, _RateLimitType):  # rateLimitType first when written
    """One [[rate_limits]] table."""


class LimitsTable(_Table):
    enabled: bool = LimitPolicy.enabled
    ban_after: Count = LimitPolicy.ban_after
    ban_schedule: Annotated[list[Duration], Field(min_length=1)] = list(LimitPolicy.ban_schedule_ms)
    ban_memory: Duration = LimitPolicy.ban_memory_ms
    trusted_proxy_header: Annotated[str, AfterValidator(str.lower)] = ""  # a header name
    trusted_proxies: list[str] = list(LimitPolicy.trusted_proxies)
    max_body_bytes: Count = LimitPolicy.max_body_bytes
    max_query_bytes: Count = LimitPolicy.max_query_bytes


class JournalTable(_Table):
    snapshot_every: Annotated[int, Field(ge=1)] = Config.snapshot_every


class StreamsTable(_Table):
    connection_lifetime: Duration = StreamPolicy.connection_lifetime_ms
    ping_interval: Duration = StreamPolicy.ping_interval_ms
    pong_timeout: Duration = StreamPolicy.pong_timeout_ms
    messages_per_second: Count = StreamPolicy.messages_per_second
    max_streams: Count = StreamPolicy.max_streams
    connection_attempts: Count = StreamPolicy.connection_attempts
    attempts_window: Duration = StreamPolicy.attempts_window_ms
    listen_key_validity: Duration = StreamPolicy.listen_key_validity_ms
    max_queued_bytes: Count = StreamPolicy.max_queued_bytes


class MetricsTable(_Table):
    enabled: bool = MetricsPolicy.enabled
    token: str = MetricsPolicy.token


class LoggingTable(_Table):
    level: Literal["debug", "info", "warning", "error"] = LogPolicy.level  # type: ignore[assignment]
    format: Literal["text", "json"] = LogPolicy.format  # type: ignore[assignment]
    access_log: bool = LogPolicy.access_log


class ClockTable(_Table):
    mode: Literal["wall", "accelerated", "manual"] = ClockPolicy.mode  # type: ignore[assignment]
    speed: Annotated[float, Field(gt=0)] = ClockPolicy.speed
    start: Timestamp = None
    check_timestamps: bool = ClockPolicy.check_timestamps


_SIM_DEFAULT = SimSymbol("", 1)


class SimSymbolTable(_Table):
    """[sim.symbols.X]: how one symbol's simulated market behaves (core/sim.py)."""

    price: Decimal8
    volatility: Decimal8 = _SIM_DEFAULT.volatility
    drift: Decimal8 = _SIM_DEFAULT.drift
    jumps_per_day: Decimal8 = _SIM_DEFAULT.jumps_per_day
    jump_size: Decimal8 = _SIM_DEFAULT.jump_size
    spread: Decimal8 = _SIM_DEFAULT.spread
    levels: Annotated[int, Field(ge=0, le=100)] = _SIM_DEFAULT.levels
    level_gap: Decimal8 = _SIM_DEFAULT.level_gap
    level_notional: Decimal8 = _SIM_DEFAULT.level_notional
    depth_growth: Decimal8 = _SIM_DEFAULT.depth_growth
    inventory_limit: Decimal8 = _SIM_DEFAULT.inventory_limit
    takers_per_minute: Decimal8 = _SIM_DEFAULT.takers_per_minute
    taker_min_notional: Decimal8 = _SIM_DEFAULT.taker_min_notional
    taker_max_notional: Decimal8 = _SIM_DEFAULT.taker_max_notional

    @model_validator(mode="after")
    def _sane(self) -> SimSymbolTable:
        _refuse({**({("price",): "must be above 0"} if self.price <= 0 else {}),
                 **_at_most("taker_min_notional", self.taker_min_notional,
                            "taker_max_notional", self.taker_max_notional)})
        return self

    def core(self, name: str) -> SimSymbol:
        return SimSymbol(name, **{k: getattr(self, k) for k in type(self).model_fields})

    @classmethod
    def of(cls, s: SimSymbol) -> SimSymbolTable:
        return cls.model_construct(**{f.name: getattr(s, f.name) for f in fields(s)
                                      if f.name != "symbol"})


class SimCore(_Table):
    """What of [sim] the core runs on (journaled with the rest of the core's settings)."""

    seed: Count = SimSettings.seed
    step: Annotated[int, PlainValidator(_duration), PlainSerializer(duration_text),
                    Field(ge=10)] = SimSettings.step_ms
    symbols: dict[str, SimSymbolTable] = {}

    def core(self, order: list[str]) -> SimSettings:
        """Symbols in the order of the config's [[symbols]]."""
        return SimSettings(self.seed, self.step, tuple(self.symbols[n].core(n) for n in order
                                                       if n in self.symbols))

    @classmethod
    def of(cls, s: SimSettings) -> SimCore:
        return cls.model_construct(seed=s.seed, step=s.step_ms,
                                   symbols={x.symbol: SimSymbolTable.of(x) for x in s.symbols})


class SimTable(SimCore):
    """[sim]: the simulated market makers and takers."""

    enabled: bool = SimPolicy.enabled
    history: Duration = SimPolicy.history_ms


class DemoTable(_Table):
    balances: dict[str, Decimal8] = {}


class ConfigFile(_Table):
    """The whole file, one field per top-level table (in the order `to_toml` writes them)."""

    exchange: ExchangeTable = ExchangeTable()
    rate_limits: list[RateLimitTable] = []
    limits: LimitsTable = LimitsTable()
    journal: JournalTable = JournalTable()
    streams: StreamsTable = StreamsTable()
    metrics: MetricsTable = MetricsTable()
    logging: LoggingTable = LoggingTable()
    clock: ClockTable = ClockTable()
    sim: SimTable = SimTable()
    exchange_filters: list[ExchangeFilter] = []
    demo: DemoTable = DemoTable()
    symbol_defaults: SymbolFields = SymbolFields()
    symbols: Annotated[list[SymbolTable], Field(min_length=1)]

    def merged_symbols(self) -> list[SymbolTable]:
        return [_merged(self.symbol_defaults, s) for s in self.symbols]

    @model_validator(mode="after")
    def _relations(self) -> ConfigFile:
        """Checks across tables; they run once every table is well-formed."""
        _refuse({**self._unique_names(), **self._stp_defaults(), **self._demo_assets(),
                 **self._sim_symbols()})
        return self

    def _sim_symbols(self) -> dict[Loc, str]:
        names = [s.symbol for s in self.symbols]
        return {("sim", "symbols", n): "not a symbol of the config"
                + _suggest(n, names) for n in self.sim.symbols if n not in names}

    def _unique_names(self) -> dict[Loc, str]:
        first: dict[str, int] = {}
        problems: dict[Loc, str] = {}
        for i, s in enumerate(self.symbols):
            if s.symbol in first:
                problems[("symbols", i, "symbol")] = (f"duplicate symbol {s.symbol!r} "
                                                      f"(also symbols[{first[s.symbol]}])")
            first.setdefault(s.symbol, i)
        return problems

    def _stp_defaults(self) -> dict[Loc, str]:
        """The default STP mode must be allowed, reported where the symbol's modes are set."""
        keys = {"defaultSelfTradePreventionMode", "allowedSelfTradePreventionModes"}
        problems: dict[Loc, str] = {}
        for i, (spec, s) in enumerate(zip(self.symbols, self.merged_symbols())):
            mode, allowed = s.defaultSelfTradePreventionMode, s.allowedSelfTradePreventionModes
            if mode not in allowed:
                where: Loc = ("symbols", i) if keys & spec.model_fields_set else ("symbol_defaults",)
                problems[where + ("defaultSelfTradePreventionMode",)] = (
                    f"{mode!r} is not in allowedSelfTradePreventionModes ({', '.join(allowed)})")
        return problems

    def _demo_assets(self) -> dict[Loc, str]:
        assets = {a for s in self.symbols for a in (s.baseAsset, s.quoteAsset)}
        return {("demo", "balances", a): f"no symbol trades {a!r}"
                for a in self.demo.balances if a not in assets}


class CoreDoc(_Table):
    """Exactly what the core's Settings is built from, as plain JSON (see `core_doc`)."""

    exchange: ExchangeTable
    exchange_filters: list[ExchangeFilter]
    order_limits: list[OrderLimitTable]
    symbols: list[SymbolTable]
    sim: Union[SimCore, None] = None


# policy dataclass per section whose keys map one to one (`x` fills `x` or `x_ms`)
_POLICIES: dict[str, type] = {"limits": LimitPolicy, "streams": StreamPolicy,
                              "metrics": MetricsPolicy, "logging": LogPolicy,
                              "clock": ClockPolicy}
_P = TypeVar("_P")
_M = TypeVar("_M", bound=_Table)


def _policy(table: _Table, cls: type[_P]) -> _P:
    return cls(**{f.name: _frozen(getattr(table, f.name.removesuffix("_ms")))
                  for f in fields(cls)})  # type: ignore[arg-type]


def _policy_table(policy: Any, table: type[_M]) -> _M:
    return table.model_construct(**{f.name.removesuffix("_ms"): _thawed(getattr(policy, f.name))
                                    for f in fields(policy)})


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _thawed(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# ------------------------------------------------------------------------------ conversions
def _settings(exchange: ExchangeTable, symbols: list[SymbolTable], exchange_filters: list[_Filter],
              order_limits: list[OrderLimit], sim: SimCore | None = None) -> Settings:
    sim_settings = sim.core([s.symbol for s in symbols]) if sim is not None else None
    return Settings(
        sim=sim_settings if sim_settings and sim_settings.symbols else None,
        symbols=[s.core() for s in symbols],
        exchange_filters=[f.core() for f in exchange_filters],
        order_limits=order_limits,
        maker_rate=exchange.maker_commission,
        taker_rate=exchange.taker_commission,
        avg_price_mins=exchange.avg_price_mins,
        archive_after_ms=exchange.archive_after,
    )


def _exchange_table(s: Settings) -> ExchangeTable:
    return ExchangeTable.model_construct(maker_commission=s.maker_rate, taker_commission=s.taker_rate,
                                         avg_price_mins=s.avg_price_mins,
                                         archive_after=s.archive_after_ms)


def _config(file: ConfigFile) -> Config:
    policies = {name: _policy(getattr(file, name), cls) for name, cls in _POLICIES.items()}
    limits = [RateLimit(r.rateLimitType, r.interval, r.intervalNum, r.limit)
              for r in file.rate_limits]
    enforced = [OrderLimit(r.interval, r.interval_num, r.limit)
                for r in limits if r.type == "ORDERS" and policies["limits"].enabled]
    settings = _settings(file.exchange, file.merged_symbols(), file.exchange_filters, enforced,
                         file.sim if file.sim.enabled else None)
    return Config(settings, limits, dict(file.demo.balances),
                  snapshot_every=file.journal.snapshot_every,
                  sim=SimPolicy(file.sim.enabled, file.sim.history), **policies)


def _validated(model: type[_M], doc: Any, source: str) -> _M:
    try:
        return model.model_validate(doc)
    except ValidationError as e:
        raise ConfigError([f"{source}: {_path(loc)}: {msg}" for loc, msg in map(_describe, e.errors())]) \
            from None


def parse(doc: dict[str, Any], source: str = "config") -> Config:
    """A TOML document (as tomllib reads it) -> Config; ConfigError lists every problem."""
    return _config(_validated(ConfigFile, doc, source))


def to_toml(cfg: Config) -> str:
    """The effective config as TOML: symbols with their defaults merged, every key explicit."""
    s = cfg.settings
    file = ConfigFile.model_construct(
        exchange=_exchange_table(s),
        rate_limits=[RateLimitTable.model_construct(rateLimitType=r.type, interval=r.interval,
                                                    intervalNum=r.interval_num, limit=r.limit)
                     for r in cfg.rate_limits],
        journal=JournalTable.model_construct(snapshot_every=cfg.snapshot_every),
        exchange_filters=[_filter_table(f) for f in s.exchange_filters],
        demo=DemoTable.model_construct(balances=dict(cfg.demo_balances)),
        symbols=[SymbolTable.of(x) for x in s.symbols],
        sim=_sim_table(cfg),
        **{name: _policy_table(getattr(cfg, name), ConfigFile.model_fields[name].annotation)
           for name in _POLICIES})
    return tomli_w.dumps(file.model_dump(mode="json", exclude_none=True,
                                         exclude={"symbol_defaults"}))


def _sim_table(cfg: Config) -> SimTable:
    core = SimCore.of(cfg.settings.sim) if cfg.settings.sim else SimCore.model_construct(
        seed=SimSettings.seed, step=SimSettings.step_ms, symbols={})
    return SimTable.model_construct(**dict(core), enabled=cfg.sim.enabled,
                                    history=cfg.sim.history_ms)


def core_doc(cfg: Config) -> dict[str, Any]:
    """What the core's Settings is built from, as canonical JSON-ready data (the journal
    records it): equal Settings give equal dicts, however the TOML was written."""
    s = cfg.settings
    doc = CoreDoc.model_construct(
        exchange=_exchange_table(s),
        exchange_filters=[_filter_table(f) for f in s.exchange_filters],
        order_limits=[OrderLimitTable.model_construct(interval=o.interval, intervalNum=o.interval_num,
                                                      limit=o.limit) for o in s.order_limits],
        symbols=[SymbolTable.of(x) for x in s.symbols],
        sim=SimCore.of(s.sim) if s.sim else None)
    return doc.model_dump(mode="json", exclude_none=True)


def settings_from_doc(doc: dict[str, Any]) -> Settings:
    """The inverse of `core_doc`: settings_from_doc(core_doc(cfg)) == cfg.settings."""
    d = _validated(CoreDoc, doc, "core doc")
    return _settings(d.exchange, d.symbols, d.exchange_filters,
                     [OrderLimit(o.interval, o.intervalNum, o.limit) for o in d.order_limits],
                     d.sim)


# --------------------------------------------------------------------------- error messages
_TYPE_WORDS = {"int_type": "an integer", "bool_type": "true or false", "string_type": "a string",
               "list_type": "an array", "dict_type": "a table", "model_type": "a table",
               "model_attributes_type": "a table"}


def _describe(e: Any) -> tuple[Loc, str]:
    """A pydantic error -> (where, what) in the words of a TOML file."""
    loc, kind, ctx, value = tuple(e["loc"]), e["type"], e.get("ctx") or {}, e["input"]
    if kind == "extra_forbidden":
        what = "unknown table" if isinstance(value, dict) else "unknown key"
        return loc, what + _suggest(str(loc[-1]), _keys_at(loc[:-1]))
    if kind == "union_tag_invalid":
        return loc + ("filterType",), (f"unknown filterType {ctx['tag']!r}"
                                       + _suggest(ctx["tag"], _quoted(ctx["expected_tags"])))
    if kind in ("missing", "union_tag_not_found"):
        return loc + (("filterType",) if kind == "union_tag_not_found" else ()), "required"
    if kind == "literal_error":
        allowed = _quoted(ctx["expected"])
        return loc, f"must be one of {', '.join(allowed)}, not {value!r}" + _suggest(str(value), allowed)
    if kind in _TYPE_WORDS:
        return loc, f"must be {_TYPE_WORDS[kind]}, not {_kind(value)}"
    if kind == "greater_than_equal":
        return loc, "must not be negative" if ctx["ge"] == 0 else f"must be at least {ctx['ge']}"
    if kind in ("too_short", "string_too_short"):
        return loc, "must not be empty"
    return loc, e["msg"]  # our own problems carry their final message


def _quoted(text: str) -> list[str]:
    """pydantic lists expected values as "'A', 'B' or 'C'"."""
    return re.findall(r"'([^']*)'", text)


def _suggest(word: str, choices: list[str]) -> str:
    by_lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""


def _path(loc: Loc) -> str:
    """("symbols", 2, "filters", 0, "PRICE_FILTER", "tickSize") -> symbols[2].filters[0].tickSize
    (the filter's tag, which pydantic puts in the path, is dropped)."""
    out = ""
    for prev, part in zip((None,) + loc, loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif not (isinstance(prev, int) and part in _FILTER_TABLES):
            key = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else json.dumps(part)
            out += f".{key}" if out else key
    return out or "(file)"


def _keys_at(loc: Loc) -> list[str]:
    """The keys the schema allows in the table at `loc` (for "did you mean")."""
    tp: Any = ConfigFile
    for part in loc:
        while get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        if isinstance(part, int) and get_origin(tp) is list:
            tp = get_args(tp)[0]
        elif isinstance(tp, type) and issubclass(tp, BaseModel) and part in tp.model_fields:
            tp = tp.model_fields[part].annotation
        elif part in _FILTER_TABLES:  # a member of a filter union, named by its tag
            tp = _FILTER_TABLES[part]
        else:
            return []
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


# -------------------------------------------------------------------------- serve flags
def parse_time(text: str) -> int:
    """An ISO time with its zone ("2024-03-01T00:00:00Z") -> ms; ConfigError if not."""
    try:
        return _timestamp(text)
    except PydanticCustomError as e:
        raise ConfigError([f"--start: {e.context['message'] if e.context else e}"]) from None


def with_flags(cfg: Config, *, sim: bool | None = None, seed: int | None = None,
               clock: str | None = None, speed: float | None = None,
               start_ms: int | None = None) -> Config:
    """`cfg` with the `serve` flags that override it (None: keep the config's)."""
    out = dataclasses.replace(cfg)
    if sim is False:
        out.settings = dataclasses.replace(out.settings, sim=None)
        out.sim = dataclasses.replace(out.sim, enabled=False)
    if seed is not None and out.settings.sim is not None:
        out.settings = dataclasses.replace(
            out.settings, sim=dataclasses.replace(out.settings.sim, seed=seed))
    changes = {k: v for k, v in (("mode", clock), ("speed", speed), ("start_ms", start_ms))
               if v is not None}
    out.clock = dataclasses.replace(out.clock, **changes)
    return out


# ------------------------------------------------------------------------------------ files
def default_text() -> str:
    return resources.files("spotex").joinpath("default.toml").read_text()


def load(path: str | None = None) -> Config:
    """Load `path`, or the built-in default config. Raises ConfigError, never a traceback."""
    source = path or "default.toml"
    try:
        text = open(path, encoding="utf-8").read() if path else default_text()
    except OSError as e:
        raise ConfigError([f"{source}: cannot read: {e.strerror or e}"]) from None
    except UnicodeDecodeError as e:
        raise ConfigError([f"{source}: not UTF-8 text ({e.reason} at byte {e.start})"]) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{source}: invalid TOML: {e}"]) from None
    return parse(doc, source)
