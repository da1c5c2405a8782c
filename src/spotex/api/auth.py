"""API-key and SIGNED-request checks, in Binance's order: key, signature, timing."""
from __future__ import annotations

from ..core.errors import ApiError
from ..core.exchange import Exchange, KeyRecord
from .signature import ApiKey, signed_payload, verify
from .timing import check_timestamp

KEY_LENGTH = 64


class KeyRing:
    """Loaded keys (public keys parsed once), looked up from the core's key records."""

    def __init__(self) -> None:
        self._cache: dict[str, ApiKey] = {}

    def get(self, exchange: Exchange, api_key: str | None) -> ApiKey:
        """The key sent in X-MBX-APIKEY: -2014 if malformed, -2015 if unknown."""
        if (not api_key or len(api_key) != KEY_LENGTH or not api_key.isascii()
                or not api_key.isalnum()):  # str.isalnum admits 'é' and other scripts
            raise ApiError("BAD_API_KEY_FMT")
        key = self._cache.get(api_key)
        if key is not None:
            return key
        rec: KeyRecord | None = exchange.keys.get(api_key)
        if rec is None:
            raise ApiError("REJECTED_MBX_KEY")
        key = ApiKey(rec.api_key, rec.account, rec.key_type, rec.secret, rec.public_key)
        self._cache[api_key] = key
        return key

    def clear(self) -> None:
        self._cache.clear()


def check_signed(key: ApiKey, raw_query: str, raw_body: str, params, now_ms: int | None) -> None:
    """Signature over the raw payload (-1102 missing, -1022 bad), then timestamp/recvWindow."""
    payload, signature = signed_payload(raw_query, raw_body)
    if not signature:
        raise ApiError("MANDATORY_PARAM", "signature")
    params.long("timestamp", required=True)
    if not verify(key, payload, signature):
        raise ApiError("INVALID_SIGNATURE")
    check_timestamp(params, now_ms)
