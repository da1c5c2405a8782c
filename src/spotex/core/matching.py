"""The match loop: a taker order against the opposite side of one book.

Settles each trade between the two accounts (commission in the received asset, to the
exchange's fee ledger), applies self-trade prevention with the taker's mode, refills
icebergs, and records trades and prevented matches. Pure: called by `Exchange`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .enums import (EXPIRE_BOTH, EXPIRE_MAKER, EXPIRE_TAKER, EXPIRED_IN_MATCH, FILLED,
                    PARTIALLY_FILLED, STP_NONE)
from .numbers import SCALE, mul
from .orders import Order
from .trades import PreventedMatch, Trade

if TYPE_CHECKING:
    from .exchange import Exchange
    from .symbols import Symbol

TRADE, TRADE_PREVENTION = "TRADE", "TRADE_PREVENTION"  # execution types (user data streams)
# why a taker stopped matching
DONE, NO_LIQUIDITY, STP, BUDGET = "done", "no_liquidity", "stp", "budget"


def crosses(o: Order, best: int) -> bool:
    if not o.price:  # MARKET, or a triggered STOP_LOSS / TAKE_PROFIT
        return True
    return best <= o.price if o.is_buy else best >= o.price


def match(ex: "Exchange", sym: "Symbol", o: Order, ts: int, fills: list, prevented: list) -> str:
    """Match `o` while it crosses; returns why it stopped (DONE, NO_LIQUIDITY, STP, BUDGET)."""
    book = ex.books[sym.name]
    opp = book.opposite(o.is_buy)
    step = sym.market_step if not o.price else sym.step
    while True:
        rem = o.remaining
        if rem <= 0:
            return DONE
        if o.quote_qty and o.cum_quote >= o.quote_qty:
            return BUDGET  # the whole quoteOrderQty is used, even if the book is now empty
        level = opp.best()
        if level is None or not crosses(o, level.price):
            return NO_LIQUIDITY
        maker = level.head()
        if maker.account == o.account and o.stp != STP_NONE:
            if _prevent(ex, sym, o, maker, level.price, ts, prevented):
                return STP
            continue
        price = level.price
        qty = min(rem, maker.visible)
        qty = _cap_by_budget(o, price, qty, step)
        if qty <= 0:
            return BUDGET
        _trade(ex, sym, o, maker, price, qty, ts, fills)


def _cap_by_budget(o: Order, price: int, qty: int, step: int) -> int:
    """Reverse market orders spend a quote budget; BUY takers can't pay beyond their lock.
    A fill the budget or lock cuts short is whole steps; a full one is taken as it is."""
    capped = qty
    if o.quote_qty:
        capped = min(capped, (o.quote_qty - o.cum_quote) * SCALE // price)
    capped = min(capped, o.locked * SCALE // price if o.is_buy else o.locked)
    return qty if capped == qty else capped - capped % step


def _fee(ex: "Exchange", sym: "Symbol", order: Order, maker: bool, received: int) -> int:
    acct = ex.accounts[order.account]
    if maker:
        rate = sym.maker_commission if sym.maker_commission is not None else acct.maker_rate
    else:
        rate = sym.taker_commission if sym.taker_commission is not None else acct.taker_rate
    rate += acct.buyer_rate if order.is_buy else acct.seller_rate
    return received * rate // SCALE


def _trade(ex: "Exchange", sym: "Symbol", taker: Order, maker: Order, price: int, qty: int,
           ts: int, fills: list) -> None:
    quote = mul(price, qty)
    buyer, seller = (taker, maker) if taker.is_buy else (maker, taker)
    buyer_fee = _fee(ex, sym, buyer, buyer is maker, qty)
    seller_fee = _fee(ex, sym, seller, seller is maker, quote)
    ba, sa = ex.accounts[buyer.account], ex.accounts[seller.account]
    # buyer pays quote from its order's lock and receives base; seller the reverse
    ba.bal(sym.quote)[1] -= quote
    buyer.locked -= quote
    ba.bal(sym.base)[0] += qty - buyer_fee
    sa.bal(sym.base)[1] -= qty
    seller.locked -= qty
    sa.bal(sym.quote)[0] += quote - seller_fee
    ex.fees[sym.base] = ex.fees.get(sym.base, 0) + buyer_fee
    ex.fees[sym.quote] = ex.fees.get(sym.quote, 0) + seller_fee
    ba.update_time = sa.update_time = ts

    tid = ex.next_trade_id[sym.name]
    ex.next_trade_id[sym.name] = tid + 1
    trade = Trade(symbol=sym.name, id=tid, price=price, qty=qty, quote_qty=quote, time=ts,
                  buyer_order_id=buyer.id, seller_order_id=seller.id,
                  buyer_list_id=buyer.list_id, seller_list_id=seller.list_id,
                  is_buyer_maker=buyer is maker, buyer_fee=buyer_fee, seller_fee=seller_fee,
                  buyer_fee_asset=sym.base, seller_fee_asset=sym.quote,
                  buyer_account=buyer.account, seller_account=seller.account)
    ex.record_trade(trade)
    fee, fee_asset = (buyer_fee, sym.base) if taker is buyer else (seller_fee, sym.quote)
    fills.append((price, qty, fee, fee_asset, tid))

    for order in (taker, maker):
        order.executed += qty
        order.cum_quote += quote
        order.update_time = ts
        if not order.first_fill_done:
            order.first_fill_done = True
            ex.order_counter.on_first_fill(order.account, ts)
            if order.list_id != -1:  # an OCO leg touched: its sibling goes
                ex.leg_touched(order, ts)
    taker.status = FILLED if taker.remaining == 0 and not taker.quote_qty else PARTIALLY_FILLED
    _after_maker_fill(ex, sym, maker, qty)
    ex.report(TRADE, taker, trade)
    ex.report(TRADE, maker, trade)


def _after_maker_fill(ex: "Exchange", sym: "Symbol", maker: Order, qty: int) -> None:
    side = ex.books[sym.name].side(maker.is_buy)
    level = side.levels[maker.price]
    maker.visible -= qty
    level.qty -= qty
    if maker.remaining == 0:
        maker.status = FILLED
        side.remove(maker)
        ex.finish(maker)
        return
    maker.status = PARTIALLY_FILLED
    if maker.visible == 0:  # iceberg: show the next slice at the back of the queue
        side.requeue(maker, min(maker.iceberg_qty, maker.remaining))


def _prevent(ex: "Exchange", sym: "Symbol", taker: Order, maker: Order, price: int, ts: int,
             prevented: list) -> bool:
    """Apply the taker's STP mode; True when the taker itself expired."""
    mode = taker.stp
    pid = ex.next_prevented_id[sym.name]
    ex.next_prevented_id[sym.name] = pid + 1
    # a reverse market order has no fixed remainder: count what this maker would have filled
    taker_rem = min(taker.remaining, maker.remaining) if taker.quote_qty else taker.remaining
    taker_qty = taker_rem if mode in (EXPIRE_TAKER, EXPIRE_BOTH) else 0
    maker_qty = maker.remaining if mode in (EXPIRE_MAKER, EXPIRE_BOTH) else 0
    pm = PreventedMatch(symbol=sym.name, id=pid, taker_order_id=taker.id,
                        maker_order_id=maker.id, mode=mode, price=price,
                        taker_prevented_qty=taker_qty, maker_prevented_qty=maker_qty,
                        time=ts, account=taker.account)
    ex.record_prevented(pm)
    prevented.append(pm)
    if maker_qty:
        side = ex.books[sym.name].side(maker.is_buy)
        side.remove(maker)
        maker.prevented_qty += maker_qty
        maker.prevented_match_id = pid
        maker.status = EXPIRED_IN_MATCH
        maker.update_time = ts
        ex.report(TRADE_PREVENTION, maker, pm)
        ex.finish(maker)
    if taker_qty:
        taker.prevented_qty += taker_qty
        taker.prevented_match_id = pid
        taker.status = EXPIRED_IN_MATCH
        ex.report(TRADE_PREVENTION, taker, pm)
        return True
    return False
