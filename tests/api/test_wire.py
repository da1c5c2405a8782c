"""The wire: where parameters travel, SIGNED request checks, parameter syntax errors.

general.md §4 (placement, precedence, duplicates), §5-§6 (keys, signatures, timing),
errors.md (-1021, -1022, -1100, -1101, -1102, -1111, -1115..-1117, -1131, -2014, -2015).
Every rejection is also checked to leave balances and open orders untouched.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote, urlencode

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
         "quantity": "0.001", "price": "50000"}


def hmac_hex(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def err(r, status: int, code: int, msg: str) -> None:
    assert r.status_code == status, r.text
    assert r.json() == {"code": code, "msg": msg}


@pytest.fixture
async def trader(exchange):
    return await exchange.new_trader(BTC="1", USDT="100000")


async def state(t):
    """What a rejected request must not change: balances and open orders."""
    r = await t.signed("GET", "/api/v3/openOrders")
    assert r.status_code == 200, r.text
    return await t.balances(), r.json()


async def raw(t, method: str, path: str, query: str = "", body: str = "", *,
              sign: str = "query", key: str | None = None, signature: str | None = None,
              headers: dict | None = None):
    """Send a request whose query/body text is exactly as given; the HMAC signature is
    computed over query+body and appended to the part named by `sign` ("query"/"body"),
    unless `signature` is given or `sign` is None."""
    if sign is not None:
        sig = signature if signature is not None else hmac_hex(t.secret, query + body)
        if sign == "query":
            query = f"{query}&signature={sig}" if query else f"signature={sig}"
        else:
            body = f"{body}&signature={sig}" if body else f"signature={sig}"
    h = {"X-MBX-APIKEY": t.api_key if key is None else key}
    if body:
        h.update(FORM)
    h.update(headers or {})
    url = f"{path}?{query}" if query else path
    return await t.http.request(method, url, content=body.encode() if body else None, headers=h)


# ---------------------------------------------------------------- parameter placement

async def test_params_in_query(trader):
    r = await trader.order(**ORDER)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "NEW"
    assert r.json()["origQty"] == "0.00100000"


async def test_params_in_form_body(trader):
    r = await trader.order(**ORDER, body=True)
    assert r.status_code == 200, r.text
    assert r.json()["price"] == "50000.00000000"


async def test_params_mixed_query_and_body(trader, clock):
    q = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    b = f"quantity=0.002&price=40000&timestamp={clock()}"
    r = await raw(trader, "POST", "/api/v3/order", q, b, sign="body")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["symbol"], body["side"], body["type"]) == ("BTCUSDT", "BUY", "LIMIT")
    assert (body["origQty"], body["price"]) == ("0.00200000", "40000.00000000")


async def test_mixed_signature_has_no_separator(trader, clock):
    q = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    b = f"quantity=0.002&price=40000&timestamp={clock()}"
    before = await state(trader)
    sig = hmac_hex(trader.secret, q + "&" + b)  # a wrong payload: Binance adds no '&'
    r = await raw(trader, "POST", "/api/v3/order", q, b, sign="body", signature=sig)
    err(r, 400, -1022, "Signature for this request is not valid.")
    assert await state(trader) == before


async def test_query_wins_over_body(trader, clock):
    q = f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000&timestamp={clock()}"
    b = "quantity=0.002&price=40000&side=SELL"
    r = await raw(trader, "POST", "/api/v3/order", q, b, sign="query")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["side"], body["origQty"], body["price"]) == ("BUY", "0.00100000", "50000.00000000")


async def test_post_everything_in_query_without_content_type(trader, clock):
    q = urlencode({**ORDER, "timestamp": clock()})
    q += "&signature=" + hmac_hex(trader.secret, q)
    r = await trader.http.post(f"/api/v3/order?{q}", headers={"X-MBX-APIKEY": trader.api_key})
    assert "content-type" not in {k.lower() for k in r.request.headers}
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "NEW"


async def test_delete_with_form_body(trader, clock):
    oid = (await trader.order(**ORDER)).json()["orderId"]
    r = await raw(trader, "DELETE", "/api/v3/order", "",
                  f"symbol=BTCUSDT&orderId={oid}&timestamp={clock()}", sign="body")
    assert r.status_code == 200, r.text
    assert (r.json()["orderId"], r.json()["status"]) == (oid, "CANCELED")
    assert (await trader.balances())["USDT"] == ("100000.00000000", "0.00000000")


async def test_delete_mixed_query_and_body(trader, clock):
    oid = (await trader.order(**ORDER)).json()["orderId"]
    r = await raw(trader, "DELETE", "/api/v3/order", "symbol=BTCUSDT",
                  f"orderId={oid}&timestamp={clock()}", sign="body")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "CANCELED"


async def test_signature_in_body_params_in_query(trader, clock):
    q = urlencode({**ORDER, "timestamp": clock()})
    r = await raw(trader, "POST", "/api/v3/order", q, "", sign="body")
    assert r.status_code == 200, r.text


async def test_signature_in_query_params_in_body(trader, clock):
    b = urlencode({**ORDER, "timestamp": clock()})
    r = await raw(trader, "POST", "/api/v3/order", "", b, sign="query")
    assert r.status_code == 200, r.text


async def test_signature_not_last(trader, clock):
    q = urlencode({**ORDER, "timestamp": clock()})
    q = f"signature={hmac_hex(trader.secret, q)}&{q}"
    r = await raw(trader, "POST", "/api/v3/order", q, sign=None)
    assert r.status_code == 200, r.text


async def test_hmac_hex_upper_case_accepted(trader, clock):
    q = urlencode({"timestamp": clock()})
    r = await raw(trader, "GET", "/api/v3/account", q,
                  signature=hmac_hex(trader.secret, q).upper())
    assert r.status_code == 200, r.text
    assert "balances" in r.json()


async def test_percent_encoded_payload_signed_as_sent_or_decoded(trader, clock):
    q = urlencode({**ORDER, "newClientOrderId": "a/b:c", "timestamp": clock()})
    assert "%2F" in q and "%3A" in q
    r = await raw(trader, "POST", "/api/v3/order", q)  # signed over the wire text
    assert r.status_code == 200, r.text
    assert r.json()["clientOrderId"] == "a/b:c"
    q2 = urlencode({**ORDER, "newClientOrderId": "d/e:f", "timestamp": clock()})
    decoded = q2.replace("%2F", "/").replace("%3A", ":")
    r = await raw(trader, "POST", "/api/v3/order", q2,
                  signature=hmac_hex(trader.secret, decoded))  # signed un-encoded (§6.1)
    assert r.status_code == 200, r.text
    assert r.json()["clientOrderId"] == "d/e:f"


# ---------------------------------------------------------------- signature errors

@pytest.mark.parametrize("how", ["wrong_secret", "tampered", "short", "not_hex", "base64"])
async def test_bad_signature(trader, clock, how):
    q = urlencode({**ORDER, "timestamp": clock()})
    good = hmac_hex(trader.secret, q)
    sig = {
        "wrong_secret": hmac_hex("x" * 64, q),
        "tampered": good,
        "short": good[:63],
        "not_hex": "z" * 64,
        "base64": base64.b64encode(bytes.fromhex(good)).decode().replace("=", "%3D"),
    }[how]
    if how == "tampered":
        q = q.replace("quantity=0.001", "quantity=0.002")
    before = await state(trader)
    r = await raw(trader, "POST", "/api/v3/order", q, signature=sig)
    err(r, 400, -1022, "Signature for this request is not valid.")
    assert await state(trader) == before


@pytest.mark.parametrize("query", ["timestamp={ts}", "timestamp={ts}&signature=",
                                   "timestamp={ts}&signatur=abc"])
async def test_missing_signature(trader, clock, query):
    r = await raw(trader, "GET", "/api/v3/account", query.format(ts=clock()), sign=None)
    err(r, 400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")


async def test_missing_signature_on_order_changes_nothing(trader, clock):
    before = await state(trader)
    r = await raw(trader, "POST", "/api/v3/order", urlencode({**ORDER, "timestamp": clock()}),
                  sign=None)
    err(r, 400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
    assert await state(trader) == before


async def test_missing_timestamp(trader):
    r = await raw(trader, "GET", "/api/v3/account", "recvWindow=5000")
    err(r, 400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")


# ---------------------------------------------------------------- API key errors

@pytest.mark.parametrize("key", [None, "", "abc", "A" * 63, "A" * 65, "A" * 63 + "-",
                                 ("A" * 63 + "é").encode("latin-1"),
                                 ("A" * 62 + "é").encode()])
async def test_malformed_or_missing_api_key(trader, clock, key):
    q = urlencode({**ORDER, "timestamp": clock()})
    q += "&signature=" + hmac_hex(trader.secret, q)
    headers = {} if key is None else {"X-MBX-APIKEY": key}
    before = await state(trader)
    r = await trader.http.post(f"/api/v3/order?{q}", headers=headers)
    err(r, 401, -2014, "API-key format invalid.")
    assert await state(trader) == before


async def test_unknown_api_key(trader, clock):
    q = urlencode({**ORDER, "timestamp": clock()})
    before = await state(trader)
    r = await raw(trader, "POST", "/api/v3/order", q, key="Z" * 64)
    err(r, 401, -2015, "Invalid API-key, IP, or permissions for action.")
    assert await state(trader) == before


async def test_api_key_is_case_sensitive(trader, clock):
    swapped = trader.api_key.swapcase()
    assert swapped != trader.api_key
    r = await raw(trader, "GET", "/api/v3/account", f"timestamp={clock()}", key=swapped)
    err(r, 401, -2015, "Invalid API-key, IP, or permissions for action.")


async def test_other_accounts_key_does_not_verify(exchange, trader, clock):
    other = await exchange.new_trader()
    r = await raw(trader, "GET", "/api/v3/account", f"timestamp={clock()}", key=other.api_key)
    err(r, 400, -1022, "Signature for this request is not valid.")


@pytest.mark.parametrize("key", ["", "x", "A" * 64, "not a key!"])
async def test_api_key_on_public_endpoint_is_ignored(http, key):
    for path in ("/api/v3/ping", "/api/v3/time", "/api/v3/exchangeInfo"):
        r = await http.get(path, headers={"X-MBX-APIKEY": key})
        assert r.status_code == 200, (path, r.text)


# ---------------------------------------------------------------- timing

@pytest.mark.parametrize("offset,recv,ok", [
    (0, None, True),
    (999, None, True),
    (-5000, None, True),
    (-9000, 10000, True),
    (-60000, 60000, True),
    (-1, 0, False),
])
async def test_timestamp_accepted(trader, clock, offset, recv, ok):
    r = await trader.signed("GET", "/api/v3/account", timestamp=clock() + offset, recvWindow=recv)
    if ok:
        assert r.status_code == 200, r.text
    else:
        err(r, 400, -1021, "Timestamp for this request is outside of the recvWindow.")


@pytest.mark.parametrize("offset", [1000, 1001, 60_000])
async def test_timestamp_ahead(trader, clock, offset):
    before = await state(trader)
    r = await trader.order(**ORDER, timestamp=clock() + offset)
    err(r, 400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    assert await state(trader) == before


@pytest.mark.parametrize("offset,recv", [(-5001, None), (-10001, 10000), (-60001, 60000)])
async def test_timestamp_outside_recv_window(trader, clock, offset, recv):
    before = await state(trader)
    r = await trader.order(**ORDER, timestamp=clock() + offset, recvWindow=recv)
    err(r, 400, -1021, "Timestamp for this request is outside of the recvWindow.")
    assert await state(trader) == before


async def test_request_expires_as_clock_moves(trader, clock):
    ts = clock()
    assert (await trader.signed("GET", "/api/v3/account", timestamp=ts)).status_code == 200
    clock.advance(5001)
    r = await trader.signed("GET", "/api/v3/account", timestamp=ts)
    err(r, 400, -1021, "Timestamp for this request is outside of the recvWindow.")


@pytest.mark.parametrize("recv", ["60001", "100000"])
async def test_recv_window_too_large(trader, recv):
    before = await state(trader)
    r = await trader.order(**ORDER, recvWindow=recv)
    err(r, 400, -1131, "recvWindow must be less than 60000")
    assert await state(trader) == before


@pytest.mark.parametrize("name,value", [("timestamp", "12ab"), ("recvWindow", "5000.5"),
                                        ("recvWindow", "-1")])
async def test_bad_timing_values(trader, name, value):
    r = await trader.signed("GET", "/api/v3/account", **{name: value})
    err(r, 400, -1100,
        f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.")


# ---------------------------------------------------------------- duplicates

async def test_duplicate_param_in_query(trader, clock):
    q = urlencode({**ORDER, "timestamp": clock()}) + "&quantity=0.002"
    before = await state(trader)
    err(await raw(trader, "POST", "/api/v3/order", q), 400, -1101,
        "Duplicate values for a parameter detected.")
    assert await state(trader) == before


async def test_duplicate_param_in_body(trader, clock):
    b = urlencode({**ORDER, "timestamp": clock()}) + "&price=40000"
    before = await state(trader)
    err(await raw(trader, "POST", "/api/v3/order", "", b, sign="body"), 400, -1101,
        "Duplicate values for a parameter detected.")
    assert await state(trader) == before


# ---------------------------------------------------------------- parameter syntax

DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
CLIENT_ID_RANGE = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"


@pytest.mark.parametrize("name,value", [
    ("quantity", "1e-05"), ("quantity", "-0.001"), ("quantity", "0,001"), ("quantity", ".5"),
    ("quantity", "1."), ("price", "5e4"), ("price", "abc"), ("price", " 50000"),
    ("quantity", "0.001\n"), ("price", "50000\n"),  # sent as %0A: "$" alone would admit it
])
async def test_illegal_decimal(trader, name, value):
    before = await state(trader)
    r = await trader.order(**{**ORDER, name: value})
    err(r, 400, -1100,
        f"Illegal characters found in parameter '{name}'; legal range is '{DECIMAL_RANGE}'.")
    assert await state(trader) == before


@pytest.mark.parametrize("value", ["a b", "abc!", "é", "x" * 37, "a+b", "abc\n"])
async def test_illegal_new_client_order_id(trader, value):
    before = await state(trader)
    r = await trader.order(**ORDER, newClientOrderId=value)
    err(r, 400, -1100, "Illegal characters found in parameter 'newClientOrderId'; "
                       f"legal range is '{CLIENT_ID_RANGE}'.")
    assert await state(trader) == before


async def test_longest_legal_client_order_id(trader):
    cid = "A.b:c/d_e-" + "x" * 26
    assert len(cid) == 36
    r = await trader.order(**ORDER, newClientOrderId=cid)
    assert r.status_code == 200, r.text
    assert r.json()["clientOrderId"] == cid


async def test_empty_new_client_order_id(trader, clock):
    q = urlencode({**ORDER, "timestamp": clock()}) + "&newClientOrderId="
    err(await raw(trader, "POST", "/api/v3/order", q), 400, -1118,
        "New client order ID was empty.")


async def test_illegal_order_id(trader):
    r = await trader.signed("GET", "/api/v3/order", symbol="BTCUSDT", orderId="12a")
    err(r, 400, -1100,
        "Illegal characters found in parameter 'orderId'; legal range is '^[0-9]{1,20}$'.")


@pytest.mark.parametrize("name,value", [
    ("quantity", "0.000000001"), ("quantity", "0.001000001"), ("price", "50000.000000001"),
])
async def test_too_much_precision(trader, name, value):
    before = await state(trader)
    r = await trader.order(**{**ORDER, name: value})
    err(r, 400, -1111, f"Parameter '{name}' has too much precision.")
    assert await state(trader) == before


async def test_trailing_zeros_beyond_eight_decimals_are_fine(trader):
    r = await trader.order(**{**ORDER, "quantity": "0.0010000000"})
    assert r.status_code == 200, r.text
    assert r.json()["origQty"] == "0.00100000"


async def test_overflow(trader):
    r = await trader.order(**{**ORDER, "quantity": "99999999999999999999"})
    err(r, 400, -1108, "Parameter 'quantity' overflowed.")


@pytest.mark.parametrize("missing", ["symbol", "side", "type"])
async def test_missing_mandatory(trader, missing):
    before = await state(trader)
    params = {k: v for k, v in ORDER.items() if k != missing}
    err(await trader.order(**params), 400, -1102,
        f"Mandatory parameter '{missing}' was not sent, was empty/null, or malformed.")
    assert await state(trader) == before


async def test_empty_mandatory_is_missing(trader):
    r = await trader.order(**{**ORDER, "symbol": ""})
    err(r, 400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")


@pytest.mark.parametrize("name,value,code,msg", [
    ("type", "limit", -1116, "Invalid orderType."),
    ("type", "STOP", -1116, "Invalid orderType."),
    ("side", "buy", -1117, "Invalid side."),
    ("side", "LONG", -1117, "Invalid side."),
    ("timeInForce", "GTX", -1115, "Invalid timeInForce."),
    ("timeInForce", "gtc", -1115, "Invalid timeInForce."),
])
async def test_bad_enums(trader, name, value, code, msg):
    before = await state(trader)
    err(await trader.order(**{**ORDER, name: value}), 400, code, msg)
    assert await state(trader) == before


async def test_unknown_symbol_on_order(trader):
    before = await state(trader)
    err(await trader.order(**{**ORDER, "symbol": "FOOBAR"}), 400, -1121, "Invalid symbol.")
    assert await state(trader) == before


# ---------------------------------------------------------------- Ed25519 and RSA keys

def pem(public_key) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def ed_priv():
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def rsa_priv():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ed_sign(priv, payload: str) -> str:
    return base64.b64encode(priv.sign(payload.encode())).decode()


def rsa_sign(priv, payload: str) -> str:
    return base64.b64encode(priv.sign(payload.encode(), padding.PKCS1v15(),
                                      hashes.SHA256())).decode()


async def asym_account(exchange, key_type: str, priv):
    r = await exchange.http.post("/admin/v1/accounts", headers=exchange.admin_headers,
                                 json={"keyType": key_type, "publicKey": pem(priv.public_key()),
                                       "balances": {"BTC": "1", "USDT": "100000"}})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert set(doc) == {"accountId", "apiKey"}  # no secret for asymmetric keys
    return doc["apiKey"]


@pytest.mark.parametrize("key_type,signer", [("ED25519", ed_sign), ("RSA", rsa_sign)])
@pytest.mark.parametrize("placement", ["query", "body"])
async def test_asymmetric_keys_sign_requests(exchange, clock, ed_priv, rsa_priv, key_type,
                                             signer, placement):
    priv = ed_priv if key_type == "ED25519" else rsa_priv
    api_key = await asym_account(exchange, key_type, priv)
    payload = urlencode({**ORDER, "newClientOrderId": "k/1", "timestamp": clock()})
    sig = quote(signer(priv, payload), safe="")  # '/', '+', '=' percent-encoded
    headers = {"X-MBX-APIKEY": api_key}
    if placement == "query":
        r = await exchange.http.post(f"/api/v3/order?{payload}&signature={sig}", headers=headers)
    else:
        r = await exchange.http.post("/api/v3/order", content=f"{payload}&signature={sig}",
                                     headers={**headers, **FORM})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["clientOrderId"]) == ("NEW", "k/1")

    q = f"timestamp={clock()}&omitZeroBalances=true"
    r = await exchange.http.get(f"/api/v3/account?{q}&signature={quote(signer(priv, q), safe='')}",
                                headers=headers)
    assert r.status_code == 200, r.text
    assert {b["asset"]: (b["free"], b["locked"]) for b in r.json()["balances"]} == {
        "BTC": ("1.00000000", "0.00000000"), "USDT": ("99950.00000000", "50.00000000")}


@pytest.mark.parametrize("key_type,signer", [("ED25519", ed_sign), ("RSA", rsa_sign)])
async def test_asymmetric_signature_with_raw_plus_and_slash(exchange, clock, ed_priv, rsa_priv,
                                                            key_type, signer):
    """A base64 signature sent unencoded: '+' arrives as a space and is restored."""
    priv = ed_priv if key_type == "ED25519" else rsa_priv
    api_key = await asym_account(exchange, key_type, priv)
    for i in range(200):  # find a timestamp whose signature contains a '+'
        q = f"timestamp={clock() - i}"
        sig = signer(priv, q)
        if "+" in sig:
            break
    else:
        pytest.skip("no signature with '+' found")
    r = await exchange.http.get(f"/api/v3/account?{q}&signature={sig}",
                                headers={"X-MBX-APIKEY": api_key})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("key_type,signer", [("ED25519", ed_sign), ("RSA", rsa_sign)])
async def test_asymmetric_bad_signature(exchange, clock, ed_priv, rsa_priv, key_type, signer):
    priv = ed_priv if key_type == "ED25519" else rsa_priv
    api_key = await asym_account(exchange, key_type, priv)
    headers = {"X-MBX-APIKEY": api_key}
    payload = urlencode({**ORDER, "timestamp": clock()})
    other = ed25519.Ed25519PrivateKey.generate() if key_type == "ED25519" else priv
    good = signer(priv, payload)
    bad = {
        "other key / tampered payload": signer(other, payload.replace("0.001", "0.002")),
        "case changed": good.swapcase(),  # base64 is case-sensitive (general.md §6.2)
        "hmac hex": hmac_hex("s" * 64, payload),
        "garbage": "!!!",
    }
    for label, sig in bad.items():
        r = await exchange.http.post(f"/api/v3/order?{payload}&signature={quote(sig, safe='')}",
                                     headers=headers)
        assert r.status_code == 400, (label, r.text)
        assert r.json() == {"code": -1022, "msg": "Signature for this request is not valid."}, label
    q = f"timestamp={clock()}"
    r = await exchange.http.get(f"/api/v3/openOrders?{q}&signature={quote(signer(priv, q), safe='')}",
                                headers=headers)
    assert r.json() == []
