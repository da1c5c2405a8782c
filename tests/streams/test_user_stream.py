"""User data over listenKeys: the REST lifecycle and every event, field by field."""
from __future__ import annotations

import asyncio
import time

import pytest

from .conftest import QUOTE, collect, connect, recv, recv_until, request, start_live, stop_live

NEW_KEYS = ["e", "E", "s", "c", "S", "o", "f", "q", "p", "P", "F", "g", "C", "x", "X", "r", "i",
            "l", "z", "L", "n", "N", "T", "t", "I", "w", "m", "M", "O", "Z", "Y", "Q", "W", "V"]
INTS, BOOLS = set("EgiTtIOW"), set("wmM")


def typed(ev: dict) -> None:
    for key, value in ev.items():
        if key in INTS:
            assert type(value) is int, (key, value)
        elif key in BOOLS:
            assert type(value) is bool, (key, value)
        elif key == "N":
            assert value is None or type(value) is str
        elif key not in ("v", "u", "U", "d", "D", "j", "J"):
            assert type(value) is str, (key, value)


async def events(ws, n: int, timeout: float = 5) -> list[dict]:
    return [await recv(ws, timeout) for _ in range(n)]


# ---------------------------------------------------------------- listenKey REST
def test_listen_key_lifecycle(live):
    acct = live.account(USDT="1")
    hdr = {"X-MBX-APIKEY": acct.api_key}
    key = live.listen_key(acct)
    assert len(key) == 64 and key.isalnum()
    assert live.listen_key(acct) == key  # the active key, extended
    r = live.http.put("/api/v3/userDataStream", params={"listenKey": key}, headers=hdr)
    assert (r.status_code, r.json()) == (200, {})
    # python-binance sends PUT/DELETE params in a form body
    r = live.http.request("DELETE", "/api/v3/userDataStream", content=f"listenKey={key}",
                          headers={**hdr, "Content-Type": "application/x-www-form-urlencoded"})
    assert (r.status_code, r.json()) == (200, {})
    for method in ("PUT", "DELETE"):
        r = live.http.request(method, "/api/v3/userDataStream", params={"listenKey": key}, headers=hdr)
        assert (r.status_code, r.json()) == (400, {"code": -1125, "msg": "This listenKey does not exist."})
    assert live.listen_key(acct) != key  # closed: a new one
    other = live.account()
    r = live.http.put("/api/v3/userDataStream", params={"listenKey": live.listen_key(acct)},
                      headers={"X-MBX-APIKEY": other.api_key})
    assert r.json()["code"] == -1125  # someone else's key
    r = live.http.put("/api/v3/userDataStream", headers=hdr)
    assert r.json() == {"code": -1102, "msg": "Mandatory parameter 'listenKey' was not sent, was empty/null, or malformed."}


def test_listen_key_needs_an_api_key_only(live):
    r = live.http.post("/api/v3/userDataStream")
    assert (r.status_code, r.json()["code"]) == (401, -2014)
    r = live.http.post("/api/v3/userDataStream", headers={"X-MBX-APIKEY": "x" * 64})
    assert (r.status_code, r.json()["code"]) == (401, -2015)
    acct = live.account()
    r = live.http.post("/api/v3/userDataStream", headers={"X-MBX-APIKEY": acct.api_key})
    before = int(r.headers["x-mbx-used-weight-1m"])
    r = live.http.post("/api/v3/userDataStream", headers={"X-MBX-APIKEY": acct.api_key})
    assert int(r.headers["x-mbx-used-weight-1m"]) - before == 2


