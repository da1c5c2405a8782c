"""The config schema (spotex/config.py): every refused case as its exact error line, the
built-in default loading to the same Config as the parser before the schema, and the
round trips of to_toml and core_doc."""
from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any, get_args

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spotex import config
from spotex.config import (Config, ConfigError, LimitPolicy, LogPolicy, MetricsPolicy, RateLimit,
                           StreamPolicy, core_doc, duration_ms, load, parse, settings_from_doc,
                           to_toml)
from spotex.core import enums, numbers
from spotex.core.exchange import Settings
from spotex.core.ratelimits import INTERVAL_MS, OrderLimit
from spotex.core.symbols import EXCHANGE_FILTERS, SYMBOL_FILTERS, Symbol

SYMBOL = '''
[[symbols]]
symbol = "BTCUSDT"
baseAsset = "BTC"
quoteAsset = "USDT"
'''


def problems(tmp_path: Path, text: str) -> list[str]:
    """The error lines of `text` as a file (which must not load)."""
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load(str(path))
    return err.value.problems


def refused(tmp_path: Path, text: str) -> str:
    """The one error line of `text`, without the file name."""
    lines = problems(tmp_path, text)
    prefix = f"{tmp_path / 'c.toml'}: "
    assert len(lines) == 1 and lines[0].startswith(prefix), lines
    return lines[0][len(prefix):]


def with_filters(*filters: str) -> str:
    return SYMBOL + "filters = [\n" + "".join(f"  {{ {f} }},\n" for f in filters) + "]\n"


LOT = 'filterType = "LOT_SIZE", minQty = "0.001", maxQty = "100", stepSize = "0.001"'
PRICE = 'filterType = "PRICE_FILTER", minPrice = "0.01", maxPrice = "1000", tickSize = "0.01"'


