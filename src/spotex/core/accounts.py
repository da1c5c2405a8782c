"""Accounts: free and locked balances per asset, commission rates, open-order indexes."""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ApiError
from .orders import Order


@dataclass
class Account:
    """Balances are scaled ints; `balances[asset] = [free, locked]`.

    Commission rates are scaled by 1e8 (0.001 -> 100000).
    """

    id: int
    balances: dict[str, list[int]] = field(default_factory=dict)
    maker_rate: int = 100_000
    taker_rate: int = 100_000
    buyer_rate: int = 0
    seller_rate: int = 0
    can_trade: bool = True
    can_withdraw: bool = True
    can_deposit: bool = True
    permissions: tuple[str, ...] = ("SPOT",)
    update_time: int = 0
    # open orders: symbol -> {orderId: Order}; client ids: (symbol, clientOrderId) -> Order
    open_orders: dict[str, dict[int, Order]] = field(default_factory=dict)
    client_ids: dict[tuple[str, str], Order] = field(default_factory=dict)
    open_count: int = 0
    open_algo: int = 0
    open_iceberg: int = 0
    # per symbol [open, algo, iceberg], kept as orders come and go (filters read it per order)
    sym_counts: dict[str, list[int]] = field(default_factory=dict)

    def bal(self, asset: str) -> list[int]:
        b = self.balances.get(asset)
        if b is None:
            b = self.balances[asset] = [0, 0]
        return b

    def free(self, asset: str) -> int:
        b = self.balances.get(asset)
        return b[0] if b else 0

    def lock(self, asset: str, amount: int) -> None:
        b = self.bal(asset)
        if amount > b[0]:
            raise ApiError("INSUFFICIENT_BALANCE")
        b[0] -= amount
        b[1] += amount

    def unlock(self, asset: str, amount: int) -> None:
        b = self.bal(asset)
        b[1] -= amount
        b[0] += amount

    def track_open(self, order: Order) -> None:
        self.open_orders.setdefault(order.symbol, {})[order.id] = order
        self.client_ids[(order.symbol, order.client_id)] = order
        self._count(order, 1)

    def untrack_open(self, order: Order) -> None:
        by_id = self.open_orders.get(order.symbol)
        if by_id is None or by_id.pop(order.id, None) is None:
            return
        if not by_id:
            del self.open_orders[order.symbol]
        if self.client_ids.get((order.symbol, order.client_id)) is order:
            del self.client_ids[(order.symbol, order.client_id)]
        self._count(order, -1)

    def _count(self, order: Order, d: int) -> None:
        algo, ice = d * order.is_algo, d * order.is_iceberg
        self.open_count += d
        self.open_algo += algo
        self.open_iceberg += ice
        c = self.sym_counts.get(order.symbol)
        if c is None:
            c = self.sym_counts[order.symbol] = [0, 0, 0]
        c[0] += d
        c[1] += algo
        c[2] += ice

    def symbol_counts(self, symbol: str) -> tuple[int, int, int]:
        """(open, algo, iceberg) order counts on one symbol."""
        c = self.sym_counts.get(symbol)
        return (c[0], c[1], c[2]) if c else (0, 0, 0)