# ---------------------------------------------------------------- events
async def test_new_trade_and_balances(live):
    sym = live.market()
    base = sym[:-4]
    maker, taker = live.pair(sym)
    async with connect(live, "/ws/" + live.listen_key(maker)) as mws, \
            connect(live, "/ws/" + live.listen_key(taker)) as tws:
        sell = live.order(maker, sym, "SELL", "2", "100", newClientOrderId="maker-1")
        new, pos = await events(mws, 2)
        buy = live.order(taker, sym, "BUY", "0.5")
        m_trade, m_pos = await events(mws, 2)
        t_new, t_trade, t_pos = await events(tws, 3)
    assert list(new) == NEW_KEYS
    assert new == {
        "e": "executionReport", "E": sell["transactTime"], "s": sym, "c": "maker-1", "S": "SELL",
        "o": "LIMIT", "f": "GTC", "q": "2.00000000", "p": "100.00000000", "P": "0.00000000",
        "F": "0.00000000", "g": -1, "C": "", "x": "NEW", "X": "NEW", "r": "NONE",
        "i": sell["orderId"], "l": "0.00000000", "z": "0.00000000", "L": "0.00000000", "n": "0",
        "N": None, "T": sell["transactTime"], "t": -1, "I": new["I"], "w": True, "m": False,
        "M": False, "O": sell["transactTime"], "Z": "0.00000000", "Y": "0.00000000",
        "Q": "0.00000000", "W": sell["transactTime"], "V": "NONE"}
    typed(new)
    assert pos == {"e": "outboundAccountPosition", "E": sell["transactTime"], "u": sell["transactTime"],
                   "B": [{"a": base, "f": "98.00000000", "l": "2.00000000"},
                         {"a": QUOTE, "f": "100000.00000000", "l": "0.00000000"}]}
    # the maker's fill: sold 0.5 at 100, commission 0.1 % of the 50 USDT received
    assert {k: m_trade[k] for k in "xXlzLnNtmMwYZ"} == {
        "x": "TRADE", "X": "PARTIALLY_FILLED", "l": "0.50000000", "z": "0.50000000",
        "L": "100.00000000", "n": "0.05000000", "N": QUOTE, "t": 1, "m": True, "M": True,
        "w": True, "Y": "50.00000000", "Z": "50.00000000"}
    assert m_trade["I"] > new["I"]
    assert m_pos["B"] == [{"a": base, "f": "98.00000000", "l": "1.50000000"},
                          {"a": QUOTE, "f": "100049.95000000", "l": "0.00000000"}]
    # the taker: MARKET BUY, NEW (working) then FILLED, commission in the base received
    assert (t_new["x"], t_new["X"], t_new["o"], t_new["w"], t_new["W"]) == ("NEW", "NEW", "MARKET", True, buy["transactTime"])
    assert {k: t_trade[k] for k in "xXlzLnNtmw"} == {
        "x": "TRADE", "X": "FILLED", "l": "0.50000000", "z": "0.50000000", "L": "100.00000000",
        "n": "0.00050000", "N": base, "t": 1, "m": False, "w": False}
    assert t_pos["B"][0] == {"a": base, "f": "100.49950000", "l": "0.00000000"}
    typed(m_trade)


async def test_cancel_reports_both_client_ids(live):
    sym = live.market()
    maker, _ = live.pair(sym)
    async with connect(live, "/ws/" + live.listen_key(maker)) as ws:
        o = live.order(maker, sym, "BUY", "1", "90", newClientOrderId="mine-1")
        await events(ws, 2)
        live.signed(maker, "DELETE", "/api/v3/order", symbol=sym, orderId=o["orderId"],
                    newClientOrderId="cancel-1")
        ev, pos = await events(ws, 2)
    assert (ev["x"], ev["X"], ev["c"], ev["C"], ev["w"]) == ("CANCELED", "CANCELED", "cancel-1", "mine-1", False)
    assert pos["B"][1] == {"a": QUOTE, "f": "100000.00000000", "l": "0.00000000"}


async def test_market_order_running_out_of_liquidity(live):
    """The FAQ sequence: NEW, TRADE, TRADE, EXPIRED, outboundAccountPosition, one E/T."""
    sym = live.market()
    maker, taker = live.pair(sym)
    live.order(maker, sym, "SELL", "2", "1")
    live.order(maker, sym, "SELL", "2", "2")
    async with connect(live, "/ws/" + live.listen_key(taker)) as ws:
        live.order(taker, sym, "BUY", "6")
        got = await events(ws, 5)
    assert [(e.get("x"), e.get("X")) for e in got] == [
        ("NEW", "NEW"), ("TRADE", "PARTIALLY_FILLED"), ("TRADE", "PARTIALLY_FILLED"),
        ("EXPIRED", "EXPIRED"), (None, None)]
    assert got[-1]["e"] == "outboundAccountPosition"
    assert [(e["l"], e["z"], e["t"]) for e in got[:4]] == [
        ("0.00000000", "0.00000000", -1), ("2.00000000", "2.00000000", 1),
        ("2.00000000", "4.00000000", 2), ("0.00000000", "4.00000000", -1)]
    assert len({e["E"] for e in got}) == 1 and len({e["T"] for e in got[:4]}) == 1


