"""Request parameters: form/query parsing and typed getters that raise Binance's exact errors.

Binance accepts parameters in the query string, the form body, or both (query wins on a
name in both). Every getter treats an empty value as absent, as Binance does, and turns a
bad value into the same -11xx error a real client would see.
"""
from __future__ import annotations

import builtins
from collections.abc import KeysView
from urllib.parse import unquote_plus

import orjson

from spotex.core import numbers
from spotex.core.errors import ApiError

_Str = builtins.str
_Int = builtins.int
_Bool = builtins.bool

# Legal ranges quoted in -1100 messages (Binance's wording for LONG/INT parameters).
UNSIGNED_PATTERN = "^[0-9]{1,20}$"
SIGNED_PATTERN = "^-?[0-9]{1,19}$"
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
_DECIMAL_ERRORS = {"precision": "BAD_PRECISION", "overflow": "PARAM_OVERFLOW"}


def parse_form(raw: _Str) -> dict[_Str, _Str]:
    """Parse a query string or x-www-form-urlencoded body.

    Decodes only segments that need it (most never do); a name sent twice in the same
    part is -1101 DUPLICATE_PARAMETER, as on Binance.
    """
    out: dict[_Str, _Str] = {}
    if not raw:
        return out
    if "%" not in raw and "+" not in raw:  # common case: nothing to decode
        n = 0
        for seg in raw.split("&"):
            if seg:
                name, _, value = seg.partition("=")
                out[name] = value
                n += 1
        if n != len(out):
            raise ApiError("DUPLICATE_PARAMETER")
        return out
    for seg in raw.split("&"):
        if not seg:
            continue
        name, _, value = seg.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        if name in out:
            raise ApiError("DUPLICATE_PARAMETER")
        out[name] = value
    return out


class Params:
    """Merged request parameters with typed, Binance-exact validation.

    Getters return None for an absent (or empty) optional parameter and raise ApiError
    otherwise; method names mirror the Binance parameter types (STRING, LONG, INT,
    DECIMAL, BOOLEAN, ENUM, JSON array).
    """

    __slots__ = ("_d",)

    def __init__(self, data: dict[_Str, _Str]) -> None:
        self._d = data

    @classmethod
    def from_parts(cls, query: _Str, body: _Str) -> Params:
        """Build from raw query string and raw form body; the query wins on a shared name."""
        if not body:
            return cls(parse_form(query))
        d = parse_form(body)
        if query:
            d.update(parse_form(query))
        return cls(d)

    # -- raw access -------------------------------------------------------------------

    def has(self, name: _Str) -> _Bool:
        """True if the parameter was sent with a non-empty value (empty counts as absent)."""
        return _Bool(self._d.get(name))

    def get(self, name: _Str) -> _Str | None:
        """The raw decoded value, "" if sent empty, None if not sent."""
        return self._d.get(name)

    def names(self) -> KeysView[_Str]:
        """Names of all parameters sent (a live view, not a copy)."""
        return self._d.keys()

    def __len__(self) -> _Int:
        return len(self._d)

    def __repr__(self) -> _Str:
        return f"Params({self._d!r})"

    # -- typed getters ----------------------------------------------------------------

    def str(self, name: _Str, required: _Bool = False) -> _Str | None:
        """STRING parameter; empty is absent (-1102 if required)."""
        v = self._d.get(name)
        if not v:
            if required:
                raise ApiError("MANDATORY_PARAM", name)
            return None
        return v

    def long(self, name: _Str, required: _Bool = False, signed: _Bool = False) -> _Int | None:
        """LONG parameter: ASCII digits only (-1100 with Binance's legal range), int64 (-1108)."""
        v = self.str(name, required)
        if v is None:
            return None
        return _to_int(name, v, signed, INT64_MAX)

    def int(self, name: _Str, required: _Bool = False, signed: _Bool = False) -> _Int | None:
        """INT parameter: as LONG but limited to int32 (-1108 beyond)."""
        v = self.str(name, required)
        if v is None:
            return None
        return _to_int(name, v, signed, INT32_MAX)

    def decimal(self, name: _Str, required: _Bool = False) -> _Int | None:
        """DECIMAL parameter as an int scaled by 1e8 (no floats); -1100/-1111/-1108 on bad input."""
        v = self.str(name, required)
        if v is None:
            return None
        try:
            return numbers.parse(v)
        except numbers.BadDecimal as e:
            err = _DECIMAL_ERRORS.get(e.reason)
            if err is None:
                raise ApiError("ILLEGAL_CHARS", name, numbers.DECIMAL_PATTERN) from None
            raise ApiError(err, name) from None

    def bool(self, name: _Str, default: _Bool | None = False) -> _Bool | None:
        """BOOLEAN parameter: true/false in any case, else -1130; absent gives `default`."""
        v = self._d.get(name)
        if not v:
            return default
        low = v.lower()
        if low == "true":
            return True
        if low == "false":
            return False
        raise ApiError("INVALID_PARAMETER", name)

    def enum(self, name: _Str, allowed: set[_Str] | frozenset[_Str], error_name: _Str | None,
             required: _Bool = False) -> _Str | None:
        """ENUM parameter (case-sensitive, as on Binance): unknown value raises `error_name`
        (e.g. INVALID_SIDE) or -1130 naming the parameter when error_name is None."""
        v = self.str(name, required)
        if v is None:
            return None
        if v in allowed:
            return v
        if error_name is None:
            raise ApiError("INVALID_PARAMETER", name)
        raise ApiError(error_name)

    def json_list(self, name: _Str, required: _Bool = False) -> list[_Str] | None:
        """JSON array-of-strings parameter such as symbols=["BTCUSDT","BNBBTC"]; else -1135."""
        v = self.str(name, required)
        if v is None:
            return None
        try:
            out = orjson.loads(v)
        except orjson.JSONDecodeError:
            raise ApiError("INVALID_JSON", name) from None
        if type(out) is not list or not all(type(x) is _Str for x in out):
            raise ApiError("INVALID_JSON", name)
        return out


def _to_int(name: _Str, v: _Str, signed: _Bool, limit: _Int) -> _Int:
    """Shared LONG/INT check: plain ASCII digits (str.isdigit alone admits other scripts)."""
    digits = v[1:] if signed and v[0] == "-" else v
    if not (digits.isascii() and digits.isdigit()) or len(digits) > (19 if signed else 20):
        raise ApiError("ILLEGAL_CHARS", name, SIGNED_PATTERN if signed else UNSIGNED_PATTERN)
    n = _Int(v)
    if n > limit or n < -limit - 1:
        raise ApiError("PARAM_OVERFLOW", name)
    return n