# ---------------------------------------------------------------------------- refused cases
@pytest.mark.parametrize("text, line", [
    # unknown keys and tables, with the likely intended one
    ('[exchange]\nmaker_comission = "0.001"\n' + SYMBOL,
     "exchange.maker_comission: unknown key (did you mean 'maker_commission'?)"),
    ("[limit]\nenabled = true\n" + SYMBOL, "limit: unknown table (did you mean 'limits'?)"),
    (SYMBOL + "colour = 1\n", "symbols[0].colour: unknown key"),
    # wrong types
    ("[exchange]\navg_price_mins = \"5\"\n" + SYMBOL,
     "exchange.avg_price_mins: must be an integer, not a string"),
    (SYMBOL + "icebergAllowed = 1\n", "symbols[0].icebergAllowed: must be true or false, not an integer"),
    (SYMBOL + 'orderTypes = "LIMIT"\n', "symbols[0].orderTypes: must be an array, not a string"),
    ('exchange = "x"\n' + SYMBOL, "exchange: must be a table, not a string"),
    ("[journal]\nsnapshot_every = 10.0\n" + SYMBOL,
     "journal.snapshot_every: must be an integer, not a float"),
    # numbers where an exact decimal string is required
    (with_filters(PRICE.replace('minPrice = "0.01"', "minPrice = 1")),
     'symbols[0].filters[0].minPrice: must be a decimal string like "0.01", not a number'),
    (with_filters(PRICE.replace('tickSize = "0.01"', "tickSize = 0.01")),
     'symbols[0].filters[0].tickSize: must be a decimal string like "0.01", not a number'),
    ("[exchange]\ntaker_commission = 0\n" + SYMBOL,
     'exchange.taker_commission: must be a decimal string like "0.01", not a number'),
    (SYMBOL + "makerCommission = true\n",
     'symbols[0].makerCommission: must be a decimal string like "0.01", not a boolean'),
    # bad decimals, named by their key
    (SYMBOL + 'makerCommission = "1e-5"\n',
     'symbols[0].makerCommission: "1e-5" is not a decimal like "0.01"'),
    ("[exchange]\nmaker_commission = \"0.000000001\"\n" + SYMBOL,
     'exchange.maker_commission: "0.000000001" has more than 8 decimals'),
    ('[demo.balances]\nBTC = "100000000000"\n' + SYMBOL,
     'demo.balances.BTC: "100000000000" is too large (at most 92233720368.54775807)'),
    # negative amounts and counts
    ('[demo.balances]\nBTC = "-1"\n' + SYMBOL, 'demo.balances.BTC: must not be negative, not "-1"'),
    ("[limits]\nban_after = -1\n" + SYMBOL, "limits.ban_after: must not be negative"),
    (with_filters('filterType = "ICEBERG_PARTS", limit = -3'),
     "symbols[0].filters[0].limit: must not be negative"),
    ('[[rate_limits]]\nrateLimitType = "ORDERS"\ninterval = "SECOND"\nintervalNum = 0\nlimit = 1\n'
     + SYMBOL, "rate_limits[0].intervalNum: must be at least 1"),
    ("[journal]\nsnapshot_every = 0\n" + SYMBOL, "journal.snapshot_every: must be at least 1"),
    # enums
    (SYMBOL + 'defaultSelfTradePreventionMode = "EXPIRE_MAKERS"\n',
     "symbols[0].defaultSelfTradePreventionMode: must be one of NONE, EXPIRE_TAKER, EXPIRE_MAKER, "
     "EXPIRE_BOTH, not 'EXPIRE_MAKERS' (did you mean 'EXPIRE_MAKER'?)"),
    (SYMBOL + 'allowedSelfTradePreventionModes = ["NONE", "EXPIRE_BOTHS"]\n',
     "symbols[0].allowedSelfTradePreventionModes[1]: must be one of NONE, EXPIRE_TAKER, "
     "EXPIRE_MAKER, EXPIRE_BOTH, not 'EXPIRE_BOTHS' (did you mean 'EXPIRE_BOTH'?)"),
    (SYMBOL + 'status = "TRADNG"\n',
     "symbols[0].status: must be one of PRE_TRADING, TRADING, POST_TRADING, END_OF_DAY, HALT, "
     "AUCTION_MATCH, BREAK, not 'TRADNG' (did you mean 'TRADING'?)"),
    (SYMBOL + 'orderTypes = ["LIMIT", "STOP"]\n',
     "symbols[0].orderTypes[1]: must be one of LIMIT, LIMIT_MAKER, MARKET, STOP_LOSS, "
     "STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT, not 'STOP' (did you mean 'STOP_LOSS'?)"),
    (with_filters('filterType = "PRICE_FILTR"'),
     "symbols[0].filters[0].filterType: unknown filterType 'PRICE_FILTR' (did you mean 'PRICE_FILTER'?)"),
    ('[[exchange_filters]]\nfilterType = "MAX_NUM_ORDERS"\nmaxNumOrders = 1\n' + SYMBOL,
     "exchange_filters[0].filterType: unknown filterType 'MAX_NUM_ORDERS' "
     "(did you mean 'EXCHANGE_MAX_NUM_ORDERS'?)"),
    (with_filters('minQty = "1"'), "symbols[0].filters[0].filterType: required"),
    ('[[rate_limits]]\nrateLimitType = "ORDER"\ninterval = "SECOND"\nintervalNum = 1\nlimit = 1\n'
     + SYMBOL, "rate_limits[0].rateLimitType: must be one of REQUEST_WEIGHT, ORDERS, RAW_REQUESTS, "
               "not 'ORDER' (did you mean 'ORDERS'?)"),
    ('[[rate_limits]]\nrateLimitType = "ORDERS"\ninterval = "WEEK"\nintervalNum = 1\nlimit = 1\n'
     + SYMBOL, "rate_limits[0].interval: must be one of SECOND, MINUTE, HOUR, DAY, not 'WEEK'"),
    ('[logging]\nlevel = "warn"\n' + SYMBOL,
     "logging.level: must be one of debug, info, warning, error, not 'warn' (did you mean 'warning'?)"),
    ('[logging]\nformat = "JSON"\n' + SYMBOL,
     "logging.format: must be one of text, json, not 'JSON' (did you mean 'json'?)"),
    # the default STP mode must be allowed
    (SYMBOL + 'allowedSelfTradePreventionModes = ["NONE", "EXPIRE_TAKER"]\n',
     "symbols[0].defaultSelfTradePreventionMode: 'EXPIRE_MAKER' is not in "
     "allowedSelfTradePreventionModes (NONE, EXPIRE_TAKER)"),
    ('[symbol_defaults]\ndefaultSelfTradePreventionMode = "EXPIRE_BOTH"\n'
     'allowedSelfTradePreventionModes = ["NONE"]\n' + SYMBOL + SYMBOL.replace("BTCUSDT", "ETHUSDT"),
     "symbol_defaults.defaultSelfTradePreventionMode: 'EXPIRE_BOTH' is not in "
     "allowedSelfTradePreventionModes (NONE)"),
    # symbols
    ("", "symbols: required"),
    ("symbols = []\n", "symbols: must not be empty"),
    (SYMBOL + SYMBOL, "symbols[1].symbol: duplicate symbol 'BTCUSDT' (also symbols[0])"),
    (SYMBOL.replace('"USDT"', '"BTC"'), "symbols[0].quoteAsset: must differ from baseAsset 'BTC'"),
    (SYMBOL.replace('"BTCUSDT"', '""'), "symbols[0].symbol: must not be empty"),
    (SYMBOL.replace('quoteAsset = "USDT"\n', ""), "symbols[0].quoteAsset: required"),
    # filters
    (with_filters(LOT, PRICE, LOT.replace('"100"', '"10"')),
     "symbols[0].filters[2].filterType: duplicate filterType 'LOT_SIZE' (also filters[0])"),
    (with_filters('filterType = "LOT_SIZE", maxQty = "9000", stepSize = "0.001"'),
     "symbols[0].filters[0].minQty: required"),
    (with_filters(LOT.replace('minQty = "0.001"', 'minQty = "1000"')),
     'symbols[0].filters[0].minQty: "1000" exceeds maxQty "100"'),
    (with_filters(LOT.replace("LOT_SIZE", "MARKET_LOT_SIZE").replace('"0.001", maxQty', '"200", maxQty')),
     'symbols[0].filters[0].minQty: "200" exceeds maxQty "100"'),
    (with_filters(PRICE.replace('minPrice = "0.01"', 'minPrice = "2000"')),
     'symbols[0].filters[0].minPrice: "2000" exceeds maxPrice "1000"'),
    (with_filters(PRICE.replace('tickSize = "0.01"', 'tickSize = "0.05"')),
     'symbols[0].filters[0].tickSize: "0.05" is not a power of ten like "0.01" (or "0" for none)'),
    (with_filters(LOT.replace('stepSize = "0.001"', 'stepSize = "0.0025"')),
     'symbols[0].filters[0].stepSize: "0.0025" is not a power of ten like "0.01" (or "0" for none)'),
    (with_filters('filterType = "NOTIONAL", minNotional = "10", applyMinToMarket = true, '
                  'maxNotional = "5", applyMaxToMarket = false, avgPriceMins = 5'),
     'symbols[0].filters[0].minNotional: "10" exceeds maxNotional "5"'),
    # durations
    ('[exchange]\narchive_after = "2 m"\n' + SYMBOL,
     'exchange.archive_after: "2 m" is not a duration like "90s", "2m", "24h" or "3d"'),
    ('[streams]\nping_interval = "20S"\n' + SYMBOL,
     'streams.ping_interval: "20S" is not a duration like "90s", "2m", "24h" or "3d"'),
    ("[streams]\npong_timeout = 60\n" + SYMBOL,
     'streams.pong_timeout: must be a duration like "90s", "2m", "24h" or "3d", not an integer'),
    ('[limits]\nban_schedule = ["2m", "1w"]\n' + SYMBOL,
     'limits.ban_schedule[1]: "1w" is not a duration like "90s", "2m", "24h" or "3d"'),
    ("[limits]\nban_schedule = []\n" + SYMBOL, "limits.ban_schedule: must not be empty"),
    # demo balances
    ('[demo.balances]\nXRP = "10"\n' + SYMBOL, "demo.balances.XRP: no symbol trades 'XRP'"),
    ('[demo.balances]\n"my coin" = "10"\n' + SYMBOL,
     "demo.balances.\"my coin\": no symbol trades 'my coin'"),
])
def test_refused(tmp_path: Path, text: str, line: str):
    assert refused(tmp_path, text) == line


