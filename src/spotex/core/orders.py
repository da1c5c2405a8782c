"""The order record. Plain slots object: the book and the accounts hold references to it."""
from __future__ import annotations

from .enums import ALGO_TYPES, BUY


class Order:
    """One order, alive or finished. All money fields are scaled ints.

    `locked` is what this order still holds of its account's `lock_asset` (quote for a
    BUY, base for a SELL); it is released when the order finishes. `visible` is the
    quantity shown on the book (less than the remainder only for icebergs).
    """

    __slots__ = (
        "symbol", "id", "account", "client_id", "side", "type", "tif", "price", "qty",
        "quote_qty", "stop_price", "trailing_delta", "iceberg_qty", "executed", "cum_quote",
        "status", "time", "update_time", "working_time", "stp", "strategy_id",
        "strategy_type", "list_id", "prevented_qty", "prevented_match_id", "trailing_time",
        "trail_extreme", "locked", "lock_asset", "visible", "in_book", "working",
        "first_fill_done",
    )

    def __init__(self, symbol: str, oid: int, account: int, client_id: str, side: str,
                 otype: str, tif: str, price: int, qty: int, ts: int) -> None:
        self.symbol = symbol
        self.id = oid
        self.account = account
        self.client_id = client_id
        self.side = side
        self.type = otype
        self.tif = tif
        self.price = price
        self.qty = qty
        self.quote_qty = 0
        self.stop_price = 0
        self.trailing_delta = 0
        self.iceberg_qty = 0
        self.executed = 0
        self.cum_quote = 0
        self.status = "NEW"
        self.time = ts
        self.update_time = ts
        self.working_time = -1
        self.stp = "NONE"
        self.strategy_id: int | None = None
        self.strategy_type: int | None = None
        self.list_id = -1
        self.prevented_qty = 0
        self.prevented_match_id: int | None = None
        self.trailing_time = -1
        self.trail_extreme = 0
        self.locked = 0
        self.lock_asset = ""
        self.visible = 0
        self.in_book = False
        self.working = False
        self.first_fill_done = False

    @property
    def is_buy(self) -> bool:
        return self.side == BUY

    @property
    def remaining(self) -> int:
        return self.qty - self.executed - self.prevented_qty

    @property
    def is_algo(self) -> bool:
        return self.type in ALGO_TYPES

    @property
    def is_iceberg(self) -> bool:
        return self.iceberg_qty > 0

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED", "PENDING_NEW")
