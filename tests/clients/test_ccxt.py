"""ccxt (sync `ccxt.binance`) against spotex, configured as clients.md §1.1 says, driven
through ccxt's unified methods (and its implicit API where ccxt has no unified method)."""
from __future__ import annotations

import time

import ccxt
import pytest

from .conftest import Account, Market, Seeded, Spotex, fill_order_window


def binance(spotex: Spotex, acct: Account | None = None) -> ccxt.binance:
    ex = ccxt.binance({
        "apiKey": acct.api_key if acct else None,
        "secret": acct.secret if acct else None,  # HMAC secret, or an Ed25519/RSA PEM
        # ccxt paces calls for api.binance.com's published limits (50 ms units, account
        # calls cost ~200 ms); a local exchange does not need the client-side throttle.
        "enableRateLimit": False,
        "options": {"fetchCurrencies": False, "fetchMargins": False,
                    "fetchMarkets": {"types": ["spot"]}},
    })
    ex.urls["api"]["public"] = spotex.url + "/api/v3"
    ex.urls["api"]["private"] = spotex.url + "/api/v3"
    ex.urls["api"]["v1"] = spotex.url + "/api/v1"
    return ex


def trader(spotex: Spotex, market: Market, key_type: str = "HMAC_SHA256",
           base: str = "10", quote: str = "10000") -> ccxt.binance:
    acct = spotex.account(key_type, **{market.base: base, market.quote: quote})
    return binance(spotex, acct)


# ------------------------------------------------------------------ public market data
def test_fetch_time(spotex):
    server = binance(spotex).fetch_time()
    assert abs(server - time.time() * 1000) < 5000


def test_load_markets(spotex, market):
    markets = binance(spotex).load_markets()
    assert {"BTC/USDT", "ETH/USDT", "BNB/USDT", "ETH/BTC", "BNB/BTC", "SOL/USDT",
            market.symbol} <= set(markets)
    btc = markets["BTC/USDT"]
    assert (btc["id"], btc["base"], btc["quote"]) == ("BTCUSDT", "BTC", "USDT")
    assert btc["spot"] and btc["active"] and btc["type"] == "spot"
    assert btc["precision"]["amount"] == 0.00001 and btc["precision"]["price"] == 0.01
    assert btc["limits"]["amount"] == {"min": 0.00001, "max": 9000.0}
    assert btc["limits"]["price"] == {"min": 0.01, "max": 1000000.0}
    assert btc["limits"]["cost"]["min"] == 5.0
    assert "STOP_LOSS_LIMIT" in btc["info"]["orderTypes"]


def test_order_book(spotex, seeded: Seeded):
    book = binance(spotex).fetch_order_book(seeded.market.symbol, 5)
    assert book["symbol"] == seeded.market.symbol
    assert book["bids"] == [[99.0, 1.75], [98.0, 1.0]]
    assert book["asks"] == [[101.0, 1.5], [102.0, 1.0]]
    assert isinstance(book["nonce"], int)


def test_trades_default_aggtrades_and_recent(spotex, seeded: Seeded):
    ex = binance(spotex)
    for params in ({}, {"fetchTradesMethod": "publicGetTrades"}):
        trades = ex.fetch_trades(seeded.market.symbol, limit=10, params=params)
        assert [(t["price"], t["amount"], t["cost"], t["side"]) for t in trades] == [
            (101.0, 0.5, 50.5, "buy"), (99.0, 0.25, 24.75, "sell")]
        assert all(t["timestamp"] >= seeded.start_ms for t in trades)


def test_trades_since(spotex, seeded: Seeded):
    # with `since` ccxt sends startTime and endTime = since + 1 h to aggTrades
    trades = binance(spotex).fetch_trades(seeded.market.symbol, since=seeded.start_ms - 1000)
    assert len(trades) == 2