@pytest.mark.parametrize("text", [
    with_filters(LOT.replace("LOT_SIZE", "MARKET_LOT_SIZE").replace('stepSize = "0.001"', 'stepSize = "0"')),
    with_filters(LOT.replace('maxQty = "100"', 'maxQty = "0"')),  # 0: no maximum
    with_filters(PRICE.replace('maxPrice = "1000"', 'maxPrice = "0"')),
    # filters.md: each PRICE_FILTER rule is disabled when its field is 0 (core tests use it)
    with_filters('filterType = "PRICE_FILTER", minPrice = "0", maxPrice = "0", tickSize = "0"'),
    with_filters('filterType = "NOTIONAL", minNotional = "10", applyMinToMarket = true, '
                 'maxNotional = "0", applyMaxToMarket = false, avgPriceMins = 5'),
    with_filters(PRICE.replace('tickSize = "0.01"', 'tickSize = "10"')),
])
def test_allowed_edge_cases(tmp_path: Path, text: str):
    path = tmp_path / "ok.toml"
    path.write_text(text)
    load(str(path))


def test_every_problem_listed_in_file_order(tmp_path: Path):
    text = ('[exchange]\nmaker_comission = "0.001"\n[limit]\n'
            + with_filters(PRICE.replace('tickSize = "0.01"', "tickSize = 0.01"))
            + 'defaultSelfTradePreventionMode = "EXPIRE_MAKERS"\n')
    f = tmp_path / "c.toml"
    assert problems(tmp_path, text) == [
        f"{f}: exchange.maker_comission: unknown key (did you mean 'maker_commission'?)",
        f"{f}: symbols[0].defaultSelfTradePreventionMode: must be one of NONE, EXPIRE_TAKER, "
        "EXPIRE_MAKER, EXPIRE_BOTH, not 'EXPIRE_MAKERS' (did you mean 'EXPIRE_MAKER'?)",
        f'{f}: symbols[0].filters[0].tickSize: must be a decimal string like "0.01", not a number',
        f"{f}: limit: unknown table (did you mean 'limits'?)",
    ]


