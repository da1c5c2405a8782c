"""Signature payload extraction and HMAC / Ed25519 / RSA verification (general.md §6)."""
from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote, quote_plus, urlencode

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from spotex.api.signature import ApiKey, load_public_key, signed_payload, verify

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
FULL = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559")
FULL_SIG = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
MIXED_Q = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
MIXED_B = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
MIXED_SIG = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"

HKEY = ApiKey(API_KEY, 1, "HMAC_SHA256", secret=SECRET)


def pem(pub) -> str:
    return pub.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def ed():
    priv = ed25519.Ed25519PrivateKey.generate()
    return priv, ApiKey("edkey", 2, "ED25519", public_key_pem=pem(priv.public_key()))


@pytest.fixture(scope="module")
def rsa_key():
    priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return priv, ApiKey("rsakey", 3, "RSA", public_key_pem=pem(priv.public_key()))


def sign_ed(priv, payload: str) -> str:
    return base64.b64encode(priv.sign(payload.encode())).decode()


def sign_rsa(priv, payload: str) -> str:
    return base64.b64encode(priv.sign(payload.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


# The three clients' ways of percent-encoding a base64 signature (clients.md §1.4/§2.4/§3).
ENCODERS = {
    "ccxt": lambda s: quote(s, safe="-_.!~*'()"),          # encodeURIComponent
    "python-binance": lambda s: quote(s, safe="~()*!.'"),
    "sdk": lambda s: urlencode({"signature": s})[len("signature="):],  # requests form-encoding
    "raw": lambda s: s,                                     # unencoded: '+' arrives as ' '
}


# -- payload extraction ------------------------------------------------------------------

def test_payload_body_only():
    assert signed_payload("", FULL + "&signature=" + FULL_SIG) == (FULL, FULL_SIG)


def test_payload_query_only():
    assert signed_payload(FULL + "&signature=" + FULL_SIG, "") == (FULL, FULL_SIG)


def test_payload_mixed_signature_in_body_or_query():
    assert signed_payload(MIXED_Q, MIXED_B + "&signature=" + MIXED_SIG) == (MIXED_Q + MIXED_B, MIXED_SIG)
    assert signed_payload(MIXED_Q + "&signature=" + MIXED_SIG, MIXED_B) == (MIXED_Q + MIXED_B, MIXED_SIG)


def test_payload_signature_first_or_middle_or_alone():
    assert signed_payload("signature=abc&a=1&b=2", "") == ("a=1&b=2", "abc")
    assert signed_payload("a=1&signature=abc&b=2", "") == ("a=1&b=2", "abc")
    assert signed_payload("signature=abc", "a=1") == ("a=1", "abc")
    assert signed_payload("", "signature=") == ("", "")


def test_payload_no_signature_and_lookalikes():
    assert signed_payload("a=1&xsignature=2", "b=3") == ("a=1&xsignature=2b=3", None)
    assert signed_payload("", "") == ("", None)


def test_payload_query_signature_wins_and_both_removed():
    assert signed_payload("a=1&signature=QQ", "b=2&signature=BB") == ("a=1b=2", "QQ")


def test_payload_keeps_wire_encoding_and_order():
    q = "timestamp=1&symbols=%5B%22BTCUSDT%22%5D&z=a+b"
    assert signed_payload(q + "&signature=x%2By", "") == (q, "x%2By")


# -- HMAC ---------------------------------------------------------------------------------

def test_hmac_vectors_compute():
    for payload, sig in ((FULL, FULL_SIG), (MIXED_Q + MIXED_B, MIXED_SIG)):
        assert hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest() == sig


@pytest.mark.parametrize("query,body", [
    ("", FULL + "&signature=" + FULL_SIG),                    # body only
    (FULL + "&signature=" + FULL_SIG, ""),                    # query only
    (MIXED_Q, MIXED_B + "&signature=" + MIXED_SIG),           # mixed, signature in body
    (MIXED_Q + "&signature=" + MIXED_SIG, MIXED_B),           # mixed, signature in query
])
def test_hmac_doc_vectors(query, body):
    payload, sig = signed_payload(query, body)
    assert sig is not None and verify(HKEY, payload, sig)


def test_hmac_case_insensitive_and_rejections():
    assert verify(HKEY, FULL, FULL_SIG.upper())
    assert not verify(HKEY, FULL + "0", FULL_SIG)                      # tampered payload
    assert not verify(HKEY, FULL, FULL_SIG[:-1] + "0")                 # tampered signature
    assert not verify(HKEY, FULL, FULL_SIG[:-1])                       # short
    assert not verify(HKEY, FULL, "")
    assert not verify(HKEY, FULL, "é" * 64)                            # non-ASCII, no TypeError
    assert not verify(ApiKey("k", 1, "HMAC_SHA256", secret=SECRET + "x"), FULL, FULL_SIG)
    assert not verify(HKEY, MIXED_Q + "&" + MIXED_B, MIXED_SIG)        # '&' is not in the payload


def test_hmac_over_decoded_payload_accepted():
    # Client signed the un-encoded text but sent it percent-encoded (pre-2026 behaviour).
    plain = 'symbols=["BTCUSDT","BNBBTC"]&timestamp=1'
    wire = "symbols=%5B%22BTCUSDT%22%2C%22BNBBTC%22%5D&timestamp=1"
    sig = hmac.new(SECRET.encode(), plain.encode(), hashlib.sha256).hexdigest()
    assert verify(HKEY, wire, sig)
    wire_sig = hmac.new(SECRET.encode(), wire.encode(), hashlib.sha256).hexdigest()
    assert verify(HKEY, wire, wire_sig)


# -- Ed25519 / RSA -----------------------------------------------------------------------

@pytest.mark.parametrize("client", sorted(ENCODERS))
@pytest.mark.parametrize("where", ["query", "body"])
def test_ed25519_client_encodings(ed, client, where):
    priv, key = ed
    for ts in range(1700000000000, 1700000000040):  # enough to hit '+', '/' and '=' in base64
        params = f"symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01&timestamp={ts}"
        enc = ENCODERS[client](sign_ed(priv, params))
        wire = params + "&signature=" + enc
        payload, sig = signed_payload(wire, "") if where == "query" else signed_payload("", wire)
        assert payload == params
        assert verify(key, payload, sig), (client, enc)


@pytest.mark.parametrize("client", sorted(ENCODERS))
def test_rsa_client_encodings(rsa_key, client):
    priv, key = rsa_key
    for ts in range(1700000000000, 1700000000010):
        q, b = "symbol=BTCUSDT&side=SELL", f"type=LIMIT&price=1.5&quantity=2&timestamp={ts}"
        enc = ENCODERS[client](sign_rsa(priv, q + b))
        payload, sig = signed_payload(q, b + "&signature=" + enc)
        assert payload == q + b
        assert verify(key, payload, sig), (client, enc)


def test_encoders_do_encode_base64_specials():
    s = "a+b/c=="
    assert ENCODERS["ccxt"](s) == ENCODERS["python-binance"](s) == ENCODERS["sdk"](s) == "a%2Bb%2Fc%3D%3D"
    assert quote_plus(s) == "a%2Bb%2Fc%3D%3D"


def test_asym_tampered_and_garbage(ed, rsa_key):
    for priv, key, sign in ((ed[0], ed[1], sign_ed), (rsa_key[0], rsa_key[1], sign_rsa)):
        sig = quote(sign(priv, "a=1&timestamp=2"), safe="")
        assert verify(key, "a=1&timestamp=2", sig)
        assert not verify(key, "a=2&timestamp=2", sig)
        assert not verify(key, "a=1&timestamp=2", "not-base64!!")
        assert not verify(key, "a=1&timestamp=2", "")
        assert not verify(key, "a=1&timestamp=2", base64.b64encode(b"x" * 64).decode())


def test_asym_signature_is_case_sensitive(ed):
    priv, key = ed
    sig = sign_ed(priv, "a=1")
    assert not verify(key, "a=1", sig.swapcase())


def test_ed25519_over_decoded_payload_accepted(ed):
    priv, key = ed
    plain = 'symbols=["BTCUSDT"]&timestamp=1'
    wire = "symbols=%5B%22BTCUSDT%22%5D&timestamp=1"
    assert verify(key, wire, quote(sign_ed(priv, plain), safe=""))


def test_key_from_other_party_fails(ed):
    other = ed25519.Ed25519PrivateKey.generate()
    assert not verify(ed[1], "a=1", sign_ed(other, "a=1"))


# -- key loading ---------------------------------------------------------------------------

def test_wrong_key_type_rejected(ed, rsa_key):
    ed_pem, rsa_pem = ed[1].public_key_pem, rsa_key[1].public_key_pem
    with pytest.raises(ValueError):
        load_public_key(rsa_pem, "ED25519")
    with pytest.raises(ValueError):
        load_public_key(ed_pem, "RSA")
    with pytest.raises(ValueError):
        ApiKey("k", 1, "ED25519", public_key_pem=rsa_pem)
    with pytest.raises(ValueError):
        ApiKey("k", 1, "RSA", public_key_pem=ed_pem)
    with pytest.raises(ValueError):
        load_public_key(ed_pem, "HMAC_SHA256")


def test_bad_key_definitions():
    with pytest.raises(ValueError):
        ApiKey("k", 1, "HMAC_SHA256")
    with pytest.raises(ValueError):
        ApiKey("k", 1, "ED25519")
    with pytest.raises(ValueError):
        ApiKey("k", 1, "DSA", secret="x")
    with pytest.raises(ValueError):
        ApiKey("k", 1, "ED25519", public_key_pem="-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")


def test_loaded_key_is_cached(ed):
    key = ed[1]
    assert isinstance(key.public_key, ed25519.Ed25519PublicKey)
    assert "public_key=" not in repr(key) and "_secret_bytes" not in repr(HKEY)
    assert isinstance(load_public_key(key.public_key_pem, "ED25519"), ed25519.Ed25519PublicKey)