def test_ohlcv(spotex, seeded: Seeded):
    minute = seeded.start_ms // 60_000 * 60_000
    candles = binance(spotex).fetch_ohlcv(seeded.market.symbol, "1m", since=minute, limit=2)
    # the two trades may straddle a minute boundary; a later minute is a flat candle
    assert 1 <= len(candles) <= 2 and candles[0][0] == minute
    assert candles[0][1] == 101.0 and candles[-1][4] == 99.0
    assert sum(c[5] for c in candles) == 0.75
    assert all(c[0] % 60_000 == 0 for c in candles)


def test_tickers(spotex, seeded: Seeded):
    ex = binance(spotex)
    sym = seeded.market.symbol
    t = ex.fetch_ticker(sym)
    assert t["symbol"] == sym
    assert (t["open"], t["high"], t["low"], t["last"]) == (101.0, 101.0, 99.0, 99.0)
    assert (t["bid"], t["bidVolume"], t["ask"], t["askVolume"]) == (99.0, 1.75, 101.0, 1.5)
    assert (t["baseVolume"], t["quoteVolume"]) == (0.75, 75.25)
    assert t["change"] == -2.0 and t["percentage"] == -1.98
    tickers = ex.fetch_tickers([sym, "BTC/USDT"])
    assert set(tickers) == {sym, "BTC/USDT"}
    assert tickers[sym]["last"] == 99.0
    assert ex.fetch_last_prices([sym])[sym]["price"] == 99.0
    ba = ex.fetch_bids_asks([sym])[sym]
    assert (ba["bid"], ba["bidVolume"], ba["ask"], ba["askVolume"]) == (99.0, 1.75, 101.0, 1.5)
    # no unified method: the implicit API
    avg = ex.public_get_avgprice({"symbol": seeded.market.id})
    assert avg["mins"] == 5 and float(avg["price"]) == pytest.approx(75.25 / 0.75)


# ------------------------------------------------------------------ account and orders
def test_fetch_balance(spotex, market):
    ex = trader(spotex, market, base="1.5", quote="250")
    bal = ex.fetch_balance()
    assert bal[market.base] == {"free": 1.5, "used": 0.0, "total": 1.5}
    assert bal["USDT"] == {"free": 250.0, "used": 0.0, "total": 250.0}
    ex.create_order(market.symbol, "limit", "buy", 1, 100)
    bal = ex.fetch_balance()
    assert bal["USDT"] == {"free": 150.0, "used": 100.0, "total": 250.0}


def test_limit_order_lifecycle(spotex, market):
    ex = trader(spotex, market)
    sym = market.symbol
    # ccxt truncates to LOT_SIZE.stepSize / PRICE_FILTER.tickSize before sending
    o = ex.create_order(sym, "limit", "buy", 0.0012345, 4500.123)
    assert (o["status"], o["type"], o["side"], o["timeInForce"]) == ("open", "limit", "buy", "GTC")
    assert (o["amount"], o["price"], o["filled"], o["remaining"]) == (
        0.00123, 4500.12, 0.0, 0.00123)
    assert o["clientOrderId"].startswith("x-TKT5PX2F") and len(o["clientOrderId"]) == 32
    got = ex.fetch_order(o["id"], sym)
    assert (got["id"], got["status"], got["clientOrderId"]) == (o["id"], "open", o["clientOrderId"])
    mine = ex.create_order(sym, "limit", "buy", 0.1, 90, {"clientOrderId": "my-id-1",
                                                         "timeInForce": "GTC"})
    assert mine["clientOrderId"] == "my-id-1"
    assert [x["id"] for x in ex.fetch_open_orders(sym)] == [o["id"], mine["id"]]
    canceled = ex.cancel_order(o["id"], sym)
    assert (canceled["id"], canceled["status"]) == (o["id"], "canceled")
    assert [x["id"] for x in ex.fetch_open_orders(sym)] == [mine["id"]]
    every = {x["id"]: x["status"] for x in ex.fetch_orders(sym)}
    assert every == {o["id"]: "canceled", mine["id"]: "open"}
    assert ex.fetch_closed_orders(sym) == []  # ccxt keeps status "closed" (filled) only