def test_misspelt_required_key_is_missing_and_unknown(tmp_path: Path):
    f = tmp_path / "c.toml"
    assert problems(tmp_path, with_filters(PRICE.replace("tickSize", "ticksize"))) == [
        f"{f}: symbols[0].filters[0].tickSize: required",
        f"{f}: symbols[0].filters[0].ticksize: unknown key (did you mean 'tickSize'?)"]


def test_toml_syntax_error_is_one_line(tmp_path: Path):
    f = tmp_path / "c.toml"
    assert problems(tmp_path, "[exchange\nmaker_commission = 1\n") == [
        f"{f}: invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 10)"]


def test_missing_file_is_one_line(tmp_path: Path):
    f = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as err:
        load(str(f))
    assert err.value.problems == [f"{f}: cannot read: No such file or directory"]


def test_config_error_text_is_its_lines():
    err = ConfigError(["a: x: one", "a: y: two"])
    assert str(err) == "a: x: one\na: y: two" and err.problems == ["a: x: one", "a: y: two"]


def test_parse_names_its_source():
    with pytest.raises(ConfigError) as err:
        parse({}, "mine.toml")
    assert err.value.problems == ["mine.toml: symbols: required"]


JUNK = st.one_of(st.integers(-3, 3), st.floats(allow_nan=False), st.booleans(), st.text(max_size=4),
                 st.sampled_from(["0.01", "-1", "1e5", "24h", "NONE", "LOT_SIZE"]),
                 st.just([]), st.just({}), st.just([{"filterType": "LOT_SIZE"}]))


def _leaves(doc: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in _leaves(v, path + (k,))] + [path]
    if isinstance(doc, list):
        return [p for i, v in enumerate(doc) for p in _leaves(v, path + (i,))] + [path]
    return [path]


DEFAULT_LEAVES = [p for p in _leaves(tomllib.loads(config.default_text())) if p]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(DEFAULT_LEAVES), JUNK), max_size=4))
def test_never_a_traceback(edits: list[tuple[tuple, Any]]):
    """Any value anywhere in the default document: a Config or ConfigError lines, nothing else."""
    doc = tomllib.loads(config.default_text())
    for path, value in edits:
        node = doc
        try:
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            pass  # an earlier edit replaced the table this path went through
    try:
        parse(doc, "f.toml")
    except ConfigError as err:
        assert err.problems and all(line.startswith("f.toml: ") for line in err.problems)