async def test_quote_order_qty_last_fill_is_filled(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    live.order(maker, sym, "SELL", "5", "10")
    async with connect(live, "/ws/" + live.listen_key(taker)) as ws:
        live.signed(taker, "POST", "/api/v3/order", symbol=sym, side="BUY", type="MARKET",
                    quoteOrderQty="25")
        new, trade, _ = await events(ws, 3)
    assert (new["q"], new["Q"]) == ("0.00000000", "25.00000000")
    assert (trade["x"], trade["X"], trade["q"], trade["z"], trade["Z"]) == (
        "TRADE", "FILLED", "2.50000000", "2.50000000", "25.00000000")


async def test_self_trade_prevention(live):
    sym = live.market()
    acct, _ = live.pair(sym)
    async with connect(live, "/ws/" + live.listen_key(acct)) as ws:
        maker = live.order(acct, sym, "SELL", "1", "100")
        await events(ws, 2)
        taker = live.order(acct, sym, "BUY", "0.4", "100", selfTradePreventionMode="EXPIRE_TAKER")
        new, prevented, pos = await events(ws, 3)
    assert new["x"] == "NEW"
    assert prevented == {**prevented, "x": "TRADE_PREVENTION", "X": "EXPIRED_IN_MATCH",
                         "i": taker["orderId"], "l": "0.00000000", "L": "0.00000000",
                         "Y": "0.00000000", "v": 1, "A": "0.40000000", "B": "0.40000000",
                         "u": -1, "U": maker["orderId"], "Cs": sym, "pl": "0.40000000",
                         "pL": "100.00000000", "pY": "40.00000000", "w": False, "V": "EXPIRE_TAKER"}
    assert list(prevented)[-9:] == ["v", "A", "B", "u", "U", "Cs", "pl", "pL", "pY"]
    assert pos["e"] == "outboundAccountPosition"


async def test_stop_order_reports_its_trigger(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    live.order(maker, sym, "SELL", "0.1", "100")
    live.order(taker, sym, "BUY", "0.1")  # last price 100
    async with connect(live, "/ws/" + live.listen_key(taker)) as ws:
        stop = live.signed(taker, "POST", "/api/v3/order", symbol=sym, side="BUY", type="STOP_LOSS_LIMIT",
                           timeInForce="GTC", quantity="0.2", price="106", stopPrice="105",
                           strategyId=7, strategyType=1000000)
        placed, _ = await events(ws, 2)
        live.order(maker, sym, "SELL", "0.1", "105")
        live.order(maker, sym, "SELL", "1", "106")
        live.order(taker, sym, "BUY", "0.1")  # trades at 105: the stop fires
        got = await collect(ws, 0.8)
    assert (placed["x"], placed["X"], placed["w"], "W" in placed) == ("NEW", "NEW", False, False)
    assert (placed["P"], placed["j"], placed["J"]) == ("105.00000000", 7, 1000000)
    mine = [e for e in got if e.get("i") == stop["orderId"]]
    assert [(e["x"], e["X"], e["w"]) for e in mine] == [("NEW", "NEW", True), ("TRADE", "FILLED", False)]
    assert mine[0]["W"] == mine[0]["T"]


async def test_order_lists_report_list_status(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    live.order(maker, sym, "SELL", "1", "100")
    live.order(taker, sym, "BUY", "0.1")  # last price 100
    async with connect(live, "/ws/" + live.listen_key(taker)) as ws:
        oco = live.signed(taker, "POST", "/api/v3/orderList/oco", symbol=sym, side="SELL",
                          quantity="1", aboveType="LIMIT_MAKER", abovePrice="110",
                          belowType="STOP_LOSS", belowStopPrice="90", listClientOrderId="my-list")
        placed = await events(ws, 4)
        live.signed(taker, "DELETE", "/api/v3/orderList", symbol=sym, orderListId=oco["orderListId"])
        done = await events(ws, 4)
    assert [e.get("x") or e["e"] for e in placed] == ["NEW", "NEW", "listStatus", "outboundAccountPosition"]
    ls = placed[2]
    legs = [{"s": sym, "i": o["orderId"], "c": o["clientOrderId"]} for o in oco["orders"]]
    assert ls == {"e": "listStatus", "E": oco["transactionTime"], "s": sym, "g": oco["orderListId"],
                  "c": "OCO", "l": "EXEC_STARTED", "L": "EXECUTING", "r": "NONE", "C": "my-list",
                  "T": oco["transactionTime"], "O": legs}
    assert all(e["g"] == oco["orderListId"] for e in placed[:2])
    assert [e.get("x") or e["e"] for e in done] == ["CANCELED", "CANCELED", "listStatus", "outboundAccountPosition"]
    assert (done[2]["l"], done[2]["L"], done[2]["O"]) == ("ALL_DONE", "ALL_DONE", legs)


async def test_oto_pending_leg(live):
    sym = live.market()
    maker, taker = live.pair(sym)
    async with connect(live, "/ws/" + live.listen_key(taker)) as ws:
        live.signed(taker, "POST", "/api/v3/orderList/oto", symbol=sym, workingType="LIMIT",
                    workingSide="BUY", workingPrice="100", workingQuantity="1", workingTimeInForce="GTC",
                    pendingType="LIMIT", pendingSide="SELL", pendingPrice="120", pendingQuantity="1",
                    pendingTimeInForce="GTC")
        placed = await events(ws, 4)
        live.order(maker, sym, "SELL", "1", "100")
        filled = await collect(ws, 0.5)
    assert [(e.get("x"), e.get("X")) for e in placed[:2]] == [("NEW", "NEW"), ("NEW", "PENDING_NEW")]
    assert placed[1]["w"] is False and "W" not in placed[1]
    assert placed[2]["e"] == "listStatus" and placed[2]["c"] == "OTO"
    assert [(e.get("x"), e.get("X")) for e in filled if e["e"] == "executionReport"] == [
        ("TRADE", "FILLED"), ("NEW", "NEW")]


async def test_deposits_and_withdrawals(live):
    acct = live.account(USDT="10")
    async with connect(live, "/ws/" + live.listen_key(acct)) as ws:
        live.transfer(acct, "deposit", "BTC", "1.5")
        dep, dep_pos = await events(ws, 2)
        live.transfer(acct, "withdraw", "USDT", "4")
        wd, wd_pos = await events(ws, 2)
    assert list(dep) == ["e", "E", "a", "d", "T"]
    assert (dep["e"], dep["a"], dep["d"], dep["T"]) == ("balanceUpdate", "BTC", "1.50000000", dep["E"])
    assert dep_pos["B"] == [{"a": "BTC", "f": "1.50000000", "l": "0.00000000"}]
    assert (wd["a"], wd["d"]) == ("USDT", "-4.00000000")
    assert wd_pos["B"] == [{"a": "USDT", "f": "6.00000000", "l": "0.00000000"}]


async def test_listen_key_as_a_stream_name(live):
    """The SDK's way: SUBSCRIBE the key on /stream; events come wrapped with it."""
    sym = live.market()
    maker, _ = live.pair(sym)
    key = live.listen_key(maker)
    async with connect(live, "/stream") as ws:
        assert await request(ws, "SUBSCRIBE", [key, f"{sym.lower()}@bookTicker"], "abc") == {"result": None, "id": "abc"}
        live.order(maker, sym, "BUY", "1", "90")
        got = await events(ws, 3)
    # (no order between the two kinds of events is promised)
    assert sorted(m["stream"] for m in got) == sorted([key, key, f"{sym.lower()}@bookTicker"])
    assert [m["data"]["e"] for m in got if m["stream"] == key] == ["executionReport",
                                                                   "outboundAccountPosition"]


async def test_closed_key_stops_events(live):
    acct = live.account(USDT="100")
    key = live.listen_key(acct)
    async with connect(live, "/ws/" + key) as ws:
        live.http.delete("/api/v3/userDataStream", params={"listenKey": key},
                         headers={"X-MBX-APIKEY": acct.api_key})
        live.transfer(acct, "deposit", "USDT", "1")
        assert await collect(ws, 0.5) == []  # closed, not expired: no listenKeyExpired


async def test_unknown_key_gets_nothing(live):
    acct = live.account(USDT="100")
    async with connect(live, "/ws/" + "k" * 64) as ws:
        live.transfer(acct, "deposit", "USDT", "1")
        assert await collect(ws, 0.3) == []


# ---------------------------------------------------------------- expiry
@pytest.fixture(scope="module")
def short_keys(tmp_path_factory):
    server, lv = start_live(tmp_path_factory, listen_key_validity="2s")
    yield lv
    stop_live(server, lv)


async def test_listen_key_expires(short_keys):
    live = short_keys
    acct = live.account(USDT="100")
    key = live.listen_key(acct)
    hdr = {"X-MBX-APIKEY": acct.api_key}
    async with connect(live, "/ws/" + key) as ws:
        await asyncio.sleep(1)
        assert live.http.put("/api/v3/userDataStream", params={"listenKey": key}, headers=hdr).json() == {}
        t0 = time.monotonic()
        expired = await recv_until(ws, lambda m: m["e"] == "listenKeyExpired", timeout=5)
        assert time.monotonic() - t0 > 1.5  # the keepalive extended it
        live.transfer(acct, "deposit", "USDT", "1")
        assert await collect(ws, 0.5) == []  # nothing more on it
    assert expired == {"e": "listenKeyExpired", "E": expired["E"], "listenKey": key}
    r = live.http.put("/api/v3/userDataStream", params={"listenKey": key}, headers=hdr)
    assert r.json()["code"] == -1125
    assert live.listen_key(acct) != key
