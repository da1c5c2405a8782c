"""binance-sdk-spot (official modular SDK, binance-common) against spotex.

Configured as clients.md §3.1 says: `ConfigurationRestAPI(base_path=<spotex>)`, retries off
and a 5 s timeout. The SDK sends every parameter in the query string (even for POST and
DELETE), no recvWindow unless asked, and validates responses into strict pydantic
models: a field of the wrong JSON type is logged as a WARNING ("... did not match the
declared types ...") and then parsed leniently. Here any such warning fails the test.
"""
from __future__ import annotations

import logging
import time
from decimal import Decimal

import binance_common.utils
import pytest
from binance_common.configuration import ConfigurationRestAPI
from binance_common.errors import BadRequestError, TooManyRequestsError, UnauthorizedError
from binance_sdk_spot.rest_api.models import (NewOrderSideEnum, NewOrderTimeInForceEnum,
                                              NewOrderTypeEnum)
from binance_sdk_spot.spot import Spot

from .conftest import Account, Market, Seeded, Spotex, fill_order_window

TYPE_WARNINGS = ("did not match the declared types", "Failed to parse the")
BUY, SELL = NewOrderSideEnum["BUY"].value, NewOrderSideEnum["SELL"].value
LIMIT, MARKET = NewOrderTypeEnum["LIMIT"].value, NewOrderTypeEnum["MARKET"].value
GTC = NewOrderTimeInForceEnum["GTC"].value