# ------------------------------------------------------------------------ defaults, golden
def _legacy_parse(doc: dict[str, Any]) -> Config:
    """The parser before the schema (commit f995dc3), kept to prove the default unchanged."""
    fields_of = {
        "PRICE_FILTER": ("minPrice", "maxPrice", "tickSize"),
        "PERCENT_PRICE": ("multiplierUp", "multiplierDown", "avgPriceMins"),
        "PERCENT_PRICE_BY_SIDE": ("bidMultiplierUp", "bidMultiplierDown", "askMultiplierUp",
                                  "askMultiplierDown", "avgPriceMins"),
        "LOT_SIZE": ("minQty", "maxQty", "stepSize"),
        "MARKET_LOT_SIZE": ("minQty", "maxQty", "stepSize"),
        "MIN_NOTIONAL": ("minNotional", "applyToMarket", "avgPriceMins"),
        "NOTIONAL": ("minNotional", "applyMinToMarket", "maxNotional", "applyMaxToMarket",
                     "avgPriceMins"),
        "ICEBERG_PARTS": ("limit",), "MAX_NUM_ORDERS": ("maxNumOrders",),
        "MAX_NUM_ALGO_ORDERS": ("maxNumAlgoOrders",),
        "MAX_NUM_ICEBERG_ORDERS": ("maxNumIcebergOrders",), "MAX_POSITION": ("maxPosition",),
        "TRAILING_DELTA": ("minTrailingAboveDelta", "maxTrailingAboveDelta",
                           "minTrailingBelowDelta", "maxTrailingBelowDelta"),
        "EXCHANGE_MAX_NUM_ORDERS": ("maxNumOrders",),
        "EXCHANGE_MAX_NUM_ALGO_ORDERS": ("maxNumAlgoOrders",),
        "EXCHANGE_MAX_NUM_ICEBERG_ORDERS": ("maxNumIcebergOrders",),
    }

    def value(v: Any) -> Any:
        return numbers.parse(v) if isinstance(v, str) else v

    def filt(spec: dict[str, Any], table: dict[str, type]) -> Any:
        return table[spec["filterType"]](*(value(spec[n]) for n in fields_of[spec["filterType"]]))

    def rate(spec: dict[str, Any], key: str) -> int | None:
        return numbers.parse(spec[key]) if key in spec else None

    def symbol(spec: dict[str, Any]) -> Symbol:
        s = {**doc.get("symbol_defaults", {}), **spec}
        return Symbol(
            name=s["symbol"], base=s["baseAsset"], quote=s["quoteAsset"],
            filters=[filt(f, SYMBOL_FILTERS) for f in s.get("filters", [])],
            status=s.get("status", "TRADING"), order_types=tuple(s["orderTypes"]),
            iceberg_allowed=s["icebergAllowed"], oco_allowed=s["ocoAllowed"],
            oto_allowed=s["otoAllowed"], quote_order_qty_market_allowed=s["quoteOrderQtyMarketAllowed"],
            allow_trailing_stop=s["allowTrailingStop"], cancel_replace_allowed=s["cancelReplaceAllowed"],
            is_spot_trading_allowed=s["isSpotTradingAllowed"],
            is_margin_trading_allowed=s["isMarginTradingAllowed"],
            permission_sets=[list(g) for g in s["permissionSets"]],
            default_stp=s["defaultSelfTradePreventionMode"],
            allowed_stp=tuple(s["allowedSelfTradePreventionModes"]),
            maker_commission=rate(s, "makerCommission"), taker_commission=rate(s, "takerCommission"))

    ex, lim, streams = doc.get("exchange", {}), doc.get("limits", {}), doc.get("streams", {})
    limits = [RateLimit(r["rateLimitType"], r["interval"], r["intervalNum"], r["limit"])
              for r in doc.get("rate_limits", [])]
    base = LimitPolicy()
    policy = LimitPolicy(
        enabled=lim.get("enabled", base.enabled), ban_after=lim.get("ban_after", base.ban_after),
        ban_schedule_ms=tuple(duration_ms(d) for d in lim["ban_schedule"]),
        ban_memory_ms=duration_ms(lim["ban_memory"]),
        trusted_proxy_header=lim.get("trusted_proxy_header", "").lower(),
        trusted_proxies=tuple(lim.get("trusted_proxies", base.trusted_proxies)),
        max_body_bytes=lim.get("max_body_bytes", base.max_body_bytes),
        max_query_bytes=lim.get("max_query_bytes", base.max_query_bytes))
    stream_values = {n: duration_ms(streams[n.removesuffix("_ms")]) if n.endswith("_ms")
                     else streams[n] for n in StreamPolicy.__dataclass_fields__}
    settings_ = Settings(
        symbols=[symbol(s) for s in doc.get("symbols", [])],
        exchange_filters=[filt(f, EXCHANGE_FILTERS) for f in doc.get("exchange_filters", [])],
        order_limits=[OrderLimit(r.interval, r.interval_num, r.limit)
                      for r in limits if r.type == "ORDERS" and policy.enabled],
        maker_rate=numbers.parse(ex.get("maker_commission", "0.001")),
        taker_rate=numbers.parse(ex.get("taker_commission", "0.001")),
        avg_price_mins=ex.get("avg_price_mins", 5),
        archive_after_ms=duration_ms(ex.get("archive_after", "90d")))
    demo = {a: numbers.parse(v) for a, v in doc.get("demo", {}).get("balances", {}).items()}
    return Config(settings_, limits, demo, policy, StreamPolicy(**stream_values),
                  doc.get("journal", {}).get("snapshot_every", 100_000))