def test_market_order_fills_and_my_trades(spotex, market):
    maker = trader(spotex, market)
    taker = trader(spotex, market)
    sym = market.symbol
    maker.create_order(sym, "limit", "sell", 0.3, 100)
    maker.create_order(sym, "limit", "sell", 0.3, 101)
    o = taker.create_order(sym, "market", "buy", 0.4)
    assert (o["status"], o["type"], o["filled"], o["cost"]) == ("closed", "market", 0.4, 40.1)
    assert o["average"] == pytest.approx(100.25)
    assert [(t["price"], t["amount"]) for t in o["trades"]] == [(100.0, 0.3), (101.0, 0.1)]
    assert o["fee"]["currency"] == market.base
    trades = taker.fetch_my_trades(sym)
    assert [(t["price"], t["amount"], t["side"], t["takerOrMaker"], t["order"])
            for t in trades] == [(100.0, 0.3, "buy", "taker", o["id"]),
                                 (101.0, 0.1, "buy", "taker", o["id"])]
    assert trades[0]["fee"] == {"cost": 0.0003, "currency": market.base}
    made = maker.fetch_my_trades(sym)
    assert [(t["side"], t["takerOrMaker"]) for t in made] == [("sell", "maker")] * 2
    assert len(taker.fetch_order_trades(o["id"], sym)) == 2
    closed = taker.fetch_closed_orders(sym)
    assert [c["id"] for c in closed] == [o["id"]]


def test_market_buy_by_cost(spotex, market):
    maker = trader(spotex, market)
    taker = trader(spotex, market)
    maker.create_order(market.symbol, "limit", "sell", 1, 50)
    o = taker.create_market_buy_order_with_cost(market.symbol, 20)  # quoteOrderQty=20
    assert (o["status"], o["filled"], o["cost"]) == ("closed", 0.4, 20.0)
    # price given with a market order: ccxt sends quoteOrderQty = amount * price
    o = taker.create_order(market.symbol, "market", "buy", 0.2, 50)
    assert (o["status"], o["filled"], o["cost"]) == ("closed", 0.2, 10.0)


def test_time_in_force_and_self_trade_prevention(spotex, market):
    """EXPIRED and EXPIRED_IN_MATCH are both ccxt's "expired"."""
    maker = trader(spotex, market)
    ex = trader(spotex, market)
    sym = market.symbol
    maker.create_order(sym, "limit", "sell", 0.5, 100)
    fok = ex.create_order(sym, "limit", "buy", 1, 100, {"timeInForce": "FOK"})
    assert (fok["status"], fok["filled"], fok["info"]["status"]) == ("expired", 0.0, "EXPIRED")
    ioc = ex.create_order(sym, "limit", "buy", 1, 100, {"timeInForce": "IOC"})
    assert (ioc["status"], ioc["filled"], ioc["remaining"]) == ("expired", 0.5, 0.5)
    ex.create_order(sym, "limit", "sell", 0.5, 101)
    own = ex.create_order(sym, "limit", "buy", 0.1, 101, {"timeInForce": "IOC",
                                                         "selfTradePrevention": "expire_taker"})
    assert own["info"]["selfTradePreventionMode"] == "EXPIRE_TAKER"
    assert (own["status"], own["filled"], own["info"]["status"]) == (
        "expired", 0.0, "EXPIRED_IN_MATCH")
    assert [o["price"] for o in ex.fetch_open_orders(sym)] == [101.0]  # the maker stays


def test_edit_order_is_cancel_replace(spotex, market):
    ex = trader(spotex, market)
    sym = market.symbol
    o = ex.create_order(sym, "limit", "buy", 0.1, 90)
    new = ex.edit_order(o["id"], sym, "limit", "buy", 0.2, 91)  # POST order/cancelReplace
    assert new["id"] != o["id"] and (new["amount"], new["price"]) == (0.2, 91.0)
    assert ex.fetch_order(o["id"], sym)["status"] == "canceled"
    assert [(x["id"], x["price"]) for x in ex.fetch_open_orders(sym)] == [(new["id"], 91.0)]


