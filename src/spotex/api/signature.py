"""SIGNED request verification: payload extraction and HMAC / Ed25519 / RSA checks.

Binance signs the raw wire text (query string + body, no separator, minus the
`signature` pair), so the payload is cut from the raw strings and never re-serialised
(general.md §6.1). Keys are loaded once, when an ApiKey is built.
"""
from __future__ import annotations

import binascii
import hmac
from base64 import b64decode
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

HMAC_SHA256 = "HMAC_SHA256"
ED25519 = "ED25519"
RSA = "RSA"
KEY_TYPES = frozenset((HMAC_SHA256, ED25519, RSA))

_PAIR = "signature="
_AMP_PAIR = "&signature="
_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


@dataclass(frozen=True)
class ApiKey:
    """One API key. HMAC keys carry `secret`; Ed25519/RSA keys carry `public_key_pem`,
    loaded (and type-checked) at construction so verification does no parsing."""

    api_key: str
    account_id: int
    key_type: str  # "HMAC_SHA256" | "ED25519" | "RSA"
    secret: str | None = None
    public_key_pem: str | None = None
    public_key: Any = field(default=None, init=False, repr=False, compare=False)
    _secret_bytes: bytes = field(default=b"", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.key_type == HMAC_SHA256:
            if not self.secret:
                raise ValueError("HMAC_SHA256 key needs a secret")
            object.__setattr__(self, "_secret_bytes", self.secret.encode())
        elif self.key_type in KEY_TYPES:
            if not self.public_key_pem:
                raise ValueError(f"{self.key_type} key needs public_key_pem")
            object.__setattr__(self, "public_key",
                               load_public_key(self.public_key_pem, self.key_type))
        else:
            raise ValueError(f"unknown key type {self.key_type!r}")


def load_public_key(pem: str, key_type: str) -> Ed25519PublicKey | RSAPublicKey:
    """Load a PEM public key and check it is of the declared type (ValueError otherwise)."""
    key = load_pem_public_key(pem.encode())
    if key_type == ED25519:
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("public key is not Ed25519")
        return key
    if key_type == RSA:
        if not isinstance(key, RSAPublicKey):
            raise ValueError("public key is not RSA")
        return key
    raise ValueError(f"key type {key_type!r} has no public key")


def _cut(part: str) -> tuple[str, str | None]:
    """Remove the `signature=` pair and its joining '&' from one raw part.

    A literal "&signature=" can only be a pair boundary (a value's '&' is encoded);
    rfind because clients put the signature last.
    """
    if part.startswith(_PAIR):
        end = part.find("&")
        if end < 0:
            return "", part[10:]
        return part[end + 1:], part[10:end]
    i = part.rfind(_AMP_PAIR)
    if i < 0:
        return part, None
    start = i + 11
    end = part.find("&", start)
    if end < 0:
        return part[:i], part[start:]
    return part[:i] + part[end:], part[start:end]


def signed_payload(raw_query: str, raw_body: str) -> tuple[str, str | None]:
    """(payload, raw signature value): query + body as sent, minus the signature pair(s).

    The signature may sit in either part; if in both, the query's value is used and
    both pairs are left out of the payload.
    """
    q, qsig = _cut(raw_query) if raw_query else ("", None)
    b, bsig = _cut(raw_body) if raw_body else ("", None)
    return q + b, qsig if qsig is not None else bsig


def verify(key: ApiKey, payload: str, signature: str) -> bool:
    """True if `signature` (raw wire value) signs `payload`, or its percent-decoded form.

    The decoded fallback admits clients that sign un-encoded `name=value` text
    (general.md §6.1); for plain ASCII payloads both forms are the same and it is skipped.
    """
    if "%" in signature or "+" in signature:
        signature = unquote_plus(signature)
    check = _check_hmac if key.key_type == HMAC_SHA256 else _check_asym
    if check(key, payload, signature):
        return True
    if "%" in payload or "+" in payload:
        return check(key, unquote_plus(payload), signature)
    return False


def _check_hmac(key: ApiKey, payload: str, signature: str) -> bool:
    """HMAC-SHA256 hex, compared case-insensitively in constant time."""
    if len(signature) != 64 or not signature.isascii():
        return False
    mac = hmac.digest(key._secret_bytes, payload.encode(), "sha256").hex()  # OpenSSL one-shot
    return hmac.compare_digest(mac, signature.lower())


def _check_asym(key: ApiKey, payload: str, signature: str) -> bool:
    """Ed25519 or RSA PKCS#1 v1.5/SHA-256 over the payload; signature is standard base64
    (a '+' that arrived unencoded was form-decoded to ' ', so it is restored)."""
    try:
        sig = b64decode(signature.replace(" ", "+"), validate=True)
        if key.key_type == ED25519:
            key.public_key.verify(sig, payload.encode())
        else:
            key.public_key.verify(sig, payload.encode(), _PKCS1, _SHA256)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
