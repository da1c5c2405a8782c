"""`config.set`: the exchange's settings are journaled like any other command.

The config a command ran under is part of its history: replaying a journal must give
the state that was acknowledged, whatever the config file says today. So the settings
enter the core through a command (the first of every journal, and one more each time
the operator changes the config), and a change applies to the commands after it only.

A change that would leave the past inconsistent is refused as a whole, with every
reason listed: a symbol removed while it has orders (open, or in accounts' history), a
symbol whose assets change, an asset removed while accounts or fees hold it.
"""
from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any

from .avgprice import AvgPrice
from .book import Book
from .ratelimits import OrderCounter

if TYPE_CHECKING:
    from .exchange import Exchange, Settings
    from .symbols import Symbol


class ConfigConflict(Exception):
    """A new config cannot apply to the current state; `problems` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def avg_window_mins(symbol: "Symbol", settings: "Settings") -> int:
    """The longest average the symbol needs: GET avgPrice's, or a filter's avgPriceMins."""
    return max([settings.avg_price_mins]
               + [f.avg_price_mins for f in symbol.filters if hasattr(f, "avg_price_mins")])


class Configure:
    """The `config.set` command (mixed into Exchange)."""

    def _configure(self: "Exchange", c: dict[str, Any]) -> None:
        new: Settings = c["settings"]
        problems = self.config_conflicts(new)
        if problems:
            raise ConfigConflict(problems)
        old = self.settings
        self.settings = new
        kept = {s.name: s for s in new.symbols}
        for name in [n for n in self.symbols if n not in kept]:
            self._drop_symbol(name)
        self.symbols = {}
        for sym in new.symbols:
            self.symbols[sym.name] = sym
            self._add_symbol_state(sym)
            self.avg[sym.name].window_ms = max(avg_window_mins(sym, new), 1) * 60_000
        self.exchange_filters = new.exchange_filters
        if new.order_limits != old.order_limits:
            self.order_counter = OrderCounter(new.order_limits)
        self._move_default_rates(old, new)
        if c.get("seed") and not self.id_seed:
            self.id_seed = c["seed"]
        self.configure_sim(new.sim, c["ts"])

    def config_conflicts(self: "Exchange", new: "Settings") -> list[str]:
        """Why `new` cannot replace the current settings (empty: it can)."""
        problems: list[str] = []
        kept = {s.name: s for s in new.symbols}
        for name, sym in self.symbols.items():
            if name not in kept:
                problems += self._removal_problems(name)
            elif (kept[name].base, kept[name].quote) != (sym.base, sym.quote) \
                    and self.orders[name]:
                problems.append(
                    f"symbol {name}: its assets cannot change from {sym.base}/{sym.quote} to "
                    f"{kept[name].base}/{kept[name].quote} once it has orders (add a new "
                    "symbol instead)")
        assets = {a for s in new.symbols for a in (s.base, s.quote)}
        held = self._held_assets()
        for asset in sorted(set(held) - assets):
            problems.append(
                f"asset {asset}: held by {held[asset]} but no symbol of the new config uses "
                "it (keep a symbol that trades it, or withdraw it first)")
        return problems

    def _removal_problems(self: "Exchange", name: str) -> list[str]:
        orders = self.orders[name]
        if not orders:
            return []
        open_count = sum(1 for o in orders.values() if o.is_open)
        what = f"{open_count} open orders and " if open_count else ""
        return [f"symbol {name}: removed from the config but it has {what}{len(orders)} "
                "orders in accounts' history; keep it with status = \"BREAK\" (trading "
                "stops, history stays)" + (", or cancel its open orders first"
                                           if open_count else "")]

    def _held_assets(self: "Exchange") -> dict[str, str]:
        """Asset -> who holds some of it ("accounts 1, 4", "the fee account")."""
        holders: dict[str, list[str]] = {}
        for aid, acct in self.accounts.items():
            if self.is_sim_account(aid):
                continue  # the sim's money is made up; it drops what leaves the config
            for asset, (free, locked) in acct.balances.items():
                if free or locked:
                    holders.setdefault(asset, []).append(str(aid))
        out = {a: "accounts " + ", ".join(ids) for a, ids in holders.items()}
        for asset, amount in self.fees.items():
            if amount:
                out[asset] = out[asset] + " and the fee account" if asset in out \
                    else "the fee account"
        return out

    def _add_symbol_state(self: "Exchange", sym: "Symbol") -> None:
        """Empty books, indexes and counters for a symbol new to this exchange."""
        if sym.name in self.books:
            return
        self.books[sym.name] = Book()
        self.orders[sym.name] = {}
        self.stops[sym.name] = {}
        self.next_order_id[sym.name] = 1
        self.next_trade_id[sym.name] = 1
        self.next_prevented_id[sym.name] = 1
        self.avg[sym.name] = AvgPrice(avg_window_mins(sym, self.settings))
        self.order_owners[sym.name] = array("I")

    def _drop_symbol(self: "Exchange", name: str) -> None:
        """Forget a symbol that never had an order (config_conflicts checked it)."""
        for table in (self.books, self.orders, self.stops, self.next_order_id,
                      self.next_trade_id, self.next_prevented_id, self.avg, self.order_owners):
            table.pop(name, None)

    def _move_default_rates(self: "Exchange", old: "Settings", new: "Settings") -> None:
        """Accounts on the old default commission get the new default, from now on."""
        if (old.maker_rate, old.taker_rate) == (new.maker_rate, new.taker_rate):
            return
        for acct in self.accounts.values():
            if acct.maker_rate == old.maker_rate and acct.taker_rate == old.taker_rate:
                acct.maker_rate, acct.taker_rate = new.maker_rate, new.taker_rate
