"""Our admin API (/admin/v1, README "Accounts"): Bearer token, accounts, keys, transfers."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

UNAUTHORIZED = {"code": -1002, "msg": "You are not authorized to execute this request."}
INSUFFICIENT = {"code": -2010, "msg": "Account has insufficient balance for requested action."}


def invalid(name: str) -> dict:
    return {"code": -1130, "msg": f"Data sent for parameter '{name}' is not valid."}


def pem(priv) -> str:
    return priv.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def ed_pem():
    return pem(ed25519.Ed25519PrivateKey.generate())


@pytest.fixture(scope="module")
def rsa_pem():
    return pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


async def create(exchange, doc=None, headers=None):
    return await exchange.http.post("/admin/v1/accounts", json=doc if doc is not None else {},
                                    headers=exchange.admin_headers if headers is None else headers)


async def show(exchange, aid):
    r = await exchange.http.get(f"/admin/v1/accounts/{aid}", headers=exchange.admin_headers)
    assert r.status_code == 200, r.text
    return r.json()


async def transfer(exchange, aid, kind: str, doc, headers=None):
    return await exchange.http.post(f"/admin/v1/accounts/{aid}/{kind}", json=doc,
                                    headers=exchange.admin_headers if headers is None else headers)


async def next_id(exchange) -> int:
    """Create a throw-away account: its id shows how many accounts exist."""
    r = await create(exchange)
    assert r.status_code == 200, r.text
    return r.json()["accountId"]


# ================================================================= the token

BAD_AUTH = [
    {},
    {"Authorization": ""},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer wrong-token"},
    {"Authorization": "bearer test-admin-token"},
    {"Authorization": "Basic test-admin-token"},
    {"Authorization": "Bearer test-admin-token "},
    {"Authorization": "Bearer test-admin-tokenX"},
    {"X-MBX-APIKEY": "test-admin-token"},
]


@pytest.mark.parametrize("headers", BAD_AUTH)
async def test_create_needs_token(exchange, headers):
    first = await next_id(exchange)
    r = await create(exchange, {"balances": {"BTC": "1"}}, headers=headers)
    assert r.status_code == 401
    assert r.json() == UNAUTHORIZED
    assert await next_id(exchange) == first + 1  # nothing was created in between


@pytest.mark.parametrize("headers", BAD_AUTH[:5])
async def test_other_admin_routes_need_token(exchange, headers):
    t = await exchange.new_trader(BTC="1")
    aid = t.account_id
    r = await exchange.http.get(f"/admin/v1/accounts/{aid}", headers=headers)
    assert (r.status_code, r.json()) == (401, UNAUTHORIZED)
    for kind in ("deposit", "withdraw"):
        r = await transfer(exchange, aid, kind, {"asset": "BTC", "amount": "0.5"},
                           headers=headers)
        assert (r.status_code, r.json()) == (401, UNAUTHORIZED)
    assert (await show(exchange, aid))["balances"] == [
        {"asset": "BTC", "free": "1.00000000", "locked": "0.00000000"}]


async def test_admin_token_is_not_an_api_key(exchange):
    r = await exchange.http.get("/api/v3/account", headers=exchange.admin_headers)
    assert r.status_code == 401
    assert r.json() == {"code": -2014, "msg": "API-key format invalid."}


async def test_admin_responses_carry_weight_header(exchange):
    r = await create(exchange)
    assert "x-mbx-used-weight-1m" in r.headers


# ================================================================= create

async def test_create_hmac_account(exchange, clock):
    r = await create(exchange, {"balances": {"USDT": "10000", "BTC": "1.23456789"}})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert list(doc) == ["accountId", "apiKey", "secretKey"]
    assert isinstance(doc["accountId"], int)
    for k in ("apiKey", "secretKey"):
        assert len(doc[k]) == 64 and doc[k].isascii() and doc[k].isalnum()
    assert doc["apiKey"] != doc["secretKey"]
    assert await show(exchange, doc["accountId"]) == {
        "accountId": doc["accountId"],
        "balances": [{"asset": "BTC", "free": "1.23456789", "locked": "0.00000000"},
                     {"asset": "USDT", "free": "10000.00000000", "locked": "0.00000000"}]}
    # the key works on the Binance API and sees the same account
    from urllib.parse import urlencode
    import hashlib
    import hmac
    q = urlencode({"timestamp": clock(), "omitZeroBalances": "true"})
    q += "&signature=" + hmac.new(doc["secretKey"].encode(), q.encode(), hashlib.sha256).hexdigest()
    r = await exchange.http.get(f"/api/v3/account?{q}", headers={"X-MBX-APIKEY": doc["apiKey"]})
    assert r.status_code == 200, r.text
    assert r.json()["uid"] == doc["accountId"]
    assert r.json()["balances"] == [
        {"asset": "BTC", "free": "1.23456789", "locked": "0.00000000"},
        {"asset": "USDT", "free": "10000.00000000", "locked": "0.00000000"}]


async def test_create_explicit_hmac_and_empty(exchange):
    r = await create(exchange, {"keyType": "HMAC_SHA256"})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"accountId", "apiKey", "secretKey"}
    assert (await show(exchange, r.json()["accountId"]))["balances"] == []


async def test_accounts_get_distinct_ids_and_keys(exchange):
    docs = [(await create(exchange)).json() for _ in range(3)]
    assert [d["accountId"] for d in docs] == list(range(docs[0]["accountId"],
                                                        docs[0]["accountId"] + 3))
    assert len({d["apiKey"] for d in docs}) == 3
    assert len({d["secretKey"] for d in docs}) == 3


@pytest.mark.parametrize("key_type", ["ED25519", "RSA"])
async def test_create_asymmetric_account(exchange, ed_pem, rsa_pem, key_type):
    r = await create(exchange, {"keyType": key_type,
                                "publicKey": ed_pem if key_type == "ED25519" else rsa_pem,
                                "balances": {"ETH": "2"}})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert list(doc) == ["accountId", "apiKey"]
    assert len(doc["apiKey"]) == 64
    assert (await show(exchange, doc["accountId"]))["balances"] == [
        {"asset": "ETH", "free": "2.00000000", "locked": "0.00000000"}]


@pytest.mark.parametrize("doc_fn,expected", [
    (lambda ed, rs: {"keyType": "hmac"}, invalid("keyType")),
    (lambda ed, rs: {"keyType": "DSA"}, invalid("keyType")),
    (lambda ed, rs: {"keyType": ""}, invalid("keyType")),
    (lambda ed, rs: {"keyType": 1}, invalid("keyType")),
    (lambda ed, rs: {"keyType": ["RSA"]}, invalid("keyType")),
    (lambda ed, rs: {"keyType": "RSA", "publicKey": None}, invalid("publicKey")),
    (lambda ed, rs: {"keyType": "ED25519"}, invalid("publicKey")),
    (lambda ed, rs: {"keyType": "RSA"}, invalid("publicKey")),
    (lambda ed, rs: {"keyType": "ED25519", "publicKey": "not a pem"}, invalid("publicKey")),
    (lambda ed, rs: {"keyType": "ED25519", "publicKey": rs}, invalid("publicKey")),
    (lambda ed, rs: {"keyType": "RSA", "publicKey": ed}, invalid("publicKey")),
    (lambda ed, rs: {"keyType": "RSA", "publicKey": 42}, invalid("publicKey")),
    (lambda ed, rs: {"balances": {"BTC": 1}}, invalid("balances.BTC")),
    (lambda ed, rs: {"balances": {"BTC": "-1"}}, invalid("balances.BTC")),
    (lambda ed, rs: {"balances": {"BTC": "1e3"}}, invalid("balances.BTC")),
    (lambda ed, rs: {"balances": ["BTC"]}, invalid("balances")),
])
async def test_create_rejects_bad_documents(exchange, ed_pem, rsa_pem, doc_fn, expected):
    first = await next_id(exchange)
    r = await create(exchange, doc_fn(ed_pem, rsa_pem))
    assert r.status_code == 400, r.text
    assert r.json() == expected
    assert await next_id(exchange) == first + 1


@pytest.mark.parametrize("body", [b"{", b"[]", b"not json", b'"x"'])
async def test_create_rejects_bad_json(exchange, body):
    r = await exchange.http.post("/admin/v1/accounts", content=body,
                                 headers={**exchange.admin_headers,
                                          "Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json() == {"code": -1135, "msg": "JSON sent for parameter 'body' is not valid"}


# ================================================================= deposit / withdraw

async def test_deposit_and_withdraw(exchange):
    t = await exchange.new_trader(USDT="100")
    aid = t.account_id
    r = await transfer(exchange, aid, "deposit", {"asset": "USDT", "amount": "50.5"})
    assert r.status_code == 200, r.text
    assert r.json() == {"accountId": aid, "balances": [
        {"asset": "USDT", "free": "150.50000000", "locked": "0.00000000"}]}
    r = await transfer(exchange, aid, "deposit", {"asset": "BTC", "amount": "0.00000001"})
    assert r.json()["balances"] == [
        {"asset": "BTC", "free": "0.00000001", "locked": "0.00000000"},
        {"asset": "USDT", "free": "150.50000000", "locked": "0.00000000"}]
    r = await transfer(exchange, aid, "withdraw", {"asset": "USDT", "amount": "150.5"})
    assert r.status_code == 200, r.text
    assert r.json()["balances"][1] == {"asset": "USDT", "free": "0.00000000",
                                       "locked": "0.00000000"}
    assert (await t.balances())["BTC"] == ("0.00000001", "0.00000000")
    assert await show(exchange, aid) == r.json()


async def test_withdraw_insufficient(exchange):
    t = await exchange.new_trader(USDT="100")
    r = await transfer(exchange, t.account_id, "withdraw", {"asset": "USDT", "amount": "100.01"})
    assert (r.status_code, r.json()) == (400, INSUFFICIENT)
    r = await transfer(exchange, t.account_id, "withdraw", {"asset": "BTC", "amount": "1"})
    assert (r.status_code, r.json()) == (400, INSUFFICIENT)
    assert (await t.balances())["USDT"] == ("100.00000000", "0.00000000")


async def test_withdraw_only_free_funds(exchange):
    t = await exchange.new_trader(USDT="100")
    r = await t.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                      quantity="0.001", price="50000")
    assert r.status_code == 200, r.text
    r = await transfer(exchange, t.account_id, "withdraw", {"asset": "USDT", "amount": "51"})
    assert (r.status_code, r.json()) == (400, INSUFFICIENT)
    r = await transfer(exchange, t.account_id, "withdraw", {"asset": "USDT", "amount": "50"})
    assert r.status_code == 200
    assert r.json()["balances"] == [
        {"asset": "USDT", "free": "0.00000000", "locked": "50.00000000"}]


@pytest.mark.parametrize("kind", ["deposit", "withdraw"])
@pytest.mark.parametrize("doc,expected", [
    ({"asset": "USDT", "amount": "0"}, invalid("amount")),
    ({"asset": "USDT", "amount": "-5"}, invalid("amount")),
    ({"asset": "USDT", "amount": 5}, invalid("amount")),
    ({"asset": "USDT", "amount": "0.000000001"}, invalid("amount")),
    ({"asset": "USDT"}, invalid("amount")),
    ({"amount": "5"}, {"code": -1102, "msg": "Mandatory parameter 'asset' was not sent, "
                                            "was empty/null, or malformed."}),
    ({"asset": "", "amount": "5"}, {"code": -1102, "msg": "Mandatory parameter 'asset' was "
                                                          "not sent, was empty/null, or malformed."}),
])
async def test_transfer_rejects_bad_documents(exchange, kind, doc, expected):
    t = await exchange.new_trader(USDT="100")
    r = await transfer(exchange, t.account_id, kind, doc)
    assert (r.status_code, r.json()) == (400, expected)
    assert (await show(exchange, t.account_id))["balances"] == [
        {"asset": "USDT", "free": "100.00000000", "locked": "0.00000000"}]


@pytest.mark.parametrize("aid", ["abc", "999999", "-1"])
async def test_unknown_account(exchange, aid):
    r = await exchange.http.get(f"/admin/v1/accounts/{aid}", headers=exchange.admin_headers)
    assert (r.status_code, r.json()) == (400, invalid("accountId"))
    for kind in ("deposit", "withdraw"):
        r = await transfer(exchange, aid, kind, {"asset": "USDT", "amount": "5"})
        assert (r.status_code, r.json()) == (400, invalid("accountId"))


async def test_admin_unknown_route(exchange):
    r = await exchange.http.get("/admin/v1/nope", headers=exchange.admin_headers)
    assert r.status_code == 404 and r.content == b""


async def test_pretty_printed_json_body(exchange):
    """Admin bodies may be indented JSON: tab, CR and LF are whitespace to the WAF."""
    body = b'{\n\t"balances": {"USDT": "5"}\r\n}'
    r = await exchange.http.post("/admin/v1/accounts", content=body, headers={
        **exchange.admin_headers, "Content-Type": "application/json"})
    assert r.status_code == 200, r.text


# ================================================================= assets of the config

NOT_AN_ASSET = ["FOO", "₿TC", "btc", "BTC ", "USDT\n", "BTCUSDT"]


@pytest.mark.parametrize("asset", NOT_AN_ASSET)
async def test_create_refuses_assets_outside_the_config(exchange, asset):
    first = await next_id(exchange)
    r = await create(exchange, {"balances": {"USDT": "10", asset: "1"}})
    assert (r.status_code, r.json()) == (400, invalid("asset"))
    assert await next_id(exchange) == first + 1  # nothing was created in between


async def test_create_refuses_an_unknown_asset_before_its_amount(exchange):
    r = await create(exchange, {"balances": {"FOO": "not a number"}})
    assert (r.status_code, r.json()) == (400, invalid("asset"))


@pytest.mark.parametrize("kind", ["deposit", "withdraw"])
@pytest.mark.parametrize("asset", NOT_AN_ASSET)
async def test_transfer_refuses_assets_outside_the_config(exchange, kind, asset):
    t = await exchange.new_trader(USDT="100")
    r = await transfer(exchange, t.account_id, kind, {"asset": asset, "amount": "5"})
    assert (r.status_code, r.json()) == (400, invalid("asset"))
    assert (await show(exchange, t.account_id))["balances"] == [
        {"asset": "USDT", "free": "100.00000000", "locked": "0.00000000"}]


async def test_every_asset_of_the_config_is_accepted(exchange):
    assets = sorted({a for s in exchange.server.engine.exchange.symbols.values()
                     for a in (s.base, s.quote)})
    assert assets == ["BNB", "BTC", "ETH", "SOL", "USDT"]
    r = await create(exchange, {"balances": {a: "1" for a in assets}})
    assert r.status_code == 200, r.text
    aid = r.json()["accountId"]
    for a in assets:
        r = await transfer(exchange, aid, "deposit", {"asset": a, "amount": "2"})
        assert r.status_code == 200, r.text
        r = await transfer(exchange, aid, "withdraw", {"asset": a, "amount": "3"})
        assert r.status_code == 200, r.text
    assert (await show(exchange, aid))["balances"] == [
        {"asset": a, "free": "0.00000000", "locked": "0.00000000"} for a in assets]
