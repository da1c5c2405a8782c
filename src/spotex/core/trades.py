"""Records the core keeps: trades and prevented matches (read by the API, the market projections)."""
from __future__ import annotations


class Trade:
    __slots__ = ("symbol", "id", "price", "qty", "quote_qty", "time", "buyer_order_id",
                 "seller_order_id", "buyer_list_id", "seller_list_id", "is_buyer_maker",
                 "buyer_fee", "seller_fee", "buyer_fee_asset", "seller_fee_asset",
                 "buyer_account", "seller_account")

    def __init__(self, **kw: object) -> None:
        for k, v in kw.items():
            setattr(self, k, v)


class PreventedMatch:
    __slots__ = ("symbol", "id", "taker_order_id", "maker_order_id", "mode", "price",
                 "taker_prevented_qty", "maker_prevented_qty", "time", "account")

    def __init__(self, **kw: object) -> None:
        for k, v in kw.items():
            setattr(self, k, v)
