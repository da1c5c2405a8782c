"""User data events (streams.md §1.3-1.7) rendered from the core's per-command reports.

A report is the tuple `Exchange.report` records: (x, order, status, executed, cumQuote,
qty, clientOrderId, working, preventedQty, detail), values as they were at that moment;
fields an order never changes after acceptance are read from the order itself.
"""
from __future__ import annotations

from typing import Any

from ..core.enums import ALGO_TYPES, GTC, NEW, PARTIALLY_FILLED, PENDING_NEW
from ..core.numbers import INT64_MAX, fmt, mul

ZERO = "0.00000000"
_BOOKED = (NEW, PARTIALLY_FILLED)


def execution_report(r: tuple, ts: int, exec_id: int) -> dict[str, Any]:
    x, o, status, executed, cum_quote, qty, cid, working, prevented, detail = r
    canceled = x == "CANCELED"
    # working: a stop until triggered and a pending OTO leg are not
    works = status != PENDING_NEW and (working or o.type not in ALGO_TYPES)
    on_book = works and status in _BOOKED and (
        x == "NEW" or (o.price and o.tif == GTC and x == "TRADE"))
    out: dict[str, Any] = {
        "e": "executionReport", "E": ts, "s": o.symbol,
        "c": o.client_id if canceled else cid,  # a cancel's new id became the order's
        "S": o.side, "o": o.type, "f": o.tif, "q": fmt(0 if qty == INT64_MAX else qty),
        "p": fmt(o.price), "P": fmt(o.stop_price), "F": fmt(o.iceberg_qty), "g": o.list_id,
        "C": cid if canceled else "", "x": x, "X": status, "r": "NONE", "i": o.id,
        "l": ZERO, "z": fmt(executed), "L": ZERO, "n": "0", "N": None, "T": ts, "t": -1,
        "I": exec_id, "w": bool(on_book), "m": False, "M": x == "TRADE", "O": o.time,
        "Z": fmt(cum_quote), "Y": ZERO, "Q": fmt(o.quote_qty),
    }
    if x == "TRADE":
        t = detail
        buyer = t.buyer_order_id == o.id  # ids are per symbol: the order is one side
        out["l"], out["L"], out["t"] = fmt(t.qty), fmt(t.price), t.id
        out["n"] = fmt(t.buyer_fee if buyer else t.seller_fee)
        out["N"] = t.buyer_fee_asset if buyer else t.seller_fee_asset
        out["m"] = t.is_buyer_maker == buyer
        out["Y"] = fmt(t.quote_qty)
    if works and o.working_time != -1:
        out["W"] = o.working_time
    out["V"] = o.stp
    if o.trailing_delta:
        out["d"] = o.trailing_delta
        if o.trailing_time != -1:
            out["D"] = o.trailing_time
    if o.strategy_id is not None:
        out["j"] = o.strategy_id
    if o.strategy_type is not None:
        out["J"] = o.strategy_type
    if x == "TRADE_PREVENTION":
        _prevention(out, o, detail, prevented)
    return out


def _prevention(out: dict[str, Any], o: Any, pm: Any, prevented: int) -> None:
    """STP expiry: l/L/Y stay 0; pl/pL/pY carry what would have traded (streams.md §1.5)."""
    taker = pm.taker_order_id == o.id
    last = pm.taker_prevented_qty if taker else pm.maker_prevented_qty
    out.update({"v": pm.id, "A": fmt(prevented), "B": fmt(last), "u": -1,
                "U": pm.maker_order_id if taker else pm.taker_order_id, "Cs": o.symbol,
                "pl": fmt(last), "pL": fmt(pm.price), "pY": fmt(mul(pm.price, last))})


def list_status(r: tuple, ts: int) -> dict[str, Any]:
    _, ol, status, legs = r
    return {"e": "listStatus", "E": ts, "s": ol.symbol, "g": ol.id, "c": ol.contingency,
            "l": status, "L": "ALL_DONE" if status == "ALL_DONE" else "EXECUTING", "r": "NONE",
            "C": ol.client_id, "T": ts, "O": [{"s": s, "i": i, "c": c} for s, i, c in legs]}


def account_position(acct: Any, assets: list[str], ts: int) -> dict[str, Any]:
    balances = acct.balances
    return {"e": "outboundAccountPosition", "E": ts, "u": acct.update_time,
            "B": [{"a": a, "f": fmt(balances.get(a, (0, 0))[0]), "l": fmt(balances.get(a, (0, 0))[1])}
                  for a in assets]}


def balance_update(asset: str, delta: int, ts: int) -> dict[str, Any]:
    return {"e": "balanceUpdate", "E": ts, "a": asset, "d": fmt(delta), "T": ts}


def listen_key_expired(key: str, ts: int) -> dict[str, Any]:
    return {"e": "listenKeyExpired", "E": ts, "listenKey": key}


def stream_terminated(ts: int) -> dict[str, Any]:
    return {"e": "eventStreamTerminated", "E": ts}