def test_default_loads_as_before_the_schema():
    old = _legacy_parse(tomllib.loads(config.default_text()))
    new = load()
    assert new.settings.sim is not None and len(new.settings.sim.symbols) == 6  # [sim]: new
    new.settings = dataclasses.replace(new.settings, sim=None)
    assert new == old
    assert repr(new.settings) == repr(old.settings)  # the engine fingerprints this repr
    assert new.metrics == MetricsPolicy() and new.logging == LogPolicy()


def test_absent_keys_take_the_documented_defaults(tmp_path: Path):
    """A file with only a symbol: every section as default.toml writes it."""
    path = tmp_path / "min.toml"
    path.write_text(SYMBOL)
    cfg, default = load(str(path)), load()
    assert cfg.settings.symbols[0] == Symbol("BTCUSDT", "BTC", "USDT")
    assert default.settings.symbols[0] == dataclasses.replace(
        Symbol("BTCUSDT", "BTC", "USDT"), filters=default.settings.symbols[0].filters)
    for name in ("limits", "streams", "snapshot_every", "metrics", "logging"):
        assert getattr(cfg, name) == getattr(default, name), name
    s, d = cfg.settings, default.settings
    assert (s.maker_rate, s.taker_rate, s.avg_price_mins, s.archive_after_ms) == \
        (d.maker_rate, d.taker_rate, d.avg_price_mins, d.archive_after_ms)
    assert cfg.rate_limits == [] and s.exchange_filters == [] and cfg.demo_balances == {}


def test_new_sections(tmp_path: Path):
    path = tmp_path / "c.toml"
    path.write_text('[metrics]\nenabled = false\ntoken = "s3cret"\n'
                    '[logging]\nlevel = "debug"\nformat = "json"\naccess_log = false\n' + SYMBOL)
    cfg = load(str(path))
    assert cfg.metrics == MetricsPolicy(enabled=False, token="s3cret")
    assert cfg.logging == LogPolicy(level="debug", format="json", access_log=False)


def test_schema_enums_are_the_cores():
    assert get_args(config.StpMode) == enums.STP_MODES
    assert get_args(config.OrderType) == enums.ORDER_TYPES
    assert get_args(config.SymbolStatus) == enums.SYMBOL_STATUSES
    assert set(get_args(config.Interval)) == set(INTERVAL_MS)
    assert set(config._FILTER_TABLES) == set(SYMBOL_FILTERS) | set(EXCHANGE_FILTERS)


# ----------------------------------------------------------------------------- round trips
VARIED = SYMBOL + '''makerCommission = "0.00020"
status = "BREAK"
filters = [
  { filterType = "PERCENT_PRICE", multiplierUp = "1.3000", multiplierDown = "0.7", avgPriceMins = 0 },
  { filterType = "MIN_NOTIONAL", minNotional = "10.00000000", applyToMarket = false, avgPriceMins = 1 },
  { filterType = "MAX_NUM_ICEBERG_ORDERS", maxNumIcebergOrders = 3 },
  { filterType = "MAX_POSITION", maxPosition = "12.5" },
]

[symbol_defaults]
permissionSets = [["SPOT", "MARGIN"], ["TRD_GRP_004"]]
ocoAllowed = false

[[exchange_filters]]
filterType = "EXCHANGE_MAX_NUM_ICEBERG_ORDERS"
maxNumIcebergOrders = 7

[[rate_limits]]
rateLimitType = "ORDERS"
interval = "HOUR"
intervalNum = 2
limit = 50

[exchange]
taker_commission = "0.0015"
archive_after = "36h"

[limits]
enabled = false
trusted_proxy_header = "X-Forwarded-For"

[streams]
listen_key_validity = "90m"

[demo.balances]
USDT = "1.50"
'''