def test_post_only(spotex, market):
    maker = trader(spotex, market)
    ex = trader(spotex, market)
    maker.create_order(market.symbol, "limit", "sell", 0.5, 100)
    o = ex.create_order(market.symbol, "limit", "buy", 0.1, 99, {"postOnly": True})
    assert o["postOnly"] is True and o["info"]["type"] == "LIMIT_MAKER"
    with pytest.raises(ccxt.OrderImmediatelyFillable):
        ex.create_order(market.symbol, "limit", "buy", 0.1, 100, {"postOnly": True})


def test_stop_loss_limit_triggers(spotex, market):
    """triggerPrice on a limit sell is a STOP_LOSS_LIMIT; a trade at the stop fires it."""
    maker = trader(spotex, market)
    other = trader(spotex, market)
    ex = trader(spotex, market)
    sym = market.symbol
    maker.create_order(sym, "limit", "buy", 0.1, 100)
    other.create_order(sym, "market", "sell", 0.1)  # last price 100
    with pytest.raises(ccxt.OrderImmediatelyFillable):  # "Order would trigger immediately."
        ex.create_order(sym, "limit", "sell", 0.1, 100, {"triggerPrice": 101})
    stop = ex.create_order(sym, "limit", "sell", 0.1, 95, {"triggerPrice": 96})
    assert stop["info"]["type"] == "STOP_LOSS_LIMIT" and stop["triggerPrice"] == 96.0
    got = ex.fetch_order(stop["id"], sym)
    assert (got["status"], got["triggerPrice"], got["price"]) == ("open", 96.0, 95.0)
    assert got["info"]["isWorking"] is False
    maker.create_order(sym, "limit", "buy", 0.5, 96)
    other.create_order(sym, "market", "sell", 0.05)  # trades at 96: the stop fires
    got = ex.fetch_order(stop["id"], sym)
    assert (got["status"], got["filled"], got["average"]) == ("closed", 0.1, 96.0)


def test_cancel_all_orders(spotex, market):
    ex = trader(spotex, market)
    for price in (90, 91, 92):
        ex.create_order(market.symbol, "limit", "buy", 0.1, price)
    canceled = ex.cancel_all_orders(market.symbol)
    assert sorted(o["status"] for o in canceled) == ["canceled"] * 3
    assert ex.fetch_open_orders(market.symbol) == []
    assert ex.fetch_balance()["USDT"]["used"] == 0.0


def test_open_orders_without_symbol(spotex, market):
    ex = trader(spotex, market)
    ex.create_order(market.symbol, "limit", "buy", 0.1, 90)
    with pytest.raises(ccxt.ExchangeError):  # ccxt's own weight warning, not a request
        ex.fetch_open_orders()
    ex.options["warnOnFetchOpenOrdersWithoutSymbol"] = False
    assert [o["symbol"] for o in ex.fetch_open_orders()] == [market.symbol]


def test_test_order(spotex, market):
    ex = trader(spotex, market)
    ex.create_order(market.symbol, "limit", "buy", 0.1, 90, {"test": True})  # order/test
    assert ex.fetch_open_orders(market.symbol) == []
    with pytest.raises(ccxt.InsufficientFunds):
        ex.create_order(market.symbol, "limit", "buy", 1000, 90)