class Strict:
    """The SDK's rest_api with every call checked: a model-type warning logged during the
    call fails the test at that call. (The SDK relaxes a model class for the rest of the
    process after its first mismatch, so only the first offending call can be seen.)"""

    def __init__(self, api, caplog: pytest.LogCaptureFixture) -> None:
        self._api, self._caplog = api, caplog

    def __getattr__(self, name: str):
        attr = getattr(self._api, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            start = len(self._caplog.records)
            try:
                return attr(*args, **kwargs)
            finally:
                bad = [r.getMessage() for r in self._caplog.records[start:]
                       if any(w in r.getMessage() for w in TYPE_WARNINGS)]
                if bad:
                    pytest.fail(f"{name}(): response model type warning: {bad}")
        return call


@pytest.fixture
def sdk(spotex: Spotex, caplog: pytest.LogCaptureFixture):
    """`sdk(acct)` -> a checked SpotRestAPI for that account (public-only without one)."""
    caplog.set_level(logging.WARNING)

    def make(acct: Account | None = None):
        creds: dict = {}
        if acct is not None and acct.key_type == "HMAC_SHA256":
            creds = {"api_key": acct.api_key, "api_secret": acct.secret}
        elif acct is not None:
            creds = {"api_key": acct.api_key, "private_key": acct.secret}  # PEM or a path
        config = ConfigurationRestAPI(base_path=spotex.url, retries=0, timeout=5000, **creds)
        return Strict(Spot(config_rest_api=config).rest_api, caplog)
    return make


@pytest.fixture
def trader(spotex: Spotex, sdk):
    def make(market: Market, key_type: str = "HMAC_SHA256", base: str = "10",
             quote: str = "10000"):
        return sdk(spotex.account(key_type, **{market.base: base, market.quote: quote}))
    return make


def code_of(excinfo: pytest.ExceptionInfo) -> tuple[int, str]:
    """The SDK puts the Binance code in `status_code` and the msg in `error_message`."""
    return excinfo.value.status_code, excinfo.value.error_message


# ------------------------------------------------------------------ general, market data
def test_ping_time_exchange_info(sdk, market):
    api = sdk()
    assert api.ping().data() == {}
    assert abs(api.time().data().server_time - time.time() * 1000) < 5000
    info = api.exchange_info(symbol="BTCUSDT").data()
    (btc,) = info.symbols
    assert (btc.symbol, btc.base_asset, btc.quote_asset, btc.status) == (
        "BTCUSDT", "BTC", "USDT", "TRADING")
    filters = {f.actual_instance.filter_type: f.actual_instance for f in btc.filters}
    assert filters["PRICE_FILTER"].tick_size == "0.01000000"
    assert filters["LOT_SIZE"].step_size == "0.00001000"
    assert filters["NOTIONAL"].min_notional == "5.00000000"
    assert {r.rate_limit_type for r in info.rate_limits} == {
        "REQUEST_WEIGHT", "ORDERS", "RAW_REQUESTS"}
    every = api.exchange_info().data()
    assert market.id in {s.symbol for s in every.symbols}
    two = api.exchange_info(symbols=["ETHBTC", market.id]).data()
    assert [s.symbol for s in two.symbols] == ["ETHBTC", market.id]


def test_market_data(sdk, seeded: Seeded):
    api = sdk()
    s = seeded.market.id
    book = api.depth(symbol=s, limit=5).data()
    assert book.bids == [["99.00000000", "1.75000000"], ["98.00000000", "1.00000000"]]
    assert book.asks == [["101.00000000", "1.50000000"], ["102.00000000", "1.00000000"]]
    trades = api.get_trades(symbol=s, limit=10).data()
    assert [(t.price, t.qty, t.quote_qty, t.is_buyer_maker) for t in trades] == [
        ("101.00000000", "0.50000000", "50.50000000", False),
        ("99.00000000", "0.25000000", "24.75000000", True)]
    agg = api.agg_trades(symbol=s, start_time=seeded.start_ms - 1000).data()
    assert [(a.p, a.q, a.m) for a in agg] == [
        ("101.00000000", "0.50000000", False), ("99.00000000", "0.25000000", True)]
    minute = seeded.start_ms // 60_000 * 60_000
    klines = api.klines(symbol=s, interval="1m", start_time=minute, limit=2).data()  # lists
    assert klines[-1][0] % 60_000 == 0 and isinstance(klines[-1][6], int)
    assert sum(Decimal(k[5]) for k in klines) == Decimal("0.75")
    assert api.ui_klines(symbol=s, interval="1m", start_time=minute, limit=2).data() == klines
    t = api.ticker24hr(symbol=s).data().actual_instance
    assert (t.last_price, t.high_price, t.low_price, t.bid_qty, t.ask_qty, t.count) == (
        "99.00000000", "101.00000000", "99.00000000", "1.75000000", "1.50000000", 2)
    both = api.ticker24hr(symbols=[s, "BTCUSDT"]).data().actual_instance
    assert [x.symbol for x in both] == [s, "BTCUSDT"]
    mini = api.ticker24hr(symbol=s, type="MINI").data().actual_instance
    assert (mini.last_price, mini.price_change) == ("99.00000000", None)
    assert api.ticker_price(symbol=s).data().actual_instance.price == "99.00000000"
    assert s in {p.symbol for p in api.ticker_price().data().actual_instance}
    bt = api.ticker_book_ticker(symbol=s).data().actual_instance
    assert (bt.bid_price, bt.ask_price) == ("99.00000000", "101.00000000")
    avg = api.avg_price(symbol=s).data()
    assert avg.mins == 5 and Decimal(avg.price) == Decimal("100.33333333")
    rolling = api.ticker(symbol=s, window_size="1h").data().actual_instance
    assert rolling.volume == "0.75000000"
    day = api.ticker_trading_day(symbol=s).data().actual_instance
    assert day.count == 2


# ------------------------------------------------------------------ account and orders
def test_account(trader, market):
    api = trader(market, base="1.5", quote="250")
    r = api.get_account(omit_zero_balances=True)
    acct = r.data()
    assert {(b.asset, b.free, b.locked) for b in acct.balances} == {
        (market.base, "1.50000000", "0.00000000"), ("USDT", "250.00000000", "0.00000000")}
    assert acct.can_trade is True and acct.account_type == "SPOT"
    # parsed from the X-MBX-USED-WEIGHT-1M header
    assert [(x.rateLimitType, x.interval, x.intervalNum) for x in r.rate_limits] == [
        ("REQUEST_WEIGHT", "MINUTE", 1)]
    fees = api.account_commission(symbol=market.id).data()
    assert fees.standard_commission.taker == "0.00100000"
    assert [x.interval for x in api.rate_limit_order().data()] == ["SECOND", "DAY"]


def test_limit_order_lifecycle(trader, market):
    api = trader(market)
    s = market.id
    r = api.new_order(symbol=s, side=BUY, type=LIMIT, time_in_force=GTC,
                      quantity=0.5, price=100.0)  # sent as "0.5", "100.0"
    o = r.data()
    assert (o.status, o.orig_qty, o.price, o.fills) == ("NEW", "0.50000000", "100.00000000", [])
    assert len(o.client_order_id) == 22  # generated by the exchange (SDK sends none)
    counts = {(x.interval, x.intervalNum): x.count for x in r.rate_limits
              if x.rateLimitType == "ORDERS"}  # X-MBX-ORDER-COUNT-10S / -1D headers
    assert counts == {("SECOND", 10): 1, ("DAY", 1): 1}
    got = api.get_order(symbol=s, order_id=o.order_id).data()
    assert (got.status, got.is_working) == ("NEW", True)
    assert [x.order_id for x in api.get_open_orders(symbol=s).data()] == [o.order_id]
    d = Decimal("0.10000000")  # Decimals go out as written
    o2 = api.new_order(symbol=s, side=BUY, type=LIMIT, time_in_force=GTC, quantity=d,
                       price=Decimal("90.00"), new_client_order_id="sdk-1").data()
    assert (o2.client_order_id, o2.orig_qty) == ("sdk-1", "0.10000000")
    canceled = api.delete_order(symbol=s, order_id=o.order_id).data()  # DELETE, query only
    assert canceled.status == "CANCELED"
    assert [x.status for x in api.all_orders(symbol=s).data()] == ["CANCELED", "NEW"]
    gone = api.delete_open_orders(symbol=s).data()
    assert [x.orig_client_order_id for x in gone] == ["sdk-1"]
    assert api.get_open_orders(symbol=s).data() == []


def test_market_orders_and_my_trades(trader, market):
    maker, taker = trader(market), trader(market)
    s = market.id
    maker.new_order(symbol=s, side=SELL, type=LIMIT, time_in_force=GTC, quantity=0.3, price=100)
    maker.new_order(symbol=s, side=SELL, type=LIMIT, time_in_force=GTC, quantity=0.3, price=101)
    o = taker.new_order(symbol=s, side=BUY, type=MARKET, quantity=0.4).data()
    assert (o.status, o.executed_qty, o.cummulative_quote_qty) == (
        "FILLED", "0.40000000", "40.10000000")
    assert [(f.price, f.qty, f.commission_asset) for f in o.fills] == [
        ("100.00000000", "0.30000000", market.base), ("101.00000000", "0.10000000", market.base)]
    q = taker.new_order(symbol=s, side=BUY, type=MARKET, quote_order_qty=10.1).data()
    assert (q.status, q.executed_qty, q.orig_quote_order_qty) == (
        "FILLED", "0.10000000", "10.10000000")
    mine = taker.my_trades(symbol=s).data()
    assert [(t.price, t.is_buyer, t.is_maker, t.commission) for t in mine] == [
        ("100.00000000", True, False, "0.00030000"), ("101.00000000", True, False, "0.00010000"),
        ("101.00000000", True, False, "0.00010000")]
    assert len(taker.my_trades(symbol=s, order_id=o.order_id).data()) == 2


def test_stop_loss_limit_and_test_order(trader, market):
    maker, api = trader(market), trader(market)
    s = market.id
    maker.new_order(symbol=s, side=BUY, type=LIMIT, time_in_force=GTC, quantity=0.1, price=100)
    api.new_order(symbol=s, side=SELL, type=MARKET, quantity=0.1)  # last price 100
    stop = api.new_order(symbol=s, side=SELL, type="STOP_LOSS_LIMIT", time_in_force=GTC,
                         quantity=0.1, price=95, stop_price=96).data()
    assert stop.status is None  # ACK: the default response for non LIMIT/MARKET orders
    got = api.get_order(symbol=s, order_id=stop.order_id).data()
    assert (got.type, got.stop_price, got.is_working, got.working_time) == (
        "STOP_LOSS_LIMIT", "96.00000000", False, -1)
    full = api.new_order(symbol=s, side=SELL, type="STOP_LOSS", quantity=0.1, stop_price=94,
                         new_order_resp_type="FULL").data()
    assert (full.status, full.fills) == ("NEW", [])
    # NewOrderResponse declares no stopPrice: it lands in additional_properties
    assert full.additional_properties["stopPrice"] == "94.00000000"
    test = api.order_test(symbol=s, side=BUY, type=LIMIT, time_in_force=GTC, quantity=0.1,
                          price=90, compute_commission_rates=True).data()
    assert test.standard_commission_for_order.maker == "0.00100000"
    replaced = api.order_cancel_replace(
        symbol=s, side=SELL, type="STOP_LOSS_LIMIT", cancel_replace_mode="STOP_ON_FAILURE",
        cancel_order_id=stop.order_id, time_in_force=GTC, quantity=0.1, price=93,
        stop_price=95).data()
    assert (replaced.cancel_result, replaced.new_order_result) == ("SUCCESS", "SUCCESS")
    assert replaced.cancel_response.status == "CANCELED"
    assert len(api.get_open_orders(symbol=s).data()) == 2


def test_oco_order_list(trader, market):
    maker, api = trader(market), trader(market)
    s = market.id
    maker.new_order(symbol=s, side=BUY, type=LIMIT, time_in_force=GTC, quantity=0.1, price=100)
    api.new_order(symbol=s, side=SELL, type=MARKET, quantity=0.1)  # last price 100
    placed = api.order_list_oco(symbol=s, side="SELL", quantity=0.2, above_type="LIMIT_MAKER",
                                below_type="STOP_LOSS_LIMIT", above_price=110,
                                below_price=89, below_stop_price=90,
                                below_time_in_force="GTC").data()
    assert (placed.contingency_type, placed.list_status_type) == ("OCO", "EXEC_STARTED")
    assert sorted(r.type for r in placed.order_reports) == ["LIMIT_MAKER", "STOP_LOSS_LIMIT"]
    lid = placed.order_list_id
    assert api.get_order_list(order_list_id=lid).data().list_order_status == "EXECUTING"
    assert [x.order_list_id for x in api.open_order_list().data()] == [lid]
    assert [x.order_list_id for x in api.all_order_list().data()] == [lid]
    done = api.delete_order_list(symbol=s, order_list_id=lid).data()
    assert done.list_order_status == "ALL_DONE"
    assert {r.status for r in done.order_reports} == {"CANCELED"}
    assert api.open_order_list().data() == []


def test_oco_limit_leg_fill_expires_stop_leg(trader, market):
    maker, api, taker = trader(market), trader(market), trader(market)
    s = market.id
    maker.new_order(symbol=s, side=BUY, type=LIMIT, time_in_force=GTC, quantity=0.1, price=100)
    api.new_order(symbol=s, side=SELL, type=MARKET, quantity=0.1)  # last price 100
    placed = api.order_list_oco(symbol=s, side="SELL", quantity=0.2, above_type="LIMIT_MAKER",
                                below_type="STOP_LOSS", above_price=110,
                                below_stop_price=90).data()
    legs = {r.type: r.order_id for r in placed.order_reports}
    taker.new_order(symbol=s, side=BUY, type=MARKET, quantity=0.2)  # fills the LIMIT_MAKER leg
    assert api.get_order(symbol=s, order_id=legs["LIMIT_MAKER"]).data().status == "FILLED"
    assert api.get_order(symbol=s, order_id=legs["STOP_LOSS"]).data().status == "EXPIRED"
    done = api.get_order_list(order_list_id=placed.order_list_id).data()
    assert done.list_order_status == "ALL_DONE"


# ------------------------------------------------------------------ errors
def test_error_insufficient_balance(trader, market):
    api = trader(market, quote="10")
    with pytest.raises(BadRequestError) as e:
        api.new_order(symbol=market.id, side=BUY, type=LIMIT, time_in_force=GTC, quantity=1,
                      price=100)
    assert code_of(e) == (-2010, "Account has insufficient balance for requested action.")


def test_error_unknown_order(trader, market):
    api = trader(market)
    with pytest.raises(BadRequestError) as e:
        api.get_order(symbol=market.id, order_id=987654321)
    assert code_of(e) == (-2013, "Order does not exist.")
    with pytest.raises(BadRequestError) as e:
        api.delete_order(symbol=market.id, order_id=987654321)
    assert code_of(e) == (-2011, "Unknown order sent.")
    with pytest.raises(BadRequestError) as e:
        api.get_order_list(order_list_id=987654321)
    assert code_of(e)[0] == -2013


def test_error_bad_symbol(sdk, trader, market):
    with pytest.raises(BadRequestError) as e:
        sdk().depth(symbol="NOPEUSDT")
    assert code_of(e) == (-1121, "Invalid symbol.")
    with pytest.raises(BadRequestError) as e:
        trader(market).get_open_orders(symbol="NOPEUSDT")
    assert code_of(e) == (-1121, "Invalid symbol.")


def test_error_filter_failures_and_float_quantities(trader, market):
    api = trader(market)
    order = dict(symbol=market.id, side=BUY, type=LIMIT, time_in_force=GTC)
    with pytest.raises(BadRequestError) as e:
        api.new_order(**order, quantity=0.001, price=100)
    assert code_of(e) == (-1013, "Filter failure: NOTIONAL")
    with pytest.raises(BadRequestError) as e:
        api.new_order(**order, quantity=0.5, price=100.001)
    assert code_of(e) == (-1013, "Filter failure: PRICE_FILTER")
    # the SDK sends str(float): 0.00001 goes out as "1e-05", which Binance rejects
    with pytest.raises(BadRequestError) as e:
        api.new_order(**order, quantity=0.00001, price=1000000)
    assert code_of(e)[0] == -1100 and "'quantity'" in code_of(e)[1]


def test_error_authentication(spotex, sdk, market):
    acct = spotex.account(**{market.quote: "100"})
    with pytest.raises(BadRequestError) as e:
        sdk(Account(acct.account_id, acct.api_key, "x" * 64)).get_account()
    assert code_of(e) == (-1022, "Signature for this request is not valid.")
    with pytest.raises(UnauthorizedError) as e:  # HTTP 401
        sdk(Account(0, "k" * 64, "x" * 64)).get_account()
    assert code_of(e) == (-2015, "Invalid API-key, IP, or permissions for action.")
    # public calls carry `X-MBX-APIKEY:` (empty without a key, here an unknown one): ignored
    assert sdk(Account(0, "k" * 64, "x" * 64)).time().data().server_time > 0


def test_error_timestamp_outside_recv_window(trader, market, monkeypatch):
    api = trader(market)
    now = binance_common.utils.get_timestamp
    monkeypatch.setattr(binance_common.utils, "get_timestamp", lambda: now() - 20_000)
    with pytest.raises(BadRequestError) as e:  # no recvWindow sent: the 5000 ms default
        api.get_account()
    assert code_of(e) == (-1021, "Timestamp for this request is outside of the recvWindow.")
    assert api.get_account(recv_window=30_000).data().can_trade is True
    monkeypatch.setattr(binance_common.utils, "get_timestamp", lambda: now() + 2_000)
    with pytest.raises(BadRequestError) as e:
        api.get_account()
    assert code_of(e) == (-1021,
                          "Timestamp for this request was 1000ms ahead of the server's time.")


def test_error_order_rate_limit(trader, market):
    order = dict(symbol=market.id, side=BUY, type=LIMIT, time_in_force=GTC, quantity=0.1,
                 price=90)
    api = fill_order_window(lambda: trader(market, quote="100000"),
                            lambda api: api.new_order(**order, new_order_resp_type="ACK"))
    with pytest.raises(TooManyRequestsError) as e:  # HTTP 429
        api.new_order(**order)
    assert code_of(e) == (-1015, "Too many new orders; current limit is 100 orders per 10 SECOND.")
    # the 2024-10-17 docs send this 429 without Retry-After, later docs with it (seconds to
    # the end of the window); either is Binance behaviour (spec general.md, headers)
    assert e.value.retry_after is None or 0 < e.value.retry_after <= 10
    counts = {x.interval: x.count for x in api.rate_limit_order().data()}
    assert counts == {"SECOND": 100, "DAY": 100}


# ------------------------------------------------------------------ key types
@pytest.mark.parametrize("key_type", ["ED25519", "RSA"])
def test_asymmetric_keys(trader, market, key_type):
    """`private_key=` PEM: the SDK tries RSA, then Ed25519; the base64 signature is
    percent-encoded into the query string by requests."""
    api = trader(market, key_type, quote="1000")
    balances = {b.asset: b.free for b in api.get_account(omit_zero_balances=True).data().balances}
    assert balances == {market.base: "10.00000000", "USDT": "1000.00000000"}
    o = api.new_order(symbol=market.id, side=BUY, type=LIMIT, time_in_force=GTC,
                      quantity=0.1, price=90).data()  # POST, query only, no body
    assert api.get_order(symbol=market.id, order_id=o.order_id).data().status == "NEW"
    assert api.delete_order(symbol=market.id, order_id=o.order_id).data().status == "CANCELED"
