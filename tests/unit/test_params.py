"""Params: form parsing, precedence and the exact Binance error for each bad value."""
from __future__ import annotations

import pytest

from spotex.api.params import Params, parse_form
from spotex.core import numbers
from spotex.core.errors import ApiError


def err(fn, *a, **kw) -> ApiError:
    with pytest.raises(ApiError) as ei:
        fn(*a, **kw)
    return ei.value


def P(query: str = "", body: str = "") -> Params:
    return Params.from_parts(query, body)


# -- parse_form ------------------------------------------------------------------------

def test_parse_plain():
    assert parse_form("symbol=BTCUSDT&side=BUY&quantity=0.01") == {
        "symbol": "BTCUSDT", "side": "BUY", "quantity": "0.01"}


def test_parse_empty_and_skips_empty_segments():
    assert parse_form("") == {}
    assert parse_form("&a=1&&b=2&") == {"a": "1", "b": "2"}
    assert parse_form("a%20b=1&&c=%2B") == {"a b": "1", "c": "+"}


def test_parse_no_equals_and_empty_value():
    assert parse_form("a&b=") == {"a": "", "b": ""}


def test_parse_percent_and_plus():
    d = parse_form("symbols=%5B%22BTCUSDT%22,%22BNBUSDT%22%5D&x=a+b&sig=ab%2Bc%2F%3D&u=%EF%BC%91")
    assert d == {"symbols": '["BTCUSDT","BNBUSDT"]', "x": "a b", "sig": "ab+c/=", "u": "１"}


def test_parse_value_with_equals_kept():
    assert parse_form("a=b=c") == {"a": "b=c"}


@pytest.mark.parametrize("raw", ["a=1&a=2", "a=1&b=2&a=1", "a%41=1&aA=2", "x=+&x=1"])
def test_parse_duplicate(raw):
    e = err(parse_form, raw)
    assert (e.code, e.msg) == (-1101, "Duplicate values for a parameter detected.")


# -- Params ------------------------------------------------------------------------------

def test_query_wins_over_body_and_mixed():
    p = P("symbol=BTCUSDT&price=1", "price=2&quantity=3")
    assert p.get("price") == "1"
    assert p.get("quantity") == "3"
    assert set(p.names()) == {"symbol", "price", "quantity"}
    assert len(p) == 3


def test_same_name_in_query_and_body_is_not_duplicate():
    assert P("a=1", "a=2").get("a") == "1"


def test_duplicate_in_body_rejected():
    assert err(P, "", "a=1&a=2").code == -1101


def test_has_get():
    p = P("a=1&b=")
    assert p.has("a") and not p.has("b") and not p.has("c")
    assert p.get("b") == "" and p.get("c") is None


def test_str():
    p = P("a=x&e=")
    assert p.str("a") == "x"
    assert p.str("e") is None and p.str("zz") is None
    for name in ("e", "zz"):
        e = err(p.str, name, required=True)
        assert (e.code, e.msg) == (
            -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def test_long_ok():
    p = P("a=0&b=1499827319559&c=9223372036854775807&d=007&n=-5")
    assert p.long("a") == 0
    assert p.long("b") == 1499827319559
    assert p.long("c") == 2**63 - 1
    assert p.long("d") == 7
    assert p.long("n", signed=True) == -5
    assert p.long("missing") is None


@pytest.mark.parametrize("v", ["abc", "1.0", "-1", "1e5", "%2B1", "%20", "１２", "1a", "123456789012345678901"])
def test_long_illegal(v):
    e = err(P(f"orderId={v}").long, "orderId")
    assert (e.code, e.msg) == (
        -1100, "Illegal characters found in parameter 'orderId'; legal range is '^[0-9]{1,20}$'.")


def test_long_signed_illegal():
    e = err(P("x=-").long, "x", signed=True)
    assert e.msg == "Illegal characters found in parameter 'x'; legal range is '^-?[0-9]{1,19}$'."


def test_long_overflow():
    e = err(P("orderId=9223372036854775808").long, "orderId")
    assert (e.code, e.msg) == (-1108, "Parameter 'orderId' overflowed.")


def test_long_required():
    assert err(P("timestamp=").long, "timestamp", required=True).code == -1102


def test_int():
    p = P("limit=500&big=2147483648")
    assert p.int("limit") == 500
    assert err(p.int, "big").code == -1108
    assert err(P("limit=x").int, "limit").code == -1100


def test_decimal_ok():
    p = P("q=0.01&p=45000.12&z=0.00100000&w=60000&t=1.123456780")
    assert p.decimal("q") == 1_000_000
    assert p.decimal("p") == 4_500_012_000_000
    assert p.decimal("z") == 100_000
    assert p.decimal("w") == 60000 * numbers.SCALE
    assert p.decimal("t") == 112_345_678
    assert p.decimal("none") is None


@pytest.mark.parametrize("v", ["1e-05", "-1", ".5", "1.", "abc", "1,5"])
def test_decimal_syntax(v):
    e = err(P(f"quantity={v}").decimal, "quantity")
    assert (e.code, e.msg) == (
        -1100, f"Illegal characters found in parameter 'quantity'; legal range is '{numbers.DECIMAL_PATTERN}'.")


def test_decimal_precision_and_overflow():
    e = err(P("price=0.000000001").decimal, "price")
    assert (e.code, e.msg) == (-1111, "Parameter 'price' has too much precision.")
    e = err(P("price=99999999999999999999").decimal, "price")
    assert (e.code, e.msg) == (-1108, "Parameter 'price' overflowed.")
    assert err(P("price=").decimal, "price", required=True).code == -1102


def test_bool():
    p = P("a=true&b=FALSE&c=True&d=yes&e=")
    assert p.bool("a", False) is True
    assert p.bool("b", True) is False
    assert p.bool("c", False) is True
    assert p.bool("e", True) is True
    assert p.bool("missing", None) is None
    e = err(p.bool, "d", False)
    assert (e.code, e.msg) == (-1130, "Data sent for parameter 'd' is not valid.")


def test_enum():
    sides = {"BUY", "SELL"}
    p = P("side=BUY&bad=buy&x=Q")
    assert p.enum("side", sides, "INVALID_SIDE") == "BUY"
    e = err(p.enum, "bad", sides, "INVALID_SIDE")
    assert (e.code, e.msg) == (-1117, "Invalid side.")
    assert err(p.enum, "x", {"GTC"}, "INVALID_TIF").code == -1115
    assert err(p.enum, "x", {"LIMIT"}, "INVALID_ORDER_TYPE").msg == "Invalid orderType."
    e = err(p.enum, "x", {"A"}, None)
    assert (e.code, e.msg) == (-1130, "Data sent for parameter 'x' is not valid.")
    assert p.enum("nope", sides, "INVALID_SIDE") is None
    assert err(p.enum, "nope", sides, "INVALID_SIDE", required=True).code == -1102


def test_json_list():
    p = P('symbols=%5B%22BTCUSDT%22,%22BNBBTC%22%5D&s2=["A", "B"]&e=[]')
    assert p.json_list("symbols") == ["BTCUSDT", "BNBBTC"]
    assert p.json_list("s2") == ["A", "B"]
    assert p.json_list("e") == []
    assert p.json_list("none") is None


@pytest.mark.parametrize("v", ["BTCUSDT", "[BTCUSDT]", '["A",', '{"a":1}', "[1,2]", '"A"', '[["A"]]'])
def test_json_list_invalid(v):
    e = err(Params({"symbols": v}).json_list, "symbols")
    assert (e.code, e.msg) == (-1135, "JSON sent for parameter 'symbols' is not valid")