def test_oco_order_list(spotex, market):
    maker = trader(spotex, market)
    ex = trader(spotex, market)
    maker.create_order(market.symbol, "limit", "buy", 0.1, 100)
    ex.create_order(market.symbol, "market", "sell", 0.1)  # last price 100
    # no unified OCO method: the implicit API; ccxt adds list/above/below client ids
    placed = ex.private_post_orderlist_oco({
        "symbol": market.id, "side": "SELL", "quantity": "0.2",
        "aboveType": "LIMIT_MAKER", "abovePrice": "110",
        "belowType": "STOP_LOSS_LIMIT", "belowStopPrice": "90", "belowPrice": "89",
        "belowTimeInForce": "GTC"})
    assert placed["contingencyType"] == "OCO" and placed["listStatusType"] == "EXEC_STARTED"
    assert placed["listClientOrderId"].startswith("x-TKT5PX2F")
    legs = {r["type"]: r for r in placed["orderReports"]}
    assert set(legs) == {"LIMIT_MAKER", "STOP_LOSS_LIMIT"}
    assert legs["LIMIT_MAKER"]["clientOrderId"].startswith("x-TKT5PX2F")
    opened = ex.fetch_open_orders(market.symbol)
    assert sorted(o["info"]["type"] for o in opened) == ["LIMIT_MAKER", "STOP_LOSS_LIMIT"]
    assert all(o["info"]["orderListId"] == placed["orderListId"] for o in opened)
    got = ex.private_get_orderlist({"orderListId": placed["orderListId"]})
    assert got["listOrderStatus"] == "EXECUTING"
    assert [x["orderListId"] for x in ex.private_get_openorderlist()] == [placed["orderListId"]]
    done = ex.private_delete_orderlist({"symbol": market.id,
                                        "orderListId": placed["orderListId"]})
    assert done["listOrderStatus"] == "ALL_DONE"
    assert {r["status"] for r in done["orderReports"]} == {"CANCELED"}
    assert ex.fetch_open_orders(market.symbol) == []


def test_oco_limit_leg_fill_expires_stop_leg(spotex, market):
    maker, ex, taker = (trader(spotex, market) for _ in range(3))
    maker.create_order(market.symbol, "limit", "buy", 0.1, 100)
    ex.create_order(market.symbol, "market", "sell", 0.1)  # last price 100
    placed = ex.private_post_orderlist_oco({
        "symbol": market.id, "side": "SELL", "quantity": "0.2",
        "aboveType": "LIMIT_MAKER", "abovePrice": "110",
        "belowType": "STOP_LOSS_LIMIT", "belowStopPrice": "90", "belowPrice": "89",
        "belowTimeInForce": "GTC"})
    legs = {r["type"]: str(r["orderId"]) for r in placed["orderReports"]}
    taker.create_order(market.symbol, "market", "buy", 0.2)  # fills the LIMIT_MAKER leg
    assert ex.fetch_order(legs["LIMIT_MAKER"], market.symbol)["status"] == "closed"
    assert ex.fetch_order(legs["STOP_LOSS_LIMIT"], market.symbol)["status"] == "expired"
    assert ex.fetch_open_orders(market.symbol) == []
    got = ex.private_get_orderlist({"orderListId": placed["orderListId"]})
    assert got["listOrderStatus"] == "ALL_DONE"


# ------------------------------------------------------------------ errors
def test_error_insufficient_balance(spotex, market):
    ex = trader(spotex, market, quote="10")
    with pytest.raises(ccxt.InsufficientFunds, match="insufficient balance"):  # -2010
        ex.create_order(market.symbol, "limit", "buy", 1, 100)


def test_error_unknown_order(spotex, market):
    ex = trader(spotex, market)
    with pytest.raises(ccxt.OrderNotFound, match="-2013"):
        ex.fetch_order("987654321", market.symbol)
    with pytest.raises(ccxt.OrderNotFound, match="-2011"):
        ex.cancel_order("987654321", market.symbol)
    with pytest.raises(ccxt.OrderNotFound, match="-2011"):  # nothing open to cancel
        ex.cancel_all_orders(market.symbol)


