"""Exact numbers: every price, quantity and balance is an int scaled by 10**8.

Parsing and formatting happen only here, at the edge. No float ever touches money.
"""
from __future__ import annotations

import re

SCALE = 10**8
DECIMALS = 8
INT64_MAX = 2**63 - 1
# Binance's accepted decimal syntax; exponents ("1e-05") are illegal characters.
DECIMAL_PATTERN = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)


class BadDecimal(ValueError):
    """Raised with a reason the API layer turns into -1100/-1108/-1111."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "syntax" | "precision" | "overflow"


def parse(text: str) -> int:
    """Parse a decimal string into scaled units; raise BadDecimal on bad input."""
    if not _DECIMAL_RE.fullmatch(text):  # fullmatch: "$" alone admits a final "\n"
        raise BadDecimal("syntax")
    whole, _, frac = text.partition(".")
    if len(frac) > DECIMALS:
        if frac[DECIMALS:].strip("0"):
            raise BadDecimal("precision")
        frac = frac[:DECIMALS]
    value = int(whole) * SCALE + (int(frac.ljust(DECIMALS, "0")) if frac else 0)
    if value > INT64_MAX:
        raise BadDecimal("overflow")
    return value


def fmt(value: int) -> str:
    """Format scaled units as Binance does: always 8 decimals, e.g. "0.00100000"."""
    if value < 0:
        return "-" + fmt(-value)
    return "%d.%08d" % divmod(value, SCALE)


def mul(price: int, qty: int) -> int:
    """Notional of qty at price, truncated to 8 decimals (quote units)."""
    return price * qty // SCALE


def mul_ceil(price: int, qty: int) -> int:
    """Notional rounded up: what a buyer must have to pay for qty at price."""
    return -(-price * qty // SCALE)


def to_str_pct(numer: int, denom: int, places: int = 3) -> str:
    """numer/denom*100 rounded half-up to `places` decimals, as a string."""
    if denom == 0:
        return "0." + "0" * places
    scaled = numer * 100 * 10**places
    sign = "-" if scaled * denom < 0 else ""
    q, r = divmod(abs(scaled), abs(denom))
    if 2 * r >= abs(denom):
        q += 1
    whole, frac = divmod(q, 10**places)
    return f"{sign}{whole}.{frac:0{places}d}"
