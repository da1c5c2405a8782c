"""General endpoints over HTTP: ping, time, exchangeInfo (every query form), unknown routes.

endpoints.md §1, general.md §1 (404) and §4 (array params), errors.md (-1121, -1122,
-1128, -1135, -1151).
"""
from __future__ import annotations

import json

import pytest

ALL_SYMBOLS = ["BNBBTC", "BNBUSDT", "BTCUSDT", "ETHBTC", "ETHUSDT", "SOLUSDT"]

SYMBOL_KEYS = [
    "symbol", "status", "baseAsset", "baseAssetPrecision", "quoteAsset", "quotePrecision",
    "quoteAssetPrecision", "baseCommissionPrecision", "quoteCommissionPrecision", "orderTypes",
    "icebergAllowed", "ocoAllowed", "otoAllowed", "quoteOrderQtyMarketAllowed",
    "allowTrailingStop", "cancelReplaceAllowed", "isSpotTradingAllowed",
    "isMarginTradingAllowed", "filters", "permissions", "permissionSets",
    "defaultSelfTradePreventionMode", "allowedSelfTradePreventionModes",
]


async def info(http, **params):
    return await http.get("/api/v3/exchangeInfo", params=params)


def names(body) -> list[str]:
    return sorted(s["symbol"] for s in body["symbols"])


def err(r, status: int, code: int, msg: str) -> None:
    assert r.status_code == status, r.text
    assert r.json() == {"code": code, "msg": msg}


# ---------------------------------------------------------------- ping / time

async def test_ping(http):
    r = await http.get("/api/v3/ping")
    assert r.status_code == 200
    assert r.json() == {}
    assert r.headers["content-type"].startswith("application/json")


async def test_time_is_the_server_clock(http, clock):
    r = await http.get("/api/v3/time")
    assert r.status_code == 200
    assert r.json() == {"serverTime": clock()}
    clock.advance(1234)
    assert (await http.get("/api/v3/time")).json() == {"serverTime": clock()}


# ---------------------------------------------------------------- exchangeInfo

async def test_exchange_info_full(http, clock):
    r = await info(http)
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["timezone", "serverTime", "rateLimits", "exchangeFilters", "symbols"]
    assert body["timezone"] == "UTC"
    assert body["serverTime"] == clock()
    assert body["rateLimits"] == [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
    ]
    assert body["exchangeFilters"] == [
        {"filterType": "EXCHANGE_MAX_NUM_ORDERS", "maxNumOrders": 1000},
        {"filterType": "EXCHANGE_MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 200},
    ]
    assert names(body) == ALL_SYMBOLS


async def test_exchange_info_symbol_object(http):
    body = (await info(http, symbol="BTCUSDT")).json()
    assert len(body["symbols"]) == 1
    s = body["symbols"][0]
    assert list(s) == SYMBOL_KEYS
    assert s == {
        "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "baseAssetPrecision": 8,
        "quoteAsset": "USDT", "quotePrecision": 8, "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT",
                       "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True,
        "cancelReplaceAllowed": True, "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01000000",
             "maxPrice": "1000000.00000000", "tickSize": "0.01000000"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000",
             "stepSize": "0.00001000"},
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "100.00000000",
             "stepSize": "0.00000000"},
            {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10,
             "maxTrailingAboveDelta": 2000, "minTrailingBelowDelta": 10,
             "maxTrailingBelowDelta": 2000},
            {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5.00000000",
             "bidMultiplierDown": "0.20000000", "askMultiplierUp": "5.00000000",
             "askMultiplierDown": "0.20000000", "avgPriceMins": 5},
            {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True,
             "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],
        "permissions": [], "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER",
                                            "EXPIRE_BOTH"],
    }


async def test_exchange_info_symbols_array(http):
    r = await info(http, symbols='["BTCUSDT","ETHBTC"]')
    assert r.status_code == 200, r.text
    assert names(r.json()) == ["BTCUSDT", "ETHBTC"]


async def test_exchange_info_symbols_array_percent_encoded_in_raw_query(http):
    r = await http.get("/api/v3/exchangeInfo?symbols=%5B%22BTCUSDT%22,%22BNBUSDT%22%5D")
    assert r.status_code == 200, r.text
    assert names(r.json()) == ["BNBUSDT", "BTCUSDT"]


async def test_exchange_info_permissions_single_value(http):
    r = await info(http, permissions="SPOT")
    assert r.status_code == 200, r.text
    assert names(r.json()) == ALL_SYMBOLS


@pytest.mark.parametrize("perms,expected", [
    ('["SPOT"]', ALL_SYMBOLS),
    ('["MARGIN","LEVERAGED"]', []),
    ('["MARGIN","SPOT"]', ALL_SYMBOLS),
    ("MARGIN", []),
])
async def test_exchange_info_permissions_array(http, perms, expected):
    r = await info(http, permissions=perms)
    assert r.status_code == 200, r.text
    assert names(r.json()) == expected


@pytest.mark.parametrize("perms", ['[["SPOT"]]', '[1]', '["SPOT"'])
async def test_exchange_info_permissions_bad_json(http, perms):
    r = await info(http, permissions=perms)
    assert (r.status_code, r.json()) == (400, {
        "code": -1135, "msg": "JSON sent for parameter 'permissions' is not valid"})