def test_error_bad_symbol(spotex, market):
    ex = trader(spotex, market)
    with pytest.raises(ccxt.BadSymbol):  # unified methods check the markets client-side
        ex.fetch_ticker("NOPE/USDT")
    with pytest.raises(ccxt.BadSymbol, match="-1121"):  # the server's answer
        ex.public_get_depth({"symbol": "NOPEUSDT"})
    with pytest.raises(ccxt.BadSymbol, match="-1121"):
        ex.private_get_openorders({"symbol": "NOPEUSDT"})


def test_error_filter_failures(spotex, market):
    ex = trader(spotex, market)
    # -1013 is BadRequest in ccxt's table; LOT_SIZE / PRICE_FILTER in the body are
    # InvalidOrder first (substring rules run before the code table, clients.md §1.5)
    with pytest.raises(ccxt.BadRequest, match="Filter failure: NOTIONAL"):
        ex.create_order(market.symbol, "limit", "buy", 0.001, 100)
    with pytest.raises(ccxt.InvalidOrder, match="Filter failure: LOT_SIZE"):
        ex.create_order(market.symbol, "limit", "buy", 9001, 1)
    with pytest.raises(ccxt.InvalidOrder, match="Filter failure: PRICE_FILTER"):
        ex.create_order(market.symbol, "limit", "sell", 0.001, 2000000)


def test_error_authentication(spotex, market):
    acct = spotex.account(**{market.quote: "100"})
    bad = binance(spotex, Account(acct.account_id, acct.api_key, "x" * 64))
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        bad.fetch_balance()
    unknown = binance(spotex, Account(0, "k" * 64, "x" * 64))
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        unknown.fetch_balance()
    # ccxt quirk: -2015 after a successful private call on the same instance is taken as
    # a temporary ban (options.hasAlreadyAuthenticatedSuccessfully)
    ex = binance(spotex, acct)
    ex.fetch_balance()
    ex.apiKey = "k" * 64
    with pytest.raises(ccxt.DDoSProtection, match="-2015"):
        ex.fetch_balance()


def test_error_timestamp_outside_recv_window(spotex, market):
    ex = trader(spotex, market)
    ex.load_markets()
    # ccxt signs with nonce() = milliseconds() - options.timeDifference: a clock 30 s slow
    ex.options["timeDifference"] = 30_000
    with pytest.raises(ccxt.InvalidNonce, match="outside of the recvWindow"):  # -1021
        ex.fetch_balance()
    ex.options["timeDifference"] = -3_000  # 3 s fast
    with pytest.raises(ccxt.InvalidNonce, match="1000ms ahead"):
        ex.fetch_balance()
    ex.options["timeDifference"] = 0
    ex.fetch_balance()


def test_error_order_rate_limit(spotex, market):
    """The 101st order in 10 s: -1015 with HTTP 429, which ccxt maps by status
    (before reading the body) to DDoSProtection."""
    def place(ex: ccxt.binance) -> None:
        ex.create_order(market.symbol, "limit", "buy", 0.1, 90, {"newOrderRespType": "ACK"})

    ex = fill_order_window(lambda: trader(spotex, market, quote="100000"), place)
    with pytest.raises(ccxt.DDoSProtection, match="-1015"):
        ex.create_order(market.symbol, "limit", "buy", 0.1, 90)


# ------------------------------------------------------------------ key types
@pytest.mark.parametrize("key_type", ["ED25519", "RSA"])
def test_asymmetric_keys(spotex, market, key_type):
    """The private key PEM goes in `secret`; ccxt picks Ed25519 (<= 120 chars) or RSA."""
    ex = trader(spotex, market, key_type, quote="1000")
    assert "PRIVATE KEY" in ex.secret
    assert ex.fetch_balance()["USDT"]["free"] == 1000.0
    o = ex.create_order(market.symbol, "limit", "buy", 0.1, 90)  # form body, signed
    assert ex.fetch_order(o["id"], market.symbol)["status"] == "open"  # query string
    assert ex.cancel_order(o["id"], market.symbol)["status"] == "canceled"  # DELETE query