def loaded(tmp_path: Path, text: str | None) -> Config:
    """`text` as a file, loaded; None: the built-in default."""
    if text is None:
        return load()
    (tmp_path / "v.toml").write_text(text)
    return load(str(tmp_path / "v.toml"))


@pytest.mark.parametrize("text", [None, VARIED])
def test_to_toml_loads_back_equal(tmp_path: Path, text: str | None):
    cfg = loaded(tmp_path, text)
    out = to_toml(cfg)
    (tmp_path / "out.toml").write_text(out)
    assert load(str(tmp_path / "out.toml")) == cfg
    assert to_toml(load(str(tmp_path / "out.toml"))) == out


def test_to_toml_writes_canonical_decimals(tmp_path: Path):
    doc = tomllib.loads(to_toml(loaded(tmp_path, VARIED)))
    btc = doc["symbols"][0]
    assert btc["makerCommission"] == "0.0002" and "takerCommission" not in btc
    assert btc["filters"][0]["multiplierUp"] == "1.3"
    assert btc["filters"][1]["minNotional"] == "10"
    assert btc["ocoAllowed"] is False and btc["permissionSets"] == [["SPOT", "MARGIN"], ["TRD_GRP_004"]]
    assert doc["exchange"]["archive_after"] == "36h" and doc["streams"]["listen_key_validity"] == "90m"
    assert doc["limits"]["trusted_proxy_header"] == "x-forwarded-for"
    assert "symbol_defaults" not in doc


@pytest.mark.parametrize("text", [None, VARIED])
def test_core_doc_round_trip(tmp_path: Path, text: str | None):
    cfg = loaded(tmp_path, text)
    doc = core_doc(cfg)
    assert settings_from_doc(doc) == cfg.settings
    wire = orjson.loads(orjson.dumps(doc))
    assert wire == doc and settings_from_doc(wire) == cfg.settings


def test_core_doc_is_canonical(tmp_path: Path):
    """However the TOML says it, the same settings give the same document."""
    terse = SYMBOL + 'filters = [{ filterType = "LOT_SIZE", minQty = "0.001", maxQty = "100", stepSize = "0.001" }]\n'
    verbose = ('[exchange]\nmaker_commission = "0.00100000"\narchive_after = "2160h"\n'
               '[symbol_defaults]\nstatus = "TRADING"\n' + SYMBOL
               + 'filters = [{ filterType = "LOT_SIZE", minQty = "0.0010", maxQty = "100.0", '
                 'stepSize = "0.001000" }]\n[demo.balances]\nBTC = "1"\n')
    docs = []
    for name, text in (("a.toml", terse), ("b.toml", verbose)):
        (tmp_path / name).write_text(text)
        docs.append(core_doc(load(str(tmp_path / name))))
    assert docs[0] == docs[1]
    assert docs[0]["exchange"] == {"maker_commission": "0.001", "taker_commission": "0.001",
                                   "avg_price_mins": 5, "archive_after": "90d"}


def test_core_doc_has_orders_limits_as_enforced(tmp_path: Path):
    assert core_doc(load())["order_limits"] == [
        {"interval": "SECOND", "intervalNum": 10, "limit": 100},
        {"interval": "DAY", "intervalNum": 1, "limit": 200000}]
    (tmp_path / "off.toml").write_text(config.default_text().replace(
        "[limits]\nenabled = true", "[limits]\nenabled = false"))
    assert core_doc(load(str(tmp_path / "off.toml")))["order_limits"] == []


def test_settings_from_a_bad_doc_is_a_config_error():
    doc = core_doc(load())
    doc["symbols"][0]["filters"][0]["tickSize"] = 0.01
    with pytest.raises(ConfigError) as err:
        settings_from_doc(doc)
    assert err.value.problems == [
        'core doc: symbols[0].filters[0].tickSize: must be a decimal string like "0.01", not a number']