async def test_exchange_info_show_permission_sets_false(http):
    r = await info(http, showPermissionSets="false")
    assert r.status_code == 200, r.text
    syms = r.json()["symbols"]
    assert len(syms) == len(ALL_SYMBOLS)
    assert all(s["permissionSets"] == [] for s in syms)
    r = await info(http, symbol="BTCUSDT", showPermissionSets="true")
    assert r.json()["symbols"][0]["permissionSets"] == [["SPOT"]]


@pytest.mark.parametrize("status,expected", [
    ("TRADING", ALL_SYMBOLS), ("HALT", []), ("BREAK", []),
])
async def test_exchange_info_symbol_status(http, status, expected):
    r = await info(http, symbolStatus=status)
    assert r.status_code == 200, r.text
    assert names(r.json()) == expected


@pytest.mark.parametrize("status", ["trading", "PRE_TRADING", "END_OF_DAY", "FOO"])
async def test_exchange_info_invalid_symbol_status(http, status):
    err(await info(http, symbolStatus=status), 400, -1122, "Invalid symbolStatus.")


@pytest.mark.parametrize("params", [
    {"symbol": "FOOBAR"},
    {"symbol": "btcusdt"},  # case-sensitive
    {"symbols": '["BTCUSDT","FOOBAR"]'},
])
async def test_exchange_info_unknown_symbol(http, params):
    err(await info(http, **params), 400, -1121, "Invalid symbol.")


async def test_exchange_info_duplicate_symbols(http):
    err(await info(http, symbols='["BTCUSDT","ETHBTC","BTCUSDT"]'), 400, -1151,
        "Symbol is present multiple times in the list.")


@pytest.mark.parametrize("name,value", [
    ("symbols", '["BTCUSDT"'),
    ("symbols", "BTCUSDT"),
    ("symbols", '{"a":1}'),
    ("symbols", "[1,2]"),
    ("permissions", '["SPOT"'),
])
async def test_exchange_info_bad_json(http, name, value):
    err(await info(http, **{name: value}), 400, -1135,
        f"JSON sent for parameter '{name}' is not valid")


@pytest.mark.parametrize("params", [
    {"symbol": "BTCUSDT", "symbols": '["ETHBTC"]'},
    {"symbol": "BTCUSDT", "permissions": "SPOT"},
    {"symbols": '["BTCUSDT"]', "permissions": '["SPOT"]'},
    {"symbol": "BTCUSDT", "symbolStatus": "TRADING"},
    {"symbols": '["BTCUSDT"]', "symbolStatus": "TRADING"},
])
async def test_exchange_info_bad_combinations(http, params):
    err(await info(http, **params), 400, -1128, "Combination of optional parameters invalid.")


async def test_exchange_info_duplicate_query_param(http):
    r = await http.get("/api/v3/exchangeInfo?symbol=BTCUSDT&symbol=ETHBTC")
    err(r, 400, -1101, "Duplicate values for a parameter detected.")


# ---------------------------------------------------------------- unknown routes

@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v3/nope"),
    ("GET", "/api/v3/pingg"),
    ("POST", "/api/v3/ping"),
    ("GET", "/"),
    ("GET", "/api/v1/ping"),
])
async def test_unknown_route_is_404_with_empty_body(http, method, path):
    r = await http.request(method, path, headers={"Accept": "application/json"})
    assert r.status_code == 404
    assert r.content == b""
    # not labelled JSON: the official SDK parses any JSON-typed error body
    assert "content-type" not in r.headers


async def test_unknown_route_without_accept_has_empty_body(http):
    r = await http.get("/api/v3/nope", headers={"Accept": "*/*"})
    assert r.status_code == 404
    assert r.content == b""


@pytest.mark.parametrize("accept", ["text/html", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"])
async def test_unknown_route_html_only_when_accepted(http, accept):
    r = await http.get("/api/v3/nope", headers={"Accept": accept})
    assert r.status_code == 404
    assert r.text == "<html><body><h2>404 Not found</h2></body></html>"
    assert r.headers["content-type"].startswith("text/html")


# ---------------------------------------------------------------- request weight header

async def test_used_weight_header_counts_per_minute(http, clock):
    clock.advance(60_000 - clock() % 60_000)  # start of a minute window
    r = await http.get("/api/v3/ping")
    first = int(r.headers["x-mbx-used-weight-1m"])
    r = await http.get("/api/v3/time")
    assert int(r.headers["x-mbx-used-weight-1m"]) == first + 1
    r = await info(http)
    assert int(r.headers["x-mbx-used-weight-1m"]) == first + 21
    # errors are charged too (general.md §7.3)
    r = await info(http, symbol="FOOBAR")
    assert r.status_code == 400
    assert int(r.headers["x-mbx-used-weight-1m"]) == first + 41
    clock.advance(60_000)  # next window
    r = await http.get("/api/v3/ping")
    assert r.headers["x-mbx-used-weight-1m"] == "1"


async def test_json_bodies_are_json(http):
    r = await info(http, symbol="ETHBTC")
    doc = json.loads(r.content)
    f = {x["filterType"]: x for x in doc["symbols"][0]["filters"]}
    assert f["PRICE_FILTER"]["tickSize"] == "0.00001000"
    assert f["NOTIONAL"]["minNotional"] == "0.00010000"
