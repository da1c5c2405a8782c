"""Order archiving: what keeps memory, snapshots and restarts bounded on a busy exchange.

Binance archives an order that ended CANCELED, EXPIRED or EXPIRED_IN_MATCH with nothing
executed once 90 days have passed; a query by its id then answers -2026 ORDER_ARCHIVED.
Bots that quote and cancel all day make mostly such orders, so without this the history
would grow for ever. `archive_after_ms` (config `[exchange] archive_after`) sets the age.

Finished orders wait in a FIFO in the order they ended, so each command pops only what is
due. Archiving runs as part of an applied command, from the command's own time, so a
replay archives exactly the same orders. Orders of order lists are kept (their list
refers to them), and so are orders with fills (trades refer to them).
"""
from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from .enums import CANCELED, EXPIRED, EXPIRED_IN_MATCH
from .orders import Order

if TYPE_CHECKING:
    from .exchange import Exchange

ARCHIVABLE = frozenset((CANCELED, EXPIRED, EXPIRED_IN_MATCH))
COMPACT_MIN = 64  # account order lists shorter than this are not worth compacting


class History:
    """Mixin of `Exchange`: `finished` holds (order, client ids it is indexed under)."""

    finished: deque[tuple[Order, str]]
    sim_finished: list[tuple[Order, str]]
    stale: dict[tuple[int, str], int]

    def note_finished(self: "Exchange", o: Order) -> None:
        """Called when `o` leaves the open state, before a cancel renames its client id.
        The sim's orders are forgotten at the end of their command, fills or not: they
        are most orders of a simulated market, and nobody queries them."""
        if self.sim is not None and self.is_sim_account(o.account):
            self.sim_finished.append((o, o.client_id))
        elif o.status in ARCHIVABLE and o.executed == 0 and o.list_id == -1:
            self.finished.append((o, o.client_id))

    def archive_due(self: "Exchange", now: int) -> None:
        """Archive every order that ended at least `archive_after_ms` before `now`."""
        if self.sim_finished:
            for o, first_client_id in self.sim_finished:
                self._forget(o, first_client_id)
            self.sim_finished.clear()
        due = now - self.settings.archive_after_ms
        finished = self.finished
        while finished and finished[0][0].update_time <= due:
            o, first_client_id = finished.popleft()
            self._forget(o, first_client_id)

    def _forget(self: "Exchange", o: Order, first_client_id: str) -> None:
        del self.orders[o.symbol][o.id]
        for cid in (first_client_id, o.client_id):
            key = (o.account, o.symbol, cid)
            if self.client_index.get(key) is o:
                del self.client_index[key]
        # the account's list keeps creation order; drop archived entries in bulk
        key2 = (o.account, o.symbol)
        stale = self.stale.get(key2, 0) + 1
        mine = self.account_orders[key2]
        if stale >= COMPACT_MIN and stale * 2 >= len(mine):
            mine[:] = self._unarchived(o.symbol, mine)
            stale = 0
        self.stale[key2] = stale

    def is_archived(self: "Exchange", symbol: str, order_id: int, account: int) -> bool:
        """An order of `account` that this symbol no longer keeps. Owners of all ids are
        kept (4 bytes each) so another account's archived id stays "does not exist"."""
        owners = self.order_owners[symbol]
        return (0 < order_id <= len(owners) and owners[order_id - 1] == account
                and order_id not in self.orders[symbol])

    def kept_orders(self: "Exchange", account: int, symbol: str) -> list[Order]:
        """The account's orders on `symbol` in creation order, archived ones left out."""
        mine = self.account_orders.get((account, symbol), [])
        return self._unarchived(symbol, mine) if self.stale.get((account, symbol)) else mine

    def _unarchived(self: "Exchange", symbol: str, orders: list[Order]) -> list[Order]:
        live = self.orders[symbol]
        return [o for o in orders if live.get(o.id) is o]
