"""Account: balances, trades, commission, order-count usage, prevented matches."""
from __future__ import annotations

from typing import Any

from ...core.errors import ApiError
from ...core.numbers import fmt
from ...engine import Engine
from .. import render
from ..http import SIGNED, Request, Route
from .trading import commission_rates, limit_param, select, time_range


def routes(engine: Engine) -> list[Route]:
    ex = lambda: engine.exchange  # noqa: E731 - replaced on rebuild
    assets = sorted({a for s in engine.config.settings.symbols for a in (s.base, s.quote)})

    async def account(req: Request) -> Any:
        omit = req.params.bool("omitZeroBalances", False)
        acct = ex().account(req.account)
        names = sorted(set(assets) | set(acct.balances))
        balances = []
        for asset in names:
            free, locked = acct.balances.get(asset, (0, 0))
            if omit and not free and not locked:
                continue
            balances.append({"asset": asset, "free": fmt(free), "locked": fmt(locked)})
        return {
            "makerCommission": acct.maker_rate // 10_000,
            "takerCommission": acct.taker_rate // 10_000,
            "buyerCommission": acct.buyer_rate // 10_000,
            "sellerCommission": acct.seller_rate // 10_000,
            "commissionRates": {"maker": fmt(acct.maker_rate), "taker": fmt(acct.taker_rate),
                                "buyer": fmt(acct.buyer_rate), "seller": fmt(acct.seller_rate)},
            "canTrade": acct.can_trade, "canWithdraw": acct.can_withdraw,
            "canDeposit": acct.can_deposit, "brokered": False,
            "requireSelfTradePrevention": False, "preventSor": False,
            "updateTime": acct.update_time, "accountType": "SPOT", "balances": balances,
            "permissions": list(acct.permissions), "uid": acct.id,
        }

    async def my_trades(req: Request) -> Any:
        p = req.params
        symbol = p.str("symbol", required=True)
        ex().symbol(symbol)
        order_id, from_id = p.long("orderId"), p.long("fromId")
        start, end = time_range(p)
        limit = limit_param(p)
        if order_id is not None and (start is not None or end is not None):
            raise ApiError("OPTIONAL_PARAMS_BAD_COMBO")
        if from_id is not None and (start is not None or end is not None):
            raise ApiError("OPTIONAL_PARAMS_BAD_COMBO")
        rows = []
        for t in ex().account_trades.get((req.account, symbol), []):
            for is_buyer in (True, False):
                if (t.buyer_account if is_buyer else t.seller_account) != req.account:
                    continue
                oid = t.buyer_order_id if is_buyer else t.seller_order_id
                if order_id is not None and oid != order_id:
                    continue
                rows.append((t, is_buyer))
        if from_id is not None:
            rows = [r for r in rows if r[0].id >= from_id][:limit]
        elif order_id is not None:
            rows = rows[:limit]
        else:
            rows = select(rows, lambda r: r[0].time, start, end, limit)
        return [render.my_trade(t, req.account, b) for t, b in rows]

    async def commission(req: Request) -> Any:
        symbol = req.params.str("symbol", required=True)
        return {"symbol": symbol, **commission_rates(engine, req.account, symbol)}

    async def rate_limit_order(req: Request) -> Any:
        counts = ex().order_counter.counts(req.account, engine.clock())
        return [{"rateLimitType": "ORDERS", "interval": lim.interval,
                 "intervalNum": lim.interval_num, "limit": lim.limit, "count": n}
                for lim, n in counts]

    async def prevented_matches(req: Request) -> Any:
        p = req.params
        symbol = p.str("symbol", required=True)
        ex().symbol(symbol)
        pm_id, order_id = p.long("preventedMatchId"), p.long("orderId")
        from_id = p.long("fromPreventedMatchId")
        limit = limit_param(p)
        if (pm_id is None) == (order_id is None) or (from_id is not None and order_id is None):
            raise ApiError("OPTIONAL_PARAMS_BAD_COMBO")
        found = ex().prevented.get((req.account, symbol), [])
        if pm_id is not None:
            found = [m for m in found if m.id == pm_id]
        else:
            found = [m for m in found if order_id in (m.taker_order_id, m.maker_order_id)
                     and (from_id is None or m.id >= from_id)][:limit]
        return [render.prevented_match(m, symbol) for m in found]

    return [
        Route("GET", "/api/v3/account", account, SIGNED),
        Route("GET", "/api/v3/myTrades", my_trades, SIGNED),
        Route("GET", "/api/v3/account/commission", commission, SIGNED),
        Route("GET", "/api/v3/rateLimit/order", rate_limit_order, SIGNED),
        Route("GET", "/api/v3/myPreventedMatches", prevented_matches, SIGNED),
    ]
